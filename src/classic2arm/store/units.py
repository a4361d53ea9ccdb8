"""`tx.units`: migration units (a VNet, a deployment, a storage account, …) and where each one stands."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .base import CHUNK
from .schema import units

if TYPE_CHECKING:
    from .repository import Tx


@dataclass(slots=True)
class UnitRecord:
    """One row of `units`."""

    id: str  # stable hash of the subscription and the unit's root
    subscription_id: str
    kind: str
    root_key: str
    name: str
    service: str | None = None
    state: str | None = None
    operation_id: str | None = None  # the operation currently or last acting on the unit
    commit_attempted: bool = False
    doc: dict[str, Any] = field(default_factory=dict)  # destination, power states before prepare, …
    updated_at: datetime | None = None

    def values(self, now: datetime) -> dict[str, Any]:
        return {"id": self.id, "subscription_id": self.subscription_id, "kind": self.kind,
                "root_key": self.root_key, "name": self.name, "service": self.service, "state": self.state,
                "operation_id": self.operation_id, "commit_attempted": self.commit_attempted, "doc": self.doc,
                "updated_at": now}


_NAMES = [c.name for c in units.columns]

# The first key of the advisory locks on unit ids (the second is the id's hash). Two-key advisory locks never
# clash with one-key ones such as the schema upgrade's.
_UNIT_LOCK_SPACE = 0x756E_6974
_LOCK_ID = sa.text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), hashtext(CAST(:id AS text)))")


def _unit(r: Any) -> UnitRecord:
    return UnitRecord(**dict(zip(_NAMES, r, strict=True)))


class UnitRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.conn = tx.conn

    def get(self, unit_id: str, for_update: bool = False) -> UnitRecord | None:
        """A unit record; `for_update`: locked (even while absent) until the transaction ends, so that what is
        decided from it stays true."""
        self.tx.sync(units)
        q = sa.select(units).where(units.c.id == unit_id)
        if for_update and self.conn.dialect.name == "postgresql":
            # A row lock can't serialise those deciding about a unit that has no row yet: two first prepares
            # through two servers both read nothing and both insert it (a unique violation). This lock exists
            # before the row does, and whoever waited for it then reads the row its holder committed. (SQLite
            # needs none: BEGIN IMMEDIATE already makes writers take turns.)
            self.conn.execute(_LOCK_ID, {"space": _UNIT_LOCK_SPACE, "id": unit_id})
            q = q.with_for_update()
        r = self.conn.execute(q).first()
        return _unit(r) if r else None

    def get_many(self, unit_ids: Iterable[str], for_update: bool = False) -> dict[str, UnitRecord]:
        """Several unit records at once (on PostgreSQL the rows found locked for the rest of the transaction if
        asked; unlike `get`, absent ids are not: a batch may start thousands of units, more advisory locks than
        PostgreSQL's lock table holds)."""
        self.tx.sync(units)
        out: dict[str, UnitRecord] = {}
        id_list = sorted(unit_ids)  # a fixed order: two transactions locking overlapping sets can't deadlock
        for i in range(0, len(id_list), CHUNK):
            q = sa.select(units).where(units.c.id.in_(id_list[i:i + CHUNK])).order_by(units.c.id)
            if for_update and self.conn.dialect.name == "postgresql":
                q = q.with_for_update()
            out.update((u.id, u) for u in map(_unit, self.conn.execute(q)))
        return out

    def put(self, unit: UnitRecord, exists: bool | None = None) -> None:
        """Insert or update a unit record; `exists` (when the caller knows) saves the other statement."""
        values = unit.values(self.tx.now)
        if exists is False and self.tx.write_behind:
            self.tx.defer(units, [values])
            return
        self.tx.sync(units)
        if exists is not False:
            res = self.conn.execute(sa.update(units).where(units.c.id == unit.id).values(**values))
            if res.rowcount == 1 or exists:
                return
        self.conn.execute(units.insert().values(**values))

    def all(self, subscription_id: str | None = None) -> list[UnitRecord]:
        self.tx.sync(units)
        q = sa.select(units).order_by(units.c.kind, units.c.name)
        if subscription_id is not None:
            q = q.where(units.c.subscription_id == subscription_id)
        return [_unit(r) for r in self.conn.execute(q)]
