"""Resource groups (spec §3.1 preamble): one `-Migrated` RG per cloud service, VNet, storage account or
standalone network object. The user cannot choose them (§3.1), so they follow the classic name exactly."""

from __future__ import annotations

from .. import arm
from . import names
from .context import Ctx


def migrated_group(ctx: Ctx, classic_name: str, *origins: str) -> str:
    """Create `<classic_name>-Migrated` (once) and return its name."""
    name = names.migrated_rg(classic_name)
    ctx.out.group(arm.resource_group(ctx.sub, name, ctx.location), *origins)
    return name
