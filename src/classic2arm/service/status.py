"""Every unit of migration in a subscription with its state, and the data-plane downtime report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import identity as ids
from ..domain.units import UnitKind, UnitRef
from .context import AppContext
from .operations import utc
from .snapshot import unit_id

NOT_PREPARED = "NotPrepared"  # what the CAT status script prints when MigrationState is absent


@dataclass(frozen=True, slots=True)
class UnitStatus:
    kind: str
    name: str
    service: str | None
    state: str
    operation_id: str | None
    vms: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "service": self.service, "state": self.state,
                "operationId": self.operation_id, "vms": self.vms}


def status(ctx: AppContext) -> list[UnitStatus]:
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        units = {u.id: u for u in tx.units.all(sub)}
        vms_per_dep: dict[str, int] = {}
        for row in tx.resources.query(sub, types=[ids.T_VM]):
            vms_per_dep[row.parent_key or ""] = vms_per_dep.get(row.parent_key or "", 0) + 1
        refs: list[tuple[UnitRef, int]] = []
        vnet_vms: dict[str, int] = {}
        for d in tx.resources.query(sub, types=[ids.T_DEPLOYMENT]):
            vnet = d.doc.get("virtual_network_name")
            if vnet:
                vnet_vms[vnet.lower()] = vnet_vms.get(vnet.lower(), 0) + vms_per_dep.get(d.key, 0)
            else:
                refs.append((UnitRef(UnitKind.DEPLOYMENT, d.name, d.doc["service_name"]), vms_per_dep.get(d.key, 0)))
        for row in tx.resources.query(sub, types=[ids.T_VNET]):
            refs.append((UnitRef(UnitKind.VNET, row.name), vnet_vms.get(row.name.lower(), 0)))
        for rtype, kind in ((ids.T_STORAGE, UnitKind.STORAGE), (ids.T_RESERVED_IP, UnitKind.RESERVED_IP),
                            (ids.T_NSG, UnitKind.NSG), (ids.T_ROUTE_TABLE, UnitKind.ROUTE_TABLE)):
            refs.extend((UnitRef(kind, row.name), 0) for row in tx.resources.query(sub, types=[rtype]))
        seen: set[str] = set()
        out: list[UnitStatus] = []
        for ref, vms in refs:
            uid = unit_id(sub, ref)
            seen.add(uid)
            u = units.get(uid)
            out.append(UnitStatus(ref.kind.value, ref.name, ref.service, (u.state if u else None) or NOT_PREPARED,
                                  u.operation_id if u else None, vms))
        for uid, u in units.items():  # committed units whose classic side is gone
            if uid not in seen:
                out.append(UnitStatus(u.kind, u.name, u.service, u.state or NOT_PREPARED, u.operation_id, 0))
    return out


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
