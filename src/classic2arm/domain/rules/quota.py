"""ARM quota (spec §4.2 R40, prepare only): will the resources the translation creates fit in the region?

`needed(snap)` counts what migrating the unit adds on the ARM side, per ARM usage name; the rule compares
`usage + needed > quota` for every kind the snapshot has a quota for (kinds without a quota are unlimited).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from .. import catalogue as t
from .. import classic as c
from ..sizes import cores_of
from ..units import CloudService, Destination, Message, Phase, UnitKind, UnitSnapshot
from ._common import ERROR, msg, reserved_vips, used_vips
from .registry import ALL_KINDS, rule

# ARM usage names (as `Get-AzVMUsage` / the network usage API report them), in message order.
CORES: Final = "cores"
NICS: Final = "networkInterfaces"
PUBLIC_IPS: Final = "publicIPAddresses"
STATIC_PUBLIC_IPS: Final = "staticPublicIPAddresses"
LOAD_BALANCERS: Final = "loadBalancers"
NSGS: Final = "networkSecurityGroups"
ROUTE_TABLES: Final = "routeTables"
VIRTUAL_NETWORKS: Final = "virtualNetworks"
AVAILABILITY_SETS: Final = "availabilitySets"
STORAGE_ACCOUNTS: Final = "storageAccounts"
KINDS: Final = (CORES, NICS, PUBLIC_IPS, STATIC_PUBLIC_IPS, LOAD_BALANCERS, NSGS, ROUTE_TABLES, VIRTUAL_NETWORKS,
                AVAILABILITY_SETS, STORAGE_ACCOUNTS)

def _service_needs(cs: CloudService, out: dict[str, int], nsgs: set[str]) -> None:
    vms = cs.vms
    dep = cs.deployment
    out[CORES] += sum(cores_of(vm.size) for vm in vms)
    out[NICS] += sum(1 + len(vm.secondary_nics) for vm in vms)
    out[PUBLIC_IPS] += sum(len(vm.public_ips) for vm in vms)  # instance-level public IPs (dynamic)
    has_endpoints = any(vm.input_endpoints for vm in vms)
    # A VIP becomes a public IP only if an input endpoint is on it (spec §3.1 row 12); a reserved one is
    # static whatever its endpoints (it exists already and keeps its address).
    primary = dep.virtual_ips[0].name.lower() if dep.virtual_ips else None
    used = used_vips(vms, primary) if has_endpoints else set()
    reserved_names = {vip.name.lower() for _, vip in reserved_vips(dep) if vip is not None}
    if dep.virtual_ips:
        for vip in dep.virtual_ips:
            is_reserved = vip.name.lower() in reserved_names
            if is_reserved or vip.name.lower() in used or vip.address.lower() in used:
                out[PUBLIC_IPS] += 1
                out[STATIC_PUBLIC_IPS] += is_reserved
    elif has_endpoints:
        out[PUBLIC_IPS] += 1  # the implicit cloud-service VIP
    if has_endpoints or dep.internal_load_balancers:
        out[LOAD_BALANCERS] += 1  # one explicit LB per cloud service; internal LBs become its frontends
    out[AVAILABILITY_SETS] += len({vm.availability_set.lower() for vm in vms if vm.availability_set})
    for vm in vms:
        if vm.network_security_group:
            nsgs.add(vm.network_security_group.lower())
        for nic in vm.secondary_nics:
            if nic.network_security_group:
                nsgs.add(nic.network_security_group.lower())


def _new_vnet(dest: Destination | None) -> bool:
    return dest is None or dest.normalized != "existing"


def needed(snap: UnitSnapshot) -> dict[str, int]:
    """What migrating the unit creates in ARM, per usage name."""
    out = dict.fromkeys(KINDS, 0)
    kind = snap.ref.kind
    if kind in (UnitKind.DEPLOYMENT, UnitKind.VNET):
        nsgs: set[str] = set()
        route_tables: set[str] = set()
        for cs in snap.services:
            _service_needs(cs, out, nsgs)
        v = snap.vnet
        if kind == UnitKind.VNET or _new_vnet(snap.ref.destination):
            out[VIRTUAL_NETWORKS] += 1
        if v is not None:
            for subnet in v.subnets:
                if subnet.network_security_group:
                    nsgs.add(subnet.network_security_group.lower())
                if subnet.route_table:
                    route_tables.add(subnet.route_table.lower())
            if v.gateway is not None and v.gateway.type != c.GatewayType.NONE:
                out[PUBLIC_IPS] += 1  # the gateway keeps its VIP as a public IP
        out[NSGS] += len(nsgs)
        out[ROUTE_TABLES] += len(route_tables)
    elif kind == UnitKind.RESERVED_IP:
        out[PUBLIC_IPS] += 1
        out[STATIC_PUBLIC_IPS] += 1
    elif kind == UnitKind.NSG:
        out[NSGS] += 1
    elif kind == UnitKind.ROUTE_TABLE:
        out[ROUTE_TABLES] += 1
    elif kind == UnitKind.STORAGE:
        out[STORAGE_ACCOUNTS] += 1
    return out


@rule(id="R40", scopes=ALL_KINDS, phase=Phase.PREPARE)
def arm_quota(snap: UnitSnapshot) -> Iterator[Message]:
    """Quota per kind: current usage plus what migration adds must stay within the regional quota."""
    quota = snap.arm.quota
    if not quota:
        return
    need = needed(snap)
    for k in KINDS:
        add = need[k]
        if k in quota and add and snap.arm.usage.get(k, 0) + add > quota[k]:
            yield msg(t.R40_QUOTA, ERROR, snap.ref.kind.resource_type, snap.ref.name, resource=k, quota=quota[k],
                      needed=add)
