"""Persistence: schema, Alembic migrations, the repositories and the event log (SQLite | PostgreSQL)."""

from .base import Conflict, Unavailable
from .operations import OperationRecord
from .repository import Store, Tx
from .resources import Row, TextRow
from .units import UnitRecord

__all__ = ["Conflict", "OperationRecord", "Row", "Store", "TextRow", "Tx", "Unavailable", "UnitRecord"]
