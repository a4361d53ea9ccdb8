"""Persistence: schema, Alembic migrations, the repositories and the event log (SQLite | PostgreSQL).

The names below are loaded on first use, not when the package is: `store.quick` (the settings reader of
`clock show`) must be importable without SQLAlchemy, which every other module here imports."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Conflict, Unavailable
    from .operations import OperationRecord
    from .repository import Store, Tx
    from .resources import Row, TextRow
    from .units import UnitRecord

_HOMES = {"Conflict": "base", "Unavailable": "base", "OperationRecord": "operations", "Store": "repository",
          "Tx": "repository", "Row": "resources", "TextRow": "resources", "UnitRecord": "units"}

__all__ = ["Conflict", "OperationRecord", "Row", "Store", "TextRow", "Tx", "Unavailable", "UnitRecord"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # once
    return value
