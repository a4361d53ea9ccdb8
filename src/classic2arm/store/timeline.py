"""`tx.timeline`: the data-plane timeline (when each VM went down and came back up, and why)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .base import CHUNK, dicts
from .schema import vm_timeline

if TYPE_CHECKING:
    from .repository import Tx


class TimelineRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.conn = tx.conn

    def add(self, entries: Sequence[dict[str, Any]]) -> None:
        if self.tx.write_behind:
            self.tx.defer(vm_timeline, entries)
            return
        self.tx.sync(vm_timeline)
        for i in range(0, len(entries), CHUNK):
            self.conn.execute(vm_timeline.insert(), list(entries[i:i + CHUNK]))

    def all(self, subscription_id: str | None = None, operation_id: str | None = None,
            vm_key: str | None = None) -> list[dict[str, Any]]:
        self.tx.sync(vm_timeline)
        q = sa.select(vm_timeline).order_by(vm_timeline.c.seq)
        if subscription_id is not None:
            q = q.where(vm_timeline.c.subscription_id == subscription_id)
        if operation_id is not None:
            q = q.where(vm_timeline.c.operation_id == operation_id)
        if vm_key is not None:
            q = q.where(vm_timeline.c.vm_key == vm_key.lower())
        return dicts(self.conn.execute(q))

    def of_vms(self, subscription_id: str, vm_keys: Sequence[str]) -> list[dict[str, Any]]:
        """The entries of these VMs, in order (a few queries for a VNet's hundreds of VMs, not one each)."""
        self.tx.sync(vm_timeline)
        keys = sorted({k.lower() for k in vm_keys})
        out: list[dict[str, Any]] = []
        for i in range(0, len(keys), CHUNK):
            q = (sa.select(vm_timeline).where(vm_timeline.c.subscription_id == subscription_id,
                                              vm_timeline.c.vm_key.in_(keys[i:i + CHUNK])))
            out += dicts(self.conn.execute(q))
        return sorted(out, key=lambda e: e["seq"])
