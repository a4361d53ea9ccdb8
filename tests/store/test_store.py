"""The repository on both backends (`store_url` is parametrised over SQLite and PostgreSQL)."""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from classic2arm.store import Conflict, OperationRecord, Row, Store, UnitRecord
from classic2arm.store import repository as repo
from classic2arm.store.schema import resources, subscriptions

NOW = datetime(2024, 5, 17, 12, 30, 45, 123456, tzinfo=UTC)
CS_TYPE = "Microsoft.ClassicCompute/domainNames"
VM_TYPE = "Microsoft.ClassicCompute/domainNames/slots/roles"
VNET_TYPE = "Microsoft.ClassicNetwork/virtualNetworks"
ARM_VM_TYPE = "Microsoft.Compute/virtualMachines"


def rid(sub: str, rg: str, provider_type: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider_type}/{name}"


def mk(name: str, *, sub: str = "sub-a", rg: str = "rg-one", type: str = CS_TYPE, model: str = "classic",
       id: str | None = None, **kw: Any) -> Row:
    doc = kw.pop("doc", {"name": name, "properties": {"n": len(name)}})
    return Row(id=id or rid(sub, rg, type, name), subscription_id=sub, model=model, type=type, name=name, doc=doc,
               resource_group=rg, **kw)


def keys(rows: list[Row]) -> list[str]:
    return [r.key for r in rows]


