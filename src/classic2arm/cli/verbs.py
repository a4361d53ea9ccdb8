"""The migration verbs' command tree: `vnet|deployment|storage|reserved-ip|nsg|route-table validate|prepare|
commit|abort` (built by `migrate.py`), and `validate --all`, `snapshot`, `check`.

The groups of unit verbs are loaded when one is invoked (`_LazyVerbs`): building them needs the domain model
(the unit kinds and operations), about a tenth of a second to import, which `--help`, `clock show` or
`inventory` should not pay. Their names and help texts are therefore written here; a test checks they are
exactly the unit kinds of `domain.units.UnitKind`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from . import output
from .options import FormatOpt, JsonOpt, check_format

if TYPE_CHECKING:
    from typer._click import Command, Context  # (typer's own copy of click)

    from ..service.context import AppContext

# Unit kinds (as the CLI names them) and what each group migrates.
GROUPS: dict[str, str] = {
    "deployment": "a cloud-service deployment whose VMs are not in a VNet (Move-AzureService)",
    "vnet": "a classic virtual network with every deployment in it (Move-AzureVirtualNetwork)",
    "storage": "a classic storage account (Move-AzureStorageAccount)",
    "reserved-ip": "an unassociated reserved IP (Move-AzureReservedIP)",
    "nsg": "an unassociated network security group (Move-AzureNetworkSecurityGroup)",
    "route-table": "an unassociated route table (Move-AzureRouteTable)",
}
EXIT_VALIDATION_ERRORS = 3
_LOADERS: dict[str, Callable[[], typer.Typer]] = {}


class _LazyVerbs(TyperGroup):
    """A unit kind's group whose commands are built the first time anything asks for them."""

    def _load(self) -> None:
        if not self.commands and self.name in _LOADERS:
            built = typer.main.get_command(_LOADERS[self.name]())
            assert isinstance(built, TyperGroup)
            for name, cmd in built.commands.items():
                self.add_command(cmd, name)

    def list_commands(self, ctx: Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)


def register(app: typer.Typer, get_ctx: Callable[[], AppContext], get_db: Callable[[], str | None]) -> None:
    for kind, title in GROUPS.items():
        def load(kind: str = kind) -> typer.Typer:
            from . import migrate

            return migrate.build_group(kind, get_ctx, get_db)

        _LOADERS[kind] = load
        app.add_typer(typer.Typer(cls=_LazyVerbs, no_args_is_help=True, help=f"Migrate {title}."), name=kind)

    @app.command("validate")
    def validate_all_cmd(
        all_: Annotated[bool, typer.Option("--all", help="Every unit of the subscription.")] = False,
        kind: Annotated[str | None, typer.Option("--kind", help="Only units of this kind: "
                                                 + ", ".join(GROUPS) + ".")] = None,
        fmt: FormatOpt = "auto",
        as_json: JsonOpt = False,
    ) -> None:
        """Validate every unit at once, one result per unit, with the messages of the unit verbs (deployments
        outside a VNet as with --new-vnet). Exit 3 when any unit has an Error."""
        check_format(fmt)
        if not all_:
            raise typer.BadParameter("give --all (one unit: `vnet validate NAME`, `deployment validate ...`)",
                                     param_hint="--all")
        if kind is not None and kind not in GROUPS:
            raise typer.BadParameter(f"must be one of {', '.join(GROUPS)}", param_hint="--kind")
        from ..domain.units import Category
        from ..service import bulk

        results = bulk.validate_all(get_ctx(), kind)
        if as_json:
            output.emit_json([r.to_json() for r in results])
        else:
            def count(r: bulk.UnitValidation, category: Category) -> int:
                return sum(1 for m in r.result.messages if m.category == category)

            output.table(f"{len(results)} units validated",
                         ["kind", "name", "cloud service", "result", "errors", "warnings"],
                         [(r.unit.kind, r.unit.name, r.unit.service, r.result.result, count(r, Category.ERROR),
                           count(r, Category.WARNING)) for r in results], fmt)
            errors = [(r, m) for r in results for m in r.result.messages if m.category == Category.ERROR]
            if errors:
                output.table(f"{len(errors)} errors", ["unit", "resource type", "resource", "virtual machine",
                                                       "message"],
                             [(f"{r.unit.kind} {r.unit.name}", m.resource_type, m.resource_name, m.virtual_machine,
                               m.message) for r, m in errors], fmt)
        if any(r.result.has_errors for r in results):
            raise typer.Exit(EXIT_VALIDATION_ERRORS)

    @app.command("snapshot")
    def snapshot_cmd(unit: Annotated[str, typer.Argument(help="deployment:SERVICE/DEPLOYMENT, vnet:NAME, "
                                                              "storage:NAME, reserved-ip:NAME, nsg:NAME, "
                                                              "route-table:NAME")],
                     as_json: Annotated[bool, typer.Option("--json", help="Print it unformatted (it is JSON "
                                                                          "either way).")] = False) -> None:
        """Capture a unit's classic configuration as JSON (before prepare), for `check`."""
        from ..service import check
        from .migrate import parse_unit

        data = check.snapshot(get_ctx(), parse_unit(unit))
        output.emit_json(data) if as_json or not output.out.is_terminal else output.out.print_json(data=data)

    @app.command("check")
    def check_cmd(unit: Annotated[str, typer.Argument(help="as for snapshot")],
                  before: Annotated[Path | None, typer.Option("--before", help="JSON written by `snapshot` before "
                                                                               "prepare (default: what prepare "
                                                                               "saw).")] = None,
                  as_json: JsonOpt = False) -> None:
        """Compare the snapshot (or what prepare saw) with the prepared ARM resources: what was kept, what changed."""
        from ..service import check
        from .migrate import parse_unit

        data: Any = None
        try:
            if before is not None:
                data = json.loads(before.read_text())
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(f"{before}: {exc}", param_hint="--before") from None
        except RecursionError:
            raise typer.BadParameter(f"{before}: JSON nested too deeply", param_hint="--before") from None
        if before is not None and not isinstance(data, dict):
            raise typer.BadParameter(f"{before}: not a classic2arm snapshot (a JSON object)", param_hint="--before")
        findings = check.check(get_ctx(), parse_unit(unit), data)
        if as_json:
            output.emit_json([f.to_json() for f in findings])
        else:
            output.table(f"check of {unit}", ["resource", "aspect", "outcome", "as documented", "before", "after"],
                         [(f.resource, f.aspect, f.outcome, "yes" if f.expected else "NO", f.before, f.after)
                          for f in findings])
        if any(not f.expected for f in findings):
            raise typer.Exit(1)
