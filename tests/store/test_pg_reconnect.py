"""A pooled PostgreSQL connection the server dropped (a database restart, an administrator's kill) is replaced:
pinged before use once it has been idle a while, else its one request fails with the reason and the pool
reconnects for the next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from classic2arm.service.context import store_failure
from classic2arm.store import Store, repository
from pg import PgCluster

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_cluster: PgCluster, request: pytest.FixtureRequest) -> Iterator[tuple[Store, str]]:
    name = f"reconnect_{abs(hash(request.node.name)) % 10**8}"
    store = Store.open(pg_cluster.create_database(name))
    try:
        yield store, name
    finally:
        store.dispose()


def _drop_connections(cluster: PgCluster, dbname: str) -> int:
    with cluster.connect() as admin:
        rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                             "AND pid <> pg_backend_pid()", (dbname,)).fetchall()
    return len(rows)


def _read(store: Store) -> int:
    with store.read() as tx:
        return tx.resources.count()


def test_an_idle_connection_is_pinged_and_replaced(pg_store: tuple[Store, str], pg_cluster: PgCluster,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store, name = pg_store
    assert _read(store) == 0
    assert _drop_connections(pg_cluster, name) >= 1
    monkeypatch.setattr(repository, "IDLE_PING_SECONDS", 0.0)  # every pooled connection counts as idle
    assert _read(store) == 0  # the dead connection was found by the ping and replaced: no error


def test_a_connection_dropped_just_now_fails_one_read_with_the_reason(pg_store: tuple[Store, str],
                                                                      pg_cluster: PgCluster) -> None:
    store, name = pg_store
    assert _read(store) == 0
    assert _drop_connections(pg_cluster, name) >= 1
    with pytest.raises(Exception) as failed:
        _read(store)
    assert store_failure(failed.value)  # reported as the database failing (a 503 with this reason), not a bug
    assert _read(store) == 0  # the pool reconnected


def test_a_point_read_on_a_dropped_connection_fails_once_and_the_pool_is_replaced(
        pg_store: tuple[Store, str], pg_cluster: PgCluster) -> None:
    # the token and resource reads of every API request run on the driver's cursor (store/point_reads.py)
    store, name = pg_store
    held = [store.engine.connect() for _ in range(2)]  # two pooled connections, both to be dropped
    for conn in held:
        conn.close()
    assert _drop_connections(pg_cluster, name) >= 2
    with pytest.raises(Exception) as failed, store.read() as tx:
        tx.credentials.get("no-such-token")
    assert store_failure(failed.value)
    with store.read() as tx:  # not the other dead connection: the pool was replaced
        assert tx.credentials.get("no-such-token") is None
        assert tx.resources.get("/no/such/resource") is None
