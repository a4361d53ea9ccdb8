"""Every ARM write request is one transaction: a VNet PUT with several subnets commits the VNet and all its
subnet rows together, and a subnet found invalid when it is reached (the last one, overlapping an earlier one)
leaves nothing written, not even the removal of subnets the body left out.

Observed on the real store behind the live server: the engine's commits that wrote to the resources table
(SQLAlchemy's connection events), and the rows themselves."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import sqlalchemy as sa
from arm_env import SUB, Env

Q = {"api-version": "2024-07-01"}
RG = f"/subscriptions/{SUB}/resourceGroups/atomic"
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/v1"


@contextmanager
def writing_commits(env: Env) -> Iterator[list[int]]:
    """Counts (in the one-item list) the transactions committed while the block runs that wrote resource rows."""
    engine = env.ctx.store.engine
    count = [0]
    lock = threading.Lock()

    def on_execute(conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        head = statement.lstrip()[:40].upper()
        if head.startswith(("INSERT INTO RESOURCES", "UPDATE RESOURCES", "DELETE FROM RESOURCES")):
            conn.info["wrote_resources"] = True

    def on_commit(conn: Any) -> None:
        if conn.info.pop("wrote_resources", False):
            with lock:
                count[0] += 1

    def on_rollback(conn: Any) -> None:
        conn.info.pop("wrote_resources", None)

    listeners = [("before_cursor_execute", on_execute), ("commit", on_commit), ("rollback", on_rollback)]
    for name, fn in listeners:
        sa.event.listen(engine, name, fn)
    try:
        yield count
    finally:
        for name, fn in listeners:
            sa.event.remove(engine, name, fn)


def subnet(name: str, prefix: str) -> dict[str, Any]:
    return {"name": name, "properties": {"addressPrefix": prefix}}


def vnet_body(*subnets: dict[str, Any]) -> dict[str, Any]:
    return {"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]},
                                                 "subnets": list(subnets)}}


def rows_under(env: Env, arm_id: str) -> dict[str, tuple[int, str]]:
    with env.ctx.store.read() as tx:
        rows = tx.resources.query(SUB, model="arm", key_prefix=arm_id)
    return {r.key: (r.version, str(r.doc)) for r in rows}


def make_group(client: httpx.Client) -> None:
    assert client.put(RG, params=Q, json={"location": "westus"}).status_code in (200, 201)


def test_vnet_put_with_subnets_is_one_transaction(fresh: Env) -> None:
    with fresh.client() as client:
        with writing_commits(fresh) as commits:
            make_group(client)
        assert commits == [1]
        with writing_commits(fresh) as commits:
            resp = client.put(VNET, params=Q, json=vnet_body(
                subnet("a", "10.20.1.0/24"), subnet("b", "10.20.2.0/24"), subnet("c", "10.20.3.0/24")))
        assert resp.status_code == 201, resp.text
        assert commits == [1]
        assert sorted(k.rsplit("/", 1)[-1] for k in rows_under(fresh, VNET + "/subnets/")) == ["a", "b", "c"]
        listed = client.get(f"{VNET}/subnets", params=Q).json()["value"]
        assert sorted(s["name"] for s in listed) == ["a", "b", "c"]
        with writing_commits(fresh) as commits:  # replaced: one subnet removed, one changed, one added
            resp = client.put(VNET, params=Q, json=vnet_body(subnet("a", "10.20.1.0/24"),
                                                             subnet("c", "10.20.4.0/24"),
                                                             subnet("d", "10.20.5.0/24")))
        assert resp.status_code == 200, resp.text
        assert commits == [1]
        assert sorted(k.rsplit("/", 1)[-1] for k in rows_under(fresh, VNET + "/subnets/")) == ["a", "c", "d"]


def test_an_invalid_last_subnet_leaves_nothing_written(fresh: Env) -> None:
    with fresh.client() as client:
        make_group(client)
        with writing_commits(fresh) as commits:
            resp = client.put(VNET, params=Q, json=vnet_body(
                subnet("a", "10.20.1.0/24"), subnet("b", "10.20.2.0/24"), subnet("c", "10.20.1.128/25")))
        assert resp.status_code == 400, resp.text
        assert resp.json()["error"]["code"] == "NetcfgSubnetRangesOverlap"
        assert "Subnet 'c'" in resp.json()["error"]["message"]
        assert commits == [0]
        assert rows_under(fresh, VNET) == {}
        assert client.get(VNET, params=Q).status_code == 404

        assert client.put(VNET, params=Q, json=vnet_body(subnet("a", "10.20.1.0/24"),
                                                         subnet("b", "10.20.2.0/24"))).status_code == 201
        before = rows_under(fresh, VNET)
        with writing_commits(fresh) as commits:  # would remove b, add x, change a; the last is out of range
            resp = client.put(VNET, params=Q, json=vnet_body(subnet("x", "10.20.9.0/24"),
                                                             subnet("a", "10.20.7.0/24"),
                                                             subnet("z", "10.99.0.0/24")))
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "NetcfgSubnetRangeOutsideVnet"
        assert commits == [0]
        assert rows_under(fresh, VNET) == before


def test_subnet_and_group_writes_are_one_transaction_each(fresh: Env) -> None:
    with fresh.client() as client:
        make_group(client)
        assert client.put(VNET, params=Q, json=vnet_body(subnet("a", "10.20.1.0/24"))).status_code == 201
        with writing_commits(fresh) as commits:  # the VNet's inline list and the subnet's row
            assert client.put(f"{VNET}/subnets/b", params=Q,
                              json={"properties": {"addressPrefix": "10.20.2.0/24"}}).status_code in (200, 201)
        assert commits == [1]
        overlapping = client.put(f"{VNET}/subnets/c", params=Q, json={"properties": {"addressPrefix": "10.20.2.0/23"}})
        assert overlapping.status_code == 400 and overlapping.json()["error"]["code"] == "NetcfgSubnetRangesOverlap"
        vnet = client.get(VNET, params=Q).json()
        assert sorted(s["name"] for s in vnet["properties"]["subnets"]) == ["a", "b"]
        with writing_commits(fresh) as commits:
            assert client.patch(VNET, params=Q, json={"tags": {"k": "v"}}).status_code == 200
            assert client.delete(f"{VNET}/subnets/a", params=Q).status_code == 202
            assert client.delete(RG, params=Q).status_code == 202
        assert commits == [3]
        assert rows_under(fresh, RG) == {}
