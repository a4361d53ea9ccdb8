"""`classic2arm` — the command-line tool.

Exit codes: 0 success, 2 usage error, 1 any other error (message on stderr). Every command takes
`--json` for machine-readable output on stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..domain import generator
from ..importers import detect, estate_doc
from ..importers.errors import InputError
from ..service import arm_reads, classic_writes, clock, estate, inventory, resources, world_clock
from ..service.context import AppContext, db_url_from_env, store_failure
from ..service.errors import ServiceError
from . import creds as creds_cmd
from . import demo as demo_cmd
from . import migrate as migrate_cmd
from . import ops as ops_cmd
from . import output
from . import serve as serve_cmd

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Rehearse and run the migration of Azure classic (ASM) IaaS resources to Azure Resource "
                       "Manager.")
arm_app = typer.Typer(no_args_is_help=True, help="ARM resources in ARM's JSON shape.")
clock_app = typer.Typer(no_args_is_help=True, help="The world clock of this database.")
vm_app = typer.Typer(no_args_is_help=True, help="Classic VM power operations (subject to the retirement policy).")
app.add_typer(arm_app, name="arm")
app.add_typer(clock_app, name="clock")
app.add_typer(vm_app, name="vm")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class State:
    db: str | None = None
    subscription: str | None = None
    _ctx: AppContext | None = None

    def ctx(self) -> AppContext:
        if self._ctx is None:
            self._ctx = AppContext.open(self.db, self.subscription)
        return self._ctx


state = State()
demo_cmd.register(app, state.ctx)
migrate_cmd.register(app, state.ctx, lambda: state.db)
ops_cmd.register(app, state.ctx)
serve_cmd.register(app, state.ctx, lambda: state.db)
creds_cmd.register(app, state.ctx, lambda: state.db)


@app.callback()
def _global(
    db: Annotated[str | None, typer.Option("--db", envvar="CLASSIC2ARM_DB",
                                           help="Database URL (default sqlite:///classic2arm.db).")] = None,
    subscription: Annotated[str | None, typer.Option("--subscription", help="Subscription id, when the store "
                                                                              "holds more than one.")] = None,
) -> None:
    state.db, state.subscription = db, subscription


# --------------------------------------------------------------------------- import / generate / export


def _parse_affinity_groups(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        name, sep, loc = v.partition("=")
        if not sep or not name.strip() or not loc.strip():
            raise typer.BadParameter(f"'{v}' is not NAME=LOCATION", param_hint="--affinity-group")
        out[name.strip()] = loc.strip()
    return out


def _print_report(report: estate.ImportReport, as_json: bool, title: str) -> None:
    if as_json:
        output.emit_json(report.to_json())
        return
    output.table(f"{title} into subscription {report.subscription_id}", ["type", "count"],
                 sorted(report.counts.items()))
    output.out.print(f"{report.created} created, {report.updated} updated")
    if report.deallocated_for_retirement:
        output.out.print(f"{report.deallocated_for_retirement} classic VMs stored stopped and deallocated: the "
                         "world clock is past the classic VM retirement date")
    for note in report.notes:
        output.out.print(f"note: {note}")


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files: netcfg, ASM REST bodies, session records, "
                                                     ".cscfg/.csdef, estate documents.")],
    affinity_group: Annotated[list[str], typer.Option("--affinity-group", help="Define an affinity group the "
                                                      "files reference, as NAME=LOCATION (repeatable).")] = [],  # noqa: B006
    as_json: JsonOpt = False,
) -> None:
    """Import classic files into the store, all in one transaction."""
    ags = _parse_affinity_groups(affinity_group)
    merged = None
    with output.progress("reading files", enabled=not as_json and len(paths) > 1) as bar:
        task = bar.add_task("reading files", total=len(paths))
        for path in paths:
            part = detect.load_file(path)
            if merged is None:
                merged = part
            else:
                merged.merge(part)
            bar.advance(task)
    assert merged is not None
    source = str(paths[0]) if len(paths) == 1 else f"{len(paths)} files"
    report = estate.import_estate(state.ctx(), merged, source=source, affinity_groups=ags)
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
) -> None:
    """Export the subscription as an estate document (re-importable)."""
    if fmt not in ("yaml", "json"):
        raise typer.BadParameter("must be yaml or json", param_hint="--format")
    data = estate_doc.dumps(estate.export_estate(state.ctx()), fmt)
    if out_file is None:
        sys.stdout.buffer.write(data)
    else:
        tmp = out_file.with_name(out_file.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out_file)  # nothing half-written


# --------------------------------------------------------------------------- reads


@app.command("inventory")
def inventory_(
    type_: Annotated[str | None, typer.Option("--type", help="Classic type, e.g. "
                                              "microsoft.classicstorage/storageaccounts, or 'all'. Default: "
                                              "microsoft.classiccompute/virtualmachines.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every classic resource affected by the retirement (like the Resource Graph query)."""
    items = inventory.inventory(state.ctx(), type_)
    if as_json:
        output.emit_json([i.to_json() for i in items])
        return
    output.table(f"{len(items)} classic resources", ["type", "name", "location", "cloud service", "vnet",
                                                     "power state", "migration state"],
                 [(i.type, i.name, i.location, i.cloudService, i.virtualNetwork, i.powerState, i.migrationState)
                  for i in items])


@app.command()
def show(resource_id: Annotated[str, typer.Argument(help="Name, ASM path, ARM id, or the ARM id of a classic "
                                                         "resource. A name must be the subscription's only one "
                                                         "of that name.")],
         as_json: JsonOpt = False) -> None:
    """One resource, classic or ARM."""
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
    data = arm_reads.show(state.ctx(), arm_id)
    if as_json:
        output.emit_json(data)
    else:
        output.out.print_json(data=data)


# --------------------------------------------------------------------------- clock and VMs


@clock_app.command("show")
def clock_show(as_json: JsonOpt = False) -> None:
    """The world clock and what the retirement policy says at that time."""
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


@vm_app.command("start")
def vm_start(name: str, service: SvcOpt, deployment: DepOpt, as_json: JsonOpt = False) -> None:
    """Start a classic VM (refused after the retirement date)."""
    _vm_result(classic_writes.start_vm(state.ctx(), service, deployment, name), as_json)


@vm_app.command("stop")
def vm_stop(name: str, service: SvcOpt, deployment: DepOpt,
            stay_provisioned: Annotated[bool, typer.Option("--stay-provisioned",
                                                           help="Stop but keep it allocated.")] = False,
            as_json: JsonOpt = False) -> None:
    """Stop (and by default deallocate) a classic VM."""
    _vm_result(classic_writes.stop_vm(state.ctx(), service, deployment, name, not stay_provisioned), as_json)


def main() -> None:
    """Entry point: typer handles usage errors (exit 2); service and input errors exit 1 on stderr."""
    try:
        app(standalone_mode=True)
    except (ServiceError, InputError) as exc:
        output.err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)
    except OSError as exc:
        output.err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)
    except Exception as exc:
        detail = store_failure(exc)  # e.g. a --db path whose directory doesn't exist
        if detail is None:
            raise
        output.err.print(f"[bold red]error:[/] cannot use the database {escape(db_url_from_env(state.db))}: "
                         f"{escape(detail)}", highlight=False)
        sys.exit(1)
