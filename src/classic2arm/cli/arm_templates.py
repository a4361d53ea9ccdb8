"""`classic2arm arm export-template` and `classic2arm arm deploy`: ARM templates of what was migrated, and
deployments of templates into a resource group (the same use cases as the ARM API's exportTemplate and
deployments)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import output

if TYPE_CHECKING:
    from ..service.context import AppContext

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
GroupOpt = Annotated[str, typer.Option("--resource-group", "-g", help="The resource group.")]


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {what} {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{what} {path} is not JSON: {exc.msg} at line {exc.lineno}") from None


def register(arm_app: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    @arm_app.command("export-template")
    def export_template(
        resource_group: GroupOpt,
        resource: Annotated[list[str] | None, typer.Option("--resource", help="Only this resource (an ARM id); "
                                                                               "repeatable.")] = None,
        skip_parameterization: Annotated[bool, typer.Option("--skip-parameterization",
                                                            help="Literal names, no parameters.")] = False,
        out: Annotated[Path | None, typer.Option("-o", "--output-file", help="Write the template here "
                                                                             "instead of stdout.")] = None,
    ) -> None:
        """The resource group's ARM resources as a deployment template (what `az group export` gives); what it
        cannot carry is listed as warnings on stderr."""
        from ..service import arm_templates

        ctx = get_ctx()
        done = arm_templates.export_group(ctx, ctx.chosen_subscription(), resource_group, resource,
                                          not skip_parameterization)
        text = json.dumps(done.template, indent=2)
        if out is not None:
            out.write_text(text + "\n", encoding="utf-8")
            output.err.print(f"template of {len(done.template['resources'])} resources written to {out}",
                             highlight=False)
        else:
            print(text, flush=True)
        for w in done.warnings:
            output.err.print(f"warning: {w.target}: {w.message}", highlight=False, markup=False)
    @arm_app.command("deploy")
    def deploy(
        resource_group: GroupOpt,
        template: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The template (JSON).")],
        parameters: Annotated[Path | None, typer.Option("--parameters", exists=True, dir_okay=False,
                                                        help="A deployment parameters file (JSON).")] = None,
        name: Annotated[str | None, typer.Option("--name", help="The deployment's name (default: the "
                                                                "template file's stem).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Deploy a template into a resource group (incremental mode), as `az deployment group create` does."""
        from ..service import arm_deploy

        ctx = get_ctx()
        body: dict[str, Any] = {"properties": {"mode": "Incremental",
                                               "template": _read_json(template, "template")}}
        if parameters is not None:
            body["properties"]["parameters"] = _read_json(parameters, "parameters file")
        result = arm_deploy.create(ctx, ctx.chosen_subscription(), resource_group, name or template.stem[:64], body)
        if as_json:
            output.emit_json(result)
            return
        props = result["properties"]
        output.key_values(f"deployment {result['name']}", [
            ("provisioningState", props["provisioningState"]), ("resources", len(props.get("outputResources", []))),
            ("duration", props.get("duration"))])
