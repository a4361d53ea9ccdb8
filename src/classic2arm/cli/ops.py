"""Status of units, durable operations, provider registration and fault injection."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import output
from .options import (
    CloudServiceOpt,
    FormatOpt,
    JsonOpt,
    LocationOpt,
    MigrationOpt,
    PowerOpt,
    SummaryOpt,
    VnetOpt,
    check_format,
)

if TYPE_CHECKING:
    from ..service.context import AppContext

OpArg = Annotated[str, typer.Argument(help="Operation id (as prepare/commit/abort --no-wait print it).")]
NamespaceArg = Annotated[str, typer.Argument(help="Resource provider namespace, e.g. "
                                                  "Microsoft.ClassicInfrastructureMigrate.")]


def _faults_table(data: dict[str, Any]) -> None:
    output.table("faults armed", ["step", "error", "times"],
                 [(step, f["error"], f["times"]) for step, f in sorted(data.items())])


def register(app: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    @app.command("status")
    def status_(
        kind: Annotated[str | None, typer.Option("--kind", help="Only units of this kind (vnet, deployment, "
                                                                "storage, reserved-ip, nsg, route-table).")]
        = None,
        location: LocationOpt = None, vnet: VnetOpt = None, cloud_service: CloudServiceOpt = None,
        power_state: PowerOpt = None, migration_state: MigrationOpt = None, summary: SummaryOpt = False,
        fmt: FormatOpt = "auto", as_json: JsonOpt = False,
    ) -> None:
        """Every unit of migration with its migration state, with a summary."""
        from ..service import status

        check_format(fmt)
        where = status.UnitFilter(kind, location, vnet, cloud_service, power_state, migration_state)
        units = status.status(get_ctx(), where)
        if summary:
            counts = status.summary(units)
            if as_json:
                output.emit_json(counts)
            else:
                output.key_values("summary", [(k, ", ".join(f"{n} {s}" for s, n in v.items())
                                               if isinstance(v, dict) else v) for k, v in counts.items()])
            return
        if as_json:
            output.emit_json([u.to_json() for u in units])
            return
        output.table(f"{len(units)} units", ["kind", "name", "cloud service", "VMs", "state", "operation"],
                     [(u.kind, u.name, u.service, u.vms, u.state, u.operation_id) for u in units], fmt)
        if output.out.is_terminal and fmt != "tsv":
            counts = status.summary(units)
            output.out.print(f"{counts['units']} units, {counts['vms']} VMs; "
                             + ", ".join(f"{n} {s}" for s, n in counts["byMigrationState"].items()))

    @app.command("downtime")
    def downtime_(operation: Annotated[str | None, typer.Option("--operation", help="Only this operation.")] = None,
                  as_json: JsonOpt = False) -> None:
        """Data-plane downtime per VM, from the recorded timeline."""
        from ..service import status

        rows = status.downtime(get_ctx(), operation)
        if as_json:
            output.emit_json([r.to_json() for r in rows])
            return
        output.table("downtime per VM", ["vm", "windows", "seconds (world clock)", "seconds (wall)", "still down"],
                     [(r.vm, r.windows, f"{r.seconds:.0f}", f"{r.real_seconds:.3f}", r.open) for r in rows])

    op_app = typer.Typer(no_args_is_help=True, help="Durable migration operations (Get Operation Status).")
    app.add_typer(op_app, name="operation")

    @op_app.command("show")
    def op_show(op_id: OpArg, as_json: JsonOpt = False) -> None:
        """One operation: InProgress, Succeeded or Failed with its error."""
        from ..service import operations

        view = operations.get(get_ctx(), op_id)
        if as_json:
            output.emit_json(view.to_json())
        else:
            output.key_values(f"operation {view.id}", list(view.to_json().items()))

    @op_app.command("run")
    def op_run(op_id: OpArg, as_json: JsonOpt = False) -> None:
        """Run an accepted operation to its end (what --no-wait starts in the background)."""
        from ..service import migration

        view = migration.run(get_ctx(), op_id)
        if as_json:
            output.emit_json(view.to_json())
        else:
            output.out.print(f"{view.kind} of {view.unit}: {view.status}")

    @op_app.command("resume")
    def op_resume(as_json: JsonOpt = False) -> None:
        """Finish every operation whose process died."""
        from ..service import migration

        views = migration.resume_all(get_ctx())
        if as_json:
            output.emit_json([v.to_json() for v in views])
        else:
            output.out.print(f"{len(views)} operations resumed")
            for v in views:
                output.out.print(f"  {v.id} {v.kind} of {v.unit}: {v.status}")

    prov_app = typer.Typer(no_args_is_help=True, help="Resource provider registration of the subscription.")
    app.add_typer(prov_app, name="provider")

    def _provider(data: dict[str, Any], as_json: bool) -> None:
        output.emit_json(data) if as_json else output.key_values("provider", list(data.items()))

    @prov_app.command("register")
    def prov_register(namespace: NamespaceArg, as_json: JsonOpt = False) -> None:
        """Register a provider (Microsoft.ClassicInfrastructureMigrate lets migration calls work)."""
        from ..service import providers

        _provider(providers.register(get_ctx(), namespace, True), as_json)

    @prov_app.command("unregister")
    def prov_unregister(namespace: NamespaceArg, as_json: JsonOpt = False) -> None:
        """Unregister a provider (migration calls are then refused)."""
        from ..service import providers

        _provider(providers.register(get_ctx(), namespace, False), as_json)

    @prov_app.command("show")
    def prov_show(namespace: NamespaceArg, as_json: JsonOpt = False) -> None:
        """A provider's registration state."""
        from ..service import providers

        _provider(providers.show(get_ctx(), namespace), as_json)

    fault_app = typer.Typer(no_args_is_help=True, help="Make migration steps fail with documented transient errors.")
    app.add_typer(fault_app, name="fault")

    @fault_app.command("set")
    def fault_set(step: Annotated[str, typer.Argument(help="e.g. prepare.create; see `fault steps`")],
                  error: Annotated[str, typer.Argument(help="R47, R47-retry, R47-network, R48, R49, R49-unknown")]
                  = "R47",
                  times: Annotated[int, typer.Option("--times", min=0, help="How many times it fails (0 removes "
                                                                            "it).")] = 1,
                  as_json: JsonOpt = False) -> None:
        """Fail STEP with ERROR the next TIMES times (0 removes it); prints the faults armed."""
        from ..service import faults

        data = faults.set_fault(get_ctx(), step, error, times)
        output.emit_json(data) if as_json else _faults_table(data)

    @fault_app.command("list")
    def fault_list(as_json: JsonOpt = False) -> None:
        """The faults armed, by step."""
        from ..service import faults

        data = faults.list_faults(get_ctx())
        output.emit_json(data) if as_json else _faults_table(data)

    @fault_app.command("clear")
    def fault_clear(as_json: JsonOpt = False) -> None:
        """Remove every fault."""
        from ..service import faults

        faults.clear(get_ctx())
        if as_json:
            output.emit_json({})

    @fault_app.command("steps")
    def fault_steps(as_json: JsonOpt = False) -> None:
        """The steps a fault can be set on."""
        from ..service import faults

        output.emit_json(list(faults.STEPS)) if as_json else output.out.print("\n".join(faults.STEPS))
