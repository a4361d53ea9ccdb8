"""Looking up single resources and listing what ARM sees (ARM resources and classic views)."""

from __future__ import annotations

from typing import Any

from ..domain import classic as c
from ..domain import identity as ids
from ..domain.arm import ArmResource
from ..domain.classic_view import generic_view, vm_view
from ..domain.locations import display_name
from ..store import Row, Tx
from . import codec, locks
from .context import AppContext
from .errors import NotFound


def find_row(tx: Tx, sub: str, ref: str) -> Row | None:
    """A resource by ASM path, ARM id, ARM view id of a classic resource, or `/sub`-less ASM path."""
    ref = ref.strip()
    if not ref.startswith("/"):
        return None
    row = tx.resources.get(ref) or tx.resources.get_by_arm_id(ref)
    if row is None and not ref.lower().startswith(("/subscriptions/", f"/{sub.lower()}/")):
        row = tx.resources.get(f"/{sub}{ref}")
    return row


def arm_view(tx: Tx, row: Row) -> ArmResource:
    """The ARM shape of any row: ARM rows as stored, classic rows through their classic-provider view."""
    if row.model == ids.ARM:
        return codec.arm_object(row)
    obj = codec.classic_object(row)
    location = display_name(row.location) if row.location else None
    if isinstance(obj, c.Role) and obj.is_vm:
        dep_row = tx.resources.get(row.parent_key or "")
        dep = c.Deployment.model_validate(dep_row.doc) if dep_row else None
        return vm_view(row.subscription_id, obj, dep, location, row.resource_group or obj.service_name,
                       row.migration_state)
    return generic_view(row.subscription_id, obj, location, row.migration_state)


def arm_json(tx: Tx, row: Row) -> dict[str, Any]:
    """A row in ARM's JSON shape. ARM rows are stored in that shape already (written by `ArmResource.to_json`),
    so they are returned as read, without a model round trip; classic rows go through their view."""
    if row.model == ids.ARM:
        return row.doc
    return arm_view(tx, row).to_json()


def show(ctx: AppContext, ref: str) -> dict[str, Any]:
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        row = find_row(tx, sub, ref)
        if row is None:
            raise NotFound(f"no resource '{ref}' in subscription {sub}")
        if row.model == ids.ARM:
            return codec.arm_object(row).to_json()
        lock = locks.lock_state(tx, row)
        return {"id": row.id, "armId": arm_view(tx, row).id, "type": row.type, "name": row.name,
                "location": row.location, "migrationState": lock.migration_state, "locked": bool(lock.holder),
                "version": row.version, "properties": row.doc}


def arm_list(ctx: AppContext, resource_group: str | None = None, type_filter: str | None = None,
             include_classic: bool = True) -> list[dict[str, Any]]:
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        rows = tx.resources.query(sub, model=None if include_classic else ids.ARM,
                        types=[type_filter] if type_filter else None)
        out = []
        for row in rows:
            if row.model == ids.CLASSIC and (row.arm_id is None or row.type == ids.T_LOCAL_SITE):
                continue  # disks, images, … have no ARM view
            view = arm_view(tx, row)
            if resource_group and (view.resource_group or "").lower() != resource_group.lower():
                continue
            out.append(view.to_json())
    return out


def arm_show(ctx: AppContext, arm_id: str) -> dict[str, Any]:
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        row = tx.resources.get(arm_id) or tx.resources.get_by_arm_id(arm_id)
        if row is None or (row.model == ids.CLASSIC and row.arm_id is None):
            raise NotFound(f"The Resource '{arm_id}' was not found in subscription {sub}.")
        return arm_json(tx, row)
