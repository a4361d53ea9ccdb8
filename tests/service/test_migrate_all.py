"""`migrate_all`: the plan run wave by wave over the bulk path (issue 12, item 4), on a generated estate with
blockers: what migrates, what is reported and why, selection, dry run, retries of transient faults, stopping at
a hard failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
from invariants import check_invariants

from classic2arm.domain import catalogue as msg
from classic2arm.domain import generator
from classic2arm.domain.planning.model import Plan
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Category, UnitKind, UnitRef
from classic2arm.service import bulk, clock, estate, faults, migration, operations, status, world_clock
from classic2arm.service import migrate_all as ma
from classic2arm.service.context import AppContext
from classic2arm.service.errors import ServiceError
from classic2arm.service.plan import build_plan


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("migrate_all") / "base.db"
    ctx = AppContext.open(f"sqlite:///{db}")
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(ctx, generator.generate(vms=300, seed=1, blockers=0.2), source="gen")
    ctx.close()
    return db


@pytest.fixture
def mctx(base_db: Path, tmp_path: Path) -> Iterator[AppContext]:
    db = tmp_path / "m.db"
    shutil.copy(base_db, db)
    ctx = AppContext.open(f"sqlite:///{db}")
    yield ctx
    ctx.close()


def _req(commit: bool = True, **kw: object) -> ma.MigrateRequest:
    return ma.MigrateRequest(commit=commit, retry_delay=0, **kw)  # type: ignore[arg-type]


def _key(ref: UnitRef) -> tuple[str, str, str]:
    return ref.kind.value, ref.name.lower(), (ref.service or "").lower()


def _states(ctx: AppContext) -> dict[tuple[str, str, str], str]:
    return {_key(u.ref): u.state for u in status.status(ctx)}


def _has_unattached(ctx: AppContext, account: str) -> bool:
    """Whether the account still holds disks that no VM uses, or images (R42 at prepare: no migration helps)."""
    plan = build_plan(ctx)
    unit = next(u for u in plan.units if u.ref.kind == UnitKind.STORAGE and u.ref.name == account)
    return any(w.rule == "R56" for w in unit.warnings)


def test_commit_migrates_every_unit_without_blockers_and_reports_the_rest(mctx: AppContext) -> None:
    plan = build_plan(mctx)
    errors = {_key(v.unit.ref): [m.message for m in v.result.messages if m.category == Category.ERROR]
              for v in bulk.validate_all(mctx)}
    report = ma.migrate_all(mctx, _req(keep_going=True))
    check_invariants(mctx)
    by_key = {_key(u.ref): u for u in report.units}
    assert len(by_key) == len(report.units) == len(plan.units)
    states = _states(mctx)
    for u in report.units:
        if u.outcome == ma.MIGRATED:
            assert states.get(_key(u.ref), "Committed") == "Committed"
        elif u.outcome == ma.BLOCKED:  # its blockers, exactly as validate --all gives them
            assert list(u.reasons) == errors[_key(u.ref)] and u.reasons
            assert states[_key(u.ref)] == "NotPrepared"
        elif u.outcome == ma.WAITING:  # a storage account holding disks of VMs of blocked units, or a reserved IP
            # or NSG that migrates with the unit that uses it
            if u.ref.kind == UnitKind.STORAGE:
                assert "not yet committed" in u.reasons[0]
            else:
                assert "migrates with" in u.reasons[0] and errors[_key(u.ref)][0] in u.reasons[0]
            assert states[_key(u.ref)] == "NotPrepared"
        else:  # storage holding unattached disks or images: R42, which no migration can clear
            assert u.outcome == ma.FAILED and u.ref.kind == UnitKind.STORAGE, u
            assert msg.R42_ACCOUNT_IN_USE.text(name=u.ref.name) in u.reasons[0]
            assert _has_unattached(mctx, u.ref.name)
    unblocked = [u for u in plan.units if not u.blockers and u.ref.kind != UnitKind.STORAGE]
    assert unblocked and all(by_key[_key(u.ref)].outcome == ma.MIGRATED for u in unblocked)
    assert report.count(ma.BLOCKED) and report.count(ma.WAITING) and report.count(ma.MIGRATED) > 20
    assert report.count(ma.MIGRATED) + report.count(ma.BLOCKED) + report.count(ma.WAITING) + \
        report.count(ma.FAILED) == len(report.units)
    # a storage account with nothing but its VMs' disks went after them
    assert any(u.ref.kind == UnitKind.STORAGE and u.outcome == ma.MIGRATED for u in report.units)

    # run again: nothing left to do, nothing new written, the same report of what migrated
    with mctx.store.read() as tx:
        ops_before = len(tx.operations.all(status="Succeeded"))
    again = ma.migrate_all(mctx, _req(keep_going=True))
    with mctx.store.read() as tx:
        ops_after = len(tx.operations.all(status="Succeeded"))
    assert ops_after == ops_before
    # (reserved IPs that moved with their cloud service have left the plan: no classic side, no unit record)
    moved = {_key(u.ref) for u in report.units if u.outcome == ma.MIGRATED and u.reasons}
    assert moved and all(k[0] == "reserved-ip" for k in moved)
    assert {_key(u.ref) for u in again.units if u.outcome == ma.MIGRATED} == \
        {_key(u.ref) for u in report.units if u.outcome == ma.MIGRATED} - moved
    # units committed by the earlier run are reported with their VMs (counted at their prepare), not 0
    vms_then = {_key(u.ref): u.vms for u in report.units if u.outcome == ma.MIGRATED}
    done_now = [u for u in again.units if u.outcome == ma.MIGRATED]
    assert all(u.wave is None for u in done_now)
    assert {_key(u.ref): u.vms for u in done_now} == {k: n for k, n in vms_then.items() if k not in moved}
    assert again.to_json()["vms"]["migrated"] == report.to_json()["vms"]["migrated"] > 0
    assert {u.key: u.vms for u in build_plan(mctx).done} == {u.key: u.vms for u in plan.units
                                                           if (u.ref.kind.value, u.ref.name.lower(),
                                                               (u.ref.service or "").lower()) in vms_then
                                                           and _key(u.ref) not in moved}


def test_prepare_only_stops_before_commit_then_commit_carries_on(mctx: AppContext) -> None:
    report = ma.migrate_all(mctx, _req(commit=False, keep_going=True))
    check_invariants(mctx)
    states = _states(mctx)
    assert "Committed" not in {states.get(_key(u.ref)) for u in report.units if u.ref.kind != UnitKind.RESERVED_IP}
    prepared = [u for u in report.units if u.outcome == ma.PREPARED]
    assert prepared and all(states[_key(u.ref)] == "Prepared" for u in prepared)
    # storage accounts whose disks belong to VMs that have not committed wait (not failed)
    waiting = [u for u in report.units if u.outcome == ma.WAITING]
    assert any(u.ref.kind == UnitKind.STORAGE for u in waiting)
    assert all(u.ref.kind == UnitKind.STORAGE or "migrates with" in u.reasons[0] for u in waiting)
    assert {u.ref.kind for u in report.units if u.outcome == ma.FAILED} <= {UnitKind.STORAGE}
    assert report.complete is False and report.stopped is None

    after = ma.migrate_all(mctx, _req(commit=True, keep_going=True))
    check_invariants(mctx)
    went = {_key(u.ref) for u in after.units if u.outcome == ma.MIGRATED}
    assert {_key(u.ref) for u in prepared} <= went


def test_wave_and_unit_select(mctx: AppContext) -> None:
    plan = build_plan(mctx)
    wave = next(w for w in plan.waves if sum(not u.blockers for u in w.units) >= 3)
    before = _states(mctx)
    report = ma.migrate_all(mctx, _req(wave=wave.number))
    assert {u.wave for u in report.units} == {wave.number}
    assert len(report.units) == len(wave.units)
    after = _states(mctx)
    mine = {_key(u.ref) for u in wave.units}
    changed = {k for k in before if before[k] != after.get(k, "gone")}
    assert changed and {k for k in changed if k[0] != "reserved-ip"} <= mine  # (reserved IPs move with their VIPs)

    other = next(u for w in plan.waves if w.number != wave.number for u in w.units if not u.blockers
                 and u.migration_state == "NotPrepared")
    one = ma.migrate_all(mctx, _req(units=(other.ref,)))
    assert [(_key(u.ref), u.outcome) for u in one.units] == [(_key(other.ref), ma.MIGRATED)]

    with pytest.raises(ServiceError, match="no wave 99"):
        ma.migrate_all(mctx, _req(wave=99))
    with pytest.raises(ServiceError, match="vnet nosuch"):
        ma.migrate_all(mctx, _req(units=(UnitRef(UnitKind.VNET, "nosuch"),)))


def test_dry_run_writes_nothing(mctx: AppContext) -> None:
    def marks() -> tuple[int, int, int]:
        with mctx.store.read() as tx:
            return tx.events.last_seq(), len(tx.operations.all()), len(tx.units.all())

    before = marks()
    report = ma.migrate_all(mctx, _req(dry_run=True))
    assert marks() == before
    assert report.count(ma.WOULD_MIGRATE) > 20 and report.count(ma.BLOCKED)
    assert not report.count(ma.MIGRATED) and not report.count(ma.FAILED)
    # what a real run then migrates is what the dry run said would (storage aside: R42 shows only at prepare)
    real = ma.migrate_all(mctx, _req(keep_going=True))
    said = {_key(u.ref) for u in report.units if u.outcome == ma.WOULD_MIGRATE and u.ref.kind != UnitKind.STORAGE}
    went = {_key(u.ref) for u in real.units if u.outcome == ma.MIGRATED and u.ref.kind != UnitKind.STORAGE}
    assert said <= went


def test_transient_faults_are_retried_with_backoff(mctx: AppContext) -> None:
    faults.set_fault(mctx, "prepare.create", "R48", times=2)
    faults.set_fault(mctx, "commit.remove_classic", "R47", times=1)
    waits: list[float] = []
    plan = build_plan(mctx)
    wave = next(w for w in plan.waves if sum(not u.blockers for u in w.units) >= 3)
    report = ma.migrate_all(mctx, ma.MigrateRequest(commit=True, wave=wave.number, retry_delay=0.5),
                            sleep=waits.append)
    check_invariants(mctx)
    assert not faults.list_faults(mctx)  # every armed failure happened
    ready = [u for u in report.units if u.ref in {p.ref for p in wave.units if not p.blockers}]
    assert ready and all(u.outcome == ma.MIGRATED for u in ready), [u for u in ready if u.outcome != ma.MIGRATED]
    assert sum(u.attempts for u in ready) == 2 * len(ready) + 3  # two prepares and one commit done twice
    # the two units whose prepare failed are retried together, once; then the one commit
    assert waits == [0.5, 0.5]


def test_retries_run_out_then_the_unit_fails_and_the_run_stops(mctx: AppContext) -> None:
    faults.set_fault(mctx, "prepare.lock", "R49", times=100)
    waits: list[float] = []
    report = ma.migrate_all(mctx, ma.MigrateRequest(commit=True, retries=2, retry_delay=1), sleep=waits.append)
    check_invariants(mctx)
    failed = [u for u in report.units if u.outcome == ma.FAILED]
    # (the first wave's units fail together: each tried three times, in the same rounds)
    assert failed and all("after 3 attempts" in u.reasons[0] and u.attempts == 3 for u in failed)
    assert all("XrpVirtualNetworkMigrationError" in u.reasons[0] for u in failed)
    assert {u.wave for u in failed} == {1}
    assert waits == [1, 2]
    assert report.stopped and any(u.ref.describe() in report.stopped for u in failed)
    assert report.count(ma.NOT_RUN) and not report.count(ma.MIGRATED)


def _with_hidden_blocker(plan: Plan) -> tuple[Plan, UnitRef, int]:
    """The plan with one blocked deployment put first in its wave as if it had no blockers: its prepare then
    fails (prepare validates again), a hard failure."""
    for i, wave in enumerate(plan.waves):
        bad = next((u for u in wave.units if u.blockers and u.ref.kind == UnitKind.DEPLOYMENT), None)
        if bad is not None and sum(not u.blockers for u in wave.units) >= 2:
            units = (replace(bad, blockers=()), *(u for u in wave.units if u is not bad))
            waves = (*plan.waves[:i], replace(wave, units=units), *plan.waves[i + 1:])
            return replace(plan, waves=waves), bad.ref, wave.number
    raise AssertionError("no wave with a blocked deployment")


def test_a_hard_failure_stops_the_wave_unless_keep_going(mctx: AppContext, tmp_path: Path) -> None:
    plan, bad, number = _with_hidden_blocker(build_plan(mctx))
    report = ma.execute_plan(mctx, plan, _req())
    check_invariants(mctx)
    outcome = {_key(u.ref): u for u in report.units}
    assert outcome[_key(bad)].outcome == ma.FAILED
    assert report.stopped and bad.describe() in report.stopped
    rest = [u for u in report.units if u.wave is not None and u.wave >= number and _key(u.ref) != _key(bad)
            and u.outcome != ma.BLOCKED]
    assert rest and all(u.outcome in (ma.NOT_RUN, ma.WAITING) for u in rest)
    assert all(u.outcome in (ma.MIGRATED, ma.BLOCKED, ma.WAITING) for u in report.units if u.wave is not None
               and u.wave < number)

    going = ma.execute_plan(mctx, plan, _req(keep_going=True))
    check_invariants(mctx)
    assert going.stopped is None
    outcome = {_key(u.ref): u for u in going.units}
    assert outcome[_key(bad)].outcome == ma.FAILED
    assert all(u.outcome == ma.MIGRATED for u in going.units if u.wave == number and not u.reasons)


def test_a_unit_another_operation_holds_is_waited_for(mctx: AppContext) -> None:
    plan = build_plan(mctx)
    target = next(u for w in plan.waves for u in w.units if not u.blockers and u.ref.kind == UnitKind.DEPLOYMENT)
    view = migration.start(mctx, Op.PREPARE, target.ref)
    other = f"{operations.HOST}:{os.getpid()}:someone-else"  # a live owner: nobody may take it over
    with mctx.store.tx() as tx:
        assert operations.claim(tx, view.id, other)

    def sleep(_seconds: float) -> None:  # meanwhile the other process finishes its prepare
        migration.run(mctx, view.id, owner=other)

    report = ma.migrate_all(mctx, _req(units=(target.ref,)), sleep=sleep)
    (u,) = report.units
    assert u.outcome == ma.MIGRATED and u.state == "Committed"
    check_invariants(mctx)


def test_transient_classification() -> None:
    assert msg.is_transient("InternalError", "Internal server error")
    assert msg.is_transient("DeploymentFailed", msg.R48_TEMPLATE.text(template="t", guid="g"))
    assert msg.is_transient("BadRequest", msg.R46_PREPARING_UNIT.text(kind="vnet", name="v"))
    assert msg.is_transient("BadRequest", msg.R46_COMMITTING.text("d", "s"))
    assert not msg.is_transient("BadRequest", msg.R45_NOT_PREPARED_UNIT.text(kind="vnet", name="v"))
    assert not msg.is_transient("BadRequest", msg.R42_ACCOUNT_IN_USE.text(name="acct"))


def test_progress_counts_units_and_vms_up_to_what_migrated(mctx: AppContext) -> None:
    seen: list[ma.MigrateProgress] = []
    report = ma.migrate_all(mctx, _req(keep_going=True), progress=seen.append)
    first, last = seen[0], seen[-1]
    assert first.units_done == 0 and first.units_total == last.units_total == len(report.units)
    assert last.doing == "done" and last.units_done == report.count(ma.MIGRATED) - sum(
        1 for u in report.units if u.outcome == ma.MIGRATED and u.reasons)  # (not the ones that moved with a user)
    assert last.vms_done == sum(u.vms for u in report.units if u.outcome == ma.MIGRATED)
    assert last.vms_total == sum(u.vms for u in report.units) and last.work_total > 0
    assert all(a.work_done <= b.work_done for a, b in pairwise(seen))


def test_an_nsg_or_route_table_cloned_with_its_vnet_is_reported_as_it_is(tmp_path: Path) -> None:
    """Spec §3: a VNet's commit clones its subnets' NSGs and route tables into ARM and keeps the classic copies.
    The run that committed the VNet reports those copies as cloned (not as waiting for it), and the plan after it
    says which committed unit cloned them; they are then associated with nothing and can go on their own."""
    ctx = AppContext.open(f"sqlite:///{tmp_path / 'c.db'}")
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(ctx, generator.generate(vms=120, vnets=2, seed=3, blockers=0.0), source="gen")
    plan = build_plan(ctx)
    associated = [u for u in plan.units if u.moves_with_user and u.ref.kind in (UnitKind.NSG, UnitKind.ROUTE_TABLE)]
    assert associated
    report = ma.migrate_all(ctx, _req(keep_going=True))
    check_invariants(ctx)
    by_key = {_key(u.ref): u for u in report.units}
    after = {u.key: u for u in build_plan(ctx).units}
    cloned = [by_key[_key(p.ref)] for p in associated if by_key[_key(p.ref)].outcome == ma.CLONED]
    assert cloned and report.count(ma.WAITING) == 0  # (no blockers: every VNet committed)
    with ctx.store.read() as tx:
        arm_names = {(r.type.lower(), r.name.lower()) for r in tx.resources.query(model="arm")}
    for u in cloned:
        assert u.state == "NotPrepared" and "cloned into Azure Resource Manager with vnet:" in u.reasons[0]
        assert u.ref.kind.word in u.reasons[0]
        arm_type = ("microsoft.network/networksecuritygroups" if u.ref.kind == UnitKind.NSG
                    else "microsoft.network/routetables")
        assert (arm_type, u.ref.name.lower()) in arm_names  # the clone
        now = after[f"{u.ref.kind.value}:{u.ref.name.lower()}"]  # the classic copy: used by nothing now
        assert not now.blocked and now.cloned_into and now.cloned_into[0].startswith("vnet:")
        assert u.reasons[0].startswith(f"cloned into Azure Resource Manager with {', '.join(now.cloned_into)} ")
    ctx.close()
