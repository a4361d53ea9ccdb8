"""`classic2arm migrate --all | --wave N | --unit U… (--prepare-only | --commit)`: the plan, run in order.

One service use case (`service/migrate_all.py`); this module parses the options, draws the one progress bar and
prints the report. The services are imported in the command's body (CLI start-up stays lazy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from . import output
from .options import JsonOpt

if TYPE_CHECKING:
    from ..service.context import AppContext
    from ..service.migrate_all import MigrateReport, MigrateRequest

EXIT_FAILED, EXIT_NOT_ALL = 1, 3

HELP = """Run the subscription's plan (`classic2arm plan`) in order: each wave's units are prepared, and with
--commit committed before the next wave starts.

Choose the mode, as Move-Azure* makes you choose -Prepare and -Commit: --prepare-only prepares every unit that
can go and stops there (check them, then run again with --commit, or abort a unit with its verb); --commit
prepares and commits, wave after wave (a commit can't be undone). With --prepare-only, storage accounts whose
disks belong to VMs not yet committed are reported as waiting.

Transient failures (InternalError, template deployment failed, a unit another operation is still working on) are
retried with backoff; any other failure stops the run after that unit unless --keep-going. Killed, the command
is simply run again: it finishes what the dead run left and carries on. Exit 0 when every selected unit reached
the goal, 3 when some are blocked, waiting or were not run, 1 when one failed."""


def register(app: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    @app.command("migrate", help=HELP)
    def migrate(
        all_: Annotated[bool, typer.Option("--all", help="Every unit of the plan.")] = False,
        wave: Annotated[int | None, typer.Option("--wave", min=1, help="Only the units of this wave.")] = None,
        unit: Annotated[list[str] | None, typer.Option(
            "--unit", help="Only this unit (repeatable): deployment:SERVICE/DEPLOYMENT, vnet:NAME, storage:NAME, "
                           "reserved-ip:NAME, nsg:NAME, route-table:NAME.")] = None,
        prepare_only: Annotated[bool, typer.Option("--prepare-only", help="Prepare, and stop before commit.")]
        = False,
        commit: Annotated[bool, typer.Option("--commit", help="Prepare and commit each wave before the next.")]
        = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would run; change nothing.")] = False,
        keep_going: Annotated[bool, typer.Option("--keep-going", help="Carry on past a unit that fails.")] = False,
        retries: Annotated[int, typer.Option("--retries", min=0, max=100,
                                             help="Further attempts after a transient failure.")] = 4,
        retry_delay: Annotated[float, typer.Option("--retry-delay", min=0.0, max=600.0,
                                                   help="Seconds before the first retry (doubled for each next "
                                                        "one, at most 60).")] = 2.0,
        as_json: JsonOpt = False,
    ) -> None:
        units = unit or []
        if all_ and (wave is not None or units):
            raise typer.BadParameter("--all excludes --wave and --unit", param_hint="--all")
        if not all_ and wave is None and not units:
            raise typer.BadParameter("give --all, --wave N or --unit U", param_hint="--all")
        if prepare_only and commit:
            raise typer.BadParameter("--prepare-only and --commit exclude each other", param_hint="--commit")
        if not prepare_only and not commit:
            raise typer.BadParameter("give --prepare-only (stop at Prepared) or --commit (prepare and commit; a "
                                     "commit can't be undone)", param_hint="--prepare-only / --commit")
        from ..service import migrate_all as ma
        from .migrate import parse_unit

        request = ma.MigrateRequest(commit=commit, wave=wave, units=tuple(parse_unit(u) for u in units),
                                    dry_run=dry_run, keep_going=keep_going, retries=retries,
                                    retry_delay=retry_delay)
        report = run(get_ctx(), request, show_progress=not as_json and not dry_run)
        if as_json:
            output.emit_json(report.to_json())
        else:
            _print(report)
        if report.count(ma.FAILED):
            if as_json:  # (the JSON says which and why; exit 1 still gets its line on stderr)
                from rich.markup import escape

                output.err.print(f"[bold red]error:[/] {report.count(ma.FAILED)} units failed"
                                 + (f"; stopped: {escape(report.stopped)}" if report.stopped else ""),
                                 highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_FAILED)
        if not report.complete:
            raise typer.Exit(EXIT_NOT_ALL)


def run(ctx: AppContext, request: MigrateRequest, show_progress: bool) -> MigrateReport:
    """The use case under the one progress bar (also the demo's migration step)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from ..service import migrate_all as ma

    bar = Progress(TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.fields[units]} units"), TextColumn("{task.fields[vms]} VMs"),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                   console=output.err, transient=True, disable=not show_progress)
    with bar:
        task = bar.add_task("planning", total=None, units="-", vms="-")

        def report(p: ma.MigrateProgress) -> None:
            bar.update(task, description=p.doing, completed=p.work_done, total=max(p.work_total, 1),
                       units=f"{p.units_done}/{p.units_total}", vms=f"{p.vms_done}/{p.vms_total}")

        return ma.migrate_all(ctx, request, report if show_progress else None)


def _print(report: MigrateReport) -> None:
    from ..service import migrate_all as ma

    data = report.to_json()
    mode = "prepare and commit" if report.commit else "prepare only"
    head = "dry run, " if report.dry_run else ""
    output.out.print(f"migrate ({head}{mode}): " + ", ".join(f"{n} units {k} ({data['vms'][k]} VMs)"
                                                             for k, n in data["summary"].items())
                     + f"; {report.seconds:.1f} s", highlight=False)
    if report.resumed:
        output.out.print(f"finished {report.resumed} operations a previous run left in progress", highlight=False)
    if report.stopped:
        output.err.print(f"[bold red]stopped:[/] {report.stopped}", markup=True, highlight=False)
    done = {ma.MIGRATED, ma.PREPARED, ma.WOULD_MIGRATE, ma.WOULD_PREPARE}
    went = [u for u in report.units if u.outcome in done]
    output.table(f"{len(went)} units {'would go' if report.dry_run else 'went'}",
                 ["wave", "unit", "VMs", "outcome", "state"],
                 [(u.wave or "-", u.ref.describe(), u.vms, u.outcome, u.state) for u in went])
    rest = [u for u in report.units if u.outcome not in done]
    if rest:
        output.table(f"{len(rest)} units did not migrate", ["wave", "unit", "VMs", "outcome", "why"],
                     [(u.wave or "-", u.ref.describe(), u.vms, u.outcome, " | ".join(u.reasons)) for u in rest])
