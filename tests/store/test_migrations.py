"""Alembic migrations on both backends: upgrade in place from 0001 keeps data; a current database is left alone."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from classic2arm.store import Row, Store, migrate
from classic2arm.store.repository import make_engine
from classic2arm.store.schema import metadata

AT = datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
RES_KEY = "/subscriptions/sub-1/resourcegroups/rg/providers/microsoft.classiccompute/domainnames/cs1"


@contextmanager
def old_release(store_url: str, revision: str) -> Iterator[sa.Connection]:
    """A database an older release left at `revision`: what the block writes on the connection, committed."""
    engine = make_engine(store_url)
    try:
        migrate.upgrade(engine, revision)
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def seed_0001(engine: sa.Engine) -> None:
    """Rows written straight into the revision-0001 tables, as an old release would have left them."""
    old = sa.MetaData()
    old.reflect(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO subscriptions (id, version, doc) VALUES (:id, 3, :doc)"),
                     {"id": "sub-1", "doc": '{"id": "sub-1", "displayName": "Old ✓"}'})
        common = {"subscription_id": "sub-1", "model": "classic"}
        conn.execute(old.tables["resources"].insert(), {
            **common, "key": RES_KEY, "id": RES_KEY.replace("cs1", "CS1"),
            "type": "Microsoft.ClassicCompute/domainNames", "type_lc": "microsoft.classiccompute/domainnames",
            "name": "CS1", "name_lc": "cs1", "resource_group_lc": "rg", "migration_state": "Prepared",
            "version": 4, "doc": {"name": "CS1", "nested": {"ü": [1, 2.5, None]}}})
        conn.execute(old.tables["resources"].insert(), {
            **common, "key": RES_KEY + "/x", "id": RES_KEY + "/x", "type": "T", "type_lc": "t", "name": "x",
            "name_lc": "x", "parent_key": RES_KEY, "version": 1, "doc": {}})
        conn.execute(old.tables["events"].insert(), [
            {"at": AT, "subscription_id": "sub-1", "resource_key": RES_KEY, "type": "T", "action": action,
             "version": v, "operation_id": "op-old"} for v, action in [(1, "create"), (2, "update")]])
        conn.execute(old.tables["meta"].insert(), [{"key": "release", "value": {"v": "0.0.9"}}])


def test_upgrade_from_0001_keeps_data(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine, "0001")
        assert migrate.current_revision(engine) == "0001"
        assert tables(engine) == {"alembic_version", "subscriptions", "resources", "events", "meta"}
        seed_0001(engine)
    finally:
        engine.dispose()

    store = Store.open(store_url)
    try:
        assert migrate.current_revision(store.engine) == migrate.head_revision()
        assert "operations" in tables(store.engine)
        insp = sa.inspect(store.engine)
        assert {c["name"] for c in insp.get_columns("operations")} == set(metadata.tables["operations"].c.keys())
        assert {i["name"] for i in insp.get_indexes("operations")} == {"ix_operations_unit", "ix_operations_status"}
        with store.read() as tx:
            assert tx.subscriptions.get("sub-1") == {"id": "sub-1", "displayName": "Old ✓"}
            row = tx.resources.get(RES_KEY.upper())
            assert row is not None
            assert (row.name, row.version, row.migration_state) == ("CS1", 4, "Prepared")
            assert row.doc == {"name": "CS1", "nested": {"ü": [1, 2.5, None]}}
            assert [r.name for r in tx.resources.query(parent_key=RES_KEY)] == ["x"]
            assert [(e["action"], e["version"], e["operation_id"]) for e in tx.events.for_resource(RES_KEY)] == [
                ("create", 1, "op-old"), ("update", 2, "op-old")]
            assert tx.meta.get("release") == {"v": "0.0.9"}
        # the upgraded database is fully usable: new events continue the old sequence, operations accept rows
        with store.tx() as tx:
            tx.resources.update(row)
            tx.conn.execute(metadata.tables["operations"].insert().values(
                id="op-1", subscription_id="sub-1", kind="prepare", unit_key=RES_KEY, status="InProgress",
                created_at=AT, updated_at=AT, created_real_at=AT, request={"a": 1}))
        with store.read() as tx:
            evs = tx.events.for_resource(RES_KEY)
            assert [e["version"] for e in evs] == [1, 2, 5]
            assert evs[-1]["seq"] > evs[-2]["seq"]
            op = tx.conn.execute(sa.text("SELECT attempts FROM operations WHERE id = 'op-1'")).scalar_one()
            assert op == 0  # server default from 0002
    finally:
        store.dispose()


def test_open_creates_schema_on_an_empty_database(store_url: str) -> None:
    store = Store.open(store_url, upgrade=False)
    try:
        assert tables(store.engine) == set()
    finally:
        store.dispose()
    store = Store.open(store_url)
    try:
        assert tables(store.engine) == set(metadata.tables) | {"alembic_version"}
        assert migrate.current_revision(store.engine) == migrate.head_revision()
    finally:
        store.dispose()


def test_opening_a_current_database_is_a_noop(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(store_url)
    with store.tx() as tx:
        tx.resources.insert([Row(id="/A", subscription_id="s", model="arm", type="T", name="a", doc={"k": 1})])
    store.dispose()

    def fail(*_a: Any, **_kw: Any) -> None:
        raise AssertionError("migrate.upgrade called on a current database")

    monkeypatch.setattr(migrate, "upgrade", fail)
    for _ in range(2):
        again = Store.open(store_url)
        try:
            assert migrate.current_revision(again.engine) == migrate.head_revision()
            with again.read() as tx:
                assert tx.resources.count() == 1
                assert tx.events.count() == 1
                versions = tx.conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            assert versions == [migrate.head_revision()]
        finally:
            again.dispose()


def test_upgrade_to_head_twice_is_harmless(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


OPENER = """
import sys, time
from pathlib import Path
from classic2arm.store import Store, migrate

