"""`classic2arm` — the command-line tool.

Exit codes: 0 success, 2 usage error, 1 any other error (message on stderr), 3 validation errors. Every
command that prints data takes `--json` for machine-readable output on stdout.

Each command imports the services it calls in its own body: `--help` or `clock show` must not pay for the
generator, the importers, the migration engine or the HTTP server (see docs/cli.md, "Start-up").
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from . import affinity as affinity_cmd
from . import arm_templates as arm_templates_cmd
from . import creds as creds_cmd
from . import demo as demo_cmd
from . import fix as fix_cmd
from . import migrate_all as migrate_all_cmd
from . import ops as ops_cmd
from . import output
from . import plan as plan_cmd
from . import serve as serve_cmd
from . import verbs as verbs_cmd
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
    from ..service.estate import ImportReport

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Rehearse and run the migration of Azure classic (ASM) IaaS resources to Azure Resource "
                       "Manager.")
arm_app = typer.Typer(no_args_is_help=True, help="ARM resources in ARM's JSON shape.")
clock_app = typer.Typer(no_args_is_help=True, help="The world clock of this database.")
vm_app = typer.Typer(no_args_is_help=True, help="Classic VM power operations (subject to the retirement policy).")
app.add_typer(arm_app, name="arm")
app.add_typer(clock_app, name="clock")
app.add_typer(vm_app, name="vm")



# The commands that only read: on a database that does not exist they fail naming it, where any other command
# creates it (a mistyped --db must not answer "nothing there" from a new, empty store).
READ_COMMANDS = frozenset({
    "inventory", "show", "status", "downtime", "export", "snapshot", "check", "arm list", "arm show",
    "clock show", "operation show", "provider show", "fault list", "plan",
})


def _command_path() -> str:
    """The command being run, as READ_COMMANDS spells it ('arm show')."""
    from typer._click.globals import get_current_context  # (typer's own copy of click)

    names: list[str] = []
    current = get_current_context(silent=True)
    while current is not None and current.parent is not None:  # the root's name is the program's
        names.append(current.info_name or "")
        current = current.parent
    return " ".join(reversed(names))


class State:
    db: str | None = None
    subscription: str | None = None
    debug: bool = False
    _ctx: AppContext | None = None
    # Set by `run` (the process ends right after): a closed context is kept, not freed (its kept index and the
    # models in it are most of a large command's heap; `run` leaves without freeing any of it).
    leaving: bool = False
    _closed: AppContext | None = None

    def ctx(self) -> AppContext:
        if self._ctx is None:
            from ..service.context import AppContext

            # (opened on first use: `clock show` may read its setting without opening the store at all)
            self._ctx = AppContext.deferred(self.db, self.subscription, create=_command_path() not in READ_COMMANDS)
        return self._ctx

    def close(self) -> None:
        """Close the store before the process ends: a SQLite database is then whole in its one file (a
        connection left to the interpreter's exit may leave the last writes in the -wal file beside it)."""
        if self._ctx is not None:
            self._ctx.close()
            if self.leaving:
                self._closed = self._ctx
            self._ctx = None


state = State()
demo_cmd.register(app, state.ctx)
migrate_all_cmd.register(app, state.ctx)
verbs_cmd.register(app, state.ctx, lambda: state.db)
ops_cmd.register(app, state.ctx)
plan_cmd.register(app, state.ctx)
serve_cmd.register(app, state.ctx, lambda: state.db)
creds_cmd.register(app, state.ctx, lambda: state.db)
arm_templates_cmd.register(arm_app, state.ctx)
fix_cmd.register(app, vm_app, state.ctx)
affinity_cmd.register(app, state.ctx)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"classic2arm {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    db: Annotated[str | None, typer.Option("--db", envvar="CLASSIC2ARM_DB",
                                           help="Database URL (default sqlite:///classic2arm.db).")] = None,
    subscription: Annotated[str | None, typer.Option("--subscription", help="Subscription id, when the store "
                                                                              "holds more than one.")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="On an error, show the Python traceback too.")] = False,
) -> None:
    state.db, state.subscription, state.debug = db, subscription, debug


# --------------------------------------------------------------------------- import / generate / export


