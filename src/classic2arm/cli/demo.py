"""`classic2arm demo`: the README's main job — the whole migration flow on a generated estate.

Validate every unit, show the blockers, prepare and commit what can migrate, abort one, and print the
estate before and after and the data-plane downtime of every VM.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Annotated

import typer

from ..domain import generator
from ..domain import identity as ids
from ..domain.state_machine import Op
from ..domain.units import Category, Destination, UnitKind, UnitRef
from ..service import clock, estate, inventory, migration, status, world_clock
from ..service.context import AppContext
from . import output

ORDER = {"vnet": 0, "deployment": 1, "reserved-ip": 2, "nsg": 3, "route-table": 4, "storage": 5}


def _ref(u: status.UnitStatus) -> UnitRef:
    kind = UnitKind(u.kind)
    return UnitRef(kind, u.name, u.service, Destination("New") if kind == UnitKind.DEPLOYMENT else None)


def _estate_counts(ctx: AppContext) -> dict[str, int]:
    with ctx.store.read() as tx:
        return {"classic VMs": tx.resources.count(model=ids.CLASSIC, types=[ids.T_VM]),
                "classic VNets": tx.resources.count(model=ids.CLASSIC, types=[ids.T_VNET]),
                "classic storage accounts": tx.resources.count(model=ids.CLASSIC, types=[ids.T_STORAGE]),
                "ARM resource groups": tx.resources.count(model=ids.ARM, types=["Microsoft.Resources/resourceGroups"]),
                "ARM VMs": tx.resources.count(model=ids.ARM, types=["Microsoft.Compute/virtualMachines"]),
                "ARM resources in all": tx.resources.count(model=ids.ARM)}


def register(app: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    @app.command()
    def demo(
        vms: Annotated[int, typer.Option("--vms", min=1, max=100_000)] = 200,
        seed: Annotated[int, typer.Option("--seed")] = 7,
        vnets: Annotated[int, typer.Option("--vnets", min=0)] = 4,
        blockers: Annotated[float, typer.Option("--blockers", min=0.0, max=1.0)] = 0.04,
        as_of: Annotated[str, typer.Option("--as-of", help="World clock for the demo.")] = "2023-06-01",
    ) -> None:
        """The whole flow on a fresh generated estate (this database is emptied first)."""
        ctx = get_ctx()
        with ctx.store.tx() as tx:
            tx.resources.delete_all()
        world_clock.set_clock(ctx, clock.fixed(clock.parse_when(as_of)))
        output.out.rule(f"classic2arm demo — {vms} classic VMs, world clock {as_of}")
        with output.progress("generating") as bar:
            bar.add_task(f"generating and storing {vms} classic VMs", total=None)
            generated = generator.generate(vms=vms, vnets=vnets, seed=seed, blockers=blockers)
            estate.import_estate(ctx, generated, source="generator")
        items = inventory.inventory(ctx)
        in_vnet = sum(1 for i in items if i.virtualNetwork)
        states = Counter(i.powerState for i in items)
        output.out.print(f"Inventory (resources | where type == \"microsoft.classiccompute/virtualmachines\"): "
                         f"{len(items)} VMs, {in_vnet} in a VNet, {len(items) - in_vnet} outside; "
                         + ", ".join(f"{n} {s}" for s, n in states.most_common()))
        before = _estate_counts(ctx)

        # 1. validate every unit
        units = sorted(status.status(ctx), key=lambda u: (ORDER[u.kind], u.name))
        results = {}
        with output.progress("validating") as bar:
            task = bar.add_task("validating every unit", total=len(units))
            for u in units:
                results[(u.kind, u.service, u.name)] = migration.validate(ctx, _ref(u))
                bar.advance(task)
        errors = [(u, m) for u in units for m in results[(u.kind, u.service, u.name)].messages
                  if m.category == Category.ERROR]
        blocked = {(u.kind, u.service, u.name) for u, _ in errors}
        output.out.print(f"Validated {len(units)} units: {len(units) - len(blocked)} can migrate, {len(blocked)} "
                         f"are blocked ({len(errors)} errors).")
        output.table("blockers (first 20)", ["unit", "resource", "message"],
                     [(f"{u.kind} {u.name}", f"{m.resource_type} {m.resource_name}", m.message)
                      for u, m in errors[:20]])

        # 2. prepare what can migrate; abort the first non-VNet deployment, commit the rest
        ready = [u for u in units if (u.kind, u.service, u.name) not in blocked]
        aborted = next((u for u in ready if u.kind == "deployment" and u.vms), None)
        outcome: Counter[str] = Counter()
        failures: list[tuple[str, str]] = []
        prepare_ops: list[str] = []
        with output.progress("migrating") as bar:
            task = bar.add_task("prepare and commit", total=len(ready))
            for u in ready:
                ref = _ref(u)
                view = migration.execute(ctx, Op.PREPARE, ref)
                if view.status != "Succeeded":
                    outcome["prepare failed"] += 1
                    failures.append((f"{u.kind} {u.name}", f"{view.error_code}: {view.error_message}"))
                else:
                    prepare_ops.append(view.id)
                    last = migration.execute(ctx, Op.ABORT if u is aborted else Op.COMMIT, ref)
                    outcome["aborted" if u is aborted else "committed"] += last.status == "Succeeded"
                bar.advance(task)
        output.out.print(", ".join(f"{n} {k}" for k, n in outcome.items()) +
                         (f"; aborted {aborted.kind} {aborted.name} of cloud service {aborted.service}"
                          if aborted else ""))
        if failures:
            output.table("prepare refused (first 10)", ["unit", "error"], failures[:10])

        # 3. before / after, and downtime per VM
        after = _estate_counts(ctx)
        output.table("estate before and after", ["", "before", "after"],
                     [(k, before[k], after[k]) for k in before])
        downtime = [d for op_id in prepare_ops for d in status.downtime(ctx, op_id)]
        migrated_vnet_vms = sum(u.vms for u in ready if u.kind == "vnet" and u is not aborted)
        output.out.print(f"Data plane: {migrated_vnet_vms} VMs migrated with their VNet kept running (no downtime); "
                         f"{sum(1 for d in downtime if d.windows)} VMs outside a VNet were stopped, deallocated and "
                         f"restarted in ARM by prepare (one window each).")
        all_down = status.downtime(ctx)
        output.table("downtime per VM outside a VNet (first 15; the aborted one went down twice)",
                     ["vm", "windows", "minutes down", "still down"],
                     [(d.vm, d.windows, f"{d.seconds / 60:.1f}", d.open) for d in all_down[:15]])
        final = Counter((u.kind, u.state) for u in status.status(ctx))
        output.table("units after the demo", ["kind", "state", "units"],
                     [(k, s, n) for (k, s), n in sorted(final.items())])
