"""GET handlers of the classic API (spec §5.4 and what azure-servicemanagement-legacy reads)."""

from __future__ import annotations

from starlette.responses import Response

from ...domain import classic as c
from ...domain import identity as ids
from ...domain import sizes
from ...service import classic_writes, operations, pacing
from ...service.errors import NotFound
from . import lookup, out_compute, out_network, out_storage, out_subscription, xml_out
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
    with req.ctx.store.read() as tx:
        doc = tx.subscriptions.get(req.sub) or {"id": req.sub}
        sub = c.Subscription.model_validate(doc)
        vms = tx.resources.query(req.sub, types=[ids.T_VM])
        cores = sum(sizes.cores_of(r.doc.get("size")) for r in vms if r.status != "StoppedDeallocated")
        facts = out_subscription.SubscriptionFacts(
            id=sub.id, name=sub.name, created=sub.created,
            admin=(sub.co_administrators or ["admin@classic2arm.local"])[0], cores=cores,
            hosted_services=tx.resources.count(req.sub, types=[ids.T_HOSTED_SERVICE]),
            storage_accounts=tx.resources.count(req.sub, types=[ids.T_STORAGE]),
            vnets=tx.resources.count(req.sub, types=[ids.T_VNET]),
            max_cores=max(20, 2 * cores))
    return xml(out_subscription.subscription(facts))


def locations(req: AsmRequest) -> Response:
    return xml(out_subscription.locations())


def role_sizes(req: AsmRequest) -> Response:
    return xml(out_subscription.role_sizes())


def affinity_groups(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_storage.affinity_groups(lookup.models(tx, req.sub, ids.T_AFFINITY_GROUP, c.AffinityGroup)))


def management_certificates(req: AsmRequest) -> Response:
    return xml(out_subscription.management_certificates(classic_writes.management_certificates(req.ctx)))


def resource_extensions(req: AsmRequest) -> Response:
    return xml(out_subscription.resource_extensions())


