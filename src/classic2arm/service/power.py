"""Changing VMs' power state: the one implementation behind Start/Shutdown Role, `vm start|stop`, the
retirement enforcement, the migration's data-plane steps (prepare deallocates, abort restores) and the ARM VM
power actions (`arm_vms.act`: start, powerOff, deallocate, restart). An ARM VM takes the same classic status,
kept as its ARM power code (`domain.vm_power.arm_code`); its addresses are its NICs', which ARM keeps.

What the platform does with addresses: a VM that stops but stays provisioned keeps them; one deallocated gives
its dynamic addresses back (a VNet static IP stays reserved in `static_ip`); one that starts or is restored gets
a valid address again: its static IP, else the one it still holds if valid and free, else the first free one of
its subnet (VNet VM) or a fabric address no other VM of its deployment uses (VM outside a VNet). The addresses
in use are read for all the VMs of one call together: a few queries, however many VMs change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..domain import arm as armt
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import vm_power
from ..store import Row, Tx
from . import addressing

DEALLOCATED = c.InstanceStatus.STOPPED_DEALLOCATED.value

# (a VM row, classic or ARM, as read in this transaction, its new instance status, its new power state)
Change = tuple[Row, str, str]


def change(tx: Tx, sub: str, changes: Sequence[Change]) -> list[Row]:
    """Give the VMs their new power states and the addresses that go with them, and write back the rows that
    changed (documents, status, version); returns those rows as written. Callers check locks and policy."""
    pending: list[tuple[Row, dict[str, Any]]] = []
    placing: list[tuple[Row, dict[str, Any]]] = []  # (the same documents: placement fills them in)
    for row, status, power in changes:
        if row.model == ids.ARM:
            pending.append((row, {**row.doc, armt.POWER_KEY: vm_power.arm_code(str(status))}))
            continue
        doc = {**row.doc, "instance_status": str(status), "power_state": str(power)}
        if doc["instance_status"] == DEALLOCATED:
            doc["ip_address"] = None
            if doc.get("secondary_nics"):
                doc["secondary_nics"] = [{**n, "ip_address": None} for n in doc["secondary_nics"]]
        elif _needs_address(row.doc):
            placing.append((row, doc))
        pending.append((row, doc))
    if placing:
        _place(tx, sub, placing, {row.key: doc for row, doc in pending})
    written = [_written(row, doc) for row, doc in pending if doc != row.doc]
    tx.resources.update_documents(written)
    return written


def _written(row: Row, doc: dict[str, Any]) -> Row:
    status = row.status if row.model == ids.ARM else str(doc["instance_status"])
    return replace(row, doc=doc, status=status, version=row.version + 1)


def _needs_address(doc: dict[str, Any]) -> bool:
    """A VM that was deallocated, or holds no address on one of its NICs, is given addresses (again)."""
    if doc.get("instance_status") == DEALLOCATED or not doc.get("ip_address"):
        return True
    return any(not n.get("ip_address") for n in doc.get("secondary_nics") or [])


def _addresses(doc: dict[str, Any]) -> Iterable[str]:
    """Every private address a role document holds or reserves."""
    for a in (doc.get("ip_address"), doc.get("static_ip")):
        if a:
            yield str(a)
    for nic in doc.get("secondary_nics") or []:
        if nic.get("ip_address"):
            yield str(nic["ip_address"])
        for cfg in nic.get("ip_configurations") or []:
            if cfg.get("static_ip"):
                yield str(cfg["static_ip"])


@dataclass
class _Scope:
    """Where VMs take addresses from: a VNet (its subnets' prefixes) or a deployment outside any VNet."""

    prefixes: dict[str, str] | None  # subnet name (lower) -> prefix; None: the fabric range
    first_subnet: str | None = None
    taken: set[str] = field(default_factory=set)


def _place(tx: Tx, sub: str, placing: list[tuple[Row, dict[str, Any]]], changed: dict[str, dict[str, Any]]) -> None:
    """Read what the VMs' deployments, VNets and neighbours hold (batched), then place each VM in turn."""
    dep_rows = tx.resources.get_many({row.parent_key for row, _ in placing if row.parent_key})
    vnet_of = {k: str(d.doc.get("virtual_network_name") or "") for k, d in dep_rows.items()}
    scopes: dict[str, _Scope] = {}  # key: "vnet:<name>" or the deployment key
    members: dict[str, str] = {}  # deployment key -> scope key
    vnet_names = {v.lower() for v in vnet_of.values() if v}
    for k, vnet in vnet_of.items():
        if not vnet:
            scopes[k] = _Scope(None)
            members[k] = k
    if vnet_names:
        vnet_rows = tx.resources.get_many(ids.vnet_id(sub, name) for name in vnet_names)
        for vrow in vnet_rows.values():
            subnets = vrow.doc.get("subnets") or []
            scopes[f"vnet:{vrow.name.lower()}"] = _Scope(
                {str(s["name"]).lower(): str(s["address_prefix"]) for s in subnets},
                str(subnets[0]["name"]).lower() if subnets else None)
        for d in tx.resources.project(sub, [ids.T_DEPLOYMENT], ["virtual_network_name"]):
            name = (d["doc_virtual_network_name"] or "").lower()
            if name in vnet_names:
                members[d["key"]] = f"vnet:{name}"
    placing_keys = {row.key for row, _ in placing}
    for r in tx.resources.query(sub, types=[ids.T_VM, ids.T_PAAS_ROLE], parent_keys=sorted(members)):
        scope = scopes.get(members.get(r.parent_key or "", ""))
        if scope is not None and r.key not in placing_keys:
            scope.taken.update(_addresses(changed.get(r.key, r.doc)))
    for row, doc in placing:
        scope = scopes.get(members.get(row.parent_key or "", ""))
        if scope is None:
            continue  # no deployment or VNet to place it in (left as it is)
        if scope.prefixes is None:
            doc["ip_address"] = _platform(scope, doc)
        else:
            _in_vnet(scope, doc)


def _platform(scope: _Scope, doc: dict[str, Any]) -> str:
    old = doc.get("ip_address")
    if addressing.platform_dip_valid(old) and old not in scope.taken:
        address = str(old)
    else:
        address = addressing.platform_dip(f"{doc.get('service_name')}/{doc.get('deployment_name')}/"
                                          f"{doc.get('name')}", scope.taken)
    scope.taken.add(address)
    return address


def _in_vnet(scope: _Scope, doc: dict[str, Any]) -> None:
    subnets = [str(s).lower() for s in doc.get("subnet_names") or []]
    primary = subnets[0] if subnets else scope.first_subnet
    doc["ip_address"] = _subnet_address(scope, primary, doc.get("ip_address"), doc.get("static_ip"))
    if doc.get("secondary_nics"):
        nics = []
        for nic in doc["secondary_nics"]:
            cfg = (nic.get("ip_configurations") or [{}])[0]
            subnet = str(cfg.get("subnet_name") or primary or "").lower()
            nics.append({**nic, "ip_address": _subnet_address(scope, subnet, nic.get("ip_address"),
                                                              cfg.get("static_ip"))})
        doc["secondary_nics"] = nics


def _subnet_address(scope: _Scope, subnet: str | None, old: Any, static: Any) -> str | None:
    assert scope.prefixes is not None
    if static:  # a static IP is the VM's, kept whatever else happens
        scope.taken.add(str(static))
        return str(static)
    prefix = scope.prefixes.get(subnet or "")
    if prefix is None:
        return str(old) if old else None  # a subnet the VNet no longer has: nothing valid to give
    if addressing.in_subnet(old, prefix) and old not in scope.taken:
        address: str | None = str(old)
    else:
        address = addressing.first_free(prefix, scope.taken)
    if address is not None:
        scope.taken.add(address)
    return address


def taken(tx: Tx, sub: str, deployment_key: str, vnet: str | None) -> set[str]:
    """The private addresses in use where a new VM of this deployment takes one: every role of the VNet's
    deployments, or of the deployment itself outside a VNet."""
    keys = [deployment_key.lower()]
    if vnet:
        keys = [d["key"] for d in tx.resources.project(sub, [ids.T_DEPLOYMENT], ["virtual_network_name"])
                if (d["doc_virtual_network_name"] or "").lower() == vnet.lower()] or keys
    out: set[str] = set()
    for r in tx.resources.query(sub, types=[ids.T_VM, ids.T_PAAS_ROLE], parent_keys=keys):
        out.update(_addresses(r.doc))
    return out
