"""Several `classic2arm serve` processes on one PostgreSQL database (issue 4, "Several processes"): prepares
of different VNets run concurrently through both servers; the server running one of them is killed with
SIGKILL mid-prepare and the other server finishes that operation; the migration invariants hold."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from classic2arm.domain import generator
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import clock, estate, migration, status, world_clock
from classic2arm.service.context import AppContext
from classic2arm.store import OperationRecord

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from invariants import check_invariants

pytestmark = pytest.mark.postgres

SUB = "00000000-0000-0000-0000-000000000001"  # the generator's subscription
VMS, VNETS = 4000, 4  # ~1,000 VMs a VNet: a prepare takes seconds and runs step by step
SERVER_ENV = {"CLASSIC2ARM_LEASE_SECONDS": "2"}
ASM = {"x-ms-version": "2016-07-01"}


@pytest.fixture
def estate_db(pg_cluster: Any, request: pytest.FixtureRequest) -> tuple[str, list[str]]:
    """A fresh database with a generated estate of several VNets; returns its URL and the VNet names."""
    name = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40]
    url: str = pg_cluster.create_database(f"mp_{name}_{int(time.time() * 1000) % 100000}")
    ctx = AppContext.open(url)
    try:
        world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
        estate.import_estate(ctx, generator.generate(vms=VMS, vnets=VNETS, seed=11), source="generator")
        vnets = sorted(u.name for u in status.status(ctx) if u.kind == "vnet")
    finally:
        ctx.close()
    assert len(vnets) >= 4
    return url, vnets


def _pid(owner: str | None) -> int | None:
    parts = (owner or "").split(":")
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def _ops(ctx: AppContext, ids: list[str]) -> dict[str, OperationRecord]:
    with ctx.store.read() as tx:
        return {i: op for i in ids if (op := tx.operations.get(i)) is not None}


def _kill_mid_prepare(api: Any, ctx: AppContext, ids: list[str], servers: list[Any]) -> tuple[Any, str]:
    """Wait until one of `servers` (in order of preference) is running one of the operations past its first
    step, then SIGKILL that server. Returns the server killed and the operation it was running."""
    by_pid = {s.pid: s for s in servers}

    def running() -> tuple[Any, str] | None:
        ops = _ops(ctx, ids)
        for server in servers:
            for op_id, op in ops.items():
                step = int((op.progress or {}).get("step", 0))
                if op.status == "InProgress" and _pid(op.lease_owner) == server.pid and step >= 1:
                    return server, op_id
        return None

    victim, op_id = api.wait_for(running, timeout=60, interval=0.02, what="a server mid-prepare")
    assert victim.pid in by_pid
    victim.kill()
    op = _ops(ctx, [op_id])[op_id]
    assert op.status == "InProgress", "the operation finished before the kill: make the VNets bigger"
    return victim, op_id


def _wait_all_done(api: Any, ctx: AppContext, ids: list[str], timeout: float = 180) -> dict[str, OperationRecord]:
    def done() -> dict[str, OperationRecord] | None:
        ops = _ops(ctx, ids)
        return ops if all(op.status != "InProgress" for op in ops.values()) else None

    result: dict[str, OperationRecord] = api.wait_for(done, timeout=timeout, interval=0.2, what="all operations")
    return result


def _assert_finished(ctx: AppContext, ops: dict[str, OperationRecord], vnets: list[str]) -> None:
    failed = {i: (op.error_code, op.error_message) for i, op in ops.items() if op.status != "Succeeded"}
    assert not failed, failed
    states = {u.name: u.state for u in status.status(ctx) if u.kind == "vnet"}
    assert all(states[v] == "Prepared" for v in vnets), states
    check_invariants(ctx)


def test_a_killed_server_s_prepare_is_finished_by_the_other(api: Any, estate_db: tuple[str, list[str]],
                                                            start_server: Any) -> None:
    """The operations are accepted through the service layer; both servers' background loops pick them up."""
    url, vnets = estate_db
    a = start_server(url, env=SERVER_ENV)
    b = start_server(url, env=SERVER_ENV)
    ctx = AppContext.open(url, SUB)
    try:
        ids = [migration.start(ctx, Op.PREPARE, UnitRef(UnitKind.VNET, v)).id for v in vnets]
        victim, op_id = _kill_mid_prepare(api, ctx, ids, [a, b])
        survivor = b if victim is a else a
        ops = _wait_all_done(api, ctx, ids)
        _assert_finished(ctx, ops, vnets)
        assert re.search(rf"operation {op_id} \(prepare of .*\): Succeeded", survivor.log_text()), \
            "the surviving server did not finish the killed server's operation"
        assert survivor.proc.poll() is None
    finally:
        ctx.close()


def test_prepares_through_both_servers_asm_endpoints_survive_a_sigkill(
        api: Any, estate_db: tuple[str, list[str]], start_server: Any) -> None:
    """Prepares of different VNets through server A's and server B's ASM endpoints; A is killed mid-prepare,
    B finishes its operation (and reports it through Get Operation Status)."""
    url, vnets = estate_db
    a = start_server(url, env=SERVER_ENV)
    b = start_server(url, env=SERVER_ENV)
    token = api.mint_token(url, SUB)
    ids: list[str] = []
    with a.client(token=token, headers=ASM) as ca, b.client(token=token, headers=ASM) as cb:
        for i, vnet in enumerate(vnets):
            client = ca if i % 2 == 0 else cb
            r = client.post(f"/{SUB}/services/networking/virtualnetwork/{vnet}/migration",
                            params={"comp": "prepare"})
            assert r.status_code == 202, r.text
            ids.append(r.headers["x-ms-request-id"].replace("-", "").lower())
        ctx = AppContext.open(url, SUB)
        try:
            victim, op_id = _kill_mid_prepare(api, ctx, ids, [a])
            assert victim is a
            _wait_all_done(api, ctx, ids)
            for each in ids:  # Get Operation Status through the survivor
                r = cb.get(f"/{SUB}/operations/{each}")
                assert r.status_code == 200, r.text
                assert "<Status>Succeeded</Status>" in r.text, r.text
            _assert_finished(ctx, _ops(ctx, ids), vnets)
            assert op_id in b.log_text()
        finally:
            ctx.close()