def _parse_affinity_groups(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        name, sep, loc = v.partition("=")
        if not sep or not name.strip() or not loc.strip():
            raise typer.BadParameter(f"'{v}' is not NAME=LOCATION", param_hint="--affinity-group")
        out[name.strip()] = loc.strip()
    return out


def _print_report(report: ImportReport, as_json: bool, title: str) -> None:
    if as_json:
        output.emit_json(report.to_json())
        return
    output.table(f"{title} into subscription {report.subscription_id}", ["type", "count"],
                 sorted(report.counts.items()))
    output.out.print(f"{report.created} created, {report.updated} updated")
    if report.retirement_note:
        output.out.print(f"note: {report.retirement_note}")
    for note in report.notes:
        output.out.print(f"note: {note}")


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files: netcfg, ASM REST bodies, session records, "
                                                     ".cscfg/.csdef, estate documents.")],
    affinity_group: Annotated[list[str], typer.Option("--affinity-group", help="Define an affinity group the "
                                                      "files reference, as NAME=LOCATION (repeatable).")] = [],  # noqa: B006
    location: Annotated[str | None, typer.Option("--location", help="The region of what no file places (a hosted "
                                                 "service known only from a Get Deployment body); without it one "
                                                 "is inferred from the rest of the estate, and a note says so.")]
    = None,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse references to resources no file describes "
                                         "(instead of notes, inferred storage accounts and locations).")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Set the world clock to this date first (e.g. "
                                              "2023-06-01: rehearse the estate as it was before retirement).")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Import classic files into the store, all in one transaction."""
    from ..importers import detect
    from ..service import clock, estate

    ags = _parse_affinity_groups(affinity_group)
    when = None
    if as_of is not None:
        try:
            when = clock.parse_when(as_of)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--as-of") from None
    with output.progress("reading files", enabled=not as_json and len(paths) > 1) as bar:
        task = bar.add_task("reading files", total=len(paths))
        merged = detect.load_files(paths, on_file=lambda: bar.advance(task))
    source = str(paths[0]) if len(paths) == 1 else f"{len(paths)} files"
    report = estate.import_estate(state.ctx(), merged, source=source, affinity_groups=ags, location=location,
                                  strict=strict, as_of=when)
    _print_report(report, as_json, "Imported")


@app.command()
def generate(
    vms_: Annotated[int, typer.Option("--vms", min=0, max=200_000, help="Number of classic VMs.")],
    vnets: Annotated[int | None, typer.Option("--vnets", min=0, help="Number of classic VNets.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed; the same seed gives the same estate.")] = 0,
    blockers: Annotated[float, typer.Option("--blockers", min=0.0, max=1.0,
                                            help="Fraction of deployments given a configuration that can't "
                                                 "migrate.")] = 0.0,
    location: Annotated[str | None, typer.Option("--location", help="Put everything in one region.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate a realistic synthetic classic estate and store it."""
    from ..domain import generator, locations
    from ..service import estate

    if location is not None and not locations.is_known(location):
        raise typer.BadParameter(f"unknown region '{location}' (e.g. 'West Europe' or westeurope)",
                                 param_hint="--location")
    if vnets is not None and vnets > generator.MAX_VNETS:
        raise typer.BadParameter(f"at most {generator.MAX_VNETS} VNets fit in 10.0.0.0/8", param_hint="--vnets")
    ctx = state.ctx()
    with output.progress("", enabled=not as_json) as bar:
        t = bar.add_task(f"generating {vms_} VMs", total=None)
        kwargs: dict[str, Any] = {"vms": vms_, "vnets": vnets, "seed": seed, "blockers": blockers,
                                  "location": location}
        if ctx.subscription:
            kwargs["subscription_id"] = ctx.subscription
        gen = generator.generate(**kwargs)
        bar.update(t, description="storing")
        report = estate.import_estate(ctx, gen, source="generator")
    _print_report(report, as_json, f"Generated (seed {seed})")


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="yaml or json")] = "yaml",
    out_file: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
) -> None:
    """Export the subscription as an estate document (re-importable)."""
    from ..importers import estate_doc
    from ..service import estate

    fmt = "json" if as_json else fmt
    if fmt not in ("yaml", "json"):
        raise typer.BadParameter("must be yaml or json", param_hint="--format")
    if out_file is not None and out_file.is_dir():
        raise typer.BadParameter(f"{out_file} is a directory: give a file name", param_hint="--output")
    if out_file is not None and not out_file.absolute().parent.is_dir():  # (an error, exit 1, as a failed write)
        raise FileNotFoundError(f"cannot write {out_file}: there is no directory {out_file.absolute().parent}")
    data = estate_doc.dumps(estate.export_estate(state.ctx()), fmt)
    if out_file is None:
        sys.stdout.buffer.write(data)
    else:
        tmp = out_file.with_name(out_file.name + ".tmp")
        try:
            tmp.write_bytes(data)
            tmp.replace(out_file)  # nothing half-written
        except BaseException:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)  # nor left behind
            raise


# --------------------------------------------------------------------------- reads


