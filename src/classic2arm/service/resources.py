"""One resource of either model, found the ways a user names it: ASM path, ARM id, the ARM view id of a classic
resource, an ASM path without its `/{subscription}` prefix, or just its name."""

from __future__ import annotations

from typing import Any

from ..domain import identity as ids
from ..store import Row, Tx
from . import arm_reads, codec, locks
from .context import AppContext
from .errors import NotFound, ServiceError

MAX_LISTED = 20  # matches named in an ambiguity error


def by_reference(tx: Tx, sub: str, ref: str) -> Row | None:
    """A resource by ASM path, ARM id, ARM view id of a classic resource, or `/sub`-less ASM path."""
    ref = ref.strip()
    if not ref.startswith("/"):
        return None
    row = tx.resources.get(ref) or tx.resources.get_by_arm_id(ref)
    if row is None and not ref.lower().startswith(("/subscriptions/", f"/{sub.lower()}/")):
        row = tx.resources.get(f"/{sub}{ref}")
    return row


def _named(tx: Tx, sub: str, name: str) -> Row:
    """The one resource of the subscription with this name (case-insensitive, either model)."""
    rows = tx.resources.query(sub, name=name)
    if not rows:
        raise NotFound(f"no resource '{name}' in subscription {sub}")
    if len(rows) > 1:
        listed = "".join(f"\n  {r.id}" for r in rows[:MAX_LISTED])
        more = f"\n  … and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
        raise ServiceError("AmbiguousResourceName", f"{len(rows)} resources are named '{name}' in subscription "
                                                    f"{sub}; give one of their ids:{listed}{more}", 400)
    return rows[0]


def show(ctx: AppContext, ref: str) -> dict[str, Any]:
    """A resource by any of its references or by plain name: ARM resources in ARM's shape, classic ones with
    their ARM view's id, lock and migration state and stored document."""
    if not ref.strip():
        raise ServiceError("InvalidResourceName", "give a resource's name, ASM path or ARM id", 400)
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        if ref.strip().startswith("/"):
            row = by_reference(tx, sub, ref)
            if row is None:
                raise NotFound(f"no resource '{ref}' in subscription {sub}")
        else:
            row = _named(tx, sub, ref.strip())
        if row.model == ids.ARM:
            return codec.arm_object(row).to_json()
        lock = locks.lock_state(tx, row)
        return {"id": row.id, "armId": arm_reads.arm_view(tx, row).id, "type": row.type, "name": row.name,
                "location": row.location, "migrationState": lock.migration_state, "locked": bool(lock.holder),
                "version": row.version, "properties": row.doc}
