"""`classic2arm affinity-group set NAME --location L`: place an affinity group an import could not place."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from . import output

if TYPE_CHECKING:
    from ..service.context import AppContext


def register(app: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    ag_app = typer.Typer(no_args_is_help=True, help="Classic affinity groups.")
    app.add_typer(ag_app, name="affinity-group")

    @ag_app.command("set")
    def set_(
        name: Annotated[str, typer.Argument(help="The affinity group (as the imported files name it).")],
        location: Annotated[str, typer.Option("--location", help="Its region, e.g. 'West US' or westus.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    ) -> None:
        """Give an affinity group its location, and with it what is bound to it whose location is unknown."""
        from ..service import estate

        done = estate.set_affinity_group_location(get_ctx(), name, location)
        if as_json:
            output.emit_json({"name": done.name, "location": done.location, "placed": done.placed})
            return
        output.out.print(f"affinity group {done.name}: {done.location}; {len(done.placed)} resources placed")
        for rid in done.placed:
            output.out.print(f"  {rid}")
