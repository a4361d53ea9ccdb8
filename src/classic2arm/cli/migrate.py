"""Migration verbs, shaped like Move-Azure* / `azure ... validate-migration` (spec §6):

    classic2arm deployment validate|prepare|commit|abort --service S --deployment D
        [--new-vnet | --vnet-resource-group RG --vnet V --subnet SN]
    classic2arm vnet|storage|reserved-ip|nsg|route-table validate|prepare|commit|abort NAME
    classic2arm storage delete|containers NAME        (cli/storage.py)

Loaded by `verbs.py` when one of these groups is invoked.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from ..domain.state_machine import Op
from ..domain.units import Destination, UnitKind, UnitRef
from . import output
from .options import JsonOpt
from .verbs import EXIT_VALIDATION_ERRORS

if TYPE_CHECKING:
    from ..service import migration
    from ..service.context import AppContext
    from ..service.operations import OperationView

NoWait = Annotated[bool, typer.Option("--no-wait", help="Print the operation id and return at once.")]
ServiceOpt = Annotated[str, typer.Option("--service", help="Cloud service (hosted service) name.")]
DeploymentOpt = Annotated[str, typer.Option("--deployment", help="Deployment name.")]


def _print_validation(result: migration.ValidationResult, as_json: bool) -> None:
    if as_json:
        output.emit_json({"result": result.result, "operationId": result.operation_id,
                          "messages": [m.to_json() for m in result.messages]})
    else:
        output.table(result.result, ["category", "resource type", "resource", "virtual machine", "message"],
                     [(m.category.value, m.resource_type, m.resource_name, m.virtual_machine, m.message)
                      for m in result.messages])
    if result.has_errors:
        raise typer.Exit(EXIT_VALIDATION_ERRORS)


def _print_operation(view: OperationView, as_json: bool) -> None:
    if as_json:
        output.emit_json(view.to_json())
    elif view.status == "Failed":
        pass
    else:
        output.out.print(f"{view.kind} of {view.unit}: {view.status} (operation {view.id})")
    if view.status == "Failed":
        output.err.print(f"[bold red]error:[/] Failed: {view.error_code} : {view.error_message}", markup=True,
                         highlight=False)
        raise typer.Exit(1)


def run_op(ctx: AppContext, op: Op, ref: UnitRef, as_json: bool, no_wait: bool, db_url: str | None) -> None:
    from ..service import migration

    view = migration.start(ctx, op, ref)
    if no_wait:
        if view.status == "InProgress":
            _spawn_runner(view.id, db_url)
        if as_json:
            output.emit_json({"operationId": view.id, "status": view.status})
        else:
            output.out.print(view.id)
        return
    if view.status == "InProgress":
        with output.progress(f"{op.value} {ref.describe()}", enabled=not as_json) as bar:
            task = bar.add_task(f"{op.value} {ref.describe()}", total=None)

            def report(step: str, done: int, total: int) -> None:
                bar.update(task, description=f"{op.value}: {step}", completed=done, total=total)

            view = migration.run(ctx, view.id, report)
    _print_operation(view, as_json)


def _spawn_runner(op_id: str, db_url: str | None) -> None:
    """`--no-wait`: the operation runs on in a detached process of its own (durable: any process may finish it)."""
    cmd = [sys.executable, "-m", "classic2arm"]
    if db_url:
        cmd += ["--db", db_url]
    cmd += ["operation", "run", op_id]
    subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)


def parse_unit(text: str) -> UnitRef:
    """`deployment:svc/dep`, `vnet:name`, … as the snapshot/check commands take a unit."""
    kind_text, sep, rest = text.partition(":")
    try:
        kind = UnitKind(kind_text)
    except ValueError:
        raise typer.BadParameter(f"'{text}': the kind must be one of {', '.join(k.value for k in UnitKind)}") from None
    if not sep or not rest:
        raise typer.BadParameter(f"'{text}' names no resource")
    if kind == UnitKind.DEPLOYMENT:
        svc, slash, dep = rest.partition("/")
        if not slash or not svc or not dep:
            raise typer.BadParameter(f"'{text}': write deployment:SERVICE/DEPLOYMENT")
        return UnitRef(kind, dep, svc)
    return UnitRef(kind, rest)


def build_group(name: str, get_ctx: Callable[[], AppContext], get_db: Callable[[], str | None]) -> typer.Typer:
    """The verbs (validate, prepare, commit, abort) of unit kind `name`, as `verbs.py` loads them."""
    kind = UnitKind(name)
    group = typer.Typer()
    for op in Op:
        if kind == UnitKind.DEPLOYMENT:
            _deployment_command(group, op, get_ctx, get_db)
        else:
            _named_command(group, kind, op, get_ctx, get_db)
    if kind == UnitKind.STORAGE:
        from . import storage

        storage.add_commands(group, get_ctx)
    return group


def _run(op: Op, ref: UnitRef, as_json: bool, no_wait: bool, get_ctx: Callable[[], AppContext],
         get_db: Callable[[], str | None]) -> None:
    """What every unit verb does once it has its unit: validate and print, or run the operation."""
    if op == Op.VALIDATE:
        from ..service import migration

        _print_validation(migration.validate(get_ctx(), ref), as_json)
    else:
        run_op(get_ctx(), op, ref, as_json, no_wait, get_db())


def _destination(new_vnet: bool, rg: str | None, vnet: str | None, subnet: str | None,
                 raw: str | None) -> Destination:
    if raw is not None:  # as the REST API takes it (Default/New/Existing), for the exact R03/R04 errors
        return Destination(raw, rg or "", vnet or "", subnet or "")
    existing = any(x is not None for x in (rg, vnet, subnet))
    if new_vnet and existing:
        raise typer.BadParameter("--new-vnet and --vnet-resource-group/--vnet/--subnet exclude each other")
    if not new_vnet and not existing:
        raise typer.BadParameter("give --new-vnet, or --vnet-resource-group, --vnet and --subnet")
    if existing:
        return Destination("Existing", rg or "", vnet or "", subnet or "")
    return Destination("New")


def _deployment_command(group: typer.Typer, op: Op, get_ctx: Callable[[], AppContext],
                        get_db: Callable[[], str | None]) -> None:
    with_dest = op in (Op.VALIDATE, Op.PREPARE)

    def command(
        service: ServiceOpt,
        deployment: DeploymentOpt,
        new_vnet: Annotated[bool, typer.Option("--new-vnet", help="Let the platform create a VNet.")] = False,
        vnet_resource_group: Annotated[str | None, typer.Option("--vnet-resource-group",
                                                                help="Resource group of the existing ARM "
                                                                     "VNet.")] = None,
        vnet: Annotated[str | None, typer.Option("--vnet", help="Existing ARM VNet.")] = None,
        subnet: Annotated[str | None, typer.Option("--subnet", help="Subnet of the existing ARM VNet.")] = None,
        destination_raw: Annotated[str | None, typer.Option("--destination", hidden=True)] = None,
        as_json: JsonOpt = False,
        no_wait: NoWait = False,
    ) -> None:
        dest = _destination(new_vnet, vnet_resource_group, vnet, subnet, destination_raw) if with_dest else None
        ref = UnitRef(UnitKind.DEPLOYMENT, deployment, service, dest)
        _run(op, ref, as_json, no_wait, get_ctx, get_db)

    command.__doc__ = f"{op.value.capitalize()} the migration of a deployment."
    group.command(op.value)(command)


def _named_command(sub_app: typer.Typer, kind: UnitKind, op: Op, get_ctx: Callable[[], AppContext],
                   get_db: Callable[[], str | None]) -> None:
    def command(name: Annotated[str, typer.Argument(help="Name of the classic resource.")],
                as_json: JsonOpt = False, no_wait: NoWait = False) -> None:
        ref = UnitRef(kind, name)
        _run(op, ref, as_json, no_wait, get_ctx, get_db)

    command.__doc__ = f"{op.value.capitalize()} the migration of {kind.value} NAME."
    sub_app.command(op.value)(command)
