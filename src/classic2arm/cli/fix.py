"""`classic2arm fix` and the classic writes it is made of, as verbs of their own: `disk delete|update`,
`image delete`, `vm extension remove`, `vm endpoint acl clear`, `vm boot-diagnostics disable`, `vm restart`.
Each calls one use case of service/fix.py or service/classic_writes.py (the ones the ASM API calls)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import output
from .options import JsonOpt

if TYPE_CHECKING:
    from ..service.context import AppContext
    from ..service.fix import FixReport, ManualBlocker

SvcOpt = Annotated[str, typer.Option("--service", help="Cloud service (hosted service) name.")]
DepOpt = Annotated[str, typer.Option("--deployment", help="Deployment name.")]
VmArg = Annotated[str, typer.Argument(help="Name of the classic VM (role).")]
DeleteVhdOpt = Annotated[bool, typer.Option("--delete-vhd", help="Delete the VHD blob(s) too (comp=media); by "
                                                                  "default they are kept.")]


def _done(what: str, op: str, as_json: bool, **more: Any) -> None:
    if as_json:
        output.emit_json({"operationId": op or None, **more})
    else:
        output.out.print(f"{what}" + (f" (request {op})" if op else ""))


def _manual_table(manual: list[ManualBlocker]) -> None:
    if manual:
        output.table("blockers no fix clears: what to do", ["rule", "units", "e.g.", "advice"],
                     [(m.rule, len(m.units), m.units[0], m.advice) for m in manual], "auto")


def _print_report(report: FixReport) -> None:
    verb = "would change" if report.dry_run else "changes"
    output.table(f"fix: {len(report.changes)} {verb}", ["unit", "fix", "change", "status"],
                 [(c.unit, c.target.fix, c.target.describe, c.status + (f": {c.error}" if c.error else ""))
                  for c in report.changes], "auto")
    for vm in report.nsg_rules():
        output.table(f"NSG rules to re-create on VM {vm['vm']} ({vm['service']}/{vm['deployment']}) after "
                     "migration", ["name", "priority", "access", "source", "port", "protocol"],
                     [(r["name"], r["properties"]["priority"], r["properties"]["access"],
                       r["properties"]["sourceAddressPrefix"], r["properties"]["destinationPortRange"],
                       r["properties"]["protocol"]) for r in vm["securityRules"]], "auto")
    _manual_table(report.manual)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts().items())) or "nothing to change"
    output.out.print(("dry run, nothing written: " if report.dry_run else "") + counts)


def register(app: typer.Typer, vm_app: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    disk_app = typer.Typer(no_args_is_help=True, help="Classic disks (Delete Disk, Update Disk).")
    image_app = typer.Typer(no_args_is_help=True, help="Classic OS and VM images (Delete OS/VM Image).")
    extension_app = typer.Typer(no_args_is_help=True, help="A classic VM's resource extensions.")
    endpoint_app = typer.Typer(no_args_is_help=True, help="A classic VM's input endpoints.")
    acl_app = typer.Typer(no_args_is_help=True, help="Endpoint ACLs.")
    diag_app = typer.Typer(no_args_is_help=True, help="A classic VM's boot diagnostics (DebugSettings).")
    app.add_typer(disk_app, name="disk")
    app.add_typer(image_app, name="image")
    vm_app.add_typer(extension_app, name="extension")
    vm_app.add_typer(endpoint_app, name="endpoint")
    endpoint_app.add_typer(acl_app, name="acl")
    vm_app.add_typer(diag_app, name="boot-diagnostics")

    @app.command("fix")
    def fix_cmd(
        name: Annotated[str | None, typer.Argument(help="The fix to apply (see --list).")] = None,
        list_: Annotated[bool, typer.Option("--list", help="What can be fixed, with the units each fix concerns "
                                                           "and unblocks, and the blockers no fix clears.")] = False,
        all_: Annotated[bool, typer.Option("--all", help="Apply every fix.")] = False,
        unit: Annotated[str | None, typer.Option("--unit", help="Only in this unit: deployment:SERVICE/DEPLOYMENT, "
                                                                "vnet:NAME, storage:NAME, …")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show every change; write nothing.")] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Apply the mechanical remediations of validation blockers, each a classic write (audited in the event
        log, refused while a migration holds the resource). Exit 1 when a change was refused or failed."""
        from ..service import fix

        if list_:
            if name or all_ or unit or dry_run:
                raise typer.BadParameter("--list takes no fix name, --all, --unit or --dry-run", param_hint="--list")
            survey = fix.survey(get_ctx())
            if as_json:
                output.emit_json(survey.to_json())
                return
            output.table("fixes", ["fix", "rules", "messages", "units", "unblocks", "changes", "what it does"],
                         [(s.fix.name, ",".join(sorted(s.fix.rules)), s.messages, s.units, s.unblocks, s.changes,
                           s.fix.summary) for s in survey.fixes], "auto")
            _manual_table(survey.manual)
            if survey.locked:
                output.out.print(f"{len(survey.locked)} unit(s) held by a migration: {', '.join(survey.locked[:5])}")
            return
        if bool(name) == all_:
            raise typer.BadParameter("give a fix NAME or --all (or --list)", param_hint="NAME")
        ref = None
        if unit is not None:
            from .migrate import parse_unit

            ref = parse_unit(unit)
        if name is not None:
            fix.resolve(name)  # an unknown name fails before anything is read
        report = fix.run(get_ctx(), None if all_ else [name or ""], ref, dry_run)
        if as_json:
            output.emit_json(report.to_json())
        else:
            _print_report(report)
        if not report.ok:
            bad = sum(1 for c in report.changes if c.status in (fix.REFUSED, fix.FAILED))
            output.err.print(f"[bold red]error:[/] {bad} change(s) refused or failed", highlight=False)
            raise typer.Exit(1)

    @disk_app.command("delete")
    def disk_delete(name: Annotated[str, typer.Argument(help="Disk name.")], delete_vhd: DeleteVhdOpt = False,
                    as_json: JsonOpt = False) -> None:
        """Delete a classic disk that no VM uses (Delete Disk)."""
        from ..service import classic_writes

        op = classic_writes.delete_disk(get_ctx(), name, delete_vhd)
        _done(f"disk {name} deleted" + (" with its VHD blob" if delete_vhd else " (its VHD blob is kept)"), op,
              as_json)

    @disk_app.command("update")
    def disk_update(name: Annotated[str, typer.Argument(help="Disk name.")],
                    resized_size_gb: Annotated[int | None, typer.Option("--resized-size-gb", min=1,
                                                                        help="New, larger logical size (GB); the "
                                                                             "blob grows to it.")] = None,
                    label: Annotated[str | None, typer.Option("--label", help="New label.")] = None,
                    as_json: JsonOpt = False) -> None:
        """Change a classic disk's label or grow it (Update Disk, Update-AzureDisk -ResizedSizeInGB)."""
        from ..service import classic_writes

        if resized_size_gb is None and label is None:
            raise typer.BadParameter("give --resized-size-gb and/or --label", param_hint="--resized-size-gb")
        op, _disk = classic_writes.update_disk(get_ctx(), name, resized_size_gb=resized_size_gb, label=label)
        _done(f"disk {name} updated", op, as_json)

    @image_app.command("delete")
    def image_delete(name: Annotated[str, typer.Argument(help="Image name.")],
                     vm_image: Annotated[bool, typer.Option("--vm-image", help="A VM image (default: an OS "
                                                                               "image).")] = False,
                     delete_vhd: DeleteVhdOpt = False, as_json: JsonOpt = False) -> None:
        """Delete a classic OS image (or VM image) from the image repository."""
        from ..service import classic_writes

        delete = classic_writes.delete_vm_image if vm_image else classic_writes.delete_os_image
        op = delete(get_ctx(), name, delete_vhd)
        _done(f"{'VM' if vm_image else 'OS'} image {name} deleted" +
              (" with its VHD blob(s)" if delete_vhd else " (VHD blobs kept)"), op, as_json)

    @extension_app.command("remove")
    def extension_remove(vm: VmArg, service: SvcOpt, deployment: DepOpt,
                         extension: Annotated[list[str], typer.Option("--extension", help="Extension name or "
                                                                      "reference name (repeatable).")],
                         as_json: JsonOpt = False) -> None:
        """Uninstall resource extensions from a classic VM (Update Role without them)."""
        from ..service import classic_writes

        op = classic_writes.remove_extensions(get_ctx(), service, deployment, vm, extension)
        _done(f"removed {', '.join(extension)} from VM {vm}" if op else f"VM {vm}: nothing to remove", op,
              as_json, extensions=extension)

    @acl_app.command("clear")
    def acl_clear(vm: VmArg, service: SvcOpt, deployment: DepOpt,
                  endpoint: Annotated[str | None, typer.Option("--endpoint", help="Only this endpoint's "
                                                                                  "ACL.")] = None,
                  as_json: JsonOpt = False) -> None:
        """Delete the ACLs of a classic VM's endpoints; prints the NSG rules that do the same in ARM."""
        from ..service import fix

        result = fix.clear_endpoint_acls(get_ctx(), service, deployment, vm, endpoint)
        if as_json:
            output.emit_json(result.to_json())
            return
        if not result.endpoints:
            output.out.print(f"VM {vm}: no endpoint ACL to delete")
            return
        output.out.print(f"deleted the ACLs of {', '.join(result.endpoints)} on VM {vm} (request "
                         f"{result.operation_id})")
        output.table("NSG rules to re-create after migration", ["name", "priority", "access", "source", "port"],
                     [(r["name"], r["properties"]["priority"], r["properties"]["access"],
                       r["properties"]["sourceAddressPrefix"], r["properties"]["destinationPortRange"])
                      for r in result.nsg_rules], "auto")

    @diag_app.command("disable")
    def diag_disable(vm: VmArg, service: SvcOpt, deployment: DepOpt, as_json: JsonOpt = False) -> None:
        """Disable a classic VM's boot diagnostics (DebugSettings BootDiagnosticsEnabled=false)."""
        from ..service import classic_writes

        op = classic_writes.disable_boot_diagnostics(get_ctx(), service, deployment, vm)
        _done(f"boot diagnostics of VM {vm} disabled" if op else f"VM {vm}: boot diagnostics already off", op,
              as_json)

    @vm_app.command("restart")
    def vm_restart(vm: VmArg, service: SvcOpt, deployment: DepOpt, as_json: JsonOpt = False) -> None:
        """Restart a classic VM (Restart Role; refused after the retirement date)."""
        from ..service import classic_writes

        role, op = classic_writes.restart_vm(get_ctx(), service, deployment, vm)
        _done(f"{role.name}: {role.instance_status.value} ({role.power_state.value})", op, as_json,
              name=role.name, instanceStatus=role.instance_status.value, powerState=role.power_state.value)
