"""Running real KQL over Resource Graph tables, with duckdb-kql (KQL → SQL) on an in-memory DuckDB.

Each query gets its own DuckDB connection holding only the caller's rows; external access (files, URLs),
extension loading and spilling to disk are switched off before the query runs, and it is translated with
writes refused. What a query may do is
decided on duckdb-kql's own parse (its ANTLR lexer for the first word, its IR for everything else), never
on the text: only the `resources` and `resourcecontainers` tables are sources (no `range`, `datatable`,
`print`, `toscalar`, graphs, other databases), with Resource Graph's limits on `join` and `union`.

Bounds on evaluation: at most `MAX_CONCURRENT` queries a process, each on one thread under DuckDB's
`memory_limit`, cancelled (`interrupt()`) by a timer after `TIMEOUT_SECONDS`; `strrep` repeats at most
1024 times (Kusto's documented cap) and no more than `MAX_CELL_BYTES`. Bounds on the result: `MAX_ROWS`
rows, `MAX_CELLS` cells, no cell over `MAX_CELL_BYTES` and `MAX_RESULT_BYTES` in all. A query that
breaks a bound is a `LimitExceeded`; anything the translator cannot do a `QueryError` (both HTTP 400).
Not bounded by `memory_limit`: the values one chunk of rows holds mid-pipeline (DuckDB allocates them
outside its buffer manager), so a chain of `extend`s doubling a string grows them until the check at the end.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import duckdb
import duckdb_kql
import orjson
from antlr4 import InputStream, Token
from duckdb_kql import ir
from duckdb_kql._antlr.KqlLexer import KqlLexer
from duckdb_kql.lower import lower

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
_TABLES: Final = frozenset({"resources", "resourcecontainers"})
# Sources Resource Graph does not offer (some build unbounded data: `range` materialises a list outside
# DuckDB's memory limit), by IR node.
_REFUSED_SOURCES: Final[dict[type, str]] = {
    ir.RangeSource: "range", ir.DataTable: "datatable", ir.PrintSource: "print", ir.ToScalar: "toscalar",
    ir.CommandSource: "control commands", ir.WildcardTableRef: "wildcard table names",
    ir.GraphSource: "graph operators",
}
MAX_JOINS: Final = 3  # Resource Graph: "Limit of 3 join in a single query"
MAX_UNION_LEGS: Final = 3  # and "Limit of 3 union legs in a single query"
MAX_QUERY_CHARS: Final = 20_000
MAX_ROWS: Final = 100_000
MAX_CELLS: Final = 1_000_000
MAX_CELL_BYTES: Final = 1 << 20
MAX_RESULT_BYTES: Final = 16 * 1024 * 1024  # Resource Graph's response payload limit
MAX_STRREP: Final = 1024
TIMEOUT_SECONDS: Final = 10.0
MEMORY_LIMIT: Final = "512MB"
MAX_CONCURRENT: Final = 2  # queries evaluated at once in a process: what bounds their memory together
_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT)
_FETCH_BATCH: Final = 256
_CELL_TOO_LARGE: Final = "classic2arm: cell too large"


class QueryError(Exception):
    """The query can't be run: bad syntax, unsupported construct, unknown column, runtime type error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LimitExceeded(QueryError):
    """The query is valid but breaks a bound: `code` is Resource Graph's detail code for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Busy(QueryError):
    """Every evaluation slot stayed taken for the whole time limit."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # Resource Graph column type: string, integer, number, boolean, object, datetime, timespan


@dataclass(frozen=True, slots=True)
class Result:
    columns: list[Column]
    rows: list[list[Any]]
    truncated: bool


def _first_token(query: str) -> Token | None:
    """The query's first token as KQL lexes it (comments and whitespace skipped)."""
    lexer = KqlLexer(InputStream(query))
    lexer.removeErrorListeners()
    token = lexer.nextToken()
    while token.type != Token.EOF and token.channel != Token.DEFAULT_CHANNEL:
        token = lexer.nextToken()
    return None if token.type == Token.EOF else token


def normalise(query: str) -> str:
    """Resource Graph accepts a query that starts with an operator (the table is then `resources`); any
    other start must be one of its tables."""
    token = _first_token(query)
    first = str(token.text).lower() if token is not None else ""
    if first == ".":
        raise QueryError("Control commands are not supported by Resource Graph.")
    if first in _TABULAR_OPERATORS:
        return "resources | " + query
    if first not in _TABLES:
        check(query)  # names what is refused (`range …`, `print …`), if that is what it is
        raise QueryError("A query must start with a table (resources, resourcecontainers) or an operator.")
    return query


