"""`tx.subscriptions` (subscription documents) and `tx.meta` (store-wide settings such as the world clock)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from .schema import meta, subscriptions

if TYPE_CHECKING:
    from .repository import Tx


class SubscriptionRepo:
    def __init__(self, tx: Tx) -> None:
        self.conn = tx.conn

    def get(self, sub_id: str) -> dict[str, Any] | None:
        r = self.conn.execute(sa.select(subscriptions.c.doc).where(subscriptions.c.id == sub_id)).first()
        if r is None:
            return None
        doc = r.doc
        return doc if isinstance(doc, dict) else dict(orjson.loads(doc))

    def all(self) -> list[dict[str, Any]]:
        return [r.doc for r in self.conn.execute(sa.select(subscriptions.c.doc).order_by(subscriptions.c.id))]

    def put(self, doc: dict[str, Any]) -> None:
        sub_id = doc["id"]
        res = self.conn.execute(sa.update(subscriptions).where(subscriptions.c.id == sub_id)
                                .values(doc=doc, version=subscriptions.c.version + 1))
        if res.rowcount == 0:
            self.conn.execute(subscriptions.insert().values(id=sub_id, doc=doc, version=1))


class MetaRepo:
    def __init__(self, tx: Tx) -> None:
        self.conn = tx.conn

    def get(self, key: str) -> Any:
        r = self.conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).first()
        return None if r is None else r.value

    def set(self, key: str, value: Any) -> None:
        res = self.conn.execute(sa.update(meta).where(meta.c.key == key).values(value=value))
        if res.rowcount == 0:
            self.conn.execute(meta.insert().values(key=key, value=value))
