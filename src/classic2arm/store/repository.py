"""The store: resources as documents with indexed columns, bulk writes, optimistic concurrency and an
append-only event log. Every write goes through a `Tx` (one database transaction)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from . import migrate
from .schema import arm_usage, credentials, events, meta, operations, resources, subscriptions, units, vm_timeline

CHUNK = 2000  # rows per executemany; keeps PostgreSQL parameter lists and SQLite memory in bounds

# What one ARM resource (type, document) counts against regional quotas; given by the layer above.
UsageFn = Callable[[str, dict[str, Any]], dict[str, int]]


class Conflict(Exception):
    """Optimistic-concurrency failure: the row changed (or vanished) since it was read."""


class NotFound(KeyError):
    pass


@dataclass(slots=True)
class Row:
    """One stored resource: index columns + its JSON document."""

    id: str
    subscription_id: str
    model: str  # classic | arm
    type: str
    name: str
    doc: dict[str, Any]
    parent_key: str | None = None
    resource_group: str | None = None
    location: str | None = None
    status: str | None = None
    migration_state: str | None = None
    lock_holder: str | None = None
    arm_id: str | None = None
    version: int = 1
    key: str = field(default="")

    def __post_init__(self) -> None:
        if not self.key:
            self.key = self.id.lower()

    def to_db(self) -> dict[str, Any]:
        return {
            "key": self.key, "id": self.id, "subscription_id": self.subscription_id, "model": self.model,
            "type": self.type, "type_lc": self.type.lower(), "name": self.name, "name_lc": self.name.lower(),
            "parent_key": self.parent_key.lower() if self.parent_key else None,
            "resource_group_lc": (self.resource_group or "").lower() or None,
            "location": self.location, "status": self.status, "migration_state": self.migration_state,
            "lock_holder": self.lock_holder, "arm_key": self.arm_id.lower() if self.arm_id else None,
            "version": self.version, "doc": self.doc,
        }


# The document is read as text and parsed in `_row` (SQLAlchemy's JSON result processor costs a Python call
# per row on top of the parse); PostgreSQL's driver hands JSONB back already parsed.
_COLS = [resources.c.key, resources.c.id, resources.c.subscription_id, resources.c.model, resources.c.type,
         resources.c.name, sa.type_coerce(resources.c.doc, sa.Text).label("doc"), resources.c.parent_key,
         resources.c.resource_group_lc, resources.c.location, resources.c.status, resources.c.migration_state,
         resources.c.lock_holder, resources.c.arm_key, resources.c.version]


# Statements built once, their IN lists bound as one expanding parameter: building `key.in_([...])` per call
# coerced every value on its own (≈2 µs each), for ~40,000 keys in a 10,000-VM prepare or commit.
_KEYS: sa.BindParameter[Any] = sa.bindparam("keys", expanding=True)
_GET_MANY = sa.select(*_COLS).where(resources.c.key.in_(_KEYS))
_LOG_INFO = sa.select(resources.c.key, resources.c.subscription_id, resources.c.type, resources.c.version,
                      resources.c.model).where(resources.c.key.in_(_KEYS))
_ARM_GONE = sa.select(*_COLS).where(resources.c.key.in_(_KEYS), resources.c.model == "arm")
_DELETE = sa.delete(resources).where(resources.c.key.in_(_KEYS))
_CHILD_KEYS = sa.select(resources.c.key).where(resources.c.parent_key.in_(_KEYS),
                                               resources.c.type_lc == sa.bindparam("t"))
_UPDATE_DOC = (sa.update(resources).where(resources.c.key == sa.bindparam("b_key"))
               .values(doc=sa.bindparam("b_doc"), status=sa.bindparam("b_status"),
                       version=sa.bindparam("b_version")))


_DOC_SLOT: Any = Row.__dict__["doc"]  # the slot `doc` is kept in; `TextRow.doc` (a property) stands in front of it


class TextRow(Row):
    """A stored resource whose document is parsed on first use; until then `text` holds it as stored, and a
    reader that turns it straight into a model (`model_validate_json`) never builds the dict at all. For the
    10,000 VM documents of a large subscription: 0.17 s from text to models, against 0.31 s through dicts."""

    __slots__ = ("_text",)
    _text: str | None

    @property  # (in front of Row's slot: reads parse, writes replace)
    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] | None = _DOC_SLOT.__get__(self, Row)
        if doc is None:
            doc = orjson.loads(self._text or "{}")
            _DOC_SLOT.__set__(self, doc)
            self._text = None
        return doc

    @doc.setter
    def doc(self, value: dict[str, Any]) -> None:
        _DOC_SLOT.__set__(self, value)
        self._text = None

    @property
    def text(self) -> str | None:
        """The document as stored, while it has not been parsed."""
        return self._text

    def __eq__(self, other: object) -> bool:  # equal to a plain Row with the same fields (documents parsed)
        if not isinstance(other, Row):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Row))

    __hash__ = None  # type: ignore[assignment]  # (mutable, as Row)


def _text_row(r: Any) -> Row:
    """`_row`, leaving a document that came back as text (SQLite) unparsed until used (`TextRow`)."""
    key, id_, sub, model, rtype, name, doc, parent, rg, location, status, state, holder, arm_key, version = r
    if isinstance(doc, dict):
        return _row(r)
    row = TextRow(id_, sub, model, rtype, name, None, parent, rg, location, status, state,  # type: ignore[arg-type]
                  holder, arm_key, version, key)
    row._text = doc
    return row


def _row(r: Any) -> Row:
    """A stored resource from a row of `_COLS` (by position: attribute look-ups cost more, ×40,000 rows)."""
    key, id_, sub, model, rtype, name, doc, parent, rg, location, status, state, holder, arm_key, version = r
    return Row(id=id_, subscription_id=sub, model=model, type=rtype, name=name,
               doc=doc if isinstance(doc, dict) else orjson.loads(doc), parent_key=parent, resource_group=rg,
               location=location, status=status, migration_state=state, lock_holder=holder, arm_id=arm_key,
               version=version, key=key)


def _dicts(result: sa.CursorResult[Any]) -> list[dict[str, Any]]:
    """A result's rows as dicts. The column names are taken once: each row's own mapping view costs ~20 µs."""
    names = list(result.keys())
    return [dict(zip(names, r, strict=True)) for r in result]


def _json_dumps(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def _json_loads(value: Any) -> Any:
    """SQLite gives a JSON column holding a bare number back as that number (numeric affinity)."""
    return value if isinstance(value, (int, float)) else orjson.loads(value)


WRITER_CACHE_KIB = 262_144


def _sqlite_begin(conn: Connection) -> None:
    if not conn.get_execution_options().get("sqlite_write"):
        conn.exec_driver_sql("BEGIN")
        return
    # A connection that writes gets a page cache of up to 256 MiB (SQLite takes it only as pages are touched): a
    # bulk prepare or commit looks rows up all over the table, and with a cache much smaller than a 10,000-VM
    # database every lookup missed — the time per unit grew with the estate. One writer at a time, and the pool
    # hands out the most recently used connection, so few connections ever hold a large cache.
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not conn.connection.info.get("writer_cache"):
        dbapi.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        conn.connection.info["writer_cache"] = True
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # autocommit at the driver level; BEGIN is ours (see make_engine)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}
    if url.startswith("sqlite"):
        # As many pooled connections as a server has worker threads, so busy periods don't reopen (and
        # re-PRAGMA) connections.
        engine = sa.create_engine(url, pool_size=40, max_overflow=20, pool_use_lifo=True, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling breaks SAVEPOINTs and begins lazily; take control of BEGIN:
        # writers take the write lock up front (BEGIN IMMEDIATE) so two writers never deadlock upgrading.
        sa.event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
    return engine


@functools.cache
def _set_columns(names: tuple[str, ...]) -> sa.Update:
    """UPDATE of the given index columns (bound by name) and a version bump, for the rows whose keys are bound."""
    return (sa.update(resources).where(resources.c.key.in_(_KEYS))
            .values(version=resources.c.version + 1, **{n: sa.bindparam(f"v_{n}") for n in names}))


class Store:
    """A database holding both control planes. `Store.open(url)` creates or upgrades the schema."""

    def __init__(self, engine: Engine, usage: UsageFn | None = None) -> None:
        self.engine = engine
        self.usage = usage

    @classmethod
    def open(cls, url: str, upgrade: bool = True, usage: UsageFn | None = None) -> Store:
        engine = make_engine(url)
        if upgrade and migrate.current_revision(engine) != migrate.HEAD:
            migrate.upgrade(engine)
        return cls(engine, usage)

    @contextmanager
    def tx(self, now: datetime | None = None) -> Iterator[Tx]:
        with self.engine.connect().execution_options(sqlite_write=True) as conn, conn.begin():
            tx = Tx(conn, now, self.usage)
            yield tx
            tx.flush()  # buffered event-log rows and usage deltas go in with the same commit

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.engine.connect() as conn:
            yield Tx(conn, None, self.usage)

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass
class _Savepoint:
    marks: dict[sa.Table, int]  # pending rows per table when it began
    usage: dict[tuple[str, str, str], int]  # usage deltas when it began
    writes: int  # `Tx.writes` when it began
    written: dict[sa.Table, list[dict[str, Any]]] = field(default_factory=dict)  # see Tx._sync


class Tx:
    """Repository bound to one transaction. Writes also append to the event log."""

    def __init__(self, conn: Connection, now: datetime | None, usage: UsageFn | None = None) -> None:
        self.conn = conn
        self.now = now or datetime.now(UTC)
        self.operation_id: str | None = None
        self.usage = usage
        # Rows to insert, per table, written together later (`_sync`): the event log always (many units per
        # transaction would otherwise pay a statement per write for it); resources, operations, units and the
        # timeline too while `write_behind` is on. Anything that reads or changes a table syncs it first, so
        # the transaction always sees its own writes.
        self._pending: dict[sa.Table, list[dict[str, Any]]] = {}
        self._pending_keys: set[str] = set()  # resource keys among the pending rows
        self.write_behind = False
        self._savepoints: list[_Savepoint] = []
        self._usage_deltas: dict[tuple[str, str, str], int] = {}
        # Stored usage totals read in this transaction. This transaction's own changes are in _usage_deltas
        # until flushed; anyone else's can't change what a SQLite writer sees, and on PostgreSQL a quota check
        # races concurrent writers whether it reads once or every time.
        self._usage_read: dict[tuple[str, str], dict[str, int]] = {}
        self.writes = 0  # resource rows written (created, changed or deleted) so far: one event-log entry each

    def _defer(self, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        self._pending.setdefault(table, []).extend(rows)

    def _sync(self, table: sa.Table) -> None:
        """Write the table's pending rows (statements grouped by the columns each row gives)."""
        rows = self._pending.get(table)
        if not rows:
            return
        for sp in self._savepoints:  # rows deferred before a savepoint are written inside it: keep them to restore
            sp.written.setdefault(table, rows[:sp.marks.get(table, 0)])
        self._pending[table] = []
        if table is resources:
            self._pending_keys.clear()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
        for group in groups.values():
            for i in range(0, len(group), CHUNK):
                self.conn.execute(table.insert(), group[i:i + CHUNK])

    def _sync_resources(self, keys: Iterable[str] | None = None) -> None:
        """Before reading resources: write pending ones (only if one of `keys` is among them, when given)."""
        if self._pending_keys and (keys is None or not self._pending_keys.isdisjoint(keys)):
            self._sync(resources)

    def flush(self) -> None:
        for table in list(self._pending):
            self._sync(table)
        c = arm_usage.c
        for (sub, loc, kind), n in self._usage_deltas.items():
            if n == 0:
                continue
            res = self.conn.execute(sa.update(arm_usage)
                                    .where(c.subscription_id == sub, c.location == loc, c.kind == kind)
                                    .values(value=c.value + n))
            if res.rowcount == 0:
                self.conn.execute(arm_usage.insert().values(subscription_id=sub, location=loc, kind=kind, value=n))
        self._usage_deltas.clear()
        self._usage_read.clear()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction. Rolled back (by an exception), it also drops what was deferred or counted
        inside it, and defers again what was deferred before it but written inside it."""
        sp = _Savepoint({t: len(rows) for t, rows in self._pending.items()}, dict(self._usage_deltas), self.writes)
        nested = self.conn.begin_nested()
        self._savepoints.append(sp)
        try:
            yield
        except BaseException:
            nested.rollback()
            for table in set(self._pending) | set(sp.written):
                kept = sp.written.get(table, self._pending.get(table, [])[:sp.marks.get(table, 0)])
                self._pending[table] = list(kept)
            self._pending_keys = {r["key"] for r in self._pending.get(resources, [])}
            self._usage_deltas = sp.usage
            self._usage_read.clear()
            self.writes = sp.writes
            raise
        else:
            nested.commit()
        finally:
            self._savepoints.pop()

    # ------------------------------------------------------------------ quota usage of ARM rows
    def _count_usage(self, rows: Iterable[Row], sign: int) -> None:
        """Keep the per-region usage totals in step with ARM rows written or removed (same transaction)."""
        if self.usage is None:
            return
        deltas = self._usage_deltas
        for r in rows:
            if r.model != "arm":
                continue
            for kind, n in self.usage(r.type, r.doc).items():
                key = (r.subscription_id, r.location or "", kind)
                deltas[key] = deltas.get(key, 0) + sign * n

    def usage_in(self, subscription_id: str, location: str) -> dict[str, int]:
        stored = self._usage_read.get((subscription_id, location))
        if stored is None:
            c = arm_usage.c
            q = sa.select(c.kind, c.value).where(c.subscription_id == subscription_id, c.location == location)
            stored = {r.kind: int(r.value) for r in self.conn.execute(q)}
            self._usage_read[(subscription_id, location)] = stored
        out = dict(stored)
        for (sub, loc, kind), n in self._usage_deltas.items():  # not yet flushed in this transaction
            if sub == subscription_id and loc == location:
                out[kind] = out.get(kind, 0) + n
        return out

    def usage_everywhere(self, subscription_id: str) -> dict[str, dict[str, int]]:
        """`usage_in` of every location the subscription uses anything in, read in one statement."""
        c = arm_usage.c
        q = sa.select(c.location, c.kind, c.value).where(c.subscription_id == subscription_id)
        read: dict[str, dict[str, int]] = {}
        for r in self.conn.execute(q):
            read.setdefault(r.location, {})[r.kind] = int(r.value)
        for location, stored in read.items():
            self._usage_read[(subscription_id, location)] = stored
        locations = set(read) | {loc for sub, loc, _ in self._usage_deltas if sub == subscription_id}
        return {location: self.usage_in(subscription_id, location) for location in sorted(locations)}

    # ------------------------------------------------------------------ reads
    def get(self, key: str) -> Row | None:
        self._sync_resources([key.lower()])
        r = self.conn.execute(sa.select(*_COLS).where(resources.c.key == key.lower())).first()
        return _row(r) if r else None

    def get_many(self, keys: Iterable[str]) -> dict[str, Row]:
        out: dict[str, Row] = {}
        klist = [k.lower() for k in keys]
        self._sync_resources(klist)
        for i in range(0, len(klist), CHUNK):
            for r in self.conn.execute(_GET_MANY, {"keys": klist[i:i + CHUNK]}):
                out[r.key] = _row(r)
        return out

    def get_by_arm_id(self, arm_id: str) -> Row | None:
        self._sync_resources()
        r = self.conn.execute(sa.select(*_COLS).where(resources.c.arm_key == arm_id.lower())).first()
        return _row(r) if r else None

    def query(self, subscription_id: str | None = None, *, model: str | None = None,
              types: Sequence[str] | None = None, name: str | None = None, parent_key: str | None = None,
              resource_group: str | None = None, migration_state: str | None = None,
              lock_holder: str | None = None, key_prefix: str | None = None,
              limit: int | None = None, after_key: str | None = None,
              parent_keys: Sequence[str] | None = None, location: str | None = None,
              names: Sequence[str] | None = None, text_docs: bool = False, ordered: bool = True) -> list[Row]:
        """Rows by any mix of filters, in key order unless not `ordered` (sorting a whole subscription's rows by
        key costs SQLite a walk of the key index and a lookup per row). `text_docs`: documents parsed only when
        first used (`TextRow`), for a reader that builds most of them straight into models."""
        self._sync_resources()
        q = sa.select(*_COLS)
        c = resources.c
        if subscription_id is not None:
            q = q.where(c.subscription_id == subscription_id)
        if model is not None:
            q = q.where(c.model == model)
        if types:
            q = q.where(c.type_lc.in_([t.lower() for t in types]))
        if name is not None:
            q = q.where(c.name_lc == name.lower())
        if parent_key is not None:
            q = q.where(c.parent_key == parent_key.lower())
        if parent_keys is not None:
            return self._query_in(q, c.parent_key, [k.lower() for k in parent_keys], text_docs)
        if names is not None:
            return self._query_in(q, c.name_lc, [n.lower() for n in names], text_docs)
        if location is not None:
            q = q.where(c.location == location)
        if resource_group is not None:
            q = q.where(c.resource_group_lc == resource_group.lower())
        if migration_state is not None:
            q = q.where(c.migration_state == migration_state)
        if lock_holder is not None:
            q = q.where(c.lock_holder == lock_holder)
        if key_prefix is not None:
            prefix = key_prefix.lower()
            q = q.where(c.key >= prefix).where(c.key < prefix + "\uffff")
        if after_key is not None:
            q = q.where(c.key > after_key)
        if ordered:
            q = q.order_by(c.key)
        if limit is not None:
            q = q.limit(limit)
        make = _text_row if text_docs else _row
        return [make(r) for r in self.conn.execute(q)]

    def project(self, subscription_id: str, types: Sequence[str], fields: Sequence[str]) -> list[dict[str, Any]]:
        """Index columns plus a few document fields extracted by the database (no JSON parsing in Python):
        the fast path for listings over tens of thousands of rows."""
        self._sync_resources()
        c = resources.c
        cols = [c.key, c.id, c.type, c.name, c.parent_key, c.location, c.status, c.migration_state, c.arm_key,
                c.subscription_id]
        extra = [c.doc[f].as_string().label(f"doc_{f}") for f in fields]
        q = (sa.select(*cols, *extra).where(c.subscription_id == subscription_id)
             .where(c.type_lc.in_([t.lower() for t in types])).order_by(c.key))
        return _dicts(self.conn.execute(q))

    def count_grouped(self, subscription_id: str, model: str, location: str,
                      fields: Sequence[str]) -> list[tuple[Any, ...]]:
        """(type, *document fields, count) grouped in the database — for quota usage without loading rows."""
        self._sync_resources()
        c = resources.c
        extra = [c.doc[tuple(f.split("."))].as_string() if "." in f else c.doc[f].as_string() for f in fields]
        q = (sa.select(c.type, *extra, sa.func.count()).where(c.subscription_id == subscription_id)
             .where(c.model == model).where(c.location == location).group_by(c.type, *extra))
        return [tuple(r) for r in self.conn.execute(q)]

    def _query_in(self, q: Any, column: Any, values: list[str], text_docs: bool = False) -> list[Row]:
        make = _text_row if text_docs else _row
        out: list[Row] = []
        for i in range(0, len(values), CHUNK):
            out.extend(make(r) for r in self.conn.execute(q.where(column.in_(values[i:i + CHUNK]))))
        out.sort(key=lambda r: r.key)
        return out

    def keys(self, *, lock_holder: str, model: str | None = None) -> list[str]:
        self._sync_resources()
        q = sa.select(resources.c.key).where(resources.c.lock_holder == lock_holder)
        if model is not None:
            q = q.where(resources.c.model == model)
        return [r.key for r in self.conn.execute(q.order_by(resources.c.key))]

    def child_keys(self, parent_keys: Sequence[str], rtype: str) -> list[str]:
        """Keys of the rows of one type under these parents (keys only: no documents read)."""
        self._sync_resources()
        parents = [k.lower() for k in parent_keys]
        out: list[str] = []
        for i in range(0, len(parents), CHUNK):
            out += [r.key for r in self.conn.execute(_CHILD_KEYS, {"keys": parents[i:i + CHUNK], "t": rtype.lower()})]
        return sorted(out)

    def count(self, subscription_id: str | None = None, *, model: str | None = None,
              types: Sequence[str] | None = None) -> int:
        self._sync_resources()
        q = sa.select(sa.func.count()).select_from(resources)
        if subscription_id is not None:
            q = q.where(resources.c.subscription_id == subscription_id)
        if model is not None:
            q = q.where(resources.c.model == model)
        if types:
            q = q.where(resources.c.type_lc.in_([t.lower() for t in types]))
        return int(self.conn.execute(q).scalar_one())

    # ------------------------------------------------------------------ writes
    def _log(self, rows: Sequence[Row], action: str, version_delta: int = 0) -> None:
        """Event-log entries for rows written (`version_delta`: how far the write moved their versions)."""
        if not rows:
            return
        self.writes += len(rows)
        at, op = self.now, self.operation_id
        self._defer(events, [{"at": at, "subscription_id": r.subscription_id, "resource_key": r.key,
                              "type": r.type, "action": action, "version": r.version + version_delta,
                              "operation_id": op} for r in rows])

    def insert(self, rows: Sequence[Row]) -> None:
        """Bulk insert of new resources (fails on an existing key: use `upsert` for retries)."""
        payload = [r.to_db() for r in rows]
        if self.write_behind:
            self._defer(resources, payload)
            self._pending_keys.update(r["key"] for r in payload)
        else:
            self._sync_resources()
            for i in range(0, len(payload), CHUNK):
                self.conn.execute(resources.insert(), payload[i:i + CHUNK])
        self._log(rows, "create")
        self._count_usage(rows, +1)

    def upsert(self, rows: Sequence[Row]) -> None:
        """Insert or replace by key, bumping the version of replaced rows. Makes retried steps idempotent."""
        existing = self.get_many(r.key for r in rows)
        fresh = [r for r in rows if r.key not in existing]
        changed = []
        for r in rows:
            old = existing.get(r.key)
            if old is not None:
                changed.append(replace(r, version=old.version + 1))
        self.insert(fresh)
        self._count_usage([existing[r.key] for r in changed], -1)
        self.replace_all(changed)
        self._count_usage(changed, +1)

    def replace_all(self, rows: Sequence[Row]) -> None:
        """Overwrite rows by key (versions as given). Used for bulk state changes inside operations."""
        self._sync_resources([r.key for r in rows])
        if not rows:
            return
        c = resources.c
        stmt = (sa.update(resources).where(c.key == sa.bindparam("b_key"))
                .values({col: sa.bindparam(f"b_{col}") for col in
                         ("id", "model", "type", "type_lc", "name", "name_lc", "parent_key", "resource_group_lc",
                          "location", "status", "migration_state", "lock_holder", "arm_key", "version", "doc")}))
        payload = [{f"b_{k}": v for k, v in r.to_db().items() if k != "subscription_id"} for r in rows]
        for i in range(0, len(payload), CHUNK):
            self.conn.execute(stmt, payload[i:i + CHUNK])
        self._log(rows, "update")

    def update_documents(self, rows: Sequence[Row]) -> None:
        """Write back rows whose document, status and version alone changed (a classic VM's power state, say):
        no indexed column is touched, so the database updates no index. Not for ARM rows (quota usage)."""
        self._sync_resources([r.key for r in rows])
        for i in range(0, len(rows), CHUNK):
            self.conn.execute(_UPDATE_DOC, [{"b_key": r.key, "b_doc": r.doc, "b_status": r.status,
                                             "b_version": r.version} for r in rows[i:i + CHUNK]])
        self._log(rows, "update")

    def update(self, row: Row) -> Row:
        """Write back a row read earlier; fails with Conflict if someone else changed it meanwhile."""
        self._sync_resources([row.key])
        new = replace(row, version=row.version + 1)
        data = new.to_db()
        del data["key"]
        old = self.get(row.key) if row.model == "arm" and self.usage is not None else None
        res = self.conn.execute(sa.update(resources)
                                .where(resources.c.key == row.key, resources.c.version == row.version)
                                .values(**data))
        if res.rowcount != 1:
            raise Conflict(f"{row.id} was changed by someone else (expected version {row.version})")
        if old is not None:
            self._count_usage([old], -1)
            self._count_usage([new], +1)
        self._log([new], "update")
        return new

    def set_columns(self, keys: Sequence[str], rows: Sequence[Row] | None = None, **values: Any) -> int:
        """Bulk change of index columns only (e.g. lock holder, migration state) with a version bump.
        `rows`: the same rows as read in this transaction, so the event log needn't read them again."""
        self._sync_resources([k.lower() for k in keys])
        if not keys:
            return 0
        total = 0
        klist = [k.lower() for k in keys]
        for i in range(0, len(klist), CHUNK):
            part = klist[i:i + CHUNK]
            res = self.conn.execute(_set_columns(tuple(sorted(values))),
                                    {"keys": part, **{f"v_{n}": v for n, v in values.items()}})
            total += res.rowcount
        if rows is not None and len(rows) == total:
            self._log(rows, "update", version_delta=1)
        else:
            self._log_keys(klist, "update")
        return total

    def _log_keys(self, keys: Sequence[str], action: str) -> None:
        self._sync_resources()
        for i in range(0, len(keys), CHUNK):
            part = keys[i:i + CHUNK]
            rows = self.conn.execute(_LOG_INFO, {"keys": part})
            self._log([Row(id=r.key, subscription_id=r.subscription_id, model="", type=r.type, name="", doc={},
                           version=r.version) for r in rows], action)

    def delete(self, keys: Sequence[str]) -> int:
        self._sync_resources([k.lower() for k in keys])
        klist = [k.lower() for k in keys]
        total = 0
        for i in range(0, len(klist), CHUNK):
            part = klist[i:i + CHUNK]
            gone = list(self.conn.execute(_LOG_INFO, {"keys": part}))
            if self.usage is not None and any(r.model == "arm" for r in gone):  # (their documents say what they used)
                self._count_usage([_row(r) for r in self.conn.execute(_ARM_GONE, {"keys": part})], -1)
            self.conn.execute(_DELETE, {"keys": part})
            self._log([Row(id=r.key, subscription_id=r.subscription_id, model="", type=r.type, name="", doc={},
                           version=r.version + 1) for r in gone], "delete")
            total += len(gone)
        return total

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load. SQLite has none until told (and then picks the
        parent/lock indexes over the subscription index); PostgreSQL's autovacuum keeps its own."""
        self._sync_resources()
        if self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql("ANALYZE")

    def delete_all(self, subscription_id: str | None = None) -> None:
        self._sync_resources()
        c = resources.c
        gone = sa.select(c.key, c.subscription_id, c.type, c.version)
        if subscription_id is not None:
            gone = gone.where(c.subscription_id == subscription_id)
        self._log([Row(id=r.key, subscription_id=r.subscription_id, model="", type=r.type, name="", doc={},
                       version=r.version) for r in self.conn.execute(gone)], "delete", version_delta=1)
        q = sa.delete(resources)
        u = sa.delete(arm_usage)
        if subscription_id is not None:
            q = q.where(resources.c.subscription_id == subscription_id)
            u = u.where(arm_usage.c.subscription_id == subscription_id)
        self.conn.execute(q)
        self.conn.execute(u)
        self._usage_deltas.clear()

    # ------------------------------------------------------------------ subscriptions and meta
    def get_subscription(self, sub_id: str) -> dict[str, Any] | None:
        r = self.conn.execute(sa.select(subscriptions.c.doc).where(subscriptions.c.id == sub_id)).first()
        if r is None:
            return None
        doc = r.doc
        return doc if isinstance(doc, dict) else dict(orjson.loads(doc))

    def list_subscriptions(self) -> list[dict[str, Any]]:
        return [r.doc for r in self.conn.execute(sa.select(subscriptions.c.doc).order_by(subscriptions.c.id))]

    def put_subscription(self, doc: dict[str, Any]) -> None:
        sub_id = doc["id"]
        res = self.conn.execute(sa.update(subscriptions).where(subscriptions.c.id == sub_id)
                                .values(doc=doc, version=subscriptions.c.version + 1))
        if res.rowcount == 0:
            self.conn.execute(subscriptions.insert().values(id=sub_id, doc=doc, version=1))

    def get_meta(self, key: str) -> Any:
        r = self.conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).first()
        return None if r is None else r.value

    def set_meta(self, key: str, value: Any) -> None:
        res = self.conn.execute(sa.update(meta).where(meta.c.key == key).values(value=value))
        if res.rowcount == 0:
            self.conn.execute(meta.insert().values(key=key, value=value))

    def events_for(self, key: str) -> list[dict[str, Any]]:
        self.flush()
        q = sa.select(events).where(events.c.resource_key == key.lower()).order_by(events.c.seq)
        return _dicts(self.conn.execute(q))

    def last_event_seq(self) -> int:
        self._sync(events)
        return int(self.conn.execute(sa.select(sa.func.max(events.c.seq))).scalar_one() or 0)

    def events_after(self, subscription_id: str, seq: int) -> list[tuple[int, str, str, str]]:
        """(seq, resource key, type, action) of the subscription's events after `seq`, in order."""
        self._sync(events)
        c = events.c
        q = (sa.select(c.seq, c.resource_key, c.type, c.action)
             .where(c.seq > seq, c.subscription_id == subscription_id).order_by(c.seq))
        return [(r.seq, r.resource_key, r.type, r.action) for r in self.conn.execute(q)]

    def event_count(self) -> int:
        self.flush()
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())

    # ------------------------------------------------------------------ migration units
    def get_unit(self, unit_id: str, for_update: bool = False) -> dict[str, Any] | None:
        self._sync(units)
        q = sa.select(units).where(units.c.id == unit_id)
        if for_update and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        r = self.conn.execute(q).first()
        return dict(r._mapping) if r else None

    def get_units(self, unit_ids: Iterable[str], for_update: bool = False) -> dict[str, dict[str, Any]]:
        """Several unit records at once (on PostgreSQL locked for the rest of the transaction if asked)."""
        self._sync(units)
        out: dict[str, dict[str, Any]] = {}
        id_list = sorted(unit_ids)  # a fixed order: two transactions locking overlapping sets can't deadlock
        for i in range(0, len(id_list), CHUNK):
            q = sa.select(units).where(units.c.id.in_(id_list[i:i + CHUNK])).order_by(units.c.id)
            if for_update and self.conn.dialect.name == "postgresql":
                q = q.with_for_update()
            out.update((d["id"], d) for d in _dicts(self.conn.execute(q)))
        return out

    def put_unit(self, unit: dict[str, Any], exists: bool | None = None) -> None:
        """Insert or update a unit record; `exists` (when the caller knows) saves the other statement."""
        values = {**unit, "updated_at": self.now}
        if exists is False and self.write_behind:
            self._defer(units, [values])
            return
        self._sync(units)
        if exists is not False:
            res = self.conn.execute(sa.update(units).where(units.c.id == unit["id"]).values(**values))
            if res.rowcount == 1 or exists:
                return
        self.conn.execute(units.insert().values(**values))

    def list_units(self, subscription_id: str | None = None) -> list[dict[str, Any]]:
        self._sync(units)
        q = sa.select(units).order_by(units.c.kind, units.c.name)
        if subscription_id is not None:
            q = q.where(units.c.subscription_id == subscription_id)
        return _dicts(self.conn.execute(q))

    # ------------------------------------------------------------------ durable operations
    def insert_operation(self, op: dict[str, Any]) -> None:
        values = {"created_at": self.now, "updated_at": self.now, **op}
        if self.write_behind:
            self._defer(operations, [values])
        else:
            self._sync(operations)
            self.conn.execute(operations.insert().values(**values))

    def insert_operations(self, ops: Sequence[dict[str, Any]]) -> None:
        self._sync(operations)
        payload = [{"created_at": self.now, "updated_at": self.now, "http_status": None, "error_code": None,
                    "error_message": None, "progress": None, **op} for op in ops]
        for i in range(0, len(payload), CHUNK):
            self.conn.execute(operations.insert(), payload[i:i + CHUNK])

    def get_operation(self, op_id: str) -> dict[str, Any] | None:
        self._sync(operations)
        r = self.conn.execute(sa.select(operations).where(operations.c.id == op_id)).first()
        return dict(r._mapping) if r else None

    def get_operations(self, op_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        self._sync(operations)
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(op_ids), CHUNK):
            q = sa.select(operations).where(operations.c.id.in_(op_ids[i:i + CHUNK]))
            out.update((d["id"], d) for d in _dicts(self.conn.execute(q)))
        return out

    def update_operation(self, op_id: str, **values: Any) -> None:
        self._sync(operations)
        self.conn.execute(sa.update(operations).where(operations.c.id == op_id)
                          .values(updated_at=datetime.now(UTC), **values))

    def list_operations(self, subscription_id: str | None = None, status: str | None = None,
                        unit_key: str | None = None) -> list[dict[str, Any]]:
        self._sync(operations)
        q = sa.select(operations).order_by(operations.c.created_at, operations.c.id)
        if subscription_id is not None:
            q = q.where(operations.c.subscription_id == subscription_id)
        if status is not None:
            q = q.where(operations.c.status == status)
        if unit_key is not None:
            q = q.where(operations.c.unit_key == unit_key)
        return _dicts(self.conn.execute(q))

    def claim_operation(self, op_id: str, owner: str, lease_until: datetime, real_now: datetime) -> bool:
        """Take (or renew) the lease of an in-progress operation; False when a live owner holds it."""
        self._sync(operations)
        c = operations.c
        res = self.conn.execute(
            sa.update(operations)
            .where(c.id == op_id, c.status == "InProgress",
                   sa.or_(c.lease_owner.is_(None), c.lease_owner == owner, c.lease_expires < real_now))
            .values(lease_owner=owner, lease_expires=lease_until, attempts=c.attempts + 1, updated_at=real_now))
        return bool(res.rowcount == 1)

    def claimable_operations(self, real_now: datetime, limit: int = 10) -> list[str]:
        """In-progress operations nobody holds a live lease on (their process died or never started)."""
        self._sync(operations)
        c = operations.c
        q = (sa.select(c.id).where(c.status == "InProgress",
                                   sa.or_(c.lease_owner.is_(None), c.lease_expires < real_now))
             .order_by(c.created_at).limit(limit))
        if self.conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        return [r.id for r in self.conn.execute(q)]

    # ------------------------------------------------------------------ data-plane timeline
    def add_timeline(self, entries: Sequence[dict[str, Any]]) -> None:
        if self.write_behind:
            self._defer(vm_timeline, entries)
            return
        self._sync(vm_timeline)
        for i in range(0, len(entries), CHUNK):
            self.conn.execute(vm_timeline.insert(), list(entries[i:i + CHUNK]))

    def timeline(self, subscription_id: str | None = None, operation_id: str | None = None,
                 vm_key: str | None = None) -> list[dict[str, Any]]:
        self._sync(vm_timeline)
        q = sa.select(vm_timeline).order_by(vm_timeline.c.seq)
        if subscription_id is not None:
            q = q.where(vm_timeline.c.subscription_id == subscription_id)
        if operation_id is not None:
            q = q.where(vm_timeline.c.operation_id == operation_id)
        if vm_key is not None:
            q = q.where(vm_timeline.c.vm_key == vm_key.lower())
        return _dicts(self.conn.execute(q))

    # ------------------------------------------------------------------ credentials
    def add_credential(self, cred_id: str, subscription_id: str, kind: str, expires_at: datetime | None,
                       description: str = "") -> None:
        self.conn.execute(credentials.insert().values(id=cred_id, subscription_id=subscription_id, kind=kind,
                                                      created_at=self.now, expires_at=expires_at,
                                                      description=description))

    def get_credential(self, cred_id: str) -> dict[str, Any] | None:
        r = self.conn.execute(sa.select(credentials).where(credentials.c.id == cred_id)).first()
        return dict(r._mapping) if r else None