def _nodes(root: ir.Node) -> Iterator[ir.Node]:
    """Every IR node under `root` (subqueries, join and union legs, `let` values and expressions)."""
    stack: list[Any] = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, ir.Node):
            yield value
            if dataclasses.is_dataclass(value):
                stack.extend(getattr(value, f.name) for f in dataclasses.fields(value))
        elif isinstance(value, list | tuple):
            stack.extend(value)


def check(text: str) -> None:
    """Refuse what Resource Graph does not run, from duckdb-kql's IR of the query (never from its text)."""
    try:
        tree = lower(text)
    except duckdb_kql.KqlUnsupportedError as exc:
        raise QueryError(f"A construct of this query is not supported here: {exc}") from None
    except duckdb_kql.KqlError as exc:
        raise QueryError(str(exc)) from None
    except RecursionError:
        raise QueryError("The query is nested too deeply.") from None
    joins = legs = 0
    for node in _nodes(tree):
        refused = next((name for kind, name in _REFUSED_SOURCES.items() if isinstance(node, kind)), None)
        if refused is not None:
            raise QueryError(f"'{refused}' is not supported by Resource Graph queries.")
        if isinstance(node, ir.TableRef) and (node.name.lower() not in _TABLES or node.database is not None
                                              or node.cluster is not None):
            raise QueryError(f"'{node.name}' is not supported by Resource Graph queries: the tables are "
                             "resources and resourcecontainers.")
        joins += isinstance(node, ir.Join | ir.Lookup)
        legs += len(node.branches) if isinstance(node, ir.Union) else 0
    if joins > MAX_JOINS:
        raise QueryError(f"A query may have at most {MAX_JOINS} join or lookup operators.")
    if legs > MAX_UNION_LEGS:
        raise QueryError(f"A query may have at most {MAX_UNION_LEGS} union legs.")


def _load(con: duckdb.DuckDBPyConnection, tables: dict[str, list[dict[str, Any]]]) -> None:
    select = ", ".join(f"r->>'{n}' AS \"{n}\"" if t == "VARCHAR" else f"r->'{n}' AS \"{n}\"" for n, t in COLUMNS)
    cols = ", ".join(f'"{n}" {t}' for n, t in COLUMNS)
    for name, rows in tables.items():
        con.execute(f'CREATE TABLE "{name}" ({cols})')
        if rows:
            docs = [orjson.dumps({n: row.get(n) for n, _ in COLUMNS}).decode() for row in rows]
            con.execute(f'INSERT INTO "{name}" SELECT {select} FROM (SELECT unnest(CAST(? AS JSON[])) AS r)',
                        [docs])
    for setting in ("SET temp_directory = ''", "SET enable_external_access = false",
                    "SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false",
                    f"SET memory_limit = '{MEMORY_LIMIT}'", "SET threads = 1",
                    # KQL's strrep (translated to repeat) repeats at most 1024 times, and no cell gets larger
                    # than the result could hold: checked before anything is allocated
                    f"CREATE TEMP MACRO repeat(s, n) AS CASE WHEN strlen(s) * least(n, {MAX_STRREP}) > "
                    f"{MAX_CELL_BYTES} THEN error('{_CELL_TOO_LARGE}') "
                    f"ELSE system.main.repeat(s, least(n, {MAX_STRREP})) END"):
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


def _guarded(rel: duckdb.DuckDBPyRelation, kinds: list[str]) -> duckdb.DuckDBPyRelation:
    """The result with every text, JSON or nested cell checked against `MAX_CELL_BYTES` in DuckDB, before
    Python holds a copy of it."""
    if not any(k in ("VARCHAR", "JSON", "BLOB") or k.endswith("]") or k.startswith(("STRUCT", "MAP"))
               for k in kinds):
        return rel
    cols = []
    for name, kind in zip(rel.columns, kinds, strict=True):
        quoted = '"' + name.replace('"', '""') + '"'
        if kind == "VARCHAR":
            size = f"strlen({quoted})"
        elif kind == "BLOB":
            size = f"octet_length({quoted})"
        elif kind == "JSON" or kind.endswith("]") or kind.startswith(("STRUCT", "MAP")):
            size = f"strlen(CAST({quoted} AS VARCHAR))"
        else:
            cols.append(quoted)
            continue
        cols.append(f"CASE WHEN {size} > {MAX_CELL_BYTES} THEN error('{_CELL_TOO_LARGE}') "
                    f"ELSE {quoted} END AS {quoted}")
    return rel.project(", ".join(cols))


