"""The planning domain on hand-made units (pure): the wave slots, storage after its VMs also across the production
split, committed units done, the quota sums and the duration model's bounds."""

from __future__ import annotations

from classic2arm.domain import catalogue as t
from classic2arm.domain.planning import estimate, order, summary
from classic2arm.domain.planning.model import PlannedUnit, unit_key
from classic2arm.domain.units import Category, Message, UnitKind, UnitRef


def unit(kind: UnitKind, name: str, vms: int = 0, *, service: str | None = None, state: str = "NotPrepared",
         production: bool = False, prerequisites: tuple[str, ...] = (), after: tuple[str, ...] = (),
         blockers: tuple[Message, ...] = (), needs: tuple[tuple[str, int], ...] = (), writes: int = 0,
         location: str | None = "westus") -> PlannedUnit:
    return PlannedUnit(UnitRef(kind, name, service), state, vms, blockers, production=production,
                       prerequisites=prerequisites, after=after, needs=needs, arm_writes=writes, location=location)


def key(kind: UnitKind, name: str, service: str | None = None) -> str:
    return unit_key(UnitRef(kind, name, service))


ERR = Message("R19", "VirtualMachine", "vm1", Category.ERROR, "x", "vm1")


def test_slots_in_order_with_production_last_and_storage_after_its_vms() -> None:
    units = [
        unit(UnitKind.STORAGE, "acct", after=(key(UnitKind.VNET, "prodnet"), key(UnitKind.VNET, "big"))),
        unit(UnitKind.STORAGE, "plain", after=(key(UnitKind.DEPLOYMENT, "d", "svc"),)),
        unit(UnitKind.VNET, "prodnet", 3, production=True),
        unit(UnitKind.VNET, "big", 50),
        unit(UnitKind.VNET, "small", 2),
        unit(UnitKind.VNET, "peered", 1, prerequisites=("remove the peering",)),
        unit(UnitKind.DEPLOYMENT, "d", 1, service="svc"),
        unit(UnitKind.DEPLOYMENT, "gone", 1, service="svc2", state="Committed"),
        unit(UnitKind.NSG, "nsg1"),
    ]
    waves, done = order.waves(units)
    assert [u.key for u in done] == [key(UnitKind.DEPLOYMENT, "gone", "svc2")]
    layout = [(w.title, [u.ref.name for u in w.units]) for w in waves]
    assert layout == [
        (t.WAVE_STANDALONE, ["nsg1"]),
        (t.WAVE_DEPLOYMENTS, ["d"]),
        (t.WAVE_SIMPLE_VNETS, ["small", "big"]),  # fewest VMs first
        (t.WAVE_FLAGGED_VNETS, ["peered"]),
        (t.WAVE_STORAGE, ["plain"]),
        (t.WAVE_PRODUCTION.format(title=t.WAVE_SIMPLE_VNETS), ["prodnet"]),
        (t.WAVE_PRODUCTION.format(title=t.WAVE_STORAGE), ["acct"]),  # one of its VNets is production
    ]
    assert [w.number for w in waves] == [1, 2, 3, 4, 5, 6, 7]


def test_blocked_units_stay_in_their_wave_after_the_others() -> None:
    waves, _ = order.waves([unit(UnitKind.VNET, "a", 1, blockers=(ERR,)), unit(UnitKind.VNET, "b", 9)])
    assert [u.ref.name for u in waves[0].units] == ["b", "a"]
    assert any("1 of 2 units are blocked" in n for n in waves[0].notes)


def test_large_vnet_note() -> None:
    waves, _ = order.waves([unit(UnitKind.VNET, "huge", 401)])
    assert any("more than 400 VMs" in n for n in waves[0].notes)


