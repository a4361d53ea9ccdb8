"""Racing one unit's operations through two `classic2arm serve` processes on one PostgreSQL database (issue 11
item 3): 20 clients post the first prepare of a VNet at once, half to each server; then commits and aborts of
the prepared VNet. Every answer is a 202 with the one operation's id (or the idempotent no-op's, once it has
finished) or the state machine's 400 refusal — never a 500 — and exactly one operation runs."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from classic2arm.domain import generator
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import clock, estate, status, world_clock
from classic2arm.service.context import AppContext

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from invariants import check_invariants
from races import HANG_GUARD, Answer, check_commit_abort_race, check_prepare_race, race, unit_ops, vnet_unit

pytestmark = pytest.mark.postgres

SUB = "00000000-0000-0000-0000-000000000001"  # the generator's subscription
CLIENTS = 20
ASM = {"x-ms-version": "2016-07-01"}


@pytest.fixture
def small_estate_db(pg_cluster: Any, request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40]
    url: str = pg_cluster.create_database(f"race_{name}_{int(time.time() * 1000) % 100000}")
    ctx = AppContext.open(url)
    try:
        world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
        estate.import_estate(ctx, generator.generate(vms=40, vnets=4, seed=11, blockers=0.0), source="generator")
    finally:
        ctx.close()
    return url


def _answer(r: httpx.Response) -> Answer:
    """A 202's operation id, or a 400's (code, message); anything else fails the test."""
    if r.status_code == 202:
        return r.headers["x-ms-request-id"].replace("-", "").lower()
    assert r.status_code == 400, (r.status_code, r.text)
    doc = etree.fromstring(r.content)
    return doc.findtext("{*}Code") or "", doc.findtext("{*}Message") or ""


def _post_at_once(clients: list[httpx.Client], vnet: str, comps: list[str]) -> list[Answer]:
    path = f"/{SUB}/services/networking/virtualnetwork/{vnet}/migration"
    return race(len(comps), lambda i: _answer(clients[i].post(path, params={"comp": comps[i]})))


def _settle(api: Any, ctx: AppContext, vnet: str) -> None:
    """Wait (a hang guard only) until none of the VNet's operations is in progress."""
    api.wait_for(lambda: all(op.status != "InProgress" for op in unit_ops(ctx, vnet).values()),
                 timeout=HANG_GUARD, interval=0.1, what=f"the operations of {vnet}")


def test_first_prepares_and_then_commits_and_aborts_raced_through_two_servers(
        api: Any, small_estate_db: str, start_server: Any) -> None:
    url = small_estate_db
    servers = [start_server(url), start_server(url)]
    token = api.mint_token(url, SUB)
    ctx = AppContext.open(url, SUB)
    clients = [servers[i % 2].client(token=token, headers=ASM) for i in range(CLIENTS)]  # a connection each
    try:
        vnets = sorted(u.name for u in status.status(ctx) if u.kind == "vnet")
        assert len(vnets) >= 2
        for vnet in vnets:  # a round per VNet: first prepares, then commits and aborts
            answers = _post_at_once(clients, vnet, ["prepare"] * CLIENTS)
            _settle(api, ctx, vnet)
            check_prepare_race(answers, unit_ops(ctx, vnet))
            assert vnet_unit(ctx, vnet).state == "Prepared"

            # each server gets both: commit, commit, abort, abort, … over clients alternating between them
            answers = _post_at_once(clients, vnet, [("commit", "abort")[(i // 2) % 2] for i in range(CLIENTS)])
            _settle(api, ctx, vnet)
            winner = check_commit_abort_race(UnitRef(UnitKind.VNET, vnet), answers, unit_ops(ctx, vnet))
            assert vnet_unit(ctx, vnet).state == ("Committed" if winner == Op.COMMIT else "Aborted")
        check_invariants(ctx)
        for server in servers:
            assert server.proc.poll() is None
            assert "Traceback" not in server.log_text(), server.log_text()[-4000:]
    finally:
        for client in clients:
            client.close()
        ctx.close()
