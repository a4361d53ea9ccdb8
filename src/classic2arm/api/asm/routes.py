"""The classic Service Management API at `/{subscription-id}/...`.

Routes are plain Starlette routes appended after the ARM ones; the subscription segment never matches
`subscriptions` or `providers` (any case), which the ARM API owns. Every route accepts every method and
answers a method it does not implement with an ASM `<Error>` (405), so nothing under an ASM path falls
through to a non-XML error.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Route
from starlette.types import ASGIApp

from . import migrate, reads, writes
from .guard import AsmError, AsmRequest, Handler, endpoint

METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


class SubscriptionSegment(Convertor[str]):
    """One path segment that is not an ARM root (`subscriptions`, `providers`)."""

    regex = r"(?!(?i:subscriptions|providers)(?![^/]))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


def _not_found(req: AsmRequest) -> object:
    raise AsmError(404, "ResourceNotFound", f"The requested resource /{req.params.get('rest', '')[:200]} does not "
                                            f"exist in the classic Service Management API.")


S = "/{subscription_id:asmsub}"
HS = S + "/services/hostedservices/{svc}"
DEP = HS + "/deployments/{dep}"
ROLE = DEP + "/roles/{role}"
NET = S + "/services/networking"
STG = S + "/services/storageservices"

TABLE: list[tuple[str, Mapping[str, Handler]]] = [
    (S, {"GET": reads.get_subscription}),
    (S + "/locations", {"GET": reads.locations}),
    (S + "/rolesizes", {"GET": reads.role_sizes}),
    (S + "/affinitygroups", {"GET": reads.affinity_groups}),
    (S + "/certificates", {"GET": reads.management_certificates}),
    (S + "/operations", {"GET": reads.list_operations}),
    (S + "/operations/{op_id}", {"GET": reads.operation_status}),
    # compute
    (S + "/services/hostedservices", {"GET": reads.hosted_services, "POST": writes.create_hosted_service}),
    (HS, {"GET": reads.hosted_service, "DELETE": writes.delete_hosted_service}),
    (HS + "/certificates", {"GET": reads.service_certificates}),
    (HS + "/deploymentslots/{slot}", {"GET": reads.deployment_by_slot}),
    (HS + "/deployments", {"POST": writes.create_deployment}),
    (DEP, {"GET": reads.deployment, "DELETE": writes.delete_deployment}),
    (DEP + "/migration", {"POST": migrate.deployment}),
    (DEP + "/roles", {"POST": writes.add_role}),
    (ROLE, {"GET": reads.role, "PUT": writes.update_role, "DELETE": writes.delete_role}),
    (ROLE + "/DataDisks", {"POST": writes.add_data_disk}),
    (ROLE + "/DataDisks/{lun}", {"GET": reads.data_disk}),
    (DEP + "/roleinstances/{role}/Operations", {"POST": writes.role_operation}),
    (S + "/services/disks", {"GET": reads.disks}),
    (S + "/services/disks/{name}", {"GET": reads.disk, "PUT": writes.update_disk, "DELETE": writes.delete_disk}),
    (S + "/services/images", {"GET": reads.os_images}),
    (S + "/services/images/{name}", {"GET": reads.os_image, "DELETE": writes.delete_os_image}),
    (S + "/services/images/{name}/details", {"GET": reads.os_image_details}),
    (S + "/services/vmimages", {"GET": reads.vm_images}),
    (S + "/services/vmimages/{name}", {"DELETE": writes.delete_vm_image}),
    (S + "/services/resourceextensions", {"GET": reads.resource_extensions}),
    # network
    (NET + "/virtualnetwork", {"GET": reads.virtual_network_sites}),
    (NET + "/virtualnetwork/{name}/migration", {"POST": migrate.vnet}),
    (NET + "/media", {"GET": reads.network_configuration, "PUT": writes.set_network_configuration}),
    (NET + "/reservedips", {"GET": reads.reserved_ips, "POST": writes.create_reserved_ip}),
    (NET + "/reservedips/{name}", {"GET": reads.reserved_ip, "DELETE": writes.delete_reserved_ip}),
    (NET + "/reservedips/{name}/migration", {"POST": migrate.reserved_ip}),
    (NET + "/reservedips/{name}/operations/associate", {"POST": writes.associate_reserved_ip}),
    (NET + "/reservedips/{name}/operations/disassociate", {"POST": writes.disassociate_reserved_ip}),
    (NET + "/networksecuritygroups", {"GET": reads.nsgs}),
    (NET + "/networksecuritygroups/{name}", {"GET": reads.nsg}),
    (NET + "/networksecuritygroups/{name}/migration", {"POST": migrate.nsg}),
    (NET + "/routetables", {"GET": reads.route_tables}),
    (NET + "/routetables/{name}", {"GET": reads.route_table}),
    (NET + "/routetables/{name}/migration", {"POST": migrate.route_table}),
    # storage
    (STG, {"GET": reads.storage_accounts, "POST": writes.create_storage_account}),
    (STG + "/operations/isavailable/{name}", {"GET": reads.storage_name_available}),
    (STG + "/{name}", {"GET": reads.storage_account, "DELETE": writes.delete_storage_account}),
    (STG + "/{name}/keys", {"GET": reads.storage_keys}),
    (STG + "/{name}/migration", {"POST": migrate.storage}),
]
CATCH_ALL = S + "/services/{rest:path}"


def routes() -> list[Route]:
    register_url_convertor("asmsub", SubscriptionSegment())
    out = [Route(path, endpoint(handlers), methods=METHODS) for path, handlers in TABLE]
    everything: dict[str, Handler] = {m: _not_found for m in METHODS}  # type: ignore[misc]
    out.append(Route(CATCH_ALL, endpoint(everything), methods=METHODS))
    return out


def install(app: ASGIApp) -> None:
    """Append the ASM routes to a FastAPI/Starlette app (after the ARM routes, which own their roots)."""
    router = getattr(app, "router")  # noqa: B009 - FastAPI and Starlette both expose .router
    router.routes.extend(routes())
