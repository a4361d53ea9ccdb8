"""`classic2arm demo`: the README's main job — the whole migration flow on a generated estate.

Plan the subscription (waves, blockers ranked by the VMs they hold back), apply every mechanical fix
(`classic2arm fix --all`), migrate everything that can go in the
plan's order (`migrate --all --commit --keep-going`), say what did not and why, and print the estate before and
after and the data-plane downtime of every VM.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from . import output

if TYPE_CHECKING:
    from ..service.context import AppContext


SHOWN = 50  # units listed of those that did not migrate (all of them, in a demo of the default size)


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
        from ..domain.generator import MAX_VNETS
        from ..service import bulk, fix, status
        from ..service import migrate_all as ma
        from ..service.plan import build_plan
        from . import migrate_all as migrate_all_cmd

        if vnets > MAX_VNETS:
            raise typer.BadParameter(f"at most {MAX_VNETS} VNets fit in 10.0.0.0/8", param_hint="--vnets")
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

        # 1. plan the whole subscription: waves, blockers ranked by the VMs they hold back
        with output.progress("planning") as bar:
            bar.add_task("planning every unit", total=None)
            plan = build_plan(ctx)
        s = plan.summary
        output.out.print(f"Plan: {s['units']} units in {s['waves']} waves, {s['blocked']} blocked "
                         f"({s['blockedVms']} of {s['vms']} VMs held back by {s['blockers']} blockers); "
                         f"estimated {plan.total_minutes / 60:.1f} h.", highlight=False)
        output.table("blockers by VMs held back (first 10)", ["rule", "units", "VMs held back", "what to do"],
                     [(g.rule, len(g.units), g.vms_held_back, g.mitigation) for g in plan.ranking[:10]])

        # 2. fix what can be fixed mechanically (each change a classic write of its own, in the event log)
        fixed = fix.run(ctx)
        by_fix = Counter(c.target.fix for c in fixed.changes if c.status == fix.APPLIED)
        output.out.print(f"Fixed: {sum(by_fix.values())} changes applied ("
                         + (", ".join(f"{n} {name}" for name, n in sorted(by_fix.items())) or "none") + "); "
                         f"{len(fixed.manual)} blockers have no mechanical fix.", highlight=False)

        # 3. migrate everything that can go, in the plan's order: each wave prepared and committed before the
        # next (storage accounts after the VMs whose disks they hold)
        report = migrate_all_cmd.run(ctx, ma.MigrateRequest(commit=True, keep_going=True), show_progress=True)
        output.out.print("Migrated: " + ", ".join(f"{n} units {k} ({report.to_json()['vms'][k]} VMs)"
                                                 for k, n in report.to_json()["summary"].items())
                         + f", in {report.seconds:.1f} s.", highlight=False)
        rest = [u for u in report.units if u.outcome != ma.MIGRATED]
        shown = rest[:SHOWN]
        output.table(f"{len(rest)} units did not migrate, and why" + (f" (the first {SHOWN})" if rest[SHOWN:] else ""),
                     ["wave", "unit", "outcome", "why"],
                     [(u.wave or "-", u.ref.describe(), u.outcome, " | ".join(u.reasons)) for u in shown])
        if rest[SHOWN:]:
            output.out.print(f"... and {len(rest) - SHOWN} more: `classic2arm plan` lists every blocker, `classic2arm "
                             "migrate --all --commit --keep-going --json` (run again: it does only what is left) every "
                             "unit with its reasons.", highlight=False)

        # 4. before / after, and downtime per VM
        after = bulk.estate_counts(ctx)
        output.table("estate before and after", ["", "before", "after"],
                     [(k, before[k], after[k]) for k in before])
        all_down = status.downtime(ctx)
        migrated_vnet_vms = sum(u.vms for u in report.units if u.ref.kind.value == "vnet" and u.outcome == ma.MIGRATED)
        output.out.print(f"Data plane: {migrated_vnet_vms} VMs migrated with their VNet kept running (no downtime); "
                         f"{sum(1 for d in all_down if d.windows)} VMs outside a VNet were stopped, deallocated "
                         f"and restarted in ARM by prepare (one window each).")
        output.table("downtime per VM outside a VNet" + (" (the first 15: `classic2arm downtime` lists every one)"
                                                         if all_down[15:] else ""),
                     ["vm", "windows", "minutes down", "still down"],
                     [(d.vm, d.windows, f"{d.seconds / 60:.1f}", d.open) for d in all_down[:15]])
        final = Counter((u.kind, u.state) for u in status.status(ctx))
        output.table("units after the demo", ["kind", "state", "units"],
                     [(k, s, n) for (k, s), n in sorted(final.items())])
