"""`Store.snapshot()`: the reads of one request in one read transaction, and no writes inside it."""

from __future__ import annotations

import threading

import pytest

from classic2arm.store import Store

from .test_store import mk


def test_reads_inside_a_snapshot_share_one_transaction(store: Store) -> None:
    row = mk("Shared")
    with store.tx() as tx:
        tx.resources.insert([row])
    with store.snapshot():
        with store.read() as first:
            assert first.resources.get(row.id) is not None
        with store.read() as second:
            assert second is first  # the same transaction, the same connection
            assert second.resources.get(row.id) == row
    with store.read() as after:
        assert after is not first


def test_a_write_inside_a_snapshot_is_refused_and_nothing_is_written(store: Store) -> None:
    with store.snapshot(), pytest.raises(RuntimeError, match="snapshot"), store.tx() as tx:
        tx.resources.insert([mk("Lost")])
    with store.read() as tx:
        assert tx.resources.get(mk("Lost").id) is None


def test_a_snapshot_belongs_to_its_thread(store: Store) -> None:
    seen: list[object] = []

    def other_thread() -> None:
        with store.read() as tx:
            seen.append(tx)
        with store.tx() as tx:  # this thread has no snapshot: it may write
            tx.resources.insert([mk("FromWorker")])

    with store.snapshot(), store.read() as mine:
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join(30)
        assert seen and seen[0] is not mine
    with store.read() as tx:
        assert tx.resources.get(mk("FromWorker").id) is not None


@pytest.mark.parametrize(("url", "local"), [
    ("postgresql://u@127.0.0.1:5432/db", True),
    ("postgresql://u@127.9.9.9/db", True),
    ("postgresql://u@[::1]:5432/db", True),
    ("postgresql://u@localhost/db", True),
    ("postgresql:///db", True),  # libpq's default: a unix socket
    ("postgresql://u@/db?host=/run/postgresql", True),
    ("postgresql://u@db.example.com/db", False),
    ("postgresql://u@10.0.0.5:5432/db", False),
])
def test_a_database_server_is_on_this_host_only_over_a_socket_or_loopback(url: str, local: bool) -> None:
    # decides whether a one-resource GET may read on the event loop (api/arm/routes.py)
    import sqlalchemy as sa

    engine = sa.create_engine(url)  # no connection is made
    try:
        assert Store(engine).on_this_host is local
    finally:
        engine.dispose()


def test_a_sqlite_store_is_on_this_host(store: Store) -> None:
    assert store.on_this_host


def test_reads_wait_when_every_pooled_connection_is_busy(store: Store) -> None:
    # a one-resource GET is answered on the event loop only while a pooled connection is free
    assert store.reads_without_waiting()
    size = store.engine.pool.size()  # type: ignore[attr-defined]
    held = [store.engine.connect() for _ in range(size)]
    try:
        assert not store.reads_without_waiting()
    finally:
        for conn in held:
            conn.close()
    assert store.reads_without_waiting()