@app.command("inventory")
def inventory_(
    type_: Annotated[str | None, typer.Option("--type", help="Classic type, e.g. "
                                              "microsoft.classicstorage/storageaccounts, or 'all'. Default: "
                                              "microsoft.classiccompute/virtualmachines.")] = None,
    location: LocationOpt = None, vnet: VnetOpt = None, cloud_service: CloudServiceOpt = None,
    power_state: PowerOpt = None, migration_state: MigrationOpt = None, summary: SummaryOpt = False,
    fmt: FormatOpt = "auto", as_json: JsonOpt = False,
) -> None:
    """Every classic resource affected by the retirement (like the Resource Graph query), with a summary."""
    from ..service import inventory

    check_format(fmt)
    where = inventory.InventoryFilter(location, vnet, cloud_service, power_state, migration_state)
    items = inventory.inventory(state.ctx(), type_, where)
    if summary:
        counts = inventory.summary(items)
        output.emit_json(counts) if as_json else output.key_values("summary", _flat(counts))
        return
    if as_json:
        output.emit_json([i.to_json() for i in items])
        return
    output.table(f"{len(items)} classic resources", ["type", "name", "location", "cloud service", "vnet",
                                                     "power state", "migration state"],
                 [(i.type, i.name, i.location, i.cloudService, i.virtualNetwork, i.powerState, i.migrationState)
                  for i in items], fmt)
    if output.out.is_terminal and fmt != "tsv":
        output.out.print(_summary_line(inventory.summary(items)))


def _flat(counts: dict[str, Any]) -> list[tuple[str, Any]]:
    """Nested counts as key/value rows ('byPowerState Started' → 3)."""
    rows: list[tuple[str, Any]] = []
    for k, v in counts.items():
        rows.extend(((f"{k} {sub}", n) for sub, n in v.items()) if isinstance(v, dict) else [(k, v)])
    return rows


def _summary_line(counts: dict[str, Any]) -> str:
    parts = [f"{counts['total']} in all", f"{counts['inVirtualNetwork']} in a VNet"]
    parts += [f"{n} {s}" for s, n in counts["byPowerState"].items()]
    parts += [f"{n} {s}" for s, n in counts["byMigrationState"].items()]
    return "; ".join(parts)


@app.command()
def show(resource_id: Annotated[str, typer.Argument(help="Name, ASM path, ARM id, or the ARM id of a classic "
                                                         "resource. A name must be the subscription's only one "
                                                         "of that name.")],
         as_json: JsonOpt = False) -> None:
    """One resource, classic or ARM."""
    from ..service import resources

    data = resources.show(state.ctx(), resource_id)
    if as_json:
        output.emit_json(data)
    else:
        output.out.print_json(data=data)


@arm_app.command("list")
def arm_list(
    resource_group: Annotated[str | None, typer.Option("--resource-group", "-g",
                                                       help="Only resources of this resource group.")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="e.g. Microsoft.Compute/virtualMachines")] = None,
    no_classic: Annotated[bool, typer.Option("--no-classic", help="Leave out classic resources' ARM views.")]
    = False,
    as_json: JsonOpt = False,
) -> None:
    """ARM resources (and classic ones as ARM shows them)."""
    from ..service import arm_reads

    items = arm_reads.list_resources(state.ctx(), types=[type_] if type_ else None, resource_group=resource_group,
                                     classic=not no_classic).items
    if as_json:
        output.emit_json({"value": items})
        return
    output.table(f"{len(items)} resources", ["name", "type", "location", "id"],
                 [(i["name"], i["type"], i.get("location"), i["id"]) for i in items])


@arm_app.command("show")
def arm_show(arm_id: Annotated[str, typer.Argument(help="ARM id of a resource (a classic one's view too) or of a "
                                                     "resource group.")],
             as_json: JsonOpt = False) -> None:
    """One resource in ARM's JSON shape, as the ARM API's GET answers it."""
    from ..service import arm_reads

    data = arm_reads.show(state.ctx(), arm_id)
    if as_json:
        output.emit_json(data)
    else:
        output.out.print_json(data=data)


# --------------------------------------------------------------------------- clock and VMs


@clock_app.command("show")
def clock_show(as_json: JsonOpt = False) -> None:
    """The world clock and what the retirement policy says at that time."""
    from ..service import world_clock

    data = world_clock.show_clock(state.ctx())
    if as_json:
        output.emit_json(data)
    else:
        output.key_values("world clock", list(data.items()))


