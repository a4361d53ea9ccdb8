"""`tx.credentials`: API tokens (by hash) and management certificates (by thumbprint) a subscription accepts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .point_reads import first_row
from .schema import credentials

if TYPE_CHECKING:
    from .repository import Tx

_GET = sa.select(credentials).where(credentials.c.id == sa.bindparam("id"))  # every request: built once
_GET_NAMES = tuple(_GET.selected_columns.keys())


class CredentialRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.conn = tx.conn

    def add(self, cred_id: str, subscription_id: str, kind: str, expires_at: datetime | None,
            description: str = "") -> None:
        self.conn.execute(credentials.insert().values(id=cred_id, subscription_id=subscription_id, kind=kind,
                                                      created_at=self.tx.now, expires_at=expires_at,
                                                      description=description))

    def get(self, cred_id: str) -> dict[str, Any] | None:
        r = first_row(self.conn, _GET, {"id": cred_id})
        return dict(zip(_GET_NAMES, r, strict=True)) if r else None