def assert_same(a: Any, b: Any, path: str = "$") -> None:
    """Deep equality that also compares types (True != 1, 1 != 1.0) and float bit patterns."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__} ({a!r} vs {b!r})"
    if isinstance(a, dict):
        assert a.keys() == b.keys(), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == b or (math.isnan(a) and math.isnan(b)), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


# ---------------------------------------------------------------------------------------------- reads
def test_insert_and_get_are_case_insensitive(store: Store) -> None:
    row = mk("MyService", rg="rg-one", location="West Europe", status="Created")
    with store.tx() as tx:
        tx.resources.insert([row])
    assert row.key == row.id.lower()
    with store.read() as tx:
        for k in (row.id, row.id.lower(), row.id.upper()):
            got = tx.resources.get(k)
            assert got == row, k
        assert tx.resources.get(row.id + "x") is None
        assert tx.resources.count() == 1


def test_insert_of_an_existing_key_fails_in_any_case(store: Store) -> None:
    row = mk("svc")
    with store.tx() as tx:
        tx.resources.insert([row])
    with pytest.raises(sa.exc.IntegrityError), store.tx() as tx:
        tx.resources.insert([replace(row, id=row.id.upper(), key="")])
    with store.read() as tx:
        assert tx.resources.count() == 1
        assert tx.events.count() == 1


def test_get_many(store: Store) -> None:
    rows = [mk(f"Svc{i}") for i in range(7)]
    with store.tx() as tx:
        tx.resources.insert(rows)
        got = tx.resources.get_many([rows[0].id.upper(), rows[3].id, rows[6].key, "/nope"])
    assert set(got) == {rows[0].key, rows[3].key, rows[6].key}
    assert got[rows[3].key] == rows[3]
    with store.read() as tx:
        assert tx.resources.get_many([]) == {}


def test_get_many_beyond_one_chunk(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repo, "CHUNK", 3)
    rows = [mk(f"s{i:02d}") for i in range(10)]
    with store.tx() as tx:
        tx.resources.insert(rows)
        assert set(tx.resources.get_many(r.id for r in rows)) == {r.key for r in rows}
        assert tx.resources.count() == 10
        assert tx.events.count() == 10


@pytest.fixture
def populated(store: Store) -> dict[str, Row]:
    cs = mk("CS1", rg="rg-one", migration_state="Prepared", lock_holder="op-1")
    rows = {
        "cs": cs,
        "role": mk("Web", type=VM_TYPE, id=f"{cs.id}/slots/Production/roles/Web", parent_key=cs.key,
                   migration_state="Prepared", lock_holder="op-1"),
        "role2": mk("Worker", type=VM_TYPE, id=f"{cs.id}/slots/Production/roles/Worker", parent_key=cs.key),
        "cs2": mk("CS2", rg="rg-two"),
        "vnet": mk("Net1", rg="rg-two", type=VNET_TYPE, migration_state="Committed"),
        "other": mk("CS1", sub="sub-b", rg="rg-one"),
        "arm": mk("vm1", type=ARM_VM_TYPE, model="arm", rg="rg-one-migrated"),
    }
    rows["cs"] = replace(cs, arm_id=rows["arm"].id)
    with store.tx(now=NOW) as tx:
        tx.resources.insert(list(rows.values()))
    return rows


def test_query_filters(store: Store, populated: dict[str, Row]) -> None:
    p = populated
    with store.read() as tx:
        def q(**kw: Any) -> set[str]:
            return set(keys(tx.resources.query(**kw)))

        assert q() == {r.key for r in p.values()}
        assert q(subscription_id="sub-a") == {r.key for n, r in p.items() if n != "other"}
        assert q(subscription_id="sub-b") == {p["other"].key}
        assert q(subscription_id="sub-zzz") == set()
        assert q(model="arm") == {p["arm"].key}
        assert q(types=[CS_TYPE.upper()]) == {p["cs"].key, p["cs2"].key, p["other"].key}
        assert q(subscription_id="sub-a", types=[CS_TYPE.lower(), VNET_TYPE]) == {
            p["cs"].key, p["cs2"].key, p["vnet"].key}
        assert q(types=[]) == q()
        assert q(name="cs1") == {p["cs"].key, p["other"].key}
        assert q(name="CS1", subscription_id="sub-b") == {p["other"].key}
        assert q(parent_key=p["cs"].key) == {p["role"].key, p["role2"].key}
        assert q(parent_key=p["cs"].id) == {p["role"].key, p["role2"].key}  # the argument is lower-cased
        assert q(resource_group="RG-TWO") == {p["cs2"].key, p["vnet"].key}
        assert q(subscription_id="sub-b", resource_group="rg-one") == {p["other"].key}
        assert q(migration_state="Prepared") == {p["cs"].key, p["role"].key}
        assert q(migration_state="Committed") == {p["vnet"].key}
        assert q(lock_holder="op-1") == {p["cs"].key, p["role"].key}
        assert q(lock_holder="op-2") == set()
        prefix = p["cs"].id.upper()
        assert q(key_prefix=prefix) == {p["cs"].key, p["role"].key, p["role2"].key}
        assert q(key_prefix=prefix + "/SLOTS/") == {p["role"].key, p["role2"].key}
        assert q(key_prefix="/subscriptions/SUB-B/") == {p["other"].key}
        assert q(key_prefix="/subscriptions/sub-a/resourceGroups/rg-one/") == {
            p["cs"].key, p["role"].key, p["role2"].key}
        assert q(key_prefix="/subscriptions/sub-a/resourceGroups/rg-one") == {
            p["cs"].key, p["role"].key, p["role2"].key, p["arm"].key}
        assert q(key_prefix="/subscriptions/sub-c") == set()

        assert tx.resources.count() == len(p)
        assert tx.resources.count("sub-a") == len(p) - 1
        assert tx.resources.count("sub-a", model="classic", types=[VM_TYPE.upper()]) == 2
        assert tx.resources.count(types=[ARM_VM_TYPE]) == 1

        got = tx.resources.get_by_arm_id(p["arm"].id.upper())
        assert got is not None and got.key == p["cs"].key
        assert tx.resources.get_by_arm_id("/nope") is None


def test_query_orders_by_key_and_pages(store: Store, populated: dict[str, Row]) -> None:
    with store.read() as tx:
        all_keys = keys(tx.resources.query())
        assert all_keys == sorted(all_keys)
        pages: list[str] = []
        after = None
        while True:
            page = tx.resources.query(limit=2, after_key=after)
            if not page:
                break
            assert len(page) <= 2
            pages += keys(page)
            after = page[-1].key
        assert pages == all_keys


def test_children_with_mixed_case_parent_key_are_found(store: Store) -> None:
    parent = mk("Parent")
    child = mk("Parent/Child", type=VM_TYPE, parent_key=parent.id)  # the parent's id, not its key
    with store.tx() as tx:
        tx.resources.insert([parent, child])
    with store.read() as tx:
        assert keys(tx.resources.query(parent_key=parent.id)) == [child.key]


def test_child_keys_by_parents_and_type(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repo, "CHUNK", 2)  # parents over several statements
    parents = [mk(f"P{i}") for i in range(5)]
    kids = [mk(f"P{i}/Kid", type=VM_TYPE, parent_key=p.id) for i, p in enumerate(parents)]
    other = mk("P0/Other", parent_key=parents[0].id)  # another type under the same parent
    with store.tx() as tx:
        tx.resources.insert([*parents, *kids, other])
        assert tx.resources.child_keys([p.id for p in parents[:4]], VM_TYPE.upper()) == sorted(k.key for k in kids[:4])
        assert tx.resources.child_keys([], VM_TYPE) == []


def test_text_docs_are_parsed_on_first_use_and_equal_plain_rows(store: Store) -> None:
    rows = [mk(f"svc{i}", doc={"name": f"svc{i}", "n": i, "nested": {"list": [1, 2.5, None, True]}})
            for i in range(3)]
    with store.tx() as tx:
        tx.resources.insert(rows)
    with store.read() as tx:
        plain, lazy = tx.resources.query(), tx.resources.query(text_docs=True)
        by_parent = tx.resources.query(parent_keys=[], text_docs=True)
        unordered = tx.resources.query(ordered=False)
    assert sorted(unordered, key=lambda r: r.key) == plain
    assert by_parent == []
    first = lazy[0]
    if isinstance(first, repo.TextRow):  # SQLite hands the document back as text; PostgreSQL as a dict
        assert first.text is not None and repo.orjson.loads(first.text) == rows[0].doc
        assert first.doc == rows[0].doc and first.text is None  # parsed once, then held as a dict
        second = lazy[1]
        assert isinstance(second, repo.TextRow)
        second.doc = {"replaced": True}  # a write replaces the unparsed text
        assert second.text is None and second.doc == {"replaced": True}
        copied = replace(lazy[2], version=7)
        assert copied.doc == rows[2].doc and copied.version == 7
        assert lazy[1] != plain[1] and plain[1] != lazy[1]
        lazy[1].doc = rows[1].doc
    else:
        assert all(type(r) is Row for r in lazy)
    assert lazy == plain and plain == lazy  # (either side may be the TextRow)

# ---------------------------------------------------------------------------------------------- writes
def test_upsert_is_idempotent_and_bumps_versions(store: Store) -> None:
    rows = [mk(f"svc{i}") for i in range(5)]
    with store.tx() as tx:
        tx.resources.upsert(rows)
    with store.tx() as tx:
        tx.resources.upsert(rows)
    with store.read() as tx:
        assert tx.resources.count() == 5
        assert {r.version for r in tx.resources.query()} == {2}
    changed = [replace(rows[0], doc={"changed": True}, status="Running"), mk("svc-new")]
    with store.tx() as tx:
        tx.resources.upsert(changed)
    with store.read() as tx:
        assert tx.resources.count() == 6
        got = tx.resources.get(rows[0].key)
        assert got is not None
        assert (got.version, got.doc, got.status) == (3, {"changed": True}, "Running")
        new = tx.resources.get(changed[1].id)
        assert new is not None and new.version == 1
        assert [(e["action"], e["version"]) for e in tx.events.for_resource(rows[0].key)] == [
            ("create", 1), ("update", 2), ("update", 3)]
        assert tx.events.count() == 5 + 5 + 2


def test_update_optimistic_concurrency(store: Store) -> None:
    with store.tx() as tx:
        tx.resources.insert([mk("svc")])
    key = mk("svc").key
    with store.read() as tx:
        first = tx.resources.get(key)
        stale = tx.resources.get(key)
    assert first is not None and stale is not None
    with store.tx() as tx:
        new = tx.resources.update(replace(first, doc={"v": 2}, status="Updated"))
    assert new.version == 2
    with pytest.raises(Conflict), store.tx() as tx:
        tx.resources.update(replace(stale, doc={"v": "lost"}))
    with store.read() as tx:
        got = tx.resources.get(key)
        assert got is not None
        assert (got.version, got.doc, got.status) == (2, {"v": 2}, "Updated")
        assert [e["version"] for e in tx.events.for_resource(key)] == [1, 2]
    with store.tx() as tx:
        tx.resources.delete([key])
    with pytest.raises(Conflict), store.tx() as tx:
        tx.resources.update(new)


def test_set_columns(store: Store) -> None:
    rows = [mk(f"svc{i}") for i in range(4)]
    with store.tx() as tx:
        tx.resources.insert(rows)
    with store.tx() as tx:
        n = tx.resources.set_columns([rows[0].id.upper(), rows[1].key, "/missing"], lock_holder="op-9",
                           migration_state="Preparing")
        assert n == 2
        assert tx.resources.set_columns([], lock_holder="x") == 0
    with store.read() as tx:
        assert set(keys(tx.resources.query(lock_holder="op-9"))) == {rows[0].key, rows[1].key}
        assert set(keys(tx.resources.query(migration_state="Preparing"))) == {rows[0].key, rows[1].key}
        got = tx.resources.get(rows[0].key)
        assert got is not None and got.version == 2 and got.doc == rows[0].doc
        assert tx.resources.get(rows[2].key).version == 1  # type: ignore[union-attr]
        assert [(e["action"], e["version"]) for e in tx.events.for_resource(rows[1].key)] == [("create", 1),
                                                                                              ("update", 2)]
        assert tx.events.for_resource("/missing") == []
    with store.tx() as tx:
        tx.resources.set_columns([rows[0].key], lock_holder=None)
    with store.read() as tx:
        assert keys(tx.resources.query(lock_holder="op-9")) == [rows[1].key]


def test_delete(store: Store) -> None:
    rows = [mk(f"svc{i}") for i in range(3)]
    with store.tx() as tx:
        tx.resources.insert(rows)
    with store.tx() as tx:
        assert tx.resources.delete([rows[0].id.upper(), "/missing"]) == 1
        assert tx.resources.delete([]) == 0
    with store.read() as tx:
        assert tx.resources.get(rows[0].key) is None
        assert tx.resources.count() == 2
        assert [(e["action"], e["version"]) for e in tx.events.for_resource(rows[0].key)] == [("create", 1),
                                                                                              ("delete", 2)]
    with store.tx() as tx:
        assert tx.resources.delete([rows[0].key]) == 0
        tx.resources.delete_all("sub-other")
        assert tx.resources.count() == 2
        tx.resources.delete_all("sub-a")
        assert tx.resources.count() == 0


def test_event_log_records_every_write_in_order(store: Store) -> None:
    row = mk("Svc")
    with store.tx(now=NOW) as tx:
        tx.operation_id = "op-42"
        tx.resources.insert([row])
    with store.tx() as tx:
        tx.resources.upsert([row])
    with store.tx() as tx:
        current = tx.resources.get(row.key)
        assert current is not None
        tx.resources.update(current)
    with store.tx() as tx:
        tx.resources.set_columns([row.key], lock_holder="op-1")
    with store.tx() as tx:
        tx.resources.replace_all([replace(row, version=10, doc={"replaced": True})])
    with store.tx() as tx:
        tx.resources.delete([row.key])
    with store.read() as tx:
        evs = tx.events.for_resource(row.id.upper())
        assert tx.events.count() == 6
    assert [(e["action"], e["version"]) for e in evs] == [
        ("create", 1), ("update", 2), ("update", 3), ("update", 4), ("update", 10), ("delete", 11)]
    seqs = [e["seq"] for e in evs]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert {e["resource_key"] for e in evs} == {row.key}
    assert {e["subscription_id"] for e in evs} == {"sub-a"}
    assert {e["type"] for e in evs} == {CS_TYPE}
    assert [e["operation_id"] for e in evs] == ["op-42", None, None, None, None, None]


def test_event_log_order_of_a_bulk_write(store: Store) -> None:
    rows = [mk(f"svc{i}") for i in (5, 1, 4, 2, 3)]
    with store.tx() as tx:
        before = tx.events.count()
        tx.resources.insert(rows)
        tx.resources.delete([rows[2].key, rows[0].key])
    with store.read() as tx:
        assert tx.events.count() == before + 7
        log = tx.conn.execute(sa.text("SELECT resource_key, action FROM events ORDER BY seq")).all()
    assert [tuple(r) for r in log[:5]] == [(r.key, "create") for r in rows]
    assert sorted(tuple(r) for r in log[5:]) == sorted([(rows[0].key, "delete"), (rows[2].key, "delete")])


@pytest.mark.parametrize("kind", ["insert", "update"])
def test_event_timestamp_is_the_transaction_time(store: Store, backend: str, kind: str,
                                                 request: pytest.FixtureRequest) -> None:
    row = mk("svc")
    with store.tx(now=NOW) as tx:
        tx.resources.insert([row])
    if kind == "update":
        with store.tx(now=NOW.replace(year=2025)) as tx:
            tx.resources.upsert([row])
    with store.read() as tx:
        at = tx.events.for_resource(row.key)[-1]["at"]
    assert at.tzinfo is not None
    assert at == (NOW if kind == "insert" else NOW.replace(year=2025))


# ---------------------------------------------------------------------------------------------- subscriptions, meta
def test_subscriptions(store: Store) -> None:
    with store.read() as tx:
        assert tx.subscriptions.get("sub-a") is None
        assert tx.subscriptions.all() == []
    doc_b = {"id": "sub-b", "displayName": "Zweite Subskription ✓", "state": "Enabled", "quota": {"cores": 20}}
    doc_a = {"id": "sub-a", "displayName": "first", "state": "Enabled"}
    with store.tx() as tx:
        tx.subscriptions.put(doc_b)
        tx.subscriptions.put(doc_a)
    with store.tx() as tx:
        tx.subscriptions.put({**doc_a, "state": "Disabled"})
    with store.read() as tx:
        assert tx.subscriptions.get("sub-b") == doc_b
        assert tx.subscriptions.get("sub-a") == {**doc_a, "state": "Disabled"}
        assert tx.subscriptions.all() == [{**doc_a, "state": "Disabled"}, doc_b]
        versions = dict(tx.conn.execute(sa.select(subscriptions.c.id, subscriptions.c.version)).all())
    assert versions == {"sub-a": 2, "sub-b": 1}


def test_meta(store: Store) -> None:
    values: list[Any] = [{"a": [1, 2, {"b": None}]}, [1, "two", 3.5], "text ✓", "42", True, False, None]
    with store.read() as tx:
        assert tx.meta.get("k0") is None
    with store.tx() as tx:
        for i, v in enumerate(values):
            tx.meta.set(f"k{i}", v)
    with store.read() as tx:
        for i, v in enumerate(values):
            assert_same(tx.meta.get(f"k{i}"), v)
    with store.tx() as tx:
        tx.meta.set("k0", {"replaced": 1})
    with store.read() as tx:
        assert tx.meta.get("k0") == {"replaced": 1}


@pytest.mark.parametrize("value", [42, -1, 3.5, 0])
def test_meta_numeric_scalars(store: Store, backend: str, value: Any, request: pytest.FixtureRequest) -> None:
    with store.tx() as tx:
        tx.meta.set("n", value)
    with store.read() as tx:
        assert_same(tx.meta.get("n"), value)


# ---------------------------------------------------------------------------------------------- transactions
def test_transaction_rolls_back_on_exception(store: Store) -> None:
    base = [mk(f"svc{i}") for i in range(3)]
    with store.tx() as tx:
        tx.resources.insert(base)
        tx.subscriptions.put({"id": "sub-a", "n": 1})
        tx.meta.set("k", "before")

    def snapshot() -> tuple[Any, ...]:
        with store.read() as tx:
            return (tx.resources.count(), tx.events.count(),
                    [(r.key, r.version, r.doc, r.lock_holder) for r in tx.resources.query()],
                    tx.subscriptions.get("sub-a"), tx.meta.get("k"), tx.subscriptions.all())

    before = snapshot()
    with pytest.raises(RuntimeError, match="boom"), store.tx() as tx:
        tx.resources.insert([mk(f"new{i}") for i in range(50)])
        tx.resources.upsert([replace(base[0], doc={"half": "written"})])
        tx.resources.set_columns([base[1].key], lock_holder="op-x")
        tx.resources.delete([base[2].key])
        tx.subscriptions.put({"id": "sub-a", "n": 2})
        tx.subscriptions.put({"id": "sub-new"})
        tx.meta.set("k", "after")
        tx.meta.set("k2", "new")
        assert tx.resources.count() == 52
        raise RuntimeError("boom")
    assert snapshot() == before
    with store.read() as tx:
        assert tx.meta.get("k2") is None


def test_conflict_rolls_back_earlier_writes_of_the_transaction(store: Store) -> None:
    with store.tx() as tx:
        tx.resources.insert([mk("svc")])
    with store.read() as tx:
        stale = tx.resources.get(mk("svc").key)
    assert stale is not None
    with store.tx() as tx:
        tx.resources.update(stale)
    with pytest.raises(Conflict), store.tx() as tx:
        tx.resources.insert([mk("other")])
        tx.resources.update(stale)
    with store.read() as tx:
        assert tx.resources.count() == 1
        assert tx.events.count() == 2


# ---------------------------------------------------------------------------------------------- bulk and JSON
def test_bulk_20000_rows_in_chunks(store: Store) -> None:
    n = 20_000
    rows = [mk(f"vm{i:05d}", type=VM_TYPE, doc={"i": i, "tags": {"k": f"v{i}"}}) for i in range(n)]
    batches: list[int] = []

    def record(conn: Any, clause: Any, multiparams: Any, params: Any, options: Any) -> None:
        if isinstance(clause, sa.Insert) and clause.table is resources:
            batches.append(len(multiparams) if multiparams else 1)

    sa.event.listen(store.engine, "before_execute", record)
    try:
        with store.tx() as tx:
            tx.resources.insert(rows)
    finally:
        sa.event.remove(store.engine, "before_execute", record)
    assert batches == [repo.CHUNK] * (n // repo.CHUNK)
    with store.read() as tx:
        assert tx.resources.count() == n
        assert tx.events.count() == n
        got = tx.resources.get_many(r.id for r in rows)
        assert len(got) == n
        assert got[rows[12345].key].doc == {"i": 12345, "tags": {"k": "v12345"}}
        assert len(tx.resources.query(key_prefix=rid("sub-a", "rg-one", VM_TYPE, "vm1"))) == 10_000
    with store.tx() as tx:
        assert tx.resources.set_columns([r.key for r in rows], migration_state="Prepared") == n
        tx.resources.upsert(rows[:5000])
    with store.read() as tx:
        assert len(tx.resources.query(migration_state="Prepared")) == n - 5000  # upsert rewrote the indexed columns
        assert tx.events.count() == 3 * n - 15_000
    with store.tx() as tx:
        assert tx.resources.delete([r.key for r in rows]) == n
    with store.read() as tx:
        assert tx.resources.count() == 0
        assert tx.events.count() == 4 * n - 15_000


DOC: dict[str, Any] = {
    "name": "Ünïcødé ☁️ 云服务 クラウド Облако سحابة ענן",
    "emoji": "👩‍👩‍👧‍👦 🇩🇪 \U0001f600",
    "escapes": "quote \" backslash \\ slash / newline \n tab \t cr \r bell \x07 sep \u2028\u2029 bom \ufeff",
    "combining": "e\u0301 vs é",
    "empty": "",
    "ints": [0, -1, 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1, -(2**63)],
    "floats": [0.1, 1.5, -2.25, 1e-300, 1.7976931348623157e308, 3.141592653589793, 1.0, 1e20],
    "bools": [True, False],
    "null": None,
    "nested": {"a": {"b": {"c": {"d": {"e": [[[{"deep": ["x", {"y": None}]}]]]}}}},
               "list_of_dicts": [{"k": i, "v": [i] * i} for i in range(5)]},
    "emptyContainers": {"d": {}, "l": [], "ld": [{}], "ll": [[]]},
    "Case": "upper", "case": "lower",
    "ключ": "non-ascii key", "": "empty key",
    "long": "x" * 100_000,
}


def test_json_documents_round_trip_exactly(store: Store) -> None:
    row = mk("DocHolder", doc=DOC)
    with store.tx() as tx:
        tx.resources.insert([row])
        tx.meta.set("doc", DOC)
        tx.subscriptions.put({"id": "sub-a", "doc": DOC})
    with store.read() as tx:
        got = tx.resources.get(row.key)
        assert got is not None
        assert_same(got.doc, DOC)
        assert_same(tx.resources.query(name="dOcHoLdEr"), [got])
        assert_same(tx.resources.get_many([row.id])[row.key].doc, DOC)
        assert_same(tx.meta.get("doc"), DOC)
        assert_same(tx.subscriptions.get("sub-a"), {"id": "sub-a", "doc": DOC})
    with store.tx() as tx:
        tx.resources.update(replace(got, doc={**DOC, "v": 2}))
    with store.read() as tx:
        assert_same(tx.resources.get(row.key).doc, {**DOC, "v": 2})  # type: ignore[union-attr]


def test_unicode_in_index_columns(store: Store) -> None:
    row = mk("Dienst-Ä☁", rg="gruppe-Ü", location="Zürich", status="Läuft")
    with store.tx() as tx:
        tx.resources.insert([row])
    with store.read() as tx:
        assert keys(tx.resources.query(name="DIENST-Ä☁")) == [row.key]
        assert keys(tx.resources.query(resource_group="GRUPPE-Ü")) == [row.key]
        assert keys(tx.resources.query(key_prefix=row.id[:-3].upper())) == [row.key]
        got = tx.resources.get(row.id.upper())
        assert got is not None and (got.location, got.status, got.name) == ("Zürich", "Läuft", "Dienst-Ä☁")


# ---------------------------------------------------------------------------------------------- concurrency
def _race_update(store: Store, key: str, name: str, round_: int, barrier: threading.Barrier,
                 results: dict[str, str]) -> None:
    """Read the row, wait until the rival has read it too, then write it back."""
    try:
        with store.tx() as tx:
            current = tx.resources.get(key)
            assert current is not None
            barrier.wait()
            tx.resources.update(replace(current, doc={"by": name, "round": round_}))
        results[name] = "won"
    except Conflict:
        results[name] = "conflict"
    except Exception as exc:  # reported by the assertion in the test
        results[name] = repr(exc)


@pytest.mark.postgres
def test_concurrent_updates_one_wins_on_postgresql(pg_cluster: Any) -> None:
    url = pg_cluster.create_database("concurrent_updates")
    a, b = Store.open(url), Store.open(url)
    try:
        row = mk("contended")
        with a.tx() as tx:
            tx.resources.insert([row])

        # interleaved: both read version 1, A commits first, B's write is stale
        with b.tx() as tb:
            rb = tb.resources.get(row.key)
            with a.tx() as ta:  # A reads the same version and commits first
                ra = ta.resources.get(row.key)
                assert ra is not None
                ta.resources.update(replace(ra, doc={"by": "a"}))
            assert rb is not None
            with pytest.raises(Conflict):
                tb.resources.update(replace(rb, doc={"by": "b"}))

        # racing: both read, then both update at once; the loser blocks on the row lock, then sees 0 rows
        for round_ in range(5):
            barrier = threading.Barrier(2, timeout=30)
            results: dict[str, str] = {}

            threads = [threading.Thread(target=_race_update, args=(s, row.key, n, round_, barrier, results))
                       for n, s in (("a", a), ("b", b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert sorted(results.values()) == ["conflict", "won"], results
            winner = next(n for n, r in results.items() if r == "won")
            with a.read() as tx:
                got = tx.resources.get(row.key)
                assert got is not None
                assert got.doc == {"by": winner, "round": round_}
                assert got.version == 3 + round_
        with a.read() as tx:
            assert [e["version"] for e in tx.events.for_resource(row.key)] == list(range(1, 8))
    finally:
        a.dispose()
        b.dispose()


# ---------------------------------------------------------------------------------------------- write-behind
def test_write_behind_reads_see_pending_inserts(store: Store) -> None:
    """With write_behind, inserts wait for one bulk statement, yet every read in the transaction sees them."""
    rows = [mk(f"svc{i}") for i in range(3)]
    other = mk("other")
    with store.tx() as tx:
        tx.resources.insert([other])
        tx.write_behind = True
        tx.resources.insert(rows[:2])
        assert tx.resources.get(other.key) is not None  # a key not pending: no write needed
        assert tx.resources.get(rows[0].key.upper()) is not None
        tx.resources.insert(rows[2:])
        assert set(tx.resources.get_many([r.key for r in rows])) == {r.key for r in rows}
        tx.operations.insert(OperationRecord("op1", "sub-a", "Prepare", "u", "InProgress"))
        assert tx.operations.get("op1") is not None
        tx.units.put(UnitRecord("u1", "sub-a", "vnet", rows[0].key, "svc0", state="Preparing"), exists=False)
        assert tx.units.get("u1") is not None
        tx.timeline.add([{"subscription_id": "sub-a", "vm_key": "vm", "event": "down", "at": NOW,
                          "real_at": NOW, "operation_id": "op1", "reason": "test"}])
        assert len(tx.timeline.all(operation_id="op1")) == 1
        tx.resources.insert([mk("late")])
        assert tx.resources.count() == 5  # a query syncs everything pending
    with store.read() as tx:
        assert tx.resources.count() == 5
        assert tx.events.count() == 5


def test_write_behind_set_columns_on_a_pending_row(store: Store) -> None:
    row = mk("svc")
    with store.tx() as tx:
        tx.write_behind = True
        tx.resources.insert([row])
        assert tx.resources.set_columns([row.key], lock_holder="unit-1") == 1
        tx.resources.insert([mk("svc2")])
        assert tx.resources.delete([row.key]) == 1
    with store.read() as tx:
        assert tx.resources.get(row.key) is None
        assert [e["action"] for e in tx.events.for_resource(row.key)] == ["create", "update", "delete"]


@pytest.mark.parametrize("write_behind", [False, True])
def test_savepoint_rollback_drops_what_was_buffered_inside(store: Store, write_behind: bool) -> None:
    """A rolled-back savepoint takes its rows, events and operations with it and keeps everything before it,
    including rows deferred before it but written inside it."""
    kept, dropped = mk("kept"), mk("dropped")
    with store.tx() as tx:
        tx.write_behind = write_behind
        tx.resources.insert([kept])
        tx.operations.insert(OperationRecord("op-kept", "sub-a", "Prepare", "u", "Succeeded"))
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.resources.insert([dropped])
            assert tx.resources.count() == 2  # syncs `kept` (deferred before) inside the savepoint
            tx.operations.insert(OperationRecord("op-dropped", "sub-a", "Prepare", "u", "Succeeded"))
            raise RuntimeError("unit failed")
        assert tx.writes == 1  # the resource rows this transaction wrote: the dropped one no longer counts
        with tx.savepoint():
            tx.resources.insert([mk("after"), mk("after2")])
        assert tx.writes == 3
    with store.read() as tx:
        assert {r.name for r in tx.resources.query()} == {"kept", "after", "after2"}
        assert tx.operations.get("op-kept") is not None and tx.operations.get("op-dropped") is None
        assert not tx.events.for_resource(dropped.key)
        assert [e["action"] for e in tx.events.for_resource(kept.key)] == ["create"]


def test_savepoint_rollback_restores_usage_deltas(store_url: str) -> None:
    s = Store.open(store_url, usage=lambda rtype, doc: {"vms": 1})
    try:
        vm = mk("vm1", type=ARM_VM_TYPE, model="arm", location="westus")
        with s.tx() as tx:
            tx.write_behind = True
            tx.resources.insert([vm])
            with pytest.raises(RuntimeError), tx.savepoint():
                tx.resources.insert([mk("vm2", type=ARM_VM_TYPE, model="arm", location="westus")])
                assert tx.usage.in_location("sub-a", "westus") == {"vms": 2}
                raise RuntimeError
            assert tx.usage.in_location("sub-a", "westus") == {"vms": 1}
        with s.read() as tx:
            assert tx.usage.in_location("sub-a", "westus") == {"vms": 1}
    finally:
        s.dispose()


def test_update_documents_leaves_index_columns_alone(store: Store) -> None:
    row = mk("vm1", type=VM_TYPE, status="ReadyRole")
    with store.tx() as tx:
        tx.resources.insert([row])
        tx.resources.set_columns([row.key], lock_holder="unit-1", migration_state="Prepared")
    with store.tx() as tx:
        current = tx.resources.get(row.key)
        assert current is not None and current.version == 2
        tx.resources.update_documents([replace(current, doc={"power": "Stopped"}, status="StoppedDeallocated",
                                               version=3)])
    with store.read() as tx:
        got = tx.resources.get(row.key)
        assert got is not None
        assert (got.doc, got.status, got.version) == ({"power": "Stopped"}, "StoppedDeallocated", 3)
        assert (got.lock_holder, got.migration_state, got.name, got.type) == ("unit-1", "Prepared", "vm1", VM_TYPE)
        assert [(e["action"], e["version"]) for e in tx.events.for_resource(row.key)] == [
            ("create", 1), ("update", 2), ("update", 3)]


def test_query_honours_every_filter_or_refuses(store: Store) -> None:
    """A list filter combines with the others (it used to drop them); mixes it cannot answer raise."""
    rows = [mk(f"svc{i}", location="westus" if i % 2 else "eastus") for i in range(6)]
    with store.tx() as tx:
        tx.resources.insert(rows)
    with store.read() as tx:
        names = [r.name for r in rows]
        west = tx.resources.query(names=names, location="westus")
        assert [r.name for r in west] == ["svc1", "svc3", "svc5"]
        assert [r.name for r in tx.resources.query(names=names, location="westus", limit=2)] == ["svc1", "svc3"]
        assert [r.name for r in tx.resources.query(names=names, after_key=west[0].key)] == ["svc2", "svc3", "svc4",
                                                                                             "svc5"]
        for bad in ({"names": names, "parent_keys": ["x"]}, {"names": names, "name": "svc1"},
                    {"parent_keys": ["x"], "parent_key": "x"}):
            with pytest.raises(ValueError):
                tx.resources.query(**bad)  # type: ignore[arg-type]