@clock_app.command("set")
def clock_set(
    when: Annotated[str, typer.Argument(help="'real', or a date/time such as 2023-06-01")],
    running: Annotated[bool, typer.Option("--running", help="Let time run on from WHEN instead of freezing "
                                                            "it.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Set the world clock ('as of' time); the retirement policy applies from then on."""
    from ..service import clock, world_clock

    if when.lower() == "real":
        setting = clock.ClockSetting()
    else:
        try:
            at = clock.parse_when(when)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="WHEN") from None
        setting = clock.running_from(at) if running else clock.fixed(at)
    setting, deallocated = world_clock.set_clock(state.ctx(), setting)
    data = {**setting.to_json(), "now": setting.now().isoformat(), "deallocatedForRetirement": deallocated}
    if as_json:
        output.emit_json(data)
    else:
        output.key_values("world clock set", list(data.items()))


def _vm_result(role: Any, as_json: bool) -> None:
    data = {"name": role.name, "instanceStatus": role.instance_status.value, "powerState": role.power_state.value}
    if as_json:
        output.emit_json(data)
    else:
        output.out.print(f"{role.name}: {data['instanceStatus']} ({data['powerState']})")


SvcOpt = Annotated[str, typer.Option("--service", help="Cloud service (hosted service) name.")]
DepOpt = Annotated[str, typer.Option("--deployment", help="Deployment name.")]


VmArg = Annotated[str, typer.Argument(help="Name of the classic VM (role).")]


@vm_app.command("start")
def vm_start(name: VmArg, service: SvcOpt, deployment: DepOpt, as_json: JsonOpt = False) -> None:
    """Start a classic VM (refused after the retirement date)."""
    from ..service import classic_writes

    _vm_result(classic_writes.start_vm(state.ctx(), service, deployment, name), as_json)


@vm_app.command("stop")
def vm_stop(name: VmArg, service: SvcOpt, deployment: DepOpt,
            stay_provisioned: Annotated[bool, typer.Option("--stay-provisioned",
                                                           help="Stop but keep it allocated.")] = False,
            as_json: JsonOpt = False) -> None:
    """Stop (and by default deallocate) a classic VM."""
    from ..service import classic_writes

    _vm_result(classic_writes.stop_vm(state.ctx(), service, deployment, name, not stay_provisioned), as_json)


def main() -> None:
    """Entry point: typer handles usage errors (exit 2); every other error exits 1 with one line on stderr —
    the traceback too only with --debug."""
    from rich.markup import escape

    not_text = _undecodable_argument(sys.argv[1:])
    if not_text is not None:
        output.err.print(f"[bold red]error:[/] {escape(not_text)}", highlight=False, soft_wrap=True)
        sys.exit(2)
    try:
        app(standalone_mode=True)
    except Exception as exc:
        message = _user_error(exc)
        if state.debug:
            output.err.print_exception(show_locals=False)
        elif message is None:  # a bug: one line all the same, and how to see more
            first = next(iter(str(exc).strip().splitlines()), "")
            message = f"unexpected {type(exc).__name__}{': ' + first if first else ''} (a bug: re-run with " \
                      "--debug for the traceback)"
        if message is not None:
            output.err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(1)
    finally:
        state.close()


def _undecodable_argument(argv: list[str]) -> str | None:
    """What is wrong with the first argument that is not UTF-8 text, unless it names an existing file (bytes a
    terminal or script passes that are not UTF-8 reach Python as lone surrogates: names, ids and dates made of
    them cannot be stored, shown or compared; a file's name may be any bytes)."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            if not os.path.lexists(arg):
                shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                return f"the argument '{shown}' is not UTF-8 text (only the name of an existing file may be other " \
                       "bytes)"
    return None


def run() -> NoReturn:
    """The process's entry point (`python -m classic2arm`, the `classic2arm` script): `main`, then leave without
    freeing the heap object by object — for a command over a large estate (the plan's index, rows and models of
    10,000 VMs) that teardown took a quarter of a second after everything was done. The store is closed by then
    (`State.close`); the atexit handlers run and the output is flushed, as at a normal exit. (`main` itself
    returns or raises SystemExit as usual: tests call it in-process.)"""
    import atexit

    state.leaving = True
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # (as the interpreter does with sys.exit("text"))
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):  # (a closed pipe: nothing more can be said)
            stream.flush()
    os._exit(code or 0)


def _user_error(exc: Exception) -> str | None:
    """What to tell the user about an error that is theirs to fix (None: a bug). The modules that raise them
    are imported by the commands that can."""
    from ..importers.errors import InputError
    from ..service.errors import ServiceError

    if isinstance(exc, ServiceError | InputError | OSError):
        return str(exc)
    if "classic2arm.service.context" in sys.modules:
        from ..service.context import db_url_from_env, shown_url, store_failure

        detail = store_failure(exc)  # e.g. a --db path whose directory doesn't exist
        if detail is not None:
            return f"cannot use the database {shown_url(db_url_from_env(state.db))}: {detail}"
    return None
