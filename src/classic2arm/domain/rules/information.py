"""Success listing (spec §4.1, R43): on a validate without Errors, one Information message per resource that
will be migrated. Only the storage text is known; the others are ours, in the same shape.

Order: the unit's root first (VNet), then per cloud service its deployment, VMs and availability set, then
the network objects that move with the unit (NSGs, route tables, reserved IPs), each group by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .. import catalogue as t
from .. import classic as c
from ..units import Message, UnitKind, UnitSnapshot
from ._common import (
    AVAILABILITY_SET,
    DEPLOYMENT,
    INFORMATION,
    NETWORK_SECURITY_GROUP,
    RESERVED_IP,
    ROUTE_TABLE,
    STORAGE,
    VIRTUAL_MACHINE,
    VIRTUAL_NETWORK,
    msg,
    reserved_vips,
)
from .registry import ALL_KINDS, rule


def _named(found: dict[str, str], known: dict[str, c.NetworkSecurityGroup] | dict[str, c.RouteTable],
           name: str | None) -> None:
    """Collect `name` once (case-insensitively), spelled as the referenced object spells itself."""
    if name:
        obj = known.get(name.lower())
        found.setdefault(name.lower(), obj.name if obj is not None else name)


def _sorted(found: dict[str, str]) -> Iterable[str]:
    return (found[k] for k in sorted(found))


def _compute_unit(snap: UnitSnapshot) -> Iterator[Message]:
    nsgs: dict[str, str] = {}
    route_tables: dict[str, str] = {}
    reserved: dict[str, str] = {}
    if snap.ref.kind == UnitKind.VNET:
        name = snap.vnet.name if snap.vnet is not None else snap.ref.name
        yield msg(t.R43_VNET_ELIGIBLE, INFORMATION, VIRTUAL_NETWORK, name, name=name)
        if snap.vnet is not None:
            for subnet in snap.vnet.subnets:
                _named(nsgs, snap.nsgs, subnet.network_security_group)
                _named(route_tables, snap.route_tables, subnet.route_table)
    for cs in snap.services:
        dep = cs.deployment
        yield msg(t.R43_DEPLOYMENT_ELIGIBLE, INFORMATION, DEPLOYMENT, dep.name, dep=dep.name, hs=cs.name)
        sets: dict[str, str] = {}
        for vm in cs.vms:
            yield msg(t.R43_VM_ELIGIBLE, INFORMATION, VIRTUAL_MACHINE, vm.name, vm=vm.name, hs=cs.name)
            if vm.availability_set:
                sets.setdefault(vm.availability_set.lower(), vm.availability_set)
            _named(nsgs, snap.nsgs, vm.network_security_group)
            for nic in vm.secondary_nics:
                _named(nsgs, snap.nsgs, nic.network_security_group)
        for name in _sorted(sets):
            yield msg(t.R43_AVAILABILITY_SET_ELIGIBLE, INFORMATION, AVAILABILITY_SET, name, name=name, hs=cs.name)
        for rip, _ in reserved_vips(dep):
            if rip:
                reserved.setdefault(rip.lower(), rip)
    for name in _sorted(nsgs):
        yield msg(t.R43_NSG_ELIGIBLE, INFORMATION, NETWORK_SECURITY_GROUP, name, name=name)
    for name in _sorted(route_tables):
        yield msg(t.R43_ROUTE_TABLE_ELIGIBLE, INFORMATION, ROUTE_TABLE, name, name=name)
    for name in _sorted(reserved):
        yield msg(t.R43_RESERVED_IP_ELIGIBLE, INFORMATION, RESERVED_IP, name, name=name)


@rule(id="R43", scopes=ALL_KINDS, category=INFORMATION)
def eligible(snap: UnitSnapshot) -> Iterator[Message]:
    """Every resource that will be migrated with the unit (only run when no Error was found)."""
    kind = snap.ref.kind
    if kind in (UnitKind.DEPLOYMENT, UnitKind.VNET):
        yield from _compute_unit(snap)
    elif kind == UnitKind.STORAGE:
        name = snap.storage_account.name if snap.storage_account is not None else snap.ref.name
        yield msg(t.R43_STORAGE_ELIGIBLE, INFORMATION, STORAGE, name, name=name)
    elif kind == UnitKind.RESERVED_IP:
        name = snap.reserved_ip.name if snap.reserved_ip is not None else snap.ref.name
        yield msg(t.R43_RESERVED_IP_ELIGIBLE, INFORMATION, RESERVED_IP, name, name=name)
    elif kind == UnitKind.NSG:
        name = snap.nsg.name if snap.nsg is not None else snap.ref.name
        yield msg(t.R43_NSG_ELIGIBLE, INFORMATION, NETWORK_SECURITY_GROUP, name, name=name)
    elif kind == UnitKind.ROUTE_TABLE:
        name = snap.route_table.name if snap.route_table is not None else snap.ref.name
        yield msg(t.R43_ROUTE_TABLE_ELIGIBLE, INFORMATION, ROUTE_TABLE, name, name=name)
