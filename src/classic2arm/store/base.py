"""What every repository of the store shares: the chunk size of bulk statements and the store's errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

CHUNK = 2000  # rows per executemany; keeps PostgreSQL parameter lists and SQLite memory in bounds

# What one ARM resource (type, document) counts against regional quotas; given by the layer above.
UsageFn = Callable[[str, dict[str, Any]], dict[str, int]]


class Conflict(Exception):
    """Optimistic-concurrency failure: the row changed (or vanished) since it was read."""


class NotFound(KeyError):
    pass


class Unavailable(Exception):
    """The database cannot serve at all (not ours, opened read-only for a write, its file gone…): the reason is
    the message, for an entry point to show as it is."""


def dicts(result: sa.CursorResult[Any]) -> list[dict[str, Any]]:
    """A result's rows as dicts. The column names are taken once: each row's own mapping view costs ~20 µs."""
    names = list(result.keys())
    return [dict(zip(names, r, strict=True)) for r in result]
