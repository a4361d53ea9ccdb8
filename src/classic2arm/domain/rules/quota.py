"""ARM quota (spec §4.2 R40, prepare only): will the resources the translation creates fit in the region?

`needed(snap)` counts what migrating the unit adds on the ARM side, per ARM usage name; the rule compares
`usage + needed > quota` for every kind the snapshot has a quota for (kinds without a quota are unlimited).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from .. import catalogue as t
from .. import classic as c
from ..units import CloudService, Destination, Message, Phase, UnitKind, UnitSnapshot
from ._common import ERROR, ROOT_TYPE, msg, reserved_vips, used_vips
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

# Cores per classic size, keyed by a normalised name (see `cores_of`): the classic A-series names, Basic_A*,
# and the D/DS/Dv2/F/G/GS series that classic offered. DS/GS have the cores of D/G.
_CORES: Final[dict[str, int]] = {
    "extrasmall": 1, "small": 1, "medium": 2, "large": 4, "extralarge": 8,
    "a0": 1, "a1": 1, "a2": 2, "a3": 4, "a4": 8, "a5": 2, "a6": 4, "a7": 8, "a8": 8, "a9": 16, "a10": 8, "a11": 16,
    "a1_v2": 1, "a2_v2": 2, "a4_v2": 4, "a8_v2": 8, "a2m_v2": 2, "a4m_v2": 4, "a8m_v2": 8,
    "d1": 1, "d2": 2, "d3": 4, "d4": 8, "d11": 2, "d12": 4, "d13": 8, "d14": 16,
    "d1_v2": 1, "d2_v2": 2, "d3_v2": 4, "d4_v2": 8, "d5_v2": 16, "d11_v2": 2, "d12_v2": 4, "d13_v2": 8,
    "d14_v2": 16, "d15_v2": 20,
    "f1": 1, "f2": 2, "f4": 4, "f8": 8, "f16": 16,
    "g1": 2, "g2": 4, "g3": 8, "g4": 16, "g5": 32,
}
_PREFIX = re.compile(r"^(standard_|basic_)")


def cores_of(size: str | None) -> int:
    """Cores of a classic size name; an unknown size counts as 1 so it is never free."""
    if not size:
        return 1
    key = _PREFIX.sub("", size.strip().lower())
    if key.startswith(("ds", "gs")):
        key = key[0] + key[2:]
    return _CORES.get(key, 1)


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
            yield msg(t.R40_QUOTA, ERROR, ROOT_TYPE[snap.ref.kind], snap.ref.name, resource=k, quota=quota[k],
                      needed=add)
