"""`translate(snapshot)`: picks the families a unit needs, in dependency order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from .. import arm
from .. import classic as c
from .. import identity as ids
from ..locations import arm_name
from ..units import CloudService, Destination, UnitKind, UnitSnapshot
from . import compute, names, network, storage, vnet
from .context import Ctx, Sink, Translation
from .groups import migrated_group
from .network import Placement

_T = TypeVar("_T")


class TranslationError(ValueError):
    """The snapshot lacks what its unit kind needs (validation should have refused it)."""


def translate(snap: UnitSnapshot, *, peer_vnets: Mapping[str, Sequence[str]] | None = None) -> Translation:
    """The ARM resources prepare creates for `snap`'s unit. Pure and deterministic.

    `peer_vnets` (classic VNet name -> address prefixes) lets a VNet unit recognise local sites that stand for
    other classic VNets (row 24, VNet-to-VNet); the snapshot itself only holds the unit's own VNet.
    """
    kind = snap.ref.kind
    ctx = Ctx(snap=snap, sub=snap.subscription.id, location=_location(snap), out=Sink(), network_rg="")
    if kind == UnitKind.VNET:
        _vnet_unit(ctx, peer_vnets or {})
    elif kind == UnitKind.DEPLOYMENT:
        _deployment_unit(ctx)
    elif kind == UnitKind.STORAGE:
        account = _need(snap.storage_account, "storage account")
        storage.add_storage_account(ctx, account, migrated_group(ctx, account.name, ids.storage_id(ctx.sub,
                                                                                                   account.name)))
    elif kind == UnitKind.RESERVED_IP:
        rip = _need(snap.reserved_ip, "reserved IP")
        origin = ids.reserved_ip_id(ctx.sub, rip.name)
        network.add_public_ip(ctx, migrated_group(ctx, rip.name, origin), rip.name, origin, static=True,
                              address=rip.address, basic_sku=True)
    elif kind == UnitKind.NSG:
        nsg = _need(snap.nsg, "network security group")
        network.add_nsg(ctx, nsg, migrated_group(ctx, nsg.name, ids.nsg_id(ctx.sub, nsg.name)))
    elif kind == UnitKind.ROUTE_TABLE:
        table = _need(snap.route_table, "route table")
        network.add_route_table(ctx, table, migrated_group(ctx, table.name, ids.route_table_id(ctx.sub, table.name)))
    return ctx.out.result


def _need(value: _T | None, what: str) -> _T:
    if value is None:
        raise TranslationError(f"snapshot of a {what} unit holds no {what}")
    return value


def _location(snap: UnitSnapshot) -> str:
    """ARM short name of the unit's region; the snapshot's own location first, then the root object's."""
    candidates = [snap.location, snap.vnet and snap.vnet.location,
                  snap.storage_account and snap.storage_account.location,
                  snap.reserved_ip and snap.reserved_ip.location, snap.nsg and snap.nsg.location,
                  snap.route_table and snap.route_table.location,
                  *(s.hosted_service.location for s in snap.services)]
    for loc in candidates:
        if loc:
            return arm_name(loc)
    raise TranslationError(f"no location known for {snap.ref.describe()}")


def _vnet_unit(ctx: Ctx, peer_vnets: Mapping[str, Sequence[str]]) -> None:
    """Row 13: the VNet side goes to `<vnet>-Migrated`; each cloud service in it to `<svc>-Migrated`."""
    site = _need(ctx.snap.vnet, "virtual network")
    arm_vnet = names.vnet_name(site.name)
    ctx.network_rg = migrated_group(ctx, arm_vnet, ids.vnet_id(ctx.sub, site.name))
    place = vnet.classic_vnet(ctx, site, ctx.network_rg, peer_vnets)
    for cs in ctx.snap.services:
        _cloud_service(ctx, cs, place)


def _deployment_unit(ctx: Ctx) -> None:
    """Non-VNet deployment: VMs land in a new platform VNet or an existing ARM one (§1.1 A)."""
    for cs in ctx.snap.services:
        rg = migrated_group(ctx, cs.name, ids.hosted_service_id(ctx.sub, cs.name))
        ctx.network_rg = rg  # non-VNet VMs have no classic NSGs to clone; any that do land beside them
        dest = ctx.snap.ref.destination or Destination()
        origin = ids.deployment_id(ctx.sub, cs.name, cs.deployment.name)
        if dest.normalized == "existing":
            vnet_id = ctx.arm_id(dest.resource_group, arm.VNET, dest.vnet)
            place = Placement(keeps_addresses=False, vnet_id=vnet_id, fixed_subnet=dest.subnet)
        else:
            place = vnet.platform_vnet(ctx, cs.name, rg, origin)
        _cloud_service(ctx, cs, place, rg)


def _cloud_service(ctx: Ctx, cs: CloudService, place: Placement, rg: str | None = None) -> None:
    """Everything one cloud service's VMs need, references before referrers."""
    rg = rg or migrated_group(ctx, cs.name, ids.hosted_service_id(ctx.sub, cs.name))
    vault = compute.key_vault(ctx, cs, rg)
    avsets = compute.availability_sets(ctx, cs, rg)
    backend = network.load_balancer(ctx, cs, rg, place)
    for vm in cs.vms:
        nics = network.vm_nics(ctx, cs, vm, rg, place, backend)
        avset = avsets.get(vm.availability_set.lower()) if vm.availability_set else None
        vm_id = compute.add_vm(ctx, cs, vm, rg, nics, avset, vault)
        compute.add_extensions(ctx, cs, vm, vm_id)
        _dropped_monitoring(ctx, cs, vm)
    for role in cs.roles:
        if not role.is_vm:
            ctx.out.drop(f"{role.role_type.value} {role.name} of {cs.name}: web/worker roles are not IaaS VMs "
                         "and are not translated here")


def _dropped_monitoring(ctx: Ctx, cs: CloudService, vm: c.Role) -> None:
    """Row 27: classic alerts and autoscale policies have no ARM counterpart in the migration."""
    if vm.has_alerts:
        ctx.out.drop(f"alert rules on {cs.name}/{vm.name}: classic alerts are not migrated; recreate them in ARM")
    if vm.has_autoscale:
        ctx.out.drop(f"autoscale settings on {cs.name}/{vm.name}: classic autoscale is not migrated")


__all__ = ["TranslationError", "translate"]
