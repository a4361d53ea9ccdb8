"""Template export of a resource group (`POST …/resourcegroups/{rg}/exportTemplate`, `classic2arm arm
export-template`): the group's resources read in one transaction, the template built by `domain/templates.py`."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import arm as armt
from ..domain import templates
from . import arm_reads
from .context import AppContext
from .errors import ServiceError

# What a template carries: the stored ARM types but resource groups and subnets (kept inline in their VNet).
_SKIPPED_ROWS = (armt.RESOURCE_GROUP, armt.SUBNET)


def export_group(ctx: AppContext, sub: str, rg: str, resource_ids: Sequence[str] | None = None,
                 parameterize: bool = True) -> templates.Exported:
    """The template of the group's resources, or of those named (ids; `*` or none: all)."""
    arm_reads.check_group_name(rg)
    group = arm_reads.get_group(ctx, sub, rg)
    page = arm_reads.list_resources(ctx, sub, resource_group=group["name"], include_children=True)
    items = [r for r in page.items if r.get("type") not in _SKIPPED_ROWS]
    wanted = [i for i in (resource_ids or []) if i.strip() and i.strip() != "*"]
    if wanted:
        by_id = {str(r["id"]).lower(): r for r in items}
        missing = [i for i in wanted if i.strip().lower() not in by_id]
        if missing:
            raise ServiceError("ResourceNotFound", f"The resource '{missing[0][:300]}' is not in resource group "
                                                   f"'{group['name']}'.", 404)
        chosen = {i.strip().lower() for i in wanted}
        items = [r for r in items if str(r["id"]).lower() in chosen]
    return templates.export(group["name"], items, parameterize=parameterize)


def export_options(body: object) -> tuple[list[str] | None, bool]:
    """(resource ids, parameterize?) of an exportTemplate request body `{"resources": [...], "options": "..."}`."""
    if body is None:
        return None, True
    if not isinstance(body, dict):
        raise ServiceError("InvalidRequestContent", "The request content must be a JSON object.", 400)
    resources = body.get("resources", ["*"])
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise ServiceError("InvalidRequestContent", "'resources' must be a list of resource ids (or ['*']).", 400)
    options = body.get("options") or ""
    if not isinstance(options, str):
        raise ServiceError("InvalidRequestContent", "'options' must be a comma-separated string.", 400)
    known = {"includeparameterdefaultvalue", "includecomments", "skipresourcenameparameterization",
             "skipallparameterization"}
    given = {o.strip().lower() for o in options.split(",") if o.strip()}
    unknown = sorted(given - known)
    if unknown:
        raise ServiceError("InvalidRequestContent", f"Unknown export option '{unknown[0][:60]}'; known: "
                                                    "IncludeParameterDefaultValue, IncludeComments, "
                                                    "SkipResourceNameParameterization, SkipAllParameterization.", 400)
    skip = bool(given & {"skipresourcenameparameterization", "skipallparameterization"})
    return resources, not skip
