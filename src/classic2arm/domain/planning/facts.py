"""From one unit's snapshot and validation messages to its `PlannedUnit` (pure): production marker, what must
happen first, the storage accounts its VMs' disks live in, what its migration adds in ARM, its VMs' impact."""

from __future__ import annotations

from collections.abc import Sequence

from .. import catalogue as t
from .. import classic as c
from .. import dataplane, media
from ..locations import UnknownLocation, arm_name
from ..rules import quota
from ..rules._common import reserved_vips
from ..units import CloudService, Message, UnitKind, UnitSnapshot
from .model import PlannedUnit, VmImpact, unit_key

PRODUCTION_KEYS = frozenset({"environment", "env"})
PRODUCTION_VALUES = frozenset({"production", "prod"})

# ARM usage kinds that are resources of their own (one PUT each); cores are not, static IPs are counted in
# publicIPAddresses already.
_WRITTEN = (quota.NICS, quota.PUBLIC_IPS, quota.LOAD_BALANCERS, quota.NSGS, quota.ROUTE_TABLES,
            quota.VIRTUAL_NETWORKS, quota.AVAILABILITY_SETS, quota.STORAGE_ACCOUNTS)


def is_production(props: dict[str, str]) -> bool:
    """The marker (ours, `catalogue.PRODUCTION_MARKER`): ExtendedProperty Environment/Env = Production/Prod."""
    return any(k.lower() in PRODUCTION_KEYS and v.strip().lower() in PRODUCTION_VALUES for k, v in props.items())


def disk_accounts(snap: UnitSnapshot) -> set[str]:
    """Storage accounts (lower-case) holding an OS or data disk attached to one of the unit's VMs."""
    out: set[str] = set()
    for vm in snap.vms:
        if vm.os_disk is not None:
            out.add(media.account_of(vm.os_disk.media_link))
        out.update(media.account_of(d.media_link) for d in vm.data_disks)
    return out


def _region(snap: UnitSnapshot) -> str | None:
    if not snap.location:
        return None
    try:
        return arm_name(snap.location)
    except UnknownLocation:
        return snap.location.replace(" ", "").lower()


def _prerequisites(v: c.VirtualNetworkSite | None) -> tuple[str, ...]:
    if v is None:
        return ()
    out: list[str] = []
    if v.peerings:
        out.append(t.PREREQ_PEERED.format(peers=", ".join(p.rsplit("/", 1)[-1] for p in v.peerings)))
    gw = v.gateway
    if gw is not None and gw.express_route_circuit:
        out.append(t.PREREQ_EXPRESS_ROUTE.format(circuit=gw.express_route_circuit))
    elif gw is not None and gw.type != c.GatewayType.NONE:
        out.append(t.PREREQ_GATEWAY.format(gateway=gw.type.value))
    return tuple(out)


def _dynamic_vips(cs: CloudService) -> list[c.VirtualIP]:
    dep = cs.deployment
    reserved = {id(vip) for _, vip in reserved_vips(dep) if vip is not None}
    return [vip for vip in dep.virtual_ips if id(vip) not in reserved and not vip.is_reserved]


def impacts(snap: UnitSnapshot) -> tuple[VmImpact, ...]:
    key = unit_key(snap.ref)
    out: list[VmImpact] = []
    window = int(dataplane.restart_window().total_seconds())
    for cs in snap.services:
        in_vnet = bool(cs.deployment.virtual_network_name)
        vip_warnings = [] if in_vnet else [
            t.IMPACT_DYNAMIC_VIP.format(address=vip.address, vip=vip.name, hs=cs.name) for vip in _dynamic_vips(cs)]
        for vm in cs.vms:
            if in_vnet:
                out.append(VmImpact(vm.name, cs.name, key, True, False, 0))
                continue
            warnings = list(vip_warnings)
            if vm.ip_address:
                warnings.append(t.IMPACT_PRIVATE_IP.format(address=vm.ip_address))
            warnings += [t.IMPACT_INSTANCE_IP.format(address=ip.address) for ip in vm.public_ips if ip.address]
            out.append(VmImpact(vm.name, cs.name, key, False, True, window, tuple(warnings)))
    return tuple(out)


def planned_unit(snap: UnitSnapshot, messages: Sequence[Message], state: str,
                 after: tuple[str, ...] = ()) -> PlannedUnit:
    """The unit as the plan shows it; `after` are the units a storage account waits for (the caller knows them:
    they need every unit's snapshot)."""
    kind = snap.ref.kind
    if kind == UnitKind.STORAGE:
        production = snap.storage_account is not None and is_production(snap.storage_account.extended_properties)
    else:
        production = any(is_production(cs.hosted_service.extended_properties) for cs in snap.services)
    vms = len(snap.vms)
    needed = quota.needed(snap) if snap.exists else {}
    writes = (sum(needed.get(k, 0) for k in _WRITTEN) + vms + (1 if kind in (UnitKind.DEPLOYMENT, UnitKind.VNET)
                                                               else 0)) if snap.exists else 0
    return PlannedUnit(
        ref=snap.ref, migration_state=state, vms=vms,
        blockers=tuple(m for m in messages if str(m.category).lower() == "error"),
        warnings=tuple(m for m in messages if str(m.category).lower() == "warning"),
        location=_region(snap), production=production, prerequisites=_prerequisites(snap.vnet), after=after,
        needs=tuple((k, n) for k, n in needed.items() if n), arm_writes=writes, impacts=impacts(snap))
