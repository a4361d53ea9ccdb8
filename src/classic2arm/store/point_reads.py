"""One-row reads by key on the driver's own cursor, for the reads every API request makes (its token, then the
resource it addresses).

Through SQLAlchemy's execution such a read cost several times the statement itself on SQLite (events, the
execution context, the result object: bench/RESULTS.md, "ARM GET VM vs moto"). Here the statement is still
SQLAlchemy's — compiled once per dialect, its columns converted by their own types' result processors — and only
the execution is the driver's. Used on SQLite only: on PostgreSQL SQLAlchemy's handling of a dropped connection
(invalidating it, so the pool replaces it) matters more than the microseconds.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

_Processor = Callable[[Any], Any] | None


@functools.cache
def _compiled(stmt: sa.Select[Any], dialect: Dialect) -> tuple[str, tuple[str, ...], tuple[_Processor, ...]]:
    """The statement's SQL for `dialect`, its bind parameters' names in order, each column's result processor."""
    compiled = stmt.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    processors = tuple(col.type.dialect_impl(dialect).result_processor(dialect, None) for col in stmt.selected_columns)
    return str(compiled), names, processors


def first_row(conn: Connection, stmt: sa.Select[Any], params: Mapping[str, Any]) -> Sequence[Any] | None:
    """The first row of `stmt` (a select built once, with bound parameters) as a tuple, or None."""
    if conn.dialect.name != "sqlite":
        row = conn.execute(stmt, dict(params)).first()
        return tuple(row) if row is not None else None
    sql, names, processors = _compiled(stmt, conn.dialect)
    if not conn.in_transaction():
        conn.begin()  # the read transaction SQLAlchemy would begin (our BEGIN, see repository.make_engine)
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    try:
        found = dbapi.execute(sql, [params[n] for n in names]).fetchone()
    except sqlite3.Error as exc:  # raised as SQLAlchemy's own, as every other statement's errors are
        raise sa.exc.DBAPIError.instance(sql, None, exc, sqlite3.Error) from exc
    if found is None:
        return None
    return tuple(v if p is None or v is None else p(v) for v, p in zip(found, processors, strict=True))
