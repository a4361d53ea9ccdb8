"""`tx.events`: the append-only event log (one entry per resource row created, changed or deleted), read in
`seq` order as a change feed. Entries are buffered by the transaction and written in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .base import dicts
from .schema import events

if TYPE_CHECKING:
    from .repository import Tx
    from .resources import Row


class EventRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.conn = tx.conn

    def log(self, rows: Sequence[Row], action: str, version_delta: int = 0) -> None:
        """Event-log entries for rows written (`version_delta`: how far the write moved their versions)."""
        if not rows:
            return
        tx = self.tx
        tx.writes += len(rows)
        at, op = tx.now, tx.operation_id
        tx.defer(events, [{"at": at, "subscription_id": r.subscription_id, "resource_key": r.key,
                           "type": r.type, "action": action, "version": r.version + version_delta,
                           "operation_id": op} for r in rows])

    def for_resource(self, key: str) -> list[dict[str, Any]]:
        self.tx.flush()
        q = sa.select(events).where(events.c.resource_key == key.lower()).order_by(events.c.seq)
        return dicts(self.conn.execute(q))

    def last_seq(self) -> int:
        self.tx.sync(events)
        return int(self.conn.execute(sa.select(sa.func.max(events.c.seq))).scalar_one() or 0)

    def after(self, subscription_id: str, seq: int) -> list[tuple[int, str, str, str]]:
        """(seq, resource key, type, action) of the subscription's events after `seq`, in order."""
        self.tx.sync(events)
        c = events.c
        q = (sa.select(c.seq, c.resource_key, c.type, c.action)
             .where(c.seq > seq, c.subscription_id == subscription_id).order_by(c.seq))
        return [(r.seq, r.resource_key, r.type, r.action) for r in self.conn.execute(q)]

    def count(self) -> int:
        self.tx.flush()
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())
