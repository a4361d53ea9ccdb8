"""The store: one database holding both control planes. A `Tx` is one transaction; it reaches each table
through a repository of its own, all over the transaction's connection: `tx.resources`, `tx.units`,
`tx.operations`, `tx.events`, `tx.usage`, `tx.timeline`, `tx.credentials`, `tx.subscriptions`, `tx.meta`."""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import QueuePool

from . import migrate
from .base import CHUNK, Conflict, NotFound, Unavailable, UsageFn
from .credentials import CredentialRepo
from .events import EventRepo
from .operations import OperationRecord, OperationRepo
from .resources import ResourceRepo, Row, TextRow
from .schema import resources
from .subscriptions import MetaRepo, SubscriptionRepo
from .timeline import TimelineRepo
from .units import UnitRecord, UnitRepo
from .usage import UsageRepo

__all__ = ["CHUNK", "Conflict", "NotFound", "OperationRecord", "Row", "Store", "TextRow", "Tx", "Unavailable",
           "UnitRecord", "UsageFn", "make_engine", "parse_url", "sqlite_path"]


def _json_dumps(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def _json_loads(value: Any) -> Any:
    """SQLite gives a JSON column holding a bare number back as that number (numeric affinity)."""
    return value if isinstance(value, (int, float)) else orjson.loads(value)


WRITER_CACHE_KIB = 262_144


def _sqlite_begin(conn: Connection) -> None:
    if not conn.get_execution_options().get("sqlite_write"):
        _driver_execute(conn, "BEGIN")
        return
    # A connection that writes gets a page cache of up to 256 MiB (SQLite takes it only as pages are touched): a
    # bulk prepare or commit looks rows up all over the table, and with a cache much smaller than a 10,000-VM
    # database every lookup missed — the time per unit grew with the estate. One writer at a time, and the pool
    # hands out the most recently used connection, so few connections ever hold a large cache.
    if not conn.connection.info.get("writer_cache"):
        _driver_execute(conn, f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        conn.connection.info["writer_cache"] = True
    _driver_execute(conn, "BEGIN IMMEDIATE")


def _driver_execute(conn: Connection, sql: str) -> None:
    """A statement straight on the driver's connection (for BEGIN: through `exec_driver_sql` it was a whole
    SQLAlchemy statement execution on every transaction, a one-row read included), its errors raised as
    SQLAlchemy's own, as every other statement's are."""
    import sqlite3

    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    try:
        dbapi.execute(sql)
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, None, exc, sqlite3.Error) from exc


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, read_only: bool = False) -> None:
    dbapi_conn.isolation_level = None  # autocommit at the driver level; BEGIN is ours (see make_engine)
    cur = dbapi_conn.cursor()
    if not read_only:  # (changing the journal mode is a write)
        cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


_SUPPORTED = "give sqlite:///PATH or postgresql://USER@HOST/DATABASE"
# What pysqlite takes from a URL's query itself; anything else (mode=ro, immutable=1, cache…) is for SQLite's
# URI filename, which SQLAlchemy passes on only with uri=true (and otherwise drops, with a warning).
_PYSQLITE_ARGS = {"uri", "timeout", "isolation_level", "detect_types", "check_same_thread", "cached_statements"}