def _size(v: Any) -> int:
    """A cell's size as the response will carry it, near enough to bound the payload."""
    if isinstance(v, str | bytes):
        return len(v) + 2
    if isinstance(v, list | tuple):
        return sum(_size(x) + 1 for x in v) + 2
    if isinstance(v, dict):
        return sum(len(str(k)) + _size(x) + 4 for k, x in v.items()) + 2
    return 8


def _too_large(size: int) -> LimitExceeded:
    return LimitExceeded("ResponsePayloadTooLarge", f"Response payload size is more than {size}, and has "
                         f"exceeded the limit of {MAX_RESULT_BYTES}. Please consider querying less data at a "
                         "time and make paginated call if needed.")


def _fetch(con: duckdb.DuckDBPyConnection, rel: duckdb.DuckDBPyRelation, limit: int) -> list[tuple[Any, ...]]:
    """Up to `limit` rows, streamed, refusing the result once it holds more than `MAX_RESULT_BYTES`."""
    rows: list[tuple[Any, ...]] = []
    total = 0
    con.execute(rel.limit(limit).sql_query())
    while len(rows) < limit:
        batch = con.fetchmany(min(_FETCH_BATCH, limit - len(rows)))
        if not batch:
            break
        total += sum(_size(v) for row in batch for v in row)
        if total > MAX_RESULT_BYTES:
            raise _too_large(total)
        rows.extend(batch)
    return rows


def _interrupt(con: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):  # the query may have finished and the connection closed meanwhile
        con.interrupt()


def run(tables: dict[str, list[dict[str, Any]]], query: str, timeout: float = TIMEOUT_SECONDS) -> Result:
    """Evaluate `query` over `tables` (name → rows with the COLUMNS keys)."""
    if not query.strip():
        raise QueryError("The query is empty.")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    text = normalise(query)
    check(text)
    if not _SLOTS.acquire(timeout=timeout):
        raise Busy("Too many Resource Graph queries are running; retry later.")
    try:
        return _evaluate(tables, text, timeout)
    finally:
        _SLOTS.release()


def _evaluate(tables: dict[str, list[dict[str, Any]]], text: str, timeout: float) -> Result:
    con = duckdb_kql.connect()
    timer = threading.Timer(timeout, _interrupt, args=(con,))
    try:
        _load(con, tables)
        timer.start()
        try:
            rel = duckdb_kql.query(con, text, allow_write=False)
            desc = rel.description or []
            kinds = [str(d[1]) for d in desc]
            limit = min(MAX_ROWS, MAX_CELLS // max(1, len(kinds)))
            fetched = _fetch(con, _guarded(rel, kinds), limit + 1)
        except duckdb_kql.KqlError as exc:
            raise QueryError(str(exc)) from None
        except duckdb.InterruptException:
            raise LimitExceeded("QueryTimeout", f"The query ran for more than {timeout:g} seconds.") from None
        except duckdb.OutOfMemoryException:
            raise LimitExceeded("QueryMemoryLimitExceeded", f"The query needed more than {MEMORY_LIMIT} of "
                                "memory.") from None
        except duckdb.InvalidInputException as exc:
            if _CELL_TOO_LARGE in str(exc):
                raise LimitExceeded("ResponsePayloadTooLarge", f"A value of the result is larger than "
                                    f"{MAX_CELL_BYTES} bytes, the limit for one value.") from None
            raise QueryError(str(exc).splitlines()[0]) from None
        except (duckdb.Error, RecursionError, ValueError, TypeError, OverflowError) as exc:
            raise QueryError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    finally:
        timer.cancel()
        con.close()
    columns = [Column(str(d[0]), _column_type(k)) for d, k in zip(desc, kinds, strict=True)]
    is_json = [k == "JSON" for k in kinds]
    rows = [[_value(v, j) for v, j in zip(r, is_json, strict=True)] for r in fetched[:limit]]
    return Result(columns, rows, len(fetched) > limit)
