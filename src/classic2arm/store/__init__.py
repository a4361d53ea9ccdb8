"""Persistence: schema, Alembic migrations, the repository and the event log (SQLite | PostgreSQL)."""

from .repository import Conflict, Row, Store, TextRow, Tx

__all__ = ["Conflict", "Row", "Store", "TextRow", "Tx"]
