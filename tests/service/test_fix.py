"""`classic2arm fix` as a use case: on a generated estate with every blocker kind, each fix clears its messages
(validate --all shows no fixable rule afterwards), each change is one audited classic write (its operation id on
the event-log entry of the resource it changed), VHD blobs stay, a dry run writes nothing, and a unit a migration
holds is refused with the lock texts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from classic2arm.domain import catalogue as msg
from classic2arm.domain import classic as c
from classic2arm.domain import fixes, media
from classic2arm.domain import identity as ids
from classic2arm.domain.estate import Estate
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Category, Destination, UnitKind, UnitRef
from classic2arm.service import bulk, clock, estate, fix, migration, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.errors import ServiceError

SUB = "00000000-0000-0000-0000-000000000001"


def _resource_key(t: fixes.Target) -> str:
    if t.service is not None:
        return ids.role_id(SUB, t.service, t.deployment or "", t.name).lower()
    by_write = {fixes.DELETE_DISK: ids.disk_id, fixes.RESIZE_DISK: ids.disk_id, fixes.DELETE_OS_IMAGE: ids.os_image_id,
                fixes.DELETE_VM_IMAGE: ids.vm_image_id}
    return by_write[t.write](SUB, t.name).lower()


def _fixable(ctx: AppContext) -> Counter[str]:
    return Counter(m.rule for v in bulk.validate_all(ctx) for m in v.result.messages if fixes.fix_for(m) is not None)


@pytest.fixture
def any_ctx(store_url: str) -> Iterator[AppContext]:
    """A context on SQLite and on PostgreSQL."""
    c_ = AppContext.open(store_url)
    yield c_
    c_.close()


@pytest.fixture
def blocked(any_ctx: AppContext) -> AppContext:
    """400 VMs, every deployment with one blocker (each fixable kind several times), and a VM image whose VHDs
    are in a storage account of the estate (the generator makes none)."""
    ctx = any_ctx
    bulk.fresh_generated_estate(ctx, "2023-06-01", vms=400, seed=2, blockers=1.0)
    with ctx.store.read() as tx:
        account = tx.resources.query(SUB, types=[ids.T_STORAGE])[0]
    sa = c.StorageAccount.model_validate(account.doc)
    links = [media.link(sa.name, "images", f"tier-{i}.vhd") for i in range(2)]
    for link in links:
        sa.blobs[media.parse(link).path] = c.Blob(size_bytes=media.vhd_blob_size(30))
    estate.import_estate(ctx, Estate(storage_accounts=[sa], vm_images=[
        c.VMImage(name="tier-image", location=sa.location, media_links=links)]), source="test")
    return ctx


def test_fix_all_clears_every_fixable_blocker(blocked: AppContext) -> None:
    ctx = blocked
    before = _fixable(ctx)
    assert set(before) == {r for f in fixes.FIXES for r in f.rules}, before  # every fix has work to do
    survey = fix.survey(ctx)
    assert all(s.messages and s.units and s.changes for s in survey.fixes), [s.to_json() for s in survey.fixes]
    assert {s.fix.name: s.messages for s in survey.fixes} == {
        f.name: sum(n for r, n in before.items() if r in f.rules) for f in fixes.FIXES}
    assert survey.manual and all(b.advice and b.units for b in survey.manual)  # blockers no fix clears
    assert not {b.rule for b in survey.manual} & set(before)

    with ctx.store.read() as tx:
        blobs = {r.name: set(r.doc["blobs"]) for r in tx.resources.query(SUB, types=[ids.T_STORAGE])}
        events_before = tx.events.count()
    dry = fix.run(ctx, dry_run=True)
    assert dry.dry_run and dry.changes and {ch.status for ch in dry.changes} == {fix.PLANNED}
    with ctx.store.read() as tx:
        assert tx.events.count() == events_before  # a dry run writes nothing

    report = fix.run(ctx)
    assert report.ok and {ch.status for ch in report.changes} == {fix.APPLIED}
    assert [ch.target for ch in report.changes] == [ch.target for ch in dry.changes]  # the preview was exact
    assert report.manual == survey.manual
    assert _fixable(ctx) == Counter()  # validate --all: no fixable rule left
    assert all(s.messages == s.changes == 0 for s in fix.survey(ctx).fixes)

    with ctx.store.read() as tx:
        for ch in report.changes:
            assert ch.operation_id
            entries = [e for e in tx.events.for_resource(_resource_key(ch.target))
                       if e["operation_id"] == ch.operation_id]
            assert len(entries) == 1, (ch.to_json(), entries)  # one event per fix applied per resource
            op = tx.operations.get(ch.operation_id)
            assert op is not None and op.request["fix"] == ch.target.fix
        after = {r.name: set(r.doc["blobs"]) for r in tx.resources.query(SUB, types=[ids.T_STORAGE])}
    assert after == blobs  # deleting disks and images keeps their VHD blobs

    acl = [ch for ch in report.changes if ch.target.write == fixes.CLEAR_ACLS]
    assert acl and all(ch.target.nsg_rules for ch in acl)
    assert report.to_json()["nsgRulesToRecreate"] == report.nsg_rules() and report.nsg_rules()
    resized = next(ch.target for ch in report.changes if ch.target.write == fixes.RESIZE_DISK)
    with ctx.store.read() as tx:
        disk = tx.resources.get(ids.disk_id(SUB, resized.name))
        assert disk is not None and disk.doc["logical_size_gb"] == resized.size_gb

    assert fix.run(ctx).changes == []  # nothing left to do: idempotent


def test_one_fix_one_unit(blocked: AppContext) -> None:
    ctx = blocked
    ch = next(ch for ch in fix.run(ctx, ["xml-extensions"], dry_run=True).changes)
    kind, _, rest = ch.unit.partition(":")
    svc, _, dep = rest.partition("/")
    ref = UnitRef(UnitKind(kind), dep, svc) if kind == "deployment" else UnitRef(UnitKind(kind), rest)
    report = fix.run(ctx, ["xml-extensions"], ref)
    assert {c_.unit for c_ in report.changes} == {ch.unit} and report.ok
    assert fix.run(ctx, ["xml-extensions"], ref).changes == []
    assert fix.run(ctx, ["xml-extensions"], dry_run=True).changes  # the other units still have theirs
    with pytest.raises(ServiceError, match="unknown fix 'nope'"):
        fix.run(ctx, ["nope"])
    with pytest.raises(ServiceError, match="does not exist"):
        fix.run(ctx, None, UnitRef(UnitKind.VNET, "no-such-vnet"))


def test_refused_while_a_migration_holds_the_unit(ctx: AppContext) -> None:
    """A clean deployment outside any VNet whose data disk's blob grew (R25, a warning: it can be prepared):
    while prepared, the resize is refused with the R51 text and nothing changes; after abort it applies."""
    bulk.fresh_generated_estate(ctx, "2023-06-01", vms=60, seed=5, blockers=0.0)
    with ctx.store.read() as tx:
        deps = [d for d in tx.resources.query(SUB, types=[ids.T_DEPLOYMENT]) if not d.doc.get("virtual_network_name")]
        vm_row = next(v for d in deps for v in tx.resources.query(SUB, types=[ids.T_VM], parent_key=d.key)
                      if v.doc["data_disks"])
    vm = c.Role.model_validate(vm_row.doc)
    disk = vm.data_disks[0]
    where = media.parse(disk.media_link)
    with ctx.store.tx() as tx:
        row = tx.resources.get(ids.storage_id(SUB, where.account))
        assert row is not None
        row.doc["blobs"][where.path]["size_bytes"] = media.vhd_blob_size(disk.logical_size_gb + 3)
        tx.resources.update(row)
    ref = UnitRef(UnitKind.DEPLOYMENT, vm.deployment_name, vm.service_name, Destination("New"))
    result = migration.validate(ctx, ref)
    assert {m.rule for m in result.messages if m.category == Category.WARNING} == {"R25"}
    assert migration.execute(ctx, Op.PREPARE, ref).status == "Succeeded"

    with ctx.store.read() as tx:
        events = tx.events.count()
    report = fix.run(ctx, ["disk-size"], ref)
    assert [(ch.status, ch.error) for ch in report.changes] == [(fix.REFUSED, msg.R51_VM_LOCKED.text())]
    assert not report.ok
    with ctx.store.read() as tx:
        assert tx.events.count() == events  # refused: nothing written
    assert any(s.fix.name == "disk-size" and s.changes == 0 for s in fix.survey(ctx).fixes)
    assert fix.survey(ctx).locked == [fix.unit_label(ref)]

    assert migration.execute(ctx, Op.ABORT, ref).status == "Succeeded"
    report = fix.run(ctx, ["disk-size"], ref)
    assert [ch.status for ch in report.changes] == [fix.APPLIED]
    assert report.changes[0].target.size_gb == disk.logical_size_gb + 3
    assert not [m for m in migration.validate(ctx, ref).messages if m.rule == "R25"]


def test_acl_nsg_rules_follow_the_acl_semantics() -> None:
    ep = c.InputEndpoint(name="web", port=80, local_port=8080, acl=[
        c.AclRule(order=200, action="deny", remote_subnet="10.0.0.0/8"),
        c.AclRule(order=100, action="permit", remote_subnet="203.0.113.0/24", description="office")])
    rules = fixes.acl_nsg_rules("vm1", [ep])
    assert [(r["name"], r["properties"]["access"], r["properties"]["sourceAddressPrefix"],
             r["properties"]["priority"], r["properties"]["destinationPortRange"]) for r in rules] == [
        ("web-acl-100", "Allow", "203.0.113.0/24", 100, "8080"), ("web-acl-200", "Deny", "10.0.0.0/8", 110, "8080"),
        ("web-acl-deny-others", "Deny", "Internet", 120, "8080")]
    only_deny = c.InputEndpoint(name="ssh", port=22, local_port=22, acl=[
        c.AclRule(order=1, action="deny", remote_subnet="198.51.100.0/24")])
    assert [r["name"] for r in fixes.acl_nsg_rules("vm1", [only_deny])] == ["ssh-acl-1"]  # the rest stays open


def test_restart_after_the_retirement_fails_with_its_reason(ctx: AppContext) -> None:
    """Past 2023-09-01 a classic VM can't be started: the restart fix fails with the retirement text (the CLI
    then exits 1) and the other fixes still apply."""
    bulk.fresh_generated_estate(ctx, "2023-06-01", vms=120, seed=2, blockers=1.0)
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-10-01")))  # deallocates every classic VM
    with ctx.store.tx() as tx:  # one that reports RoleStateUnknown all the same
        vm = tx.resources.query(SUB, types=[ids.T_VM])[0]
        vm.doc.update(instance_status="RoleStateUnknown", power_state="Unknown")
        tx.resources.update(vm)
    report = fix.run(ctx)
    restart = [ch for ch in report.changes if ch.target.write == fixes.RESTART_VM]
    assert [(ch.target.name, ch.status, ch.error) for ch in restart] == [
        (vm.name, fix.FAILED, msg.CLASSIC_VM_RETIRED.text())]
    assert not report.ok and {ch.status for ch in report.changes if ch not in restart} == {fix.APPLIED}
