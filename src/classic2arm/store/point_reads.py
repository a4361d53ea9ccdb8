"""One-row reads by key on the driver's own cursor, for the reads every API request makes (its token, then the
resource it addresses).

Through SQLAlchemy's execution such a read cost several times the statement itself (events, the execution
context, the result object: bench/RESULTS.md, "ARM GET VM vs moto"). Here the statement is still SQLAlchemy's —
compiled once per dialect, its columns converted by their own types' result processors — and only the execution
is the driver's. Errors are raised as SQLAlchemy's own, and when the database dropped the connection the pool
is replaced, as SQLAlchemy does it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

_Processor = Callable[[Any], Any] | None


@functools.cache
def _compiled(stmt: sa.Select[Any], dialect: Dialect) -> tuple[str, tuple[str, ...], tuple[_Processor, ...]]:
    """The statement's SQL for `dialect`, its positional parameters' names in order (none for a dialect that
    binds by name), each column's result processor."""
    compiled = stmt.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ()) if dialect.positional else ()
    processors = tuple(col.type.dialect_impl(dialect).result_processor(dialect, None)
                       for col in stmt.selected_columns)
    return str(compiled), names, processors


def first_row(conn: Connection, stmt: sa.Select[Any], params: Mapping[str, Any]) -> Sequence[Any] | None:
    """The first row of `stmt` (a select built once, with bound parameters) as a tuple, or None."""
    dialect = conn.dialect
    sql, names, processors = _compiled(stmt, dialect)
    if not conn.in_transaction():
        conn.begin()  # what SQLAlchemy's own execution would begin (on SQLite our BEGIN: repository.make_engine)
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    bound: Any = [params[n] for n in names] if dialect.positional else dict(params)
    try:
        found = dbapi.execute(sql, bound).fetchone()
    except dialect.loaded_dbapi.Error as exc:
        gone = dialect.is_disconnect(exc, dbapi, None)
        if gone:  # the database restarted or dropped us: every pooled connection is as dead as this one
            conn.invalidate(exc)
            conn.engine.dispose(close=False)
        raise sa.exc.DBAPIError.instance(sql, bound, exc, dialect.loaded_dbapi.Error,
                                         connection_invalidated=gone) from exc
    if found is None:
        return None
    return tuple(v if p is None or v is None else p(v) for v, p in zip(found, processors, strict=True))
