"""`build_plan` (issue 12 item 1) over a generated estate with every blocker kind: every blocker of every unit
(cross-checked against validate --all), storage accounts after every unit whose VMs hold disks in them, a quota set
too low flagged, committed units done, production units last."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from classic2arm.domain import catalogue as t
from classic2arm.domain import generator, media
from classic2arm.domain.estate import Estate
from classic2arm.domain.planning.model import Plan, PlannedUnit, unit_key
from classic2arm.domain.planning.report import to_json
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import bulk, clock, estate, providers, world_clock
from classic2arm.service import plan as plan_service
from classic2arm.service.context import AppContext
from classic2arm.service.errors import ServiceError
from classic2arm.service.plan import build_plan

MIGRATE = "Microsoft.ClassicInfrastructureMigrate"
LOW_REGION = "westeurope"


def _open(path: Path, est: Estate | None = None, register: bool = True, **generate: int | float) -> AppContext:
    ctx = AppContext.open(f"sqlite:///{path}")
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(ctx, est or generator.generate(**generate), source="gen")  # type: ignore[arg-type]
    providers.register(ctx, MIGRATE, register)
    return ctx


def _low_quota_estate() -> Estate:
    est = generator.generate(vms=2000, seed=5, blockers=0.3)
    assert est.subscription is not None
    est.subscription.arm_quotas.setdefault(LOW_REGION, {})["cores"] = 1  # far below what its VMs need
    return est


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppContext, Plan]]:
    ctx = _open(tmp_path_factory.mktemp("plan") / "p.db", _low_quota_estate())
    yield ctx, build_plan(ctx)
    ctx.close()


def _units(plan: Plan) -> dict[str, PlannedUnit]:
    return {u.key: u for u in (*plan.units, *plan.done)}


def test_every_blocker_of_every_unit_as_validate_all_gives_it(big: tuple[AppContext, Plan]) -> None:
    ctx, plan = big
    planned = _units(plan)
    validated = bulk.validate_all(ctx)
    assert len(validated) == len(planned) and len(validated) > 300
    kinds_with_blockers: set[str] = set()
    total = 0
    for v in validated:
        errors = [m for m in v.result.messages if str(m.category).lower() == "error"]
        assert list(planned[unit_key(v.unit.ref)].blockers) == errors, v.unit
        total += len(errors)
        kinds_with_blockers |= {m.rule for m in errors}
    assert len(kinds_with_blockers) >= 15  # the estate has every blocker kind
    grouped = [(k, m) for g in plan.blockers_by_rule for k, m in g.messages]
    assert len(grouped) == total == plan.summary["blockers"]
    assert sorted(g.rule for g in plan.blockers_by_rule) == sorted(kinds_with_blockers)
    # and the JSON says the same
    data = to_json(plan)
    assert sum(len(u["blockers"]) for w in data["waves"] for u in w["units"]) == total


def test_blocker_groups_have_mitigations_fixes_and_a_ranking(big: tuple[AppContext, Plan]) -> None:
    _, plan = big
    by_rule = {g.rule: g for g in plan.blockers_by_rule}
    assert by_rule["R19"].fix == "xml-extensions" and not by_rule["R19"].mitigation_ours  # from the errors page
    assert by_rule["R19"].mitigation == t.MITIGATIONS["R19"].text
    assert by_rule["R30"].fix is None and by_rule["R30"].mitigation_ours
    assert all(g.mitigation and g.mitigation != t.MITIGATION_UNKNOWN for g in plan.blockers_by_rule)
    held = [g.vms_held_back for g in plan.ranking]
    assert held == sorted(held, reverse=True) and held[0] > 0
    units = _units(plan)
    for g in plan.blockers_by_rule:
        assert g.vms_held_back == sum(units[k].vms for k in g.units)


def test_storage_accounts_come_after_every_unit_whose_vms_hold_disks_in_them(big: tuple[AppContext, Plan]) -> None:
    ctx, plan = big
    wave_of = {u.key: w.number for w in plan.waves for u in w.units}
    # who holds disks where, read independently of the plan: the exported estate's roles and deployments
    est = estate.export_estate(ctx)
    vnet_of = {(d.service_name.lower(), d.name.lower()): d.virtual_network_name for d in est.deployments}
    holders: dict[str, set[str]] = {}
    for role in est.roles:
        if not role.is_vm:
            continue
        vnet = vnet_of[(role.service_name.lower(), role.deployment_name.lower())]
        key = unit_key(UnitRef(UnitKind.VNET, vnet) if vnet else
                       UnitRef(UnitKind.DEPLOYMENT, role.deployment_name, role.service_name))
        links = ([role.os_disk.media_link] if role.os_disk else []) + [d.media_link for d in role.data_disks]
        for link in links:
            holders.setdefault(media.account_of(link), set()).add(key)
    checked = 0
    for account in est.storage_accounts:
        skey = unit_key(UnitRef(UnitKind.STORAGE, account.name))
        for holder in holders.get(account.name.lower(), set()):
            assert wave_of[skey] > wave_of[holder], (account.name, holder)
            checked += 1
        assert set(_units(plan)[skey].after) == holders.get(account.name.lower(), set())
    assert checked > 100


def test_wave_order_follows_the_dependencies(big: tuple[AppContext, Plan]) -> None:
    _, plan = big
    assert [w.number for w in plan.waves] == list(range(1, len(plan.waves) + 1))
    first: dict[UnitKind, int] = {}
    for w in plan.waves:
        for u in w.units:
            first.setdefault(u.ref.kind, w.number)
    assert first[UnitKind.RESERVED_IP] < first[UnitKind.DEPLOYMENT] < first[UnitKind.VNET] < first[UnitKind.STORAGE]
    flagged = [u for u in plan.units if u.ref.kind == UnitKind.VNET and u.prerequisites]
    assert flagged and all(any("peering" in p or "ExpressRoute" in p or "gateway" in p for p in u.prerequisites)
                           for u in flagged)
    simple_wave = max((w.number for w in plan.waves for u in w.units if u.ref.kind == UnitKind.VNET
                       and not u.prerequisites), default=0)
    assert all(w.number > simple_wave for w in plan.waves for u in w.units if u in flagged)


def test_a_quota_set_too_low_is_flagged(big: tuple[AppContext, Plan]) -> None:
    _, plan = big
    short = [q for q in plan.quota if not q.ok]
    assert short and {(q.region, q.kind) for q in short} == {(LOW_REGION, "cores")}
    line = short[0]
    assert line.quota == 1 and line.needed > 1 and line.short == line.usage + line.needed - 1
    assert not plan.quota_ok
    needed = sum(n for u in plan.units if u.location == LOW_REGION for k, n in u.needs if k == "cores")
    assert line.needed == needed


def test_impact_per_vm(big: tuple[AppContext, Plan]) -> None:
    _, plan = big
    assert len(plan.impacts) == plan.summary["vms"]
    vnet = [i for i in plan.impacts if i.in_vnet]
    outside = [i for i in plan.impacts if not i.in_vnet]
    assert vnet and outside
    assert all(not i.restart and i.downtime_seconds == 0 and not i.warnings for i in vnet)
    assert all(i.restart and i.downtime_seconds > 0 for i in outside)
    assert any("reserve it first" in w for i in outside for w in i.warnings)
    assert any("private IP" in w for i in outside for w in i.warnings)


def test_durations_add_up_with_the_assumptions(big: tuple[AppContext, Plan]) -> None:
    _, plan = big
    assert all(w.estimate is not None and w.estimate.minutes > 0 for w in plan.waves)
    assert plan.total_minutes == pytest.approx(sum(w.estimate.minutes for w in plan.waves if w.estimate), abs=0.5)
    assert any("1,200" in a for a in plan.assumptions)
    for w in plan.waves:
        assert w.estimate is not None and w.estimate.arm_writes == sum(u.arm_writes for u in w.units
                                                                              if not u.moves_with_user)
        assert w.estimate.throttle_minutes == pytest.approx(w.estimate.arm_writes / 1200 * 60, abs=0.06)


def test_committed_units_are_done_and_production_goes_last(tmp_path: Path) -> None:
    est = generator.generate(vms=150, vnets=3, seed=3, blockers=0.0)
    prod_vnet = est.deployments[0].virtual_network_name or next(d.virtual_network_name for d in est.deployments
                                                                 if d.virtual_network_name)
    prod_services = {d.service_name for d in est.deployments if d.virtual_network_name == prod_vnet}
    for hs in est.hosted_services:
        if hs.name in prod_services:
            hs.extended_properties["Environment"] = "Production"
    ctx = _open(tmp_path / "small.db", est)
    try:
        dep = next(u for u in bulk.classic_units(ctx, "deployment") if u.vms)
        bulk.execute_all(ctx, Op.PREPARE, [dep])
        bulk.execute_all(ctx, Op.COMMIT, [dep])
        plan = build_plan(ctx)
        done = {u.key for u in plan.done}
        assert unit_key(dep.ref) in done and unit_key(dep.ref) not in {u.key for u in plan.units}
        prod = unit_key(UnitRef(UnitKind.VNET, prod_vnet))
        wave_of = {u.key: w for w in plan.waves for u in w.units}
        assert wave_of[prod].title.startswith("Production") and wave_of[prod].units[0].production
        non_prod_waves = [w.number for w in plan.waves if not w.title.startswith("Production")]
        assert wave_of[prod].number > max(non_prod_waves)
        for u in plan.units:  # storage holding the production VNet's disks goes after it
            if u.ref.kind == UnitKind.STORAGE and prod in u.after:
                assert wave_of[u.key].number > wave_of[prod].number and u.production
    finally:
        ctx.close()


def test_an_unregistered_subscription_is_refused_as_validate_refuses_it(tmp_path: Path) -> None:
    ctx = _open(tmp_path / "u.db", register=False, vms=20, seed=1)
    try:
        with pytest.raises(ServiceError, match="not registered"):
            build_plan(ctx)
    finally:
        ctx.close()


def _forking(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make build_plan fork its worker whatever the estate's size and the machine's load; count the forks."""
    import os

    forks: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(plan_service, "FORK_MIN_UNITS", 1)
    monkeypatch.setattr(plan_service, "spare_core", lambda: True)
    monkeypatch.setattr(plan_service.os, "fork", fork)
    return forks


