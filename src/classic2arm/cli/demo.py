"""`classic2arm demo`: the README's main job. Builds a fresh estate and walks through what the tool shows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Annotated

import typer

from ..domain import generator
from ..service import clock, estate, inventory, world_clock
from ..service.context import AppContext
from . import output


def register(app: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    @app.command()
    def demo(
        vms: Annotated[int, typer.Option("--vms", min=1, max=100_000)] = 200,
        seed: Annotated[int, typer.Option("--seed")] = 7,
        as_of: Annotated[str, typer.Option("--as-of", help="World clock for the demo.")] = "2023-06-01",
    ) -> None:
        """Generate a classic estate 'as of' a date before the retirement and print its inventory."""
        ctx = get_ctx()
        with ctx.store.tx() as tx:  # a demo always starts from an empty store
            tx.delete_all()
        world_clock.set_clock(ctx, clock.fixed(clock.parse_when(as_of)))
        output.out.rule(f"classic2arm demo — world clock {as_of}")
        with output.progress("generating") as bar:
            bar.add_task(f"generating and storing {vms} classic VMs", total=None)
            report = estate.import_estate(ctx, generator.generate(vms=vms, seed=seed, blockers=0.1),
                                          source="generator")
        output.table("classic estate", ["type", "count"], sorted(report.counts.items()))
        items = inventory.inventory(ctx)
        by_state = Counter(i.powerState for i in items)
        in_vnet = sum(1 for i in items if i.virtualNetwork)
        output.out.print(f"{len(items)} classic VMs: {in_vnet} in a VNet, {len(items) - in_vnet} outside; "
                         + ", ".join(f"{n} {s}" for s, n in by_state.most_common()))
        output.table("first 15 classic VMs (resources | where type == \"microsoft.classiccompute/virtualmachines\")",
                     ["name", "location", "cloud service", "vnet", "power state"],
                     [(i.name, i.location, i.cloudService, i.virtualNetwork, i.powerState) for i in items[:15]])
        output.key_values("retirement policy at this date", list(world_clock.show_clock(ctx).items()))
