"""Every unit of a subscription at once: `validate --all` and the demo's bulk phases, on the bulk path of the
migration service (`validate_many`, `execute_many`: one preloaded index, several units per transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.state_machine import Op
from ..domain.units import UnitKind
from . import clock, estate, inventory, migration, world_clock
from .context import AppContext
from .errors import ServiceError
from .migration import ValidationResult
from .operations import OperationView
from .runner import Progress
from .status import UnitFilter, UnitStatus, status

# The order units are validated and migrated in: a VNet before the deployments outside any, storage last
# (its disks are free once their VMs have moved).
ORDER = {UnitKind.VNET.value: 0, UnitKind.DEPLOYMENT.value: 1, UnitKind.RESERVED_IP.value: 2,
         UnitKind.NSG.value: 3, UnitKind.ROUTE_TABLE.value: 4, UnitKind.STORAGE.value: 5}


@dataclass(frozen=True, slots=True)
class UnitValidation:
    unit: UnitStatus
    result: ValidationResult

    def to_json(self) -> dict[str, Any]:
        """The unit, then exactly what its unit verb (`vnet validate NAME --json`, …) prints."""
        return {"kind": self.unit.kind, "name": self.unit.name, "service": self.unit.service,
                **self.result.to_json()}


def classic_units(ctx: AppContext, kind: str | None = None) -> list[UnitStatus]:
    """The units whose classic side exists (the ones a unit verb can validate), in migration order."""
    if kind is not None and kind not in ORDER:
        raise ServiceError("InvalidKind", f"unknown unit kind '{kind}'; known: {', '.join(ORDER)}")
    units = [u for u in status(ctx, UnitFilter(kind=kind)) if u.classic]
    return sorted(units, key=lambda u: (ORDER[u.kind], u.name.lower(), (u.service or "").lower()))


def validate_all(ctx: AppContext, kind: str | None = None) -> list[UnitValidation]:
    """Validate every unit of the subscription (of one kind, with `kind`); deployments outside a VNet are
    validated for a new VNet, as `deployment validate --new-vnet` does."""
    units = classic_units(ctx, kind)
    results = migration.validate_many(ctx, [u.ref for u in units]) if units else []
    return [UnitValidation(u, r) for u, r in zip(units, results, strict=True)]


def execute_all(ctx: AppContext, op: Op, units: list[UnitStatus],
                progress: Progress | None = None) -> list[OperationView]:
    """Prepare, commit or abort these units, several per transaction (each still its own operation)."""
    return migration.execute_many(ctx, op, [u.ref for u in units], progress) if units else []


def fresh_generated_estate(ctx: AppContext, as_of: str, **generate: Any) -> None:
    """Empty the store, set the world clock and store a generated estate (the demo's start)."""
    from ..domain import generator

    try:
        at = clock.parse_when(as_of)  # (before emptying anything)
    except ValueError as exc:
        raise ServiceError("InvalidClock", str(exc)) from None
    estate.clear(ctx)
    world_clock.set_clock(ctx, clock.fixed(at))
    estate.import_estate(ctx, generator.generate(**generate), source="generator")


def vm_summary(ctx: AppContext) -> dict[str, Any]:
    """The inventory's counts of classic VMs."""
    return inventory.summary(inventory.inventory(ctx))


def estate_counts(ctx: AppContext) -> dict[str, int]:
    """How many of the main classic and ARM resources the subscription holds, by the demo's labels."""
    n = estate.counts(ctx)
    return {"classic VMs": n.classic_vms, "classic VNets": n.classic_vnets,
            "classic storage accounts": n.classic_storage_accounts, "ARM resource groups": n.arm_resource_groups,
            "ARM VMs": n.arm_vms, "ARM resources in all": n.arm_resources}
