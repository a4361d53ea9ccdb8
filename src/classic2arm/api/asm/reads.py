"""GET handlers of the classic API (spec §5.4 and what azure-servicemanagement-legacy reads): each parses the
request, calls one read use case of `service/classic_reads.py` and renders its answer as XML."""

from __future__ import annotations

from starlette.responses import Response

from ...service import classic_reads as reads
from . import out_compute, out_network, out_storage, out_subscription, xml_out
from .guard import AsmRequest, xml


def _flag(req: AsmRequest, name: str) -> bool:
    for key, value in req.query.items():
        if key.lower() == name.lower():
            return value.strip().lower() in ("true", "full", "1")
    return False


def _query(req: AsmRequest, name: str) -> str | None:
    return next((v for k, v in req.query.items() if k.lower() == name.lower() and v), None)


# --------------------------------------------------------------------------- subscription level


def get_subscription(req: AsmRequest) -> Response:
    return xml(out_subscription.subscription(reads.subscription(req.ctx, req.sub)))


def locations(req: AsmRequest) -> Response:
    return xml(out_subscription.locations())


def role_sizes(req: AsmRequest) -> Response:
    return xml(out_subscription.role_sizes())


def affinity_groups(req: AsmRequest) -> Response:
    return xml(out_storage.affinity_groups(reads.affinity_groups(req.ctx, req.sub)))


def management_certificates(req: AsmRequest) -> Response:
    return xml(out_subscription.management_certificates(reads.management_certificates(req.ctx)))


def resource_extensions(req: AsmRequest) -> Response:
    return xml(out_subscription.resource_extensions())


def operation_status(req: AsmRequest) -> Response:
    return xml(xml_out.operation(reads.operation(req.ctx, req.sub, req.param("op_id"))))


def list_operations(req: AsmRequest) -> Response:
    return xml(out_subscription.subscription_operations(req.sub, reads.operations_of(req.ctx, req.sub)))


# --------------------------------------------------------------------------- compute


def hosted_services(req: AsmRequest) -> Response:
    return xml(out_compute.hosted_services(reads.hosted_services(req.ctx, req.sub), req.base_url))


def hosted_service(req: AsmRequest) -> Response:
    embed = _flag(req, "embed-detail")
    return xml(out_compute.hosted_service(reads.hosted_service(req.ctx, req.sub, req.param("svc"), embed), embed,
                                          req.base_url))


def service_certificates(req: AsmRequest) -> Response:
    return xml(out_compute.certificates(reads.hosted_service(req.ctx, req.sub, req.param("svc")), req.base_url))


def deployment(req: AsmRequest) -> Response:
    return xml(out_compute.deployment(reads.deployment(req.ctx, req.sub, req.param("svc"), req.param("dep"))))


def deployment_by_slot(req: AsmRequest) -> Response:
    return xml(out_compute.deployment(reads.deployment_in_slot(req.ctx, req.sub, req.param("svc"),
                                                               req.param("slot"))))


def role(req: AsmRequest) -> Response:
    rv, dep = reads.role(req.ctx, req.sub, req.param("svc"), req.param("dep"), req.param("role"))
    return xml(out_compute.role(rv, dep))


def data_disk(req: AsmRequest) -> Response:
    return xml(out_compute.data_disk(reads.data_disk(req.ctx, req.sub, req.param("svc"), req.param("dep"),
                                                     req.param("role"), req.param("lun"))))


# --------------------------------------------------------------------------- disks and images


def disks(req: AsmRequest) -> Response:
    return xml(out_storage.disks(reads.disks(req.ctx, req.sub)))


def disk(req: AsmRequest) -> Response:
    return xml(out_storage.disk(reads.disk(req.ctx, req.sub, req.param("name"))))


def os_images(req: AsmRequest) -> Response:
    return xml(out_storage.os_images(reads.os_images(req.ctx, req.sub)))


def os_image(req: AsmRequest) -> Response:
    return xml(out_storage.os_image(reads.os_image(req.ctx, req.sub, req.param("name")), details=False))


def os_image_details(req: AsmRequest) -> Response:
    return xml(out_storage.os_image(reads.os_image(req.ctx, req.sub, req.param("name")), details=True))


def vm_images(req: AsmRequest) -> Response:
    return xml(out_storage.vm_images(reads.vm_images(req.ctx, req.sub, _query(req, "location"),
                                                     _query(req, "category"))))


# --------------------------------------------------------------------------- network


def virtual_network_sites(req: AsmRequest) -> Response:
    return xml(out_network.virtual_network_sites(reads.vnet_sites(req.ctx, req.sub)))


def network_configuration(req: AsmRequest) -> Response:
    vnets, sites = reads.network_configuration(req.ctx, req.sub)
    return xml(out_network.network_configuration(vnets, sites), media_type="text/plain")


def reserved_ips(req: AsmRequest) -> Response:
    return xml(out_network.reserved_ips(reads.reserved_ips(req.ctx, req.sub)))


def reserved_ip(req: AsmRequest) -> Response:
    return xml(out_network.reserved_ip(reads.reserved_ip(req.ctx, req.sub, req.param("name"))))


def nsgs(req: AsmRequest) -> Response:
    return xml(out_network.network_security_groups(reads.nsgs(req.ctx, req.sub)))


def nsg(req: AsmRequest) -> Response:
    return xml(out_network.network_security_group(reads.nsg(req.ctx, req.sub, req.param("name")),
                                                  full=_flag(req, "detaillevel")))


def route_tables(req: AsmRequest) -> Response:
    return xml(out_network.route_tables(reads.route_tables(req.ctx, req.sub)))


def route_table(req: AsmRequest) -> Response:
    return xml(out_network.route_table(reads.route_table(req.ctx, req.sub, req.param("name")),
                                       full=_flag(req, "detaillevel")))


# --------------------------------------------------------------------------- storage


def storage_accounts(req: AsmRequest) -> Response:
    return xml(out_storage.storage_services(reads.storage_accounts(req.ctx, req.sub), req.base_url))


def storage_account(req: AsmRequest) -> Response:
    return xml(out_storage.storage_service(reads.storage_account(req.ctx, req.sub, req.param("name")), req.base_url))


def storage_keys(req: AsmRequest) -> Response:
    return xml(out_storage.storage_keys(reads.storage_account(req.ctx, req.sub, req.param("name")), req.base_url))


def storage_name_available(req: AsmRequest) -> Response:
    answer = reads.storage_name_availability(req.ctx, req.param("name"))
    return xml(xml_out.availability(answer.available, answer.reason))
