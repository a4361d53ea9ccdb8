"""Operations on one unit started at once from many threads (issue 11 item 3), on SQLite and on PostgreSQL:
every caller joins the one operation, gets the idempotent no-op of a finished one, or gets the state machine's
refusal — never another error — and exactly one operation runs. (Two server processes: tests/api/
test_race_servers.py.)"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from classic2arm.domain import generator
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import clock, estate, migration, operations, status, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.errors import ServiceError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from invariants import check_invariants
from races import Answer, check_commit_abort_race, check_prepare_race, race, unit_ops, vnet_unit

THREADS = 16


@pytest.fixture
def race_ctx(store_url: str) -> Iterator[AppContext]:
    c = AppContext.open(store_url)
    world_clock.set_clock(c, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(c, generator.generate(vms=24, vnets=3, seed=11, blockers=0.0), source="gen")
    yield c
    c.close()


def vnet_names(ctx: AppContext) -> list[str]:
    return sorted(u.name for u in status.status(ctx) if u.kind == "vnet")


def accept_and_run(ctx: AppContext, op: Op, ref: UnitRef) -> Answer:
    """What the ASM endpoint does: accept (or refuse), then run in the background (here: right away)."""
    try:
        view = migration.start(ctx, op, ref)
    except ServiceError as exc:
        assert 400 <= exc.http_status < 500, exc
        return exc.code, exc.message
    if view.status == operations.IN_PROGRESS:
        migration.run(ctx, view.id)
    return view.id


def test_racing_first_prepares_join_one_operation(race_ctx: AppContext) -> None:
    name = vnet_names(race_ctx)[0]
    ref = UnitRef(UnitKind.VNET, name)
    answers = race(THREADS, lambda _: accept_and_run(race_ctx, Op.PREPARE, ref))
    check_prepare_race(answers, unit_ops(race_ctx, name))
    assert vnet_unit(race_ctx, name).state == "Prepared"
    check_invariants(race_ctx)


def test_racing_first_prepares_accepted_only_all_get_its_id(race_ctx: AppContext) -> None:
    """Nobody runs the operation meanwhile: every caller gets the one in-progress operation's id."""
    name = vnet_names(race_ctx)[0]
    ref = UnitRef(UnitKind.VNET, name)
    ids = set(race(THREADS, lambda _: migration.start(race_ctx, Op.PREPARE, ref).id))
    assert len(ids) == 1, ids
    [op_id] = ids
    assert list(unit_ops(race_ctx, name)) == [op_id]
    assert migration.run(race_ctx, op_id).status == operations.SUCCEEDED
    check_invariants(race_ctx)


def test_racing_commits_and_aborts_of_a_prepared_unit(race_ctx: AppContext) -> None:
    for name in vnet_names(race_ctx):  # a VNet per round: either operation may win
        ref = UnitRef(UnitKind.VNET, name)
        assert isinstance(accept_and_run(race_ctx, Op.PREPARE, ref), str)
        answers = race(THREADS, lambda i, ref=ref: accept_and_run(race_ctx, (Op.COMMIT, Op.ABORT)[i % 2], ref))
        winner = check_commit_abort_race(ref, answers, unit_ops(race_ctx, name))
        assert vnet_unit(race_ctx, name).state == ("Committed" if winner == Op.COMMIT else "Aborted")
        check_invariants(race_ctx)