def operation_status(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        op = operations.find(tx, req.param("op_id"))
    if op.subscription_id.lower() != req.sub.lower():
        raise NotFound(f"The operation '{req.param('op_id')[:64]}' was not found.")
    # Admin pacing may hold a finished operation at InProgress for a few polls or seconds (tests, demos).
    return xml(xml_out.operation(pacing.observed_view(req.ctx, operations.view(op))))


def list_operations(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        ops = [operations.view(op) for op in tx.operations.all(req.sub)]
    return xml(out_subscription.subscription_operations(req.sub, ops))


# --------------------------------------------------------------------------- compute


def hosted_services(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_compute.hosted_services(lookup.services(tx, req.sub)))


def hosted_service(req: AsmRequest) -> Response:
    embed = _flag(req, "embed-detail")
    with req.ctx.store.read() as tx:
        return xml(out_compute.hosted_service(lookup.service(tx, req.sub, req.param("svc"), embed), embed))


def service_certificates(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_compute.certificates(lookup.service(tx, req.sub, req.param("svc"), embed=False)))


def deployment(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_compute.deployment(lookup.deployment(tx, req.sub, req.param("svc"), req.param("dep"))))


def deployment_by_slot(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        dv = lookup.deployment_in_slot(tx, req.sub, req.param("svc"), req.param("slot"))
    return xml(out_compute.deployment(dv))


def role(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        rv, dep = lookup.role(tx, req.sub, req.param("svc"), req.param("dep"), req.param("role"))
    return xml(out_compute.role(rv, dep))


def data_disk(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        disk = lookup.data_disk(tx, req.sub, req.param("svc"), req.param("dep"), req.param("role"), req.param("lun"))
    return xml(out_compute.data_disk(disk))


# --------------------------------------------------------------------------- disks and images


def disks(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_storage.disks(lookup.models(tx, req.sub, ids.T_DISK, c.Disk)))


def disk(req: AsmRequest) -> Response:
    name = req.param("name")
    with req.ctx.store.read() as tx:
        _, d = lookup.one(tx, ids.disk_id(req.sub, name), ids.T_DISK, c.Disk, f"The disk '{name}' does not exist.")
    return xml(out_storage.disk(d))


def os_images(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_storage.os_images(lookup.models(tx, req.sub, ids.T_OS_IMAGE, c.OSImage)))


def _os_image(req: AsmRequest, details: bool) -> Response:
    name = req.param("name")
    with req.ctx.store.read() as tx:
        _, img = lookup.one(tx, ids.os_image_id(req.sub, name), ids.T_OS_IMAGE, c.OSImage,
                            f"The image '{name}' does not exist.")
    return xml(out_storage.os_image(img, details))


def os_image(req: AsmRequest) -> Response:
    return _os_image(req, details=False)


def os_image_details(req: AsmRequest) -> Response:
    return _os_image(req, details=True)


def vm_images(req: AsmRequest) -> Response:
    location, category = _query(req, "location"), _query(req, "category")
    with req.ctx.store.read() as tx:
        items = lookup.models(tx, req.sub, ids.T_VM_IMAGE, c.VMImage)
    items = [i for i in items if (not location or (i.location or "").lower() == location.lower())
             and (not category or i.category.lower() == category.lower())]
    return xml(out_storage.vm_images(items))


# --------------------------------------------------------------------------- network


def virtual_network_sites(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_network.virtual_network_sites(lookup.vnets(tx, req.sub)))


def network_configuration(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        vnets = lookup.models(tx, req.sub, ids.T_VNET, c.VirtualNetworkSite)
        sites = lookup.models(tx, req.sub, ids.T_LOCAL_SITE, c.LocalNetworkSite)
    if not vnets and not sites:
        raise NotFound("Network configuration does not exist.")
    return xml(out_network.network_configuration(vnets, sites), media_type="text/plain")


def reserved_ips(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_network.reserved_ips(lookup.models(tx, req.sub, ids.T_RESERVED_IP, c.ReservedIP)))


def reserved_ip(req: AsmRequest) -> Response:
    name = req.param("name")
    with req.ctx.store.read() as tx:
        _, rip = lookup.one(tx, ids.reserved_ip_id(req.sub, name), ids.T_RESERVED_IP, c.ReservedIP,
                            f"The reserved IP '{name}' does not exist.")
    return xml(out_network.reserved_ip(rip))


def nsgs(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_network.network_security_groups(
            lookup.models(tx, req.sub, ids.T_NSG, c.NetworkSecurityGroup)))


def nsg(req: AsmRequest) -> Response:
    name = req.param("name")
    with req.ctx.store.read() as tx:
        _, group = lookup.one(tx, ids.nsg_id(req.sub, name), ids.T_NSG, c.NetworkSecurityGroup,
                              f"The network security group '{name}' does not exist.")
    return xml(out_network.network_security_group(group, full=_flag(req, "detaillevel")))


def route_tables(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_network.route_tables(lookup.models(tx, req.sub, ids.T_ROUTE_TABLE, c.RouteTable)))


def route_table(req: AsmRequest) -> Response:
    name = req.param("name")
    with req.ctx.store.read() as tx:
        _, rt = lookup.one(tx, ids.route_table_id(req.sub, name), ids.T_ROUTE_TABLE, c.RouteTable,
                           f"The route table '{name}' does not exist.")
    return xml(out_network.route_table(rt, full=_flag(req, "detaillevel")))


# --------------------------------------------------------------------------- storage


def storage_accounts(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_storage.storage_services(lookup.storages(tx, req.sub)))


def storage_account(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_storage.storage_service(lookup.storage(tx, req.sub, req.param("name"))))


def storage_keys(req: AsmRequest) -> Response:
    with req.ctx.store.read() as tx:
        return xml(out_storage.storage_keys(lookup.storage(tx, req.sub, req.param("name"))))


def storage_name_available(req: AsmRequest) -> Response:
    name = req.param("name")
    with req.ctx.store.read() as tx:
        taken = bool(tx.resources.query(types=[ids.T_STORAGE], name=name))
    valid = 3 <= len(name) <= 24 and name.isascii() and name.isalnum() and name.lower() == name
    reason = None if valid and not taken else (
        "The storage account name is already taken." if taken else
        "Storage account names must be 3 to 24 lower-case letters and digits.")
    return xml(xml_out.availability(valid and not taken, reason))
