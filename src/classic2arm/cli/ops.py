"""Status of units, durable operations, provider registration and fault injection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from ..service import faults, migration, operations, providers, status
from ..service.context import AppContext
from . import output

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def register(app: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    @app.command("status")
    def status_(as_json: JsonOpt = False) -> None:
        """Every unit of migration with its migration state."""
        units = status.status(get_ctx())
        if as_json:
            output.emit_json([u.to_json() for u in units])
            return
        output.table(f"{len(units)} units", ["kind", "name", "cloud service", "VMs", "state", "operation"],
                     [(u.kind, u.name, u.service, u.vms, u.state, u.operation_id) for u in units])

    @app.command("downtime")
    def downtime_(operation: Annotated[str | None, typer.Option("--operation", help="Only this operation.")] = None,
                  as_json: JsonOpt = False) -> None:
        """Data-plane downtime per VM, from the recorded timeline."""
        rows = status.downtime(get_ctx(), operation)
        if as_json:
            output.emit_json([r.to_json() for r in rows])
            return
        output.table("downtime per VM", ["vm", "windows", "seconds (world clock)", "seconds (wall)", "still down"],
                     [(r.vm, r.windows, f"{r.seconds:.0f}", f"{r.real_seconds:.3f}", r.open) for r in rows])

    op_app = typer.Typer(no_args_is_help=True, help="Durable migration operations (Get Operation Status).")
    app.add_typer(op_app, name="operation")

    @op_app.command("show")
    def op_show(op_id: str, as_json: JsonOpt = False) -> None:
        """One operation: InProgress, Succeeded or Failed with its error."""
        view = operations.get(get_ctx(), op_id)
        if as_json:
            output.emit_json(view.to_json())
        else:
            output.key_values(f"operation {view.id}", list(view.to_json().items()))

    @op_app.command("run")
    def op_run(op_id: str, as_json: JsonOpt = False) -> None:
        """Run an accepted operation to its end (what --no-wait starts in the background)."""
        view = migration.run(get_ctx(), op_id)
        if as_json:
            output.emit_json(view.to_json())
        else:
            output.out.print(f"{view.kind} of {view.unit}: {view.status}")

    @op_app.command("resume")
    def op_resume(as_json: JsonOpt = False) -> None:
        """Finish every operation whose process died."""
        views = migration.resume_all(get_ctx())
        if as_json:
            output.emit_json([v.to_json() for v in views])
        else:
            output.out.print(f"{len(views)} operations resumed")
            for v in views:
                output.out.print(f"  {v.id} {v.kind} of {v.unit}: {v.status}")

    prov_app = typer.Typer(no_args_is_help=True, help="Resource provider registration of the subscription.")
    app.add_typer(prov_app, name="provider")

    @prov_app.command("register")
    def prov_register(namespace: str, as_json: JsonOpt = False) -> None:
        """Register a provider (Microsoft.ClassicInfrastructureMigrate lets migration calls work)."""
        data = providers.register(get_ctx(), namespace, True)
        output.emit_json(data) if as_json else output.key_values("provider", list(data.items()))

    @prov_app.command("unregister")
    def prov_unregister(namespace: str, as_json: JsonOpt = False) -> None:
        data = providers.register(get_ctx(), namespace, False)
        output.emit_json(data) if as_json else output.key_values("provider", list(data.items()))

    @prov_app.command("show")
    def prov_show(namespace: str, as_json: JsonOpt = False) -> None:
        data = providers.show(get_ctx(), namespace)
        output.emit_json(data) if as_json else output.key_values("provider", list(data.items()))

    fault_app = typer.Typer(no_args_is_help=True, help="Make migration steps fail with documented transient errors.")
    app.add_typer(fault_app, name="fault")

    @fault_app.command("set")
    def fault_set(step: Annotated[str, typer.Argument(help="e.g. prepare.create; see `fault steps`")],
                  error: Annotated[str, typer.Argument(help="R47, R47-retry, R47-network, R48, R49, R49-unknown")]
                  = "R47",
                  times: Annotated[int, typer.Option("--times", min=0)] = 1, as_json: JsonOpt = False) -> None:
        """Fail STEP with ERROR the next TIMES times (0 removes it)."""
        data = faults.set_fault(get_ctx(), step, error, times)
        output.emit_json(data) if as_json else output.out.print(data)

    @fault_app.command("list")
    def fault_list(as_json: JsonOpt = False) -> None:
        data = faults.list_faults(get_ctx())
        output.emit_json(data) if as_json else output.out.print(data)

    @fault_app.command("clear")
    def fault_clear() -> None:
        faults.clear(get_ctx())

    @fault_app.command("steps")
    def fault_steps() -> None:
        output.out.print("\n".join(faults.STEPS))
