"""`tx.operations`: durable operations (what Get Operation Status answers) and their leases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .base import CHUNK
from .schema import operations

if TYPE_CHECKING:
    from .repository import Tx


@dataclass(slots=True)
class OperationRecord:
    """One row of `operations`."""

    id: str
    subscription_id: str
    kind: str  # Prepare | Commit | Abort | Validate | a classic write's name
    unit_key: str
    status: str  # InProgress | Succeeded | Failed
    http_status: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None  # world-clock times (the store sets tx.now when None)
    updated_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires: datetime | None = None
    attempts: int = 0
    request: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None  # {"step": index of the next step, "cursor": …}
    created_real_at: datetime | None = None  # the real time it was accepted at (the store sets it when None)

    def values(self, now: datetime, real_now: datetime) -> dict[str, Any]:
        return {"id": self.id, "subscription_id": self.subscription_id, "kind": self.kind,
                "unit_key": self.unit_key, "status": self.status, "http_status": self.http_status,
                "error_code": self.error_code, "error_message": self.error_message,
                "created_at": self.created_at or now, "updated_at": self.updated_at or now,
                "lease_owner": self.lease_owner, "lease_expires": self.lease_expires, "attempts": self.attempts,
                "request": self.request, "progress": self.progress,
                "created_real_at": self.created_real_at or real_now}


_NAMES = [c.name for c in operations.columns]
_COLUMNS = frozenset(_NAMES)


def _operation(r: Any) -> OperationRecord:
    return OperationRecord(**dict(zip(_NAMES, r, strict=True)))


class OperationRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.conn = tx.conn

    def insert(self, op: OperationRecord) -> None:
        values = op.values(self.tx.now, datetime.now(UTC))
        if self.tx.write_behind:
            self.tx.defer(operations, [values])
        else:
            self.tx.sync(operations)
            self.conn.execute(operations.insert().values(**values))

    def insert_many(self, ops: Sequence[OperationRecord]) -> None:
        self.tx.sync(operations)
        now, real_now = self.tx.now, datetime.now(UTC)
        payload = [op.values(now, real_now) for op in ops]
        for i in range(0, len(payload), CHUNK):
            self.conn.execute(operations.insert(), payload[i:i + CHUNK])

    def get(self, op_id: str) -> OperationRecord | None:
        self.tx.sync(operations)
        r = self.conn.execute(sa.select(operations).where(operations.c.id == op_id)).first()
        return _operation(r) if r else None

    def get_many(self, op_ids: Sequence[str]) -> dict[str, OperationRecord]:
        self.tx.sync(operations)
        out: dict[str, OperationRecord] = {}
        for i in range(0, len(op_ids), CHUNK):
            q = sa.select(operations).where(operations.c.id.in_(op_ids[i:i + CHUNK]))
            out.update((op.id, op) for op in map(_operation, self.conn.execute(q)))
        return out

    def update(self, op_id: str, at: datetime, **values: Any) -> None:
        """Set these columns of the operation (a name that is not a column is refused); `at`, the world-clock
        time of the change, becomes its `updated_at`."""
        unknown = set(values) - _COLUMNS
        if unknown:
            raise ValueError(f"operations has no column {sorted(unknown)}")
        self.tx.sync(operations)
        self.conn.execute(sa.update(operations).where(operations.c.id == op_id).values(updated_at=at, **values))

    def all(self, subscription_id: str | None = None, status: str | None = None,
            unit_key: str | None = None) -> list[OperationRecord]:
        self.tx.sync(operations)
        # (by the time shown; operations started at the same world-clock time, a fixed clock's, in real order)
        q = sa.select(operations).order_by(operations.c.created_at, operations.c.created_real_at, operations.c.id)
        if subscription_id is not None:
            q = q.where(operations.c.subscription_id == subscription_id)
        if status is not None:
            q = q.where(operations.c.status == status)
        if unit_key is not None:
            q = q.where(operations.c.unit_key == unit_key)
        return [_operation(r) for r in self.conn.execute(q)]

    def claim(self, op_id: str, owner: str, lease_until: datetime, real_now: datetime, at: datetime) -> bool:
        """Take (or renew) the lease of an in-progress operation; False when a live owner holds it. Leases are
        real time (`real_now`); `at` is the world-clock time stamped as `updated_at`."""
        self.tx.sync(operations)
        c = operations.c
        res = self.conn.execute(
            sa.update(operations)
            .where(c.id == op_id, c.status == "InProgress",
                   sa.or_(c.lease_owner.is_(None), c.lease_owner == owner, c.lease_expires < real_now))
            .values(lease_owner=owner, lease_expires=lease_until, attempts=c.attempts + 1, updated_at=at))
        return bool(res.rowcount == 1)

    def renew(self, op_id: str, owner: str, lease_until: datetime, at: datetime) -> bool:
        """Extend a lease this owner holds (one statement, nothing read); False when it no longer holds it. `at`:
        the world-clock time stamped as `updated_at`."""
        self.tx.sync(operations)
        c = operations.c
        res = self.conn.execute(sa.update(operations)
                                .where(c.id == op_id, c.status == "InProgress", c.lease_owner == owner)
                                .values(lease_expires=lease_until, updated_at=at))
        return bool(res.rowcount == 1)

    def claimable(self, real_now: datetime, limit: int = 10) -> list[str]:
        """In-progress operations nobody holds a live lease on (their process died or never started)."""
        self.tx.sync(operations)
        c = operations.c
        q = (sa.select(c.id).where(c.status == "InProgress",
                                   sa.or_(c.lease_owner.is_(None), c.lease_expires < real_now))
             .order_by(c.created_real_at).limit(limit))
        if self.conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        return [r.id for r in self.conn.execute(q)]
