"""`classic2arm demo`: the README's main job — the whole migration flow on a generated estate.

Validate every unit, show the blockers, prepare and commit what can migrate, abort one, and print the
estate before and after and the data-plane downtime of every VM.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from . import output

if TYPE_CHECKING:
    from ..service.context import AppContext


def register(app: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    @app.command()
    def demo(
        vms: Annotated[int, typer.Option("--vms", min=1, max=100_000, help="Classic VMs to generate.")] = 200,
        seed: Annotated[int, typer.Option("--seed", help="Generator seed.")] = 7,
        vnets: Annotated[int, typer.Option("--vnets", min=0, help="Classic VNets to generate.")] = 4,
        blockers: Annotated[float, typer.Option("--blockers", min=0.0, max=1.0,
                                                help="Fraction of deployments given a configuration that "
                                                     "can't migrate.")] = 0.04,
        as_of: Annotated[str, typer.Option("--as-of", help="World clock for the demo.")] = "2023-06-01",
    ) -> None:
        """The whole flow on a fresh generated estate (this database is emptied first)."""
        from ..domain.state_machine import Op
        from ..domain.units import Category
        from ..service import bulk, status

        ctx = get_ctx()
        output.out.rule(f"classic2arm demo — {vms} classic VMs, world clock {as_of}")
        with output.progress("generating") as bar:
            bar.add_task(f"generating and storing {vms} classic VMs", total=None)
            bulk.fresh_generated_estate(ctx, as_of, vms=vms, vnets=vnets, seed=seed, blockers=blockers)
        inv = bulk.vm_summary(ctx)
        output.out.print(f"Inventory (resources | where type == \"microsoft.classiccompute/virtualmachines\"): "
                         f"{inv['total']} VMs, {inv['inVirtualNetwork']} in a VNet, "
                         f"{inv['total'] - inv['inVirtualNetwork']} outside; "
                         + ", ".join(f"{n} {s}" for s, n in sorted(inv["byPowerState"].items(), key=lambda x: -x[1])))
        before = bulk.estate_counts(ctx)

        # 1. validate every unit (at once, on one index of the subscription)
        with output.progress("validating") as bar:
            bar.add_task("validating every unit", total=None)
            results = bulk.validate_all(ctx)
        errors = [(r.unit, m) for r in results for m in r.result.messages if m.category == Category.ERROR]
        blocked = {id(u) for u, _ in errors}
        output.out.print(f"Validated {len(results)} units: {len(results) - len(blocked)} can migrate, "
                         f"{len(blocked)} are blocked ({len(errors)} errors).")
        output.table("blockers (first 20)", ["unit", "resource", "message"],
                     [(f"{u.kind} {u.name}", f"{m.resource_type} {m.resource_name}", m.message)
                      for u, m in errors[:20]])

        # 2. prepare what can migrate, several units per transaction; abort the first deployment outside a VNet,
        # commit the rest. Storage accounts go last: their disks are free once their VMs have moved.
        ready = [r.unit for r in results if id(r.unit) not in blocked]
        aborted = next((u for u in ready if u.kind == "deployment" and u.vms), None)
        outcome: Counter[str] = Counter()
        failures: list[tuple[str, str]] = []
        with output.progress("migrating") as bar:
            task = bar.add_task("prepare and commit", total=2 * len(ready))

            def report(step: str, done: int, total: int) -> None:
                bar.update(task, description=f"{step} ({done}/{total})")

            for phase in ([u for u in ready if u.kind != "storage"], [u for u in ready if u.kind == "storage"]):
                prepared = []
                for u, view in zip(phase, bulk.execute_all(ctx, Op.PREPARE, phase, report), strict=True):
                    if view.status != "Succeeded":
                        outcome["prepare failed"] += 1
                        failures.append((f"{u.kind} {u.name}", f"{view.error_code}: {view.error_message}"))
                    else:
                        prepared.append(u)
                    bar.advance(task)
                if aborted in prepared:
                    prepared.remove(aborted)
                    outcome["aborted"] += bulk.execute_all(ctx, Op.ABORT, [aborted])[0].status == "Succeeded"
                for view in bulk.execute_all(ctx, Op.COMMIT, prepared, report):
                    outcome["committed"] += view.status == "Succeeded"
                    bar.advance(task)
        output.out.print(", ".join(f"{outcome[k]} {k}" for k in ("committed", "aborted", "prepare failed")
                                   if outcome[k]) +
                         (f"; aborted {aborted.kind} {aborted.name} of cloud service {aborted.service}"
                          if aborted else ""))
        if failures:
            output.table("prepare refused (first 10)", ["unit", "error"], failures[:10])

        # 3. before / after, and downtime per VM
        after = bulk.estate_counts(ctx)
        output.table("estate before and after", ["", "before", "after"],
                     [(k, before[k], after[k]) for k in before])
        all_down = status.downtime(ctx)
        migrated_vnet_vms = sum(u.vms for u in ready if u.kind == "vnet")
        output.out.print(f"Data plane: {migrated_vnet_vms} VMs migrated with their VNet kept running (no downtime); "
                         f"{sum(1 for d in all_down if d.windows)} VMs outside a VNet were stopped, deallocated "
                         f"and restarted in ARM by prepare (one window each).")
        output.table("downtime per VM outside a VNet (first 15; the aborted one went down twice)",
                     ["vm", "windows", "minutes down", "still down"],
                     [(d.vm, d.windows, f"{d.seconds / 60:.1f}", d.open) for d in all_down[:15]])
        final = Counter((u.kind, u.state) for u in status.status(ctx))
        output.table("units after the demo", ["kind", "state", "units"],
                     [(k, s, n) for (k, s), n in sorted(final.items())])