def parse_url(url: str) -> URL:
    """The URL of a database the store can live in, or Unavailable saying why not (also for the driver-less
    in-memory SQLite: each pooled connection would get a database of its own, all lost at exit)."""
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise Unavailable(f"'{url}' is not a database URL: {_SUPPORTED}") from None
    if "\x00" in url:  # no file system or server takes a NUL in a name; the drivers fail on it without saying where
        raise Unavailable("a database URL cannot contain a NUL character")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise Unavailable(f"{backend} databases are not supported: {_SUPPORTED}")
    if backend == "sqlite":
        if not parsed.database or parsed.database in (":memory:", "file::memory:") \
                or parsed.query.get("mode") == "memory":
            raise Unavailable("an in-memory SQLite database would be empty for every connection and lost when "
                              "the process ends: give a file, e.g. sqlite:///classic2arm.db")
        if set(parsed.query) - _PYSQLITE_ARGS and parsed.query.get("uri") != "true":
            # sqlite:///x.db?mode=ro means what it says: as the URI filename file:x.db?mode=ro
            database = parsed.database if parsed.database.startswith("file:") else "file:" + quote(parsed.database)
            parsed = parsed.set(database=database).update_query_dict({"uri": "true"})
    elif parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL as `parse_url` gives it; None for another database."""
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    name = url.database
    if url.query.get("uri") == "true" and name.startswith("file:"):
        from urllib.parse import unquote

        name = unquote(name[len("file:"):].removeprefix("//"))
    return Path(name)


def _read_only(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and (url.query.get("mode") == "ro" or url.query.get("immutable") == "1")


def make_engine(url: str | URL) -> Engine:
    parsed = parse_url(url) if isinstance(url, str) else url
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}
    try:
        if parsed.get_backend_name() == "sqlite":
            # As many pooled connections as a server has worker threads, so busy periods don't reopen (and
            # re-PRAGMA) connections.
            engine = sa.create_engine(parsed, pool_size=40, max_overflow=20, pool_use_lifo=True, **kwargs)
            sa.event.listen(engine, "connect", partial(_sqlite_pragmas, read_only=_read_only(parsed)))
            # pysqlite's own transaction handling breaks SAVEPOINTs and begins lazily; take control of BEGIN:
            # writers take the write lock up front (BEGIN IMMEDIATE) so two writers never deadlock upgrading.
            sa.event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = sa.create_engine(parsed, **kwargs)
            sa.event.listen(engine, "checkin", _checked_in)
            sa.event.listen(engine, "checkout", _ping_if_idle)
    except (sa.exc.ArgumentError, ImportError) as exc:  # e.g. a driver that is not installed
        raise Unavailable(f"cannot use {parsed.render_as_string(hide_password=True)}: {exc}") from None
    return engine


# A pooled PostgreSQL connection idle longer than this is pinged before use (one round trip), so that one left
# over from before a database restart is replaced rather than failing a request. Pinging every checkout
# (SQLAlchemy's pool_pre_ping) cost a round trip per request; a connection that broke within the last few seconds
# fails its request with a 503 instead, and SQLAlchemy then replaces every connection pooled before it.
IDLE_PING_SECONDS = 5.0


def _checked_in(_dbapi_conn: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get("checked_in")
    if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
        return
    try:
        dbapi_conn.execute("SELECT 1")
        dbapi_conn.rollback()
    except Exception as exc:  # the pool retries the checkout with a new connection
        raise sa.exc.DisconnectionError(str(exc)) from exc


class Store:
    """A database holding both control planes. `Store.open(url)` creates or upgrades the schema."""

    def __init__(self, engine: Engine, usage: UsageFn | None = None, file: Path | None = None,
                 read_only: bool = False) -> None:
        self.engine = engine
        self.usage = usage
        self.read_only = read_only
        # A SQLite file and its identity when opened: every transaction checks it is still there (a stat, ~1 µs)
        # — once the file is deleted, SQLite goes on writing to the unlinked inode and every write would be lost.
        self.file = file
        self._identity = _identity(file) if file is not None else None
        self._local = threading.local()  # the open `snapshot()` of each thread
        self.on_this_host = self._on_this_host()

    @classmethod
    def open(cls, url: str, upgrade: bool = True, usage: UsageFn | None = None, create: bool = True) -> Store:
        """`create=False`: a SQLite file that does not exist is an error rather than a new, empty database."""
        parsed = parse_url(url)
        file = sqlite_path(parsed)
        read_only = _read_only(parsed)
        if file is not None:
            file = file.absolute()
            if (not create or read_only) and not file.exists():
                raise Unavailable(f"no database at {file} (check --db or CLASSIC2ARM_DB; a command that only "
                                  "reads never creates one)")
        engine = make_engine(parsed)
        try:
            revision = migrate.current_revision(engine)
            if revision is None and migrate.has_tables(engine):
                raise Unavailable(f"{_shown(parsed)} is not a classic2arm database (it holds tables, but not ours)")
            if revision is not None and revision not in migrate.known_revisions():
                raise Unavailable(f"{_shown(parsed)} is at schema revision '{revision}', which this version of "
                                  "classic2arm does not know (a newer version's database, or another program's)")
            if upgrade and revision != migrate.HEAD:
                if read_only:
                    raise Unavailable(f"{_shown(parsed)} is opened read-only but its schema needs "
                                      + ("creating" if revision is None else "an upgrade"))
                migrate.upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, usage, file, read_only)

    def check_file(self) -> None:
        """Unavailable when the SQLite file is gone or replaced: what the store would read or write is no
        longer the database (a new connection would even create an empty one in its place)."""
        if self.file is not None and _identity(self.file) != self._identity:
            raise Unavailable(f"the database file {self.file} was deleted or replaced while in use: requests are "
                              "refused (restore the file and restart)")

    @contextmanager
    def tx(self, now: datetime | None = None) -> Iterator[Tx]:
        if self.read_only:
            raise Unavailable("the database is open read-only (mode=ro in its URL): writes are refused")
        if getattr(self._local, "snapshot", None) is not None:
            raise RuntimeError("a write inside Store.snapshot(): its reads would not see it")
        self.check_file()
        with self.engine.connect().execution_options(sqlite_write=True) as conn, conn.begin():
            tx = Tx(conn, now, self.usage)
            yield tx
            tx.flush()  # buffered event-log rows and usage deltas go in with the same commit

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction; inside `snapshot()` on this thread, the snapshot's own."""
        shared: Tx | None = getattr(self._local, "snapshot", None)
        if shared is not None:
            yield shared
            return
        self.check_file()
        with self.engine.connect() as conn:
            yield Tx(conn, None, self.usage)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One connection for every `read()` of this thread in the block: a request that checks its token and
        reads a resource checks one connection out for both (on SQLite one read transaction, one BEGIN; on
        PostgreSQL autocommit, see below). Writes are refused inside it (they would be invisible to the rest of
        the block's reads)."""
        if getattr(self._local, "snapshot", None) is not None:
            yield
            return
        self.check_file()
        conn = self.engine.connect()
        if self.file is None:
            # PostgreSQL: each statement on its own (autocommit), saving the BEGIN and ROLLBACK round trips; the
            # reads of such a block (a token, then one resource) need no common snapshot.
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        with conn:
            self._local.snapshot = Tx(conn, None, self.usage)
            try:
                yield
            finally:
                self._local.snapshot = None

    def _on_this_host(self) -> bool:
        """The database is on this machine: a SQLite file, or a server reached over a unix socket or a loopback
        address (no network between us: a one-row read waits only for that server's CPU)."""
        if self.file is not None:
            return True
        url = self.engine.url
        query_host = url.query.get("host")
        host = url.host or (query_host if isinstance(query_host, str) else None)
        if not host or host.startswith("/"):
            return True  # libpq's default and an explicit socket directory: a unix socket
        if host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.strip("[]")).is_loopback
        except ValueError:
            return False

    def reads_without_waiting(self) -> bool:
        """A one-row read now would neither cross a network nor wait for a pooled connection (all of them busy
        with other requests' work)."""
        if not self.on_this_host:
            return False
        pool = self.engine.pool
        return not isinstance(pool, QueuePool) or pool.checkedout() < pool.size()

    def dispose(self) -> None:
        self.engine.dispose()


