"""Every unit of migration in a subscription with its state, and the data-plane downtime report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import identity as ids
from ..domain.units import Destination, UnitKind, UnitRef
from ..store import UnitRecord
from .context import AppContext
from .inventory import NOT_PREPARED, same_location, vm_power_state
from .operations import utc
from .snapshot import unit_id


@dataclass(frozen=True, slots=True)
class UnitStatus:
    kind: str
    name: str
    service: str | None
    state: str
    operation_id: str | None
    vms: int
    location: str | None = None
    vnet: str | None = None  # the VNet unit's own name; none for the other kinds
    power_states: frozenset[str] = frozenset()  # of the unit's VMs
    classic: bool = True  # its classic side exists (not a committed unit whose classic side is gone)

    @property
    def ref(self) -> UnitRef:
        """The unit as the migration verbs take it (a deployment outside a VNet to a new VNet, as the
        demo and `validate --all` migrate it)."""
        kind = UnitKind(self.kind)
        return UnitRef(kind, self.name, self.service, Destination("New") if kind == UnitKind.DEPLOYMENT else None)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "service": self.service, "state": self.state,
                "operationId": self.operation_id, "vms": self.vms, "location": self.location,
                "powerStates": sorted(self.power_states)}


@dataclass(frozen=True, slots=True)
class UnitFilter:
    """Which units `status` lists; every field given must match (case-insensitively)."""

    kind: str | None = None
    location: str | None = None  # the unit's region, as "West US" or "westus"
    vnet: str | None = None  # VNet units of that name
    cloud_service: str | None = None  # deployment units of that cloud service, and VNet units holding one
    power_state: str | None = None  # units with at least one VM in that power state
    migration_state: str | None = None  # e.g. NotPrepared, Prepared, Committed

    def matches(self, u: UnitStatus, services: frozenset[str]) -> bool:
        return ((self.kind is None or u.kind == self.kind.lower())
                and (self.location is None or same_location(u.location, self.location))
                and (self.vnet is None or (u.vnet or "").lower() == self.vnet.lower())
                and (self.cloud_service is None or self.cloud_service.lower() in services)
                and (self.power_state is None or self.power_state.lower() in {p.lower() for p in u.power_states})
                and (self.migration_state is None or u.state.lower() == self.migration_state.lower()))


def status(ctx: AppContext, where: UnitFilter | None = None, *, vm_counts: bool = True) -> list[UnitStatus]:
    """Every unit of migration of the subscription (with `where`, those that match), from index columns and
    a few document fields only: no document is parsed. `vm_counts=False`: every unit with 0 VMs and no power
    states, without reading the VMs (for a caller that loads them itself: half of this listing's time at
    10,000 VMs is SQLite extracting each VM's power state); `where` may then not filter by power state. A
    committed unit whose classic side is gone has the VMs its prepare counted (the unit record's `vms`)."""
    where = where or UnitFilter()
    if not vm_counts and where.power_state is not None:
        raise ValueError("status: a power-state filter needs the VMs (vm_counts=True)")
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        units = {u.id: u for u in tx.units.all(sub)}
        vms_per_dep: dict[str, int] = {}
        powers_per_dep: dict[str, set[str]] = {}
        for row in tx.resources.project(sub, [ids.T_VM], ["power_state"]) if vm_counts else ():
            dep = row["parent_key"] or ""
            vms_per_dep[dep] = vms_per_dep.get(dep, 0) + 1
            power = vm_power_state(row["status"], row["doc_power_state"])
            if power:
                powers_per_dep.setdefault(dep, set()).add(power)
        found: list[tuple[UnitStatus, frozenset[str]]] = []
        vnet_vms: dict[str, int] = {}
        vnet_powers: dict[str, set[str]] = {}
        vnet_services: dict[str, set[str]] = {}
        for d in tx.resources.project(sub, [ids.T_DEPLOYMENT], ["virtual_network_name", "service_name"]):
            vnet, svc = d["doc_virtual_network_name"], d["doc_service_name"] or ""
            n, powers = vms_per_dep.get(d["key"], 0), powers_per_dep.get(d["key"], set())
            if vnet:
                vnet_vms[vnet.lower()] = vnet_vms.get(vnet.lower(), 0) + n
                vnet_powers.setdefault(vnet.lower(), set()).update(powers)
                vnet_services.setdefault(vnet.lower(), set()).add(svc.lower())
            else:
                found.append((_unit(sub, units, UnitKind.DEPLOYMENT, d, n, svc, powers), frozenset({svc.lower()})))
        for row in tx.resources.project(sub, [ids.T_VNET], []):
            name = row["name"].lower()
            found.append((_unit(sub, units, UnitKind.VNET, row, vnet_vms.get(name, 0), None,
                                vnet_powers.get(name, set())), frozenset(vnet_services.get(name, set()))))
        for rtype, kind in ((ids.T_STORAGE, UnitKind.STORAGE), (ids.T_RESERVED_IP, UnitKind.RESERVED_IP),
                            (ids.T_NSG, UnitKind.NSG), (ids.T_ROUTE_TABLE, UnitKind.ROUTE_TABLE)):
            found.extend((_unit(sub, units, kind, row, 0, None, set()), frozenset())
                         for row in tx.resources.project(sub, [rtype], []))
        seen = {unit_id(sub, u.ref) for u, _ in found}
        for uid, rec in units.items():  # committed units whose classic side is gone
            if uid not in seen:
                found.append((UnitStatus(rec.kind, rec.name, rec.service, rec.state or NOT_PREPARED,
                                         rec.operation_id, int(rec.doc.get("vms") or 0), classic=False),
                              frozenset({(rec.service or "").lower()})))
    return [u for u, services in found if where.matches(u, services)]


def _unit(sub: str, units: dict[str, UnitRecord], kind: UnitKind, row: dict[str, Any], vms: int,
          service: str | None, powers: set[str]) -> UnitStatus:
    ref = UnitRef(kind, row["name"], service)
    rec = units.get(unit_id(sub, ref))
    return UnitStatus(kind.value, row["name"], service, (rec.state if rec else None) or NOT_PREPARED,
                      rec.operation_id if rec else None,
                      vms, row["location"],
                      row["name"] if kind == UnitKind.VNET else None, frozenset(powers))


def summary(units: list[UnitStatus]) -> dict[str, Any]:
    """Counts of units: in all, by kind and by migration state, and the VMs they hold."""
    return {"units": len(units), "vms": sum(u.vms for u in units),
            "byKind": dict(sorted(Counter(u.kind for u in units).items())),
            "byMigrationState": dict(sorted(Counter(u.state for u in units).items()))}


@dataclass(frozen=True, slots=True)
class Downtime:
    vm: str
    windows: int
    seconds: float  # world-clock seconds down
    real_seconds: float  # wall-clock seconds down while the operation ran
    open: bool  # still down

    def to_json(self) -> dict[str, Any]:
        return {"vm": self.vm, "windows": self.windows, "seconds": self.seconds, "realSeconds": self.real_seconds,
                "stillDown": self.open}


def downtime(ctx: AppContext, operation_id: str | None = None) -> list[Downtime]:
    """Per VM: how many stop/deallocate windows, and for how long, from the recorded data-plane timeline."""
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        events = tx.timeline.all(sub, operation_id=operation_id.replace("-", "").lower() if operation_id else None)
    per_vm: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        per_vm.setdefault(e["vm_key"], []).append(e)
    out: list[Downtime] = []
    for vm, evs in sorted(per_vm.items()):
        windows, secs, real = 0, 0.0, 0.0
        down_at: tuple[datetime, datetime] | None = None
        for e in evs:
            at, real_at = utc(e["at"]), utc(e["real_at"])
            assert at is not None and real_at is not None
            if e["event"] == "down" and down_at is None:
                down_at = (at, real_at)
                windows += 1
            elif e["event"] == "up" and down_at is not None:
                secs += (at - down_at[0]).total_seconds()
                real += (real_at - down_at[1]).total_seconds()
                down_at = None
        out.append(Downtime(vm.rsplit("/", 1)[-1], windows, secs, real, down_at is not None))
    return out
