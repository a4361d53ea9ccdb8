"""Issue 11 item 7, the store's side (SQLite files): URLs it cannot use, files that are not its databases, a
file that vanishes or is replaced while open, `?mode=ro`, and `create=False`; each an `Unavailable` with the
reason, or a driver error `store_failure` explains in a line."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from classic2arm.service.context import store_failure
from classic2arm.store import Store, Unavailable
from classic2arm.store.repository import parse_url, sqlite_path

SUB = {"id": "sub-a", "displayName": "a", "state": "Enabled"}


def made(path: Path) -> Path:
    store = Store.open(f"sqlite:///{path}")
    try:
        with store.tx() as tx:
            tx.subscriptions.put(SUB)
    finally:
        store.dispose()
    return path


@pytest.mark.parametrize(("url", "words"), [
    ("mysql://u:secret@db/x", "mysql databases are not supported"),
    ("notaurl", "'notaurl' is not a database URL"),
    ("sqlite://", "in-memory"),
    ("sqlite:///:memory:", "in-memory"),
    ("sqlite:///file::memory:?uri=true", "in-memory"),
    ("sqlite:///x\x00.db", "cannot contain a NUL"),
])
def test_urls_the_store_cannot_use(url: str, words: str) -> None:
    with pytest.raises(Unavailable, match=words) as caught:
        Store.open(url)
    assert "secret" not in str(caught.value)


def test_uri_parameters_reach_sqlite(tmp_path: Path) -> None:
    parsed = parse_url(f"sqlite:///{tmp_path / 'a b.db'}?mode=ro")
    assert parsed.database == f"file:{tmp_path}/a%20b.db" and parsed.query["uri"] == "true"
    assert sqlite_path(parsed) == tmp_path / "a b.db"
    assert parse_url("postgresql://u@h/d").drivername == "postgresql+psycopg"


def test_a_missing_file_is_not_created_when_asked_not_to(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(Unavailable, match=f"no database at {path}"):
        Store.open(f"sqlite:///{path}", create=False)
    with pytest.raises(Unavailable, match=f"no database at {path}"):
        Store.open(f"sqlite:///{path}?mode=ro")
    assert not path.exists()
    Store.open(f"sqlite:///{made(path)}", create=False).dispose()


def test_files_that_are_not_a_classic2arm_database(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database, just some text\n" * 100)
    with pytest.raises(sa.exc.DatabaseError) as caught:
        Store.open(f"sqlite:///{text}")
    assert store_failure(caught.value) == "not a database file (or an encrypted one) (file is not a database)"
    assert text.read_text() == "not a database, just some text\n" * 100

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    with pytest.raises(Unavailable, match="not a classic2arm database"):
        Store.open(f"sqlite:///{foreign}")
    with sqlite3.connect(foreign) as conn:  # nothing of ours was added
        assert conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall() == [("customers",)]

    newer = made(tmp_path / "newer.db")
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(Unavailable, match="revision '9999'"):
        Store.open(f"sqlite:///{newer}")


def test_a_corrupted_file_is_explained(tmp_path: Path) -> None:
    path = made(tmp_path / "corrupt.db")
    data = bytearray(path.read_bytes())
    data[100:len(data)] = b"\xa5" * (len(data) - 100)  # the header survives, every page is garbage
    path.write_bytes(bytes(data))
    with pytest.raises(sa.exc.DatabaseError) as caught:
        store = Store.open(f"sqlite:///{path}")
        with store.read() as tx:
            tx.subscriptions.all()
    detail = store_failure(caught.value)
    assert detail is not None and ("corrupted" in detail or "not a database" in detail), detail


def test_mode_ro_opens_read_only(tmp_path: Path) -> None:
    path = made(tmp_path / "ro.db")
    store = Store.open(f"sqlite:///{path}?mode=ro")
    try:
        assert store.read_only
        with store.read() as tx:
            assert tx.subscriptions.all() == [SUB]
        with pytest.raises(Unavailable, match="read-only"), store.tx() as tx:
            tx.subscriptions.put({**SUB, "id": "sub-b"})
        with store.read() as tx, pytest.raises(sa.exc.OperationalError) as caught:  # SQLite itself refuses too
            tx.conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES ('x', '1')")
        assert "read-only" in str(store_failure(caught.value))
    finally:
        store.dispose()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(Unavailable, match="read-only but its schema needs creating"):
        Store.open(f"sqlite:///{empty}?mode=ro")


def test_a_deleted_or_replaced_file_refuses_every_transaction(tmp_path: Path) -> None:
    path = made(tmp_path / "gone.db")
    store = Store.open(f"sqlite:///{path}")
    try:
        with store.tx() as tx:
            tx.subscriptions.put({**SUB, "id": "sub-b"})
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            (path.parent / name).unlink(missing_ok=True)
        with pytest.raises(Unavailable, match=f"{path} was deleted or replaced"), store.tx() as tx:
            tx.subscriptions.put({**SUB, "id": "sub-c"})
        with pytest.raises(Unavailable, match="deleted or replaced"), store.read():
            pass
        made(tmp_path / "other.db")
        os.replace(tmp_path / "other.db", path)  # another database in its place is not ours either
        with pytest.raises(Unavailable, match="deleted or replaced"), store.tx():
            pass
    finally:
        store.dispose()
