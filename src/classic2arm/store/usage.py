"""`tx.usage`: per-region quota usage of ARM rows, kept as running totals (`arm_usage`) in step with every ARM
row the transaction writes or removes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa

from .base import UsageFn
from .schema import arm_usage

if TYPE_CHECKING:
    from .repository import Tx
    from .resources import Row


class UsageRepo:
    def __init__(self, tx: Tx, fn: UsageFn | None) -> None:
        self.conn = tx.conn
        self.fn = fn  # what one ARM resource counts (given by the service); None: usage isn't kept
        self.deltas: dict[tuple[str, str, str], int] = {}  # (subscription, location, kind) → change, unflushed
        # Stored totals read in this transaction. This transaction's own changes are in `deltas` until flushed;
        # anyone else's can't change what a SQLite writer sees, and on PostgreSQL a quota check races concurrent
        # writers whether it reads once or every time.
        self.read: dict[tuple[str, str], dict[str, int]] = {}

    def count(self, rows: Iterable[Row], sign: int) -> None:
        """Count ARM rows written (+1) or removed (-1)."""
        if self.fn is None:
            return
        deltas = self.deltas
        for r in rows:
            if r.model != "arm":
                continue
            for kind, n in self.fn(r.type, r.doc).items():
                key = (r.subscription_id, r.location or "", kind)
                deltas[key] = deltas.get(key, 0) + sign * n

    def flush(self) -> None:
        c = arm_usage.c
        for (sub, loc, kind), n in self.deltas.items():
            if n == 0:
                continue
            res = self.conn.execute(sa.update(arm_usage)
                                    .where(c.subscription_id == sub, c.location == loc, c.kind == kind)
                                    .values(value=c.value + n))
            if res.rowcount == 0:
                self.conn.execute(arm_usage.insert().values(subscription_id=sub, location=loc, kind=kind, value=n))
        self.deltas.clear()
        self.read.clear()

    def in_location(self, subscription_id: str, location: str) -> dict[str, int]:
        stored = self.read.get((subscription_id, location))
        if stored is None:
            c = arm_usage.c
            q = sa.select(c.kind, c.value).where(c.subscription_id == subscription_id, c.location == location)
            stored = {r.kind: int(r.value) for r in self.conn.execute(q)}
            self.read[(subscription_id, location)] = stored
        out = dict(stored)
        for (sub, loc, kind), n in self.deltas.items():  # not yet flushed in this transaction
            if sub == subscription_id and loc == location:
                out[kind] = out.get(kind, 0) + n
        return out

    def everywhere(self, subscription_id: str) -> dict[str, dict[str, int]]:
        """`in_location` of every location the subscription uses anything in, read in one statement."""
        c = arm_usage.c
        q = sa.select(c.location, c.kind, c.value).where(c.subscription_id == subscription_id)
        read: dict[str, dict[str, int]] = {}
        for r in self.conn.execute(q):
            read.setdefault(r.location, {})[r.kind] = int(r.value)
        for location, stored in read.items():
            self.read[(subscription_id, location)] = stored
        locations = set(read) | {loc for sub, loc, _ in self.deltas if sub == subscription_id}
        return {location: self.in_location(subscription_id, location) for location in sorted(locations)}