def test_quota_lines_sum_the_remaining_units_per_region() -> None:
    units = [unit(UnitKind.VNET, "a", needs=(("cores", 4), ("networkInterfaces", 2))),
             unit(UnitKind.VNET, "b", needs=(("cores", 8),)),
             unit(UnitKind.VNET, "c", needs=(("cores", 100),), state="Committed"),
             unit(UnitKind.VNET, "e", needs=(("cores", 2),), location="eastus")]
    lines = summary.quota_lines(units, {"westus": {"cores": 10}}, {"westus": {"cores": 20, "routeTables": 5}})
    by = {(q.region, q.kind): q for q in lines}
    cores = by[("westus", "cores")]
    assert cores.needed == 12 and not cores.ok and cores.short == 2
    assert by[("westus", "networkInterfaces")].quota is None and by[("westus", "networkInterfaces")].ok
    assert by[("westus", "routeTables")].needed == 0 and by[("westus", "routeTables")].ok
    assert by[("eastus", "cores")].needed == 2


def test_duration_model_bounds() -> None:
    m = estimate.DurationModel()
    alone = m.wave((unit(UnitKind.VNET, "a", 10, writes=6000),))  # one unit: its own time, not the throttle
    assert alone.bound == "work" and alone.minutes == alone.longest_lock_minutes == round(1.5 + 6000 * 7 / 60, 1)
    busy = m.wave(tuple(unit(UnitKind.VNET, f"v{i}", 10, writes=750) for i in range(8)))
    assert busy.bound == "throttle" and busy.throttle_minutes == busy.minutes == 300.0
    assert busy.work_minutes == round(8 * (1.5 + 750 * 7 / 60) / 4, 1)
    many = tuple(unit(UnitKind.DEPLOYMENT, f"d{i}", 1, service=f"s{i}", writes=3) for i in range(8))
    e = m.wave(many)
    per_unit = 1 + 0.5 + 3 * (6 + 1) / 60
    assert e.bound == "work" and e.work_minutes == round(8 * per_unit / 4, 1)
    assert e.longest_lock_minutes == round(per_unit, 1)
    assert any("1,200" in a for a in m.assumptions())


def test_blocker_groups_carry_mitigation_and_fix() -> None:
    groups = summary.blocker_groups([unit(UnitKind.VNET, "a", 3, blockers=(ERR,)),
                                     unit(UnitKind.VNET, "b", 5, blockers=(ERR, ERR))])
    assert len(groups) == 1
    g = groups[0]
    assert g.rule == "R19" and g.fix == "xml-extensions" and g.vms_held_back == 8 and len(g.messages) == 3
    assert g.mitigation == t.MITIGATIONS["R19"].text and not g.mitigation_ours and g.code == "UnsupportedExtension"


def test_standalone_objects_that_move_with_their_user_cost_nothing() -> None:
    r33 = Message("R33", "ReservedIP", "rip", Category.ERROR, "in use")
    moving = unit(UnitKind.RESERVED_IP, "rip", blockers=(r33,), writes=1)
    free = unit(UnitKind.NSG, "nsg", writes=1)
    assert moving.moves_with_user and not free.moves_with_user
    assert not unit(UnitKind.VNET, "v", blockers=(r33,)).moves_with_user
    waves, _ = order.waves([moving, free])
    assert any("migrate with it" in n for n in waves[0].notes)
    assert estimate.MODEL.wave(waves[0].units).arm_writes == 1


def test_mitigations_are_the_errors_pages_where_it_has_them() -> None:
    """Literals here on purpose (as in test_rules): the errors page's Mitigation column, links as their text."""
    m = t.MITIGATIONS
    assert m["R09"].text == (
        "Currently, only hosted services that have 1 or less Availability sets can be migrated. To work around this "
        "problem, move the additional availability sets, and Virtual machines in those availability sets, to a "
        "different hosted service.") and not m["R09"].ours
    assert m["R26"].text == ("This error can happen if the disks of the VM have been deleted or are not accessible "
                             "anymore. Make sure the disks for the VM exist.") and not m["R26"].ours
    assert m["R21"].text == m["R22"].text == m["R23"].text  # one row of the page covers the three
    assert m["R30"].ours and m["R56"].ours and m["R29"].ours  # the page has no row for these
    from classic2arm.domain.rules import REGISTRY

    errors = {r.id for r in REGISTRY.all() if r.category == Category.ERROR}
    assert errors <= set(m), errors - set(m)  # every blocking rule has a mitigation