def _serial(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Plan:
    with monkeypatch.context() as m:
        m.setattr(plan_service, "FORK_MIN_UNITS", 10**9)
        return build_plan(ctx)


def test_the_forked_worker_gives_the_plan_one_process_gives(big: tuple[AppContext, Plan],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The VNets and deployments evaluated in a second process (a large estate on a machine with a free core):
    the same plan, unit for unit, as evaluating everything here; and again over the kept index."""
    ctx, _ = big
    alone = _serial(ctx, monkeypatch)
    forks = _forking(monkeypatch)
    here: list[UnitKind] = []  # units evaluated in this process: none of the worker's
    one = plan_service._Evaluator.one

    def counted(self: plan_service._Evaluator, ref: UnitRef, state: str) -> object:
        here.append(ref.kind)
        return one(self, ref, state)

    monkeypatch.setattr(plan_service._Evaluator, "one", counted)
    assert build_plan(ctx) == alone
    assert build_plan(ctx) == alone
    assert len(forks) == 2
    assert here and not {UnitKind.VNET, UnitKind.DEPLOYMENT} & set(here)


def test_a_worker_that_fails_is_done_over_here(big: tuple[AppContext, Plan], monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that can't finish — it can't send its results, or it reads the database (which it may not: here
    the usage it needs was not read beforehand) — exits non-zero, and this process evaluates its units itself:
    the same plan."""
    ctx, _ = big
    alone = _serial(ctx, monkeypatch)
    here: list[int] = []  # units evaluated in this process
    one = plan_service._Evaluator.one

    def counted(self: plan_service._Evaluator, ref: UnitRef, state: str) -> object:
        here.append(1)
        return one(self, ref, state)

    def broken(*_: object, **__: object) -> bytes:
        raise RuntimeError("the worker cannot send")

    for breaks in ("pickle", "database"):
        here.clear()
        with monkeypatch.context() as m:
            forks = _forking(m)
            m.setattr(plan_service._Evaluator, "one", counted)
            if breaks == "pickle":
                m.setattr(plan_service.pickle, "dumps", broken)
            else:
                m.setattr(plan_service.IndexSource, "prepare_usage", lambda self, regions: None)
            assert build_plan(ctx) == alone and forks == [1]
        assert len(here) == len(alone.units) + len(alone.done), breaks  # (every unit, the worker's too)
