"""Persistence: schema, Alembic migrations, the repository and the event log (SQLite | PostgreSQL)."""

from .repository import Conflict, Row, Store, Tx

__all__ = ["Conflict", "Row", "Store", "Tx"]
