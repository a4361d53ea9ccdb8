"""Running real KQL over Resource Graph tables, with duckdb-kql (KQL → SQL) on an in-memory DuckDB.

Each query gets its own DuckDB connection holding only the caller's rows; external access (files, URLs)
is switched off and locked before the query runs, memory is capped and a timer interrupts runaway
queries. Anything the translator cannot do becomes a `QueryError` (HTTP 400 `InvalidQuery`).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import duckdb
import duckdb_kql
import orjson

# Resource Graph's columns (resources and resourcecontainers share them); dynamic ones are JSON.
COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("id", "VARCHAR"), ("name", "VARCHAR"), ("type", "VARCHAR"), ("tenantId", "VARCHAR"), ("kind", "VARCHAR"),
    ("location", "VARCHAR"), ("resourceGroup", "VARCHAR"), ("subscriptionId", "VARCHAR"),
    ("managedBy", "VARCHAR"), ("sku", "JSON"), ("plan", "JSON"), ("properties", "JSON"), ("tags", "JSON"),
    ("identity", "JSON"), ("zones", "JSON"), ("extendedLocation", "JSON"),
)
# A query may start with an operator; Resource Graph then reads the `resources` table.
_TABULAR_OPERATORS: Final = frozenset({
    "where", "project", "project-away", "project-keep", "project-rename", "project-reorder", "extend",
    "summarize", "count", "order", "sort", "take", "limit", "top", "distinct", "mv-expand", "parse", "join",
    "union", "sample", "as", "filter", "serialize",
})
_FIRST_WORD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_-]*)")
_TABLES: Final = frozenset({"resources", "resourcecontainers"})
# Sources Resource Graph does not offer, some of which build unbounded data (`range` materialises a list
# outside DuckDB's memory limit): refused before translation. String literals are blanked first.
_FORBIDDEN: Final = re.compile(r"\b(range|datatable|externaldata|external_data|print|evaluate|materialize|"
                               r"toscalar)\b", re.IGNORECASE)
_STRINGS: Final = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
MAX_QUERY_CHARS: Final = 20_000
MAX_ROWS: Final = 100_000
TIMEOUT_SECONDS: Final = 10.0


class QueryError(Exception):
    """The query can't be run: bad syntax, unsupported construct, unknown column, runtime type error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # Resource Graph column type: string, integer, number, boolean, object, datetime, timespan


@dataclass(frozen=True, slots=True)
class Result:
    columns: list[Column]
    rows: list[list[Any]]
    truncated: bool


def normalise(query: str) -> str:
    """Resource Graph accepts a query that starts with an operator (the table is then `resources`); any
    other start must be one of its tables."""
    bare = _STRINGS.sub("''", query)
    bad = _FORBIDDEN.search(bare)
    if bad:
        raise QueryError(f"'{bad.group(1)}' is not supported by Resource Graph queries.")
    m = _FIRST_WORD.match(query)
    first = m.group(1).lower() if m else ""
    if first in _TABULAR_OPERATORS:
        return "resources | " + query.lstrip()
    if first not in _TABLES:
        raise QueryError("A query must start with a table (resources, resourcecontainers) or an operator.")
    return query


def _load(con: duckdb.DuckDBPyConnection, tables: dict[str, list[dict[str, Any]]]) -> None:
    select = ", ".join(f"r->>'{n}' AS \"{n}\"" if t == "VARCHAR" else f"r->'{n}' AS \"{n}\"" for n, t in COLUMNS)
    cols = ", ".join(f'"{n}" {t}' for n, t in COLUMNS)
    for name, rows in tables.items():
        con.execute(f'CREATE TABLE "{name}" ({cols})')
        if rows:
            docs = [orjson.dumps({n: row.get(n) for n, _ in COLUMNS}).decode() for row in rows]
            con.execute(f'INSERT INTO "{name}" SELECT {select} FROM (SELECT unnest(CAST(? AS JSON[])) AS r)',
                        [docs])
    for setting in ("SET enable_external_access = false", "SET autoinstall_known_extensions = false",
                    "SET autoload_known_extensions = false", "SET memory_limit = '512MB'", "SET threads = 2"):
        con.execute(setting)


_TYPES: Final = {"VARCHAR": "string", "BIGINT": "integer", "INTEGER": "integer", "HUGEINT": "integer",
                 "SMALLINT": "integer", "TINYINT": "integer", "UBIGINT": "integer", "DOUBLE": "number",
                 "FLOAT": "number", "BOOLEAN": "boolean", "JSON": "object", "TIMESTAMP": "datetime",
                 "TIMESTAMP WITH TIME ZONE": "datetime", "DATE": "datetime", "INTERVAL": "timespan",
                 "UUID": "string"}


def _column_type(duck_type: str) -> str:
    if duck_type.startswith("DECIMAL"):
        return "number"
    if duck_type.endswith("[]") or duck_type.startswith(("STRUCT", "MAP")):
        return "object"
    return _TYPES.get(duck_type, "string")


def _value(v: Any, is_json: bool) -> Any:
    if v is None:
        return None
    if is_json and isinstance(v, str):
        try:
            return orjson.loads(v)
        except orjson.JSONDecodeError:
            return v
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).isoformat().replace("+00:00", "Z")
    if isinstance(v, dt.date):
        return v.isoformat() + "T00:00:00Z"
    if isinstance(v, dt.timedelta):
        return str(v)
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, list):
        return [_value(x, False) for x in v]
    if isinstance(v, dict):
        return {str(k): _value(x, False) for k, x in v.items()}
    return v


def run(tables: dict[str, list[dict[str, Any]]], query: str, timeout: float = TIMEOUT_SECONDS) -> Result:
    """Evaluate `query` over `tables` (name → rows with the COLUMNS keys)."""
    if not query.strip():
        raise QueryError("The query is empty.")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    if query.lstrip().startswith("."):
        raise QueryError("Control commands are not supported by Resource Graph.")
    text = normalise(query)
    con = duckdb_kql.connect()
    timer = threading.Timer(timeout, con.interrupt)
    try:
        _load(con, tables)
        timer.start()
        try:
            rel = duckdb_kql.query(con, text)
            desc = rel.description or []
            fetched = rel.limit(MAX_ROWS + 1).fetchall()
        except duckdb_kql.KqlError as exc:
            raise QueryError(str(exc)) from None
        except duckdb.InterruptException:
            raise QueryError(f"The query ran for more than {timeout:g} seconds.") from None
        except (duckdb.Error, RecursionError, ValueError, TypeError, OverflowError) as exc:
            raise QueryError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    finally:
        timer.cancel()
        con.close()
    kinds = [str(d[1]) for d in desc]
    columns = [Column(str(d[0]), _column_type(k)) for d, k in zip(desc, kinds, strict=True)]
    is_json = [k == "JSON" for k in kinds]
    rows = [[_value(v, j) for v, j in zip(r, is_json, strict=True)] for r in fetched[:MAX_ROWS]]
    return Result(columns, rows, len(fetched) > MAX_ROWS)