def _identity(file: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(file)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _shown(url: URL) -> str:
    file = sqlite_path(url)
    return str(file) if file is not None else url.render_as_string(hide_password=True)


@dataclass
class _Savepoint:
    marks: dict[sa.Table, int]  # pending rows per table when it began
    usage: dict[tuple[str, str, str], int]  # usage deltas when it began
    writes: int  # `Tx.writes` when it began
    written: dict[sa.Table, list[dict[str, Any]]] = field(default_factory=dict)  # see Tx.sync


class Tx:
    """One transaction: its connection, its clock, the rows it buffers, and a repository per concern."""

    def __init__(self, conn: Connection, now: datetime | None, usage: UsageFn | None = None) -> None:
        self.conn = conn
        self.now = now or datetime.now(UTC)
        self.operation_id: str | None = None  # stamped on the event-log entries written meanwhile
        # Rows to insert, per table, written together later (`sync`): the event log always (many units per
        # transaction would otherwise pay a statement per write for it); resources, operations, units and the
        # timeline too while `write_behind` is on. Anything that reads or changes a table syncs it first, so
        # the transaction always sees its own writes.
        self._pending: dict[sa.Table, list[dict[str, Any]]] = {}
        self.pending_keys: set[str] = set()  # resource keys among the pending rows
        self.write_behind = False
        self._savepoints: list[_Savepoint] = []
        self.writes = 0  # resource rows written (created, changed or deleted) so far: one event-log entry each
        self.resources = ResourceRepo(self)
        self.events = EventRepo(self)
        self.usage = UsageRepo(self, usage)
        self.units = UnitRepo(self)
        self.operations = OperationRepo(self)
        self.timeline = TimelineRepo(self)
        self.credentials = CredentialRepo(self)
        self.subscriptions = SubscriptionRepo(self)
        self.meta = MetaRepo(self)

    def defer(self, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        self._pending.setdefault(table, []).extend(rows)

    def sync(self, table: sa.Table) -> None:
        """Write the table's pending rows (statements grouped by the columns each row gives)."""
        rows = self._pending.get(table)
        if not rows:
            return
        for sp in self._savepoints:  # rows deferred before a savepoint are written inside it: keep them to restore
            sp.written.setdefault(table, rows[:sp.marks.get(table, 0)])
        self._pending[table] = []
        if table is resources:
            self.pending_keys.clear()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
        for group in groups.values():
            for i in range(0, len(group), CHUNK):
                self.conn.execute(table.insert(), group[i:i + CHUNK])

    def sync_resources(self, keys: Iterable[str] | None = None) -> None:
        """Before reading resources: write pending ones (only if one of `keys` is among them, when given)."""
        if self.pending_keys and (keys is None or not self.pending_keys.isdisjoint(keys)):
            self.sync(resources)

    def flush(self) -> None:
        for table in list(self._pending):
            self.sync(table)
        self.usage.flush()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction. Rolled back (by an exception), it also drops what was deferred or counted
        inside it, and defers again what was deferred before it but written inside it."""
        sp = _Savepoint({t: len(rows) for t, rows in self._pending.items()}, dict(self.usage.deltas), self.writes)
        nested = self.conn.begin_nested()
        self._savepoints.append(sp)
        try:
            yield
        except BaseException:
            nested.rollback()
            for table in set(self._pending) | set(sp.written):
                kept = sp.written.get(table, self._pending.get(table, [])[:sp.marks.get(table, 0)])
                self._pending[table] = list(kept)
            self.pending_keys = {r["key"] for r in self._pending.get(resources, [])}
            self.usage.deltas = sp.usage
            self.usage.read.clear()
            self.writes = sp.writes
            raise
        else:
            nested.commit()
        finally:
            self._savepoints.pop()