url, rendezvous, me = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
real_current = migrate.current_revision

def current_then_wait(engine):
    rev = real_current(engine)
    (rendezvous / me).touch()
    deadline = time.monotonic() + 30
    while len(list(rendezvous.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return rev

migrate.current_revision = current_then_wait
Store.open(url).dispose()
"""


@pytest.mark.postgres
def test_concurrent_open_of_a_fresh_database(pg_cluster: Any, tmp_path: Path) -> None:
    url = pg_cluster.create_database("concurrent_open")
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, url, str(rendezvous), name],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for name in ("a", "b")]
    outputs = [p.communicate(timeout=90)[0] for p in procs]
    failures = [next((ln for ln in reversed(out.splitlines()) if "Error" in ln), out[-500:])
                for p, out in zip(procs, outputs, strict=True) if p.returncode]
    assert failures == []


def test_head_constant_is_alembics_head() -> None:
    """`Store.open` compares the database with `migrate.HEAD` without importing Alembic: it must be the head."""
    assert migrate.head_revision() == migrate.HEAD


def test_upgrade_from_0006_gives_old_operations_their_created_at_as_real_start(store_url: str) -> None:
    """0007 adds `created_real_at` (what the admin pacing's "seconds" mode measures from); rows of older releases
    get their `created_at`, and the column is then as the schema says: required."""
    with old_release(store_url, "0006") as conn:
        conn.execute(sa.text("INSERT INTO operations (id, subscription_id, kind, unit_key, status, created_at, "
                             "updated_at, attempts, request) VALUES ('op-old', 'sub-1', 'prepare', 'u', "
                             "'Succeeded', :at, :later, 2, :req)"),
                     {"at": AT, "later": AT.replace(minute=9), "req": '{"describe": "vnet v"}'})

    store = Store.open(store_url)
    try:
        assert migrate.current_revision(store.engine) == migrate.head_revision()
        columns = {c["name"]: c for c in sa.inspect(store.engine).get_columns("operations")}
        assert set(columns) == set(metadata.tables["operations"].c.keys())
        assert {name: c["nullable"] for name, c in columns.items()} == {
            c.name: c.nullable for c in metadata.tables["operations"].c}
        assert {i["name"] for i in sa.inspect(store.engine).get_indexes("operations")} == {
            "ix_operations_unit", "ix_operations_status"}
        with store.read() as tx:
            old = tx.operations.get("op-old")
        assert old is not None
        assert (old.created_at, old.updated_at, old.created_real_at) == (AT, AT.replace(minute=9), AT)
        assert (old.status, old.attempts, old.request) == ("Succeeded", 2, {"describe": "vnet v"})
        with pytest.raises(sa.exc.IntegrityError), store.tx() as tx:  # required from now on
            tx.conn.execute(metadata.tables["operations"].insert().values(
                id="op-new", subscription_id="sub-1", kind="prepare", unit_key="u", status="InProgress",
                created_at=AT, updated_at=AT, created_real_at=None))
    finally:
        store.dispose()


def test_upgrade_from_0007_indexes_the_creations_of_operations(store_url: str) -> None:
    """0008 adds a partial index of the event log's creations stamped with an operation (what an operation
    created: a committed unit's page); older entries are in it, and it is the schema's, and the one read."""
    with old_release(store_url, "0007") as conn:
        conn.execute(metadata.tables["resources"].insert(), [
            {"key": k.lower(), "id": k, "subscription_id": "sub-1", "model": "arm", "type": "T", "type_lc": "t",
             "name": k[-1], "name_lc": k[-1].lower(), "version": 1, "doc": {}} for k in ("/A", "/B", "/C")])
        conn.execute(metadata.tables["events"].insert(), [
            {"at": AT, "subscription_id": "sub-1", "resource_key": key, "type": "T", "action": action,
             "version": 1, "operation_id": op}
            for key, action, op in [("/a", "create", "op-old"), ("/b", "create", "op-old"),
                                    ("/b", "update", "op-2"), ("/c", "create", None), ("/c", "update", "op-old"),
                                    ("/gone", "create", "op-old"), ("/gone", "delete", "op-3")]])

    store = Store.open(store_url)
    try:
        assert migrate.current_revision(store.engine) == migrate.head_revision()
        indexes = {i["name"]: i for i in sa.inspect(store.engine).get_indexes("events")}
        assert set(indexes) == {i.name for i in metadata.tables["events"].indexes} == {"ix_events_creations"}
        assert indexes["ix_events_creations"]["column_names"] == ["operation_id"]
        with store.read() as tx:
            # created by op-old and still there: /a and /b (/c was only updated by it, /gone is deleted)
            assert tx.resources.keys_created_by("op-old") == ["/a", "/b"]
            assert tx.resources.keys_created_by("op-old", model="classic") == []
            assert tx.resources.keys_created_by("op-2") == []
            if store.engine.dialect.name == "sqlite":
                definition = tx.conn.execute(sa.text(
                    "SELECT sql FROM sqlite_master WHERE name = 'ix_events_creations'")).scalar_one()
                plan = " ".join(str(r[-1]) for r in tx.conn.execute(sa.text(
                    "EXPLAIN QUERY PLAN SELECT resource_key FROM events "
                    "WHERE operation_id = 'x' AND action = 'create'")))
                assert "USING INDEX ix_events_creations" in plan
            else:
                definition = tx.conn.execute(sa.text(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_events_creations'")).scalar_one()
        assert "WHERE" in definition.upper() and "create" in definition  # partial: only the creations
        with store.tx() as tx:  # new creations stamped with an operation are found too
            tx.operation_id = "op-new"
            tx.resources.insert([Row(id="/D", subscription_id="sub-1", model="arm", type="T", name="D", doc={})])
        with store.read() as tx:
            assert tx.resources.keys_created_by("op-new", model="arm") == ["/d"]
    finally:
        store.dispose()
