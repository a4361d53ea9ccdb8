"""One power change for classic VMs (`service/power.py`): a stopped VM keeps its address, a deallocated one gives
its dynamic address back, a started or restored one holds a valid address of its subnet (VNet VM) or of the
fabric range (VM outside a VNet) that no other VM there holds; static IPs are kept. Checked after stop/start,
a deployment abort (prepare deallocated its VMs), a VNet abort and the retirement date."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from classic2arm.domain import classic as c
from classic2arm.domain import generator
from classic2arm.domain import identity as ids
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.service import classic_writes, clock, estate, migration, power, status, world_clock
from classic2arm.service.context import AppContext
from classic2arm.store import Row

FABRIC = ipaddress.ip_network("100.64.0.0/10")
DEALLOCATED = c.InstanceStatus.STOPPED_DEALLOCATED.value


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    app = AppContext.open(f"sqlite:///{tmp_path / 'power.db'}")
    world_clock.set_clock(app, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(app, generator.generate(vms=60, vnets=2, seed=11, blockers=0.0), source="gen")
    yield app
    app.close()


def vms(ctx: AppContext) -> dict[str, Row]:
    with ctx.store.read() as tx:
        return {r.key: r for r in tx.resources.query(ctx.subscription_id(tx), types=[ids.T_VM])}


def addresses_are_valid(ctx: AppContext) -> None:
    """Every allocated VM holds an address its subnet (or the fabric range) allows, held by no other VM of its
    VNet (or deployment); a deallocated one holds none; a static IP is the address when allocated."""
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        deps = {r.key: r.doc for r in tx.resources.query(sub, types=[ids.T_DEPLOYMENT])}
        prefixes = {(r.name.lower(), s["name"].lower()): s["address_prefix"]
                    for r in tx.resources.query(sub, types=[ids.T_VNET]) for s in r.doc["subnets"]}
        rows = tx.resources.query(sub, types=[ids.T_VM])
    seen: dict[tuple[str, str], str] = {}
    for r in rows:
        doc = r.doc
        vnet = (deps[r.parent_key or ""].get("virtual_network_name") or "").lower()
        scope = f"vnet:{vnet}" if vnet else r.parent_key or ""
        nics: list[tuple[Any, Any, Any]] = [(doc["ip_address"], doc.get("static_ip"),
                                             (doc.get("subnet_names") or [None])[0])]
        nics += [(n["ip_address"], n["ip_configurations"][0].get("static_ip"), n["ip_configurations"][0]["subnet_name"])
                 for n in doc.get("secondary_nics") or []]
        for address, static, subnet in nics:
            if doc["instance_status"] == DEALLOCATED:
                assert address is None, (r.name, address)
                continue
            assert address, (r.name, doc["instance_status"])
            ip = ipaddress.ip_address(address)
            if vnet:
                net = ipaddress.ip_network(prefixes[(vnet, subnet.lower())])
                assert ip in net and 4 <= int(ip) - int(net.network_address) < net.num_addresses - 1, (r.name, ip)
                if static:
                    assert address == static, r.name
            else:
                assert ip in FABRIC, (r.name, ip)
            assert seen.setdefault((scope, address), r.key) == r.key, f"{address} held twice in {scope}"


def vm_in(ctx: AppContext, vnet: bool, static: bool | None = None, allocated: bool = True) -> Row:
    with ctx.store.read() as tx:
        deps = {r.key: r.doc for r in tx.resources.query(ctx.subscription_id(tx), types=[ids.T_DEPLOYMENT])}
    for r in vms(ctx).values():
        if bool(deps[r.parent_key or ""].get("virtual_network_name")) != vnet:
            continue
        if static is not None and bool(r.doc.get("static_ip")) != static:
            continue
        if (r.doc["instance_status"] != DEALLOCATED) == allocated:
            return r
    raise AssertionError("the generated estate has no such VM")


def where(row: Row) -> tuple[str, str, str]:
    return row.doc["service_name"], row.doc["deployment_name"], row.name


def test_generated_estate_is_valid_to_begin_with(ctx: AppContext) -> None:
    addresses_are_valid(ctx)


def test_stop_keeps_deallocate_releases_start_regains_in_a_vnet(ctx: AppContext) -> None:
    vm = vm_in(ctx, vnet=True, static=False)
    before = vm.doc["ip_address"]
    assert classic_writes.stop_vm(ctx, *where(vm), deallocate=False).ip_address == before
    role = classic_writes.stop_vm(ctx, *where(vm))
    assert role.instance_status == c.InstanceStatus.STOPPED_DEALLOCATED and role.ip_address is None
    # its address is free now: another deallocated VM of the VNet that starts may take it
    other = vm_in(ctx, vnet=True, static=False, allocated=False) if any(
        r.doc["instance_status"] == DEALLOCATED and not r.doc.get("static_ip") for r in vms(ctx).values()) else None
    if other is not None:
        assert classic_writes.start_vm(ctx, *where(other)).ip_address
    role = classic_writes.start_vm(ctx, *where(vm))
    assert role.instance_status == c.InstanceStatus.READY and role.ip_address
    addresses_are_valid(ctx)


def test_static_ip_is_kept_through_deallocation(ctx: AppContext) -> None:
    vm = vm_in(ctx, vnet=True, static=True, allocated=False)
    static = vm.doc["static_ip"]
    assert vm.doc["ip_address"] is None
    assert classic_writes.start_vm(ctx, *where(vm)).ip_address == static
    assert classic_writes.stop_vm(ctx, *where(vm)).static_ip == static
    assert classic_writes.start_vm(ctx, *where(vm)).ip_address == static
    addresses_are_valid(ctx)


def test_vm_outside_a_vnet_regains_a_fabric_address(ctx: AppContext) -> None:
    vm = vm_in(ctx, vnet=False)
    assert classic_writes.stop_vm(ctx, *where(vm)).ip_address is None
    role = classic_writes.start_vm(ctx, *where(vm))
    assert role.ip_address and ipaddress.ip_address(role.ip_address) in FABRIC
    addresses_are_valid(ctx)


def test_a_running_vm_left_without_an_address_gets_one_on_start(ctx: AppContext) -> None:
    """What the earlier power path left behind (a running VM with no address) is repaired by a start."""
    vm = vm_in(ctx, vnet=True, static=False)
    with ctx.store.tx() as tx:
        row = tx.resources.get(vm.key)
        assert row is not None
        row.doc = {**row.doc, "ip_address": None}
        tx.resources.update(row)
    assert classic_writes.start_vm(ctx, *where(vm)).ip_address
    addresses_are_valid(ctx)


def units(ctx: AppContext, kind: str) -> list[status.UnitStatus]:
    return [u for u in status.status(ctx) if u.kind == kind]


def test_deployment_abort_gives_restored_vms_valid_addresses(ctx: AppContext) -> None:
    unit = max(units(ctx, "deployment"), key=lambda u: u.vms)
    ref = UnitRef(UnitKind.DEPLOYMENT, unit.name, unit.service, Destination("New"))
    before = {k: r.doc["instance_status"] for k, r in vms(ctx).items()}
    assert migration.execute(ctx, Op.PREPARE, ref).status == "Succeeded"
    mine = [r for r in vms(ctx).values() if r.lock_holder]
    assert len(mine) == unit.vms > 1
    assert all(r.doc["instance_status"] == DEALLOCATED and r.doc["ip_address"] is None for r in mine)
    assert migration.execute(ctx, Op.ABORT, ref).status == "Succeeded"
    after = vms(ctx)
    assert {k: r.doc["instance_status"] for k, r in after.items()} == before
    assert any(after[r.key].doc["instance_status"] != DEALLOCATED for r in mine)
    addresses_are_valid(ctx)


def test_vnet_abort_keeps_static_ips_and_valid_dynamic_ones(ctx: AppContext) -> None:
    unit = max(units(ctx, "vnet"), key=lambda u: u.vms)
    ref = UnitRef(UnitKind.VNET, unit.name)
    before = vms(ctx)
    statics = {k: r.doc["static_ip"] for k, r in before.items() if r.doc.get("static_ip")}
    assert statics
    assert migration.execute(ctx, Op.PREPARE, ref).status == "Succeeded"
    assert migration.execute(ctx, Op.ABORT, ref).status == "Succeeded"
    after = vms(ctx)
    assert {k: r.doc["static_ip"] for k, r in after.items() if r.doc.get("static_ip")} == statics
    assert all(after[k].doc["ip_address"] == s for k, s in statics.items() if after[k].doc["instance_status"] !=
               DEALLOCATED)
    addresses_are_valid(ctx)


def test_retirement_deallocates_and_releases(ctx: AppContext) -> None:
    statics = {k: r.doc["static_ip"] for k, r in vms(ctx).items() if r.doc.get("static_ip")}
    assert world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-09-02")))[1] > 0
    after = vms(ctx)
    assert {r.doc["instance_status"] for r in after.values()} == {DEALLOCATED}
    assert {k: r.doc["static_ip"] for k, r in after.items() if r.doc.get("static_ip")} == statics
    addresses_are_valid(ctx)


class _Undo(Exception):
    pass


def _statements(ctx: AppContext, rows: list[Row]) -> int:
    """SQL statements one `power.change` that starts `rows` runs (its transaction rolled back afterwards)."""
    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    engine = ctx.store.engine
    with pytest.raises(_Undo), ctx.store.tx() as tx:
        sub = ctx.subscription_id(tx)
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            written = power.change(tx, sub, [(r, c.InstanceStatus.READY, c.PowerState.STARTED) for r in rows])
            tx.flush()
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)
        assert len(written) == len(rows)
        raise _Undo
    return count


def test_addresses_in_use_are_read_in_a_batch(ctx: AppContext) -> None:
    """Starting many VMs of several VNets and deployments at once costs no more statements than starting one."""
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-09-02")))  # every VM deallocated
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    rows = list(vms(ctx).values())
    vnet_rows = [r for r in rows if r.doc.get("subnet_names")]
    assert len(rows) > 20 and vnet_rows
    assert _statements(ctx, rows) == _statements(ctx, vnet_rows[:1])
