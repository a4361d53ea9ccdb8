"""Resources: both control planes' rows as JSON documents with indexed columns; bulk writes, optimistic
concurrency, and an event-log entry (and quota usage) for every change, through the transaction's other
repositories."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from .base import CHUNK, Conflict, dicts
from .point_reads import first_row
from .schema import arm_usage, events, resources

if TYPE_CHECKING:
    from .repository import Tx


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
# The single-row reads every API request makes (a token, then the resource), built once: building the
# select per call cost more than running it.
_GET = sa.select(*_COLS).where(resources.c.key == sa.bindparam("key"))
_GET_BY_ARM_KEY = sa.select(*_COLS).where(resources.c.arm_key == sa.bindparam("arm_key"))
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


# The creations' partial index (migration 0008) serves a query only if its WHERE says `action = 'create'` as it
# does: with the value written in, not bound.
_CREATE: sa.ColumnClause[str] = sa.literal_column("'create'", sa.String)


@functools.cache
def _set_columns(names: tuple[str, ...]) -> sa.Update:
    """UPDATE of the given index columns (bound by name) and a version bump, for the rows whose keys are bound."""
    return (sa.update(resources).where(resources.c.key.in_(_KEYS))
            .values(version=resources.c.version + 1, **{n: sa.bindparam(f"v_{n}") for n in names}))


class ResourceRepo:
    """`tx.resources`: the `resources` table inside one transaction."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.conn = tx.conn

    def get(self, key: str) -> Row | None:
        self.tx.sync_resources([key.lower()])
        r = first_row(self.conn, _GET, {"key": key.lower()})
        return _row(r) if r else None

    def get_many(self, keys: Iterable[str]) -> dict[str, Row]:
        out: dict[str, Row] = {}
        klist = [k.lower() for k in keys]
        self.tx.sync_resources(klist)
        for i in range(0, len(klist), CHUNK):
            for r in self.conn.execute(_GET_MANY, {"keys": klist[i:i + CHUNK]}):
                out[r.key] = _row(r)
        return out

    def get_by_arm_id(self, arm_id: str) -> Row | None:
        self.tx.sync_resources()
        r = first_row(self.conn, _GET_BY_ARM_KEY, {"arm_key": arm_id.lower()})
        return _row(r) if r else None

    def query(self, subscription_id: str | None = None, *, model: str | None = None,
              types: Sequence[str] | None = None, name: str | None = None, parent_key: str | None = None,
              resource_group: str | None = None, migration_state: str | None = None,
              lock_holder: str | None = None, key_prefix: str | None = None,
              limit: int | None = None, after_key: str | None = None,
              parent_keys: Sequence[str] | None = None, location: str | None = None,
              names: Sequence[str] | None = None, text_docs: bool = False, ordered: bool = True) -> list[Row]:
        """Rows matching every filter given, in key order unless not `ordered` (sorting a whole subscription's
        rows by key costs SQLite a walk of the key index and a lookup per row). `parent_keys`/`names` match any
        of a list (read in chunks, then sorted); one list filter at a time, and not with its single-value twin:
        such a mix raises `ValueError` rather than answering something else. `types` empty: any type.
        `text_docs`: documents parsed only when first used (`TextRow`), for a reader that builds most of them
        straight into models."""
        lists = [(label, values) for label, values in (("parent_keys", parent_keys), ("names", names))
                 if values is not None]
        if len(lists) > 1:
            raise ValueError("query: give parent_keys or names, not both")
        if parent_keys is not None and parent_key is not None:
            raise ValueError("query: give parent_key or parent_keys, not both")
        if names is not None and name is not None:
            raise ValueError("query: give name or names, not both")
        self.tx.sync_resources()
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
        make = _text_row if text_docs else _row
        if lists:
            column = c.parent_key if lists[0][0] == "parent_keys" else c.name_lc
            values = [v.lower() for v in lists[0][1]]
            out: list[Row] = []
            for i in range(0, len(values), CHUNK):
                part = q.where(column.in_(values[i:i + CHUNK]))
                out.extend(make(r) for r in self.conn.execute(part.order_by(c.key).limit(limit) if limit else part))
            out.sort(key=lambda r: r.key)  # (chunks each in order; the whole list too, and cut to the limit)
            return out[:limit] if limit is not None else out
        if ordered:
            q = q.order_by(c.key)
        if limit is not None:
            q = q.limit(limit)
        return [make(r) for r in self.conn.execute(q)]

    def project(self, subscription_id: str, types: Sequence[str], fields: Sequence[str]) -> list[dict[str, Any]]:
        """Index columns plus a few document fields extracted by the database (no JSON parsing in Python):
        the fast path for listings over tens of thousands of rows."""
        self.tx.sync_resources()
        c = resources.c
        cols = [c.key, c.id, c.type, c.name, c.parent_key, c.location, c.status, c.migration_state, c.arm_key,
                c.subscription_id]
        extra = [c.doc[f].as_string().label(f"doc_{f}") for f in fields]
        q = (sa.select(*cols, *extra).where(c.subscription_id == subscription_id)
             .where(c.type_lc.in_([t.lower() for t in types])).order_by(c.key))
        return dicts(self.conn.execute(q))

    def count_grouped(self, subscription_id: str, model: str, location: str,
                      fields: Sequence[str]) -> list[tuple[Any, ...]]:
        """(type, *document fields, count) grouped in the database — for quota usage without loading rows."""
        self.tx.sync_resources()
        c = resources.c
        extra = [c.doc[tuple(f.split("."))].as_string() if "." in f else c.doc[f].as_string() for f in fields]
        q = (sa.select(c.type, *extra, sa.func.count()).where(c.subscription_id == subscription_id)
             .where(c.model == model).where(c.location == location).group_by(c.type, *extra))
        return [tuple(r) for r in self.conn.execute(q)]

    def keys(self, *, lock_holder: str, model: str | None = None, migration_state: str | None = None) -> list[str]:
        self.tx.sync_resources()
        q = sa.select(resources.c.key).where(resources.c.lock_holder == lock_holder)
        if model is not None:
            q = q.where(resources.c.model == model)
        if migration_state is not None:
            q = q.where(resources.c.migration_state == migration_state)
        return [r.key for r in self.conn.execute(q.order_by(resources.c.key))]

    def keys_created_by(self, operation_id: str, *, model: str | None = None) -> list[str]:
        """Keys of the rows this operation created that still exist, in key order. (A row does not say what
        created it: its creation's event-log entry does, found through the partial index of migration 0008.)"""
        self.tx.sync(events)
        self.tx.sync_resources()
        e, c = events.c, resources.c
        q = (sa.select(c.key).distinct().join_from(events, resources, c.key == e.resource_key)
             .where(e.operation_id == operation_id, e.action == _CREATE))
        if model is not None:
            q = q.where(c.model == model)
        return [r.key for r in self.conn.execute(q.order_by(c.key))]

    def child_keys(self, parent_keys: Sequence[str], rtype: str) -> list[str]:
        """Keys of the rows of one type under these parents (keys only: no documents read)."""
        self.tx.sync_resources()
        parents = [k.lower() for k in parent_keys]
        out: list[str] = []
        for i in range(0, len(parents), CHUNK):
            out += [r.key for r in self.conn.execute(_CHILD_KEYS, {"keys": parents[i:i + CHUNK], "t": rtype.lower()})]
        return sorted(out)

    def count(self, subscription_id: str | None = None, *, model: str | None = None,
              types: Sequence[str] | None = None) -> int:
        self.tx.sync_resources()
        q = sa.select(sa.func.count()).select_from(resources)
        if subscription_id is not None:
            q = q.where(resources.c.subscription_id == subscription_id)
        if model is not None:
            q = q.where(resources.c.model == model)
        if types:
            q = q.where(resources.c.type_lc.in_([t.lower() for t in types]))
        return int(self.conn.execute(q).scalar_one())

    def insert(self, rows: Sequence[Row]) -> None:
        """Bulk insert of new resources (fails on an existing key: use `upsert` for retries)."""
        payload = [r.to_db() for r in rows]
        if self.tx.write_behind:
            self.tx.defer(resources, payload)
            self.tx.pending_keys.update(r["key"] for r in payload)
        else:
            self.tx.sync_resources()
            for i in range(0, len(payload), CHUNK):
                self.conn.execute(resources.insert(), payload[i:i + CHUNK])
        self.tx.events.log(rows, "create")
        self.tx.usage.count(rows, +1)

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
        self.tx.usage.count([existing[r.key] for r in changed], -1)
        self.replace_all(changed)
        self.tx.usage.count(changed, +1)

    def replace_all(self, rows: Sequence[Row]) -> None:
        """Overwrite rows by key (versions as given). Used for bulk state changes inside operations."""
        self.tx.sync_resources([r.key for r in rows])
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
        self.tx.events.log(rows, "update")

    def update_documents(self, rows: Sequence[Row]) -> None:
        """Write back rows whose document, status and version alone changed (a classic VM's power state, say):
        no indexed column is touched, so the database updates no index. Not for ARM rows whose quota usage changes
        (an ARM VM's power state counts for none)."""
        self.tx.sync_resources([r.key for r in rows])
        for i in range(0, len(rows), CHUNK):
            self.conn.execute(_UPDATE_DOC, [{"b_key": r.key, "b_doc": r.doc, "b_status": r.status,
                                             "b_version": r.version} for r in rows[i:i + CHUNK]])
        self.tx.events.log(rows, "update")

    def update(self, row: Row) -> Row:
        """Write back a row read earlier; fails with Conflict if someone else changed it meanwhile."""
        self.tx.sync_resources([row.key])
        new = replace(row, version=row.version + 1)
        data = new.to_db()
        del data["key"]
        old = self.get(row.key) if row.model == "arm" and self.tx.usage.fn is not None else None
        res = self.conn.execute(sa.update(resources)
                                .where(resources.c.key == row.key, resources.c.version == row.version)
                                .values(**data))
        if res.rowcount != 1:
            raise Conflict(f"{row.id} was changed by someone else (expected version {row.version})")
        if old is not None:
            self.tx.usage.count([old], -1)
            self.tx.usage.count([new], +1)
        self.tx.events.log([new], "update")
        return new

    def set_columns(self, keys: Sequence[str], rows: Sequence[Row] | None = None, **values: Any) -> int:
        """Bulk change of index columns only (e.g. lock holder, migration state) with a version bump.
        `rows`: the same rows as read in this transaction, so the event log needn't read them again."""
        self.tx.sync_resources([k.lower() for k in keys])
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
            self.tx.events.log(rows, "update", version_delta=1)
        else:
            self._log_keys(klist, "update")
        return total

    def _log_keys(self, keys: Sequence[str], action: str) -> None:
        self.tx.sync_resources()
        for i in range(0, len(keys), CHUNK):
            part = keys[i:i + CHUNK]
            rows = self.conn.execute(_LOG_INFO, {"keys": part})
            self.tx.events.log([Row(id=r.key, subscription_id=r.subscription_id, model="", type=r.type, name="",
                                   doc={}, version=r.version) for r in rows], action)

    def delete(self, keys: Sequence[str]) -> int:
        self.tx.sync_resources([k.lower() for k in keys])
        klist = [k.lower() for k in keys]
        total = 0
        for i in range(0, len(klist), CHUNK):
            part = klist[i:i + CHUNK]
            gone = list(self.conn.execute(_LOG_INFO, {"keys": part}))
            # (the documents of ARM rows say what they used)
            if self.tx.usage.fn is not None and any(r.model == "arm" for r in gone):
                self.tx.usage.count([_row(r) for r in self.conn.execute(_ARM_GONE, {"keys": part})], -1)
            self.conn.execute(_DELETE, {"keys": part})
            self.tx.events.log([Row(id=r.key, subscription_id=r.subscription_id, model="", type=r.type, name="",
                                   doc={}, version=r.version + 1) for r in gone], "delete")
            total += len(gone)
        return total

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load. SQLite has none until told (and then picks the
        parent/lock indexes over the subscription index); PostgreSQL's autovacuum keeps its own."""
        self.tx.sync_resources()
        if self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql("ANALYZE")

    def delete_all(self, subscription_id: str | None = None) -> None:
        self.tx.sync_resources()
        c = resources.c
        gone = sa.select(c.key, c.subscription_id, c.type, c.version)
        if subscription_id is not None:
            gone = gone.where(c.subscription_id == subscription_id)
        self.tx.events.log([Row(id=r.key, subscription_id=r.subscription_id, model="", type=r.type, name="", doc={},
                                version=r.version) for r in self.conn.execute(gone)], "delete", version_delta=1)
        q = sa.delete(resources)
        u = sa.delete(arm_usage)
        if subscription_id is not None:
            q = q.where(resources.c.subscription_id == subscription_id)
            u = u.where(arm_usage.c.subscription_id == subscription_id)
        self.conn.execute(q)
        self.conn.execute(u)
        self.tx.usage.deltas.clear()

