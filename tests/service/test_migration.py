"""The migration service end to end over a generated estate: state machine, locks, ARM side, data plane,
idempotency and retries (issue 3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from classic2arm.domain import arm as armt
from classic2arm.domain import classic, generator
from classic2arm.domain import identity as ids
from classic2arm.domain.arm import ArmResource
from classic2arm.domain.estate import Estate
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.service import (
    arm_writes,
    classic_writes,
    clock,
    estate,
    faults,
    locks,
    migration,
    resources,
    status,
    world_clock,
)
from classic2arm.service.context import AppContext
from classic2arm.service.errors import Locked, ServiceError

SUB = "00000000-0000-0000-0000-000000000001"
NEW = Destination("New")


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    c = AppContext.open(f"sqlite:///{tmp_path / 'm.db'}")
    world_clock.set_clock(c, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(c, generator.generate(vms=60, vnets=2, seed=11, blockers=0.0), source="gen")
    yield c
    c.close()


def units(ctx: AppContext, kind: str) -> list[status.UnitStatus]:
    return [u for u in status.status(ctx) if u.kind == kind]


def vnet_ref(ctx: AppContext) -> UnitRef:
    return UnitRef(UnitKind.VNET, max(units(ctx, "vnet"), key=lambda u: u.vms).name)


def dep_ref(ctx: AppContext) -> UnitRef:
    u = next(u for u in units(ctx, "deployment") if u.vms > 0)
    return UnitRef(UnitKind.DEPLOYMENT, u.name, u.service, NEW)


def counts(ctx: AppContext) -> tuple[int, int]:
    with ctx.store.read() as tx:
        return tx.resources.count(SUB, model="classic"), tx.resources.count(SUB, model="arm")


def test_not_registered_refuses_every_call(ctx: AppContext) -> None:
    with ctx.store.tx() as tx:
        doc = tx.subscriptions.get(SUB)
        assert doc is not None
        tx.subscriptions.put({**doc, "registered_for_migration": False})
    ref = vnet_ref(ctx)
    for call in (lambda: migration.validate(ctx, ref), *(lambda o=o: migration.start(ctx, o, ref)
                                                         for o in (Op.PREPARE, Op.COMMIT, Op.ABORT))):
        with pytest.raises(ServiceError) as err:
            call()
        assert (err.value.code, err.value.message) == ("BadRequest", "Subscription is not registered for migration.")


def test_missing_targets(ctx: AppContext) -> None:
    res = migration.validate(ctx, UnitRef(UnitKind.DEPLOYMENT, "nodep", "nosvc", NEW))
    assert [(m.resource_type, m.resource_name, m.category.value, m.message) for m in res.messages] == [
        ("Deployment", "nodep", "Error", "The deployment name 'nodep' does not exist.")]
    with pytest.raises(ServiceError) as err:
        migration.start(ctx, Op.PREPARE, UnitRef(UnitKind.DEPLOYMENT, "nodep", "nosvc", NEW))
    assert err.value.http_status == 404 and err.value.code == "ResourceNotFound"
    with pytest.raises(ServiceError) as err:
        migration.start(ctx, Op.COMMIT, UnitRef(UnitKind.VNET, "novnet"))
    assert err.value.http_status == 400 and err.value.message.startswith("Virtual network 'novnet' not found.")
    with pytest.raises(ServiceError) as err:
        migration.start(ctx, Op.ABORT, UnitRef(UnitKind.STORAGE, "nostore"))
    assert err.value.message == "The storage account 'nostore' was not found."


@pytest.mark.parametrize(("dest", "text"), [
    (Destination("Sideways"), "DestinationVirtualNetwork must be set to one of the following values: Default, New, "
                              "or Existing."),
    (Destination("Default"), "Default VNet destination option not implemented."),
    (Destination("Existing", "rg", "", "sn"), "The virtual network name cannot be null or empty."),
    (Destination("existing", "rg", "v", ""), "The Subnet Name cannot be null or empty."),
])
def test_destination_errors(ctx: AppContext, dest: Destination, text: str) -> None:
    ref = dep_ref(ctx)
    for call in (migration.validate, lambda c, r: migration.start(c, Op.PREPARE, r)):
        with pytest.raises(ServiceError) as err:
            call(ctx, UnitRef(ref.kind, ref.name, ref.service, dest))
        assert err.value.message == text and err.value.http_status == 400


def test_vnet_unit_full_flow_keeps_vms_running(ctx: AppContext) -> None:
    ref = vnet_ref(ctx)
    result = migration.validate(ctx, ref)
    assert not result.has_errors, result.messages
    assert result.result.startswith("Validation Passed")
    classic_before, arm_before = counts(ctx)
    view = migration.execute(ctx, Op.PREPARE, ref)
    assert view.status == "Succeeded", view
    with ctx.store.read() as tx:
        vnet_row = tx.resources.get(ids.vnet_id(SUB, ref.name))
        assert vnet_row is not None and vnet_row.migration_state == "Prepared" and vnet_row.lock_holder
        roles = [r for r in tx.resources.query(SUB, types=[ids.T_VM]) if r.lock_holder == vnet_row.lock_holder]
        arm_rows = tx.resources.query(SUB, model="arm", lock_holder=vnet_row.lock_holder)
    assert roles and all(r.migration_state == "Prepared" for r in roles)
    assert {r.type for r in arm_rows} >= {armt.RESOURCE_GROUP, armt.VNET, armt.VM, armt.NIC}
    assert counts(ctx)[0] == classic_before
    # locked: classic writes refused (R51), ARM writes refused (R44), validate says it is being migrated
    role = roles[0]
    with pytest.raises(Locked, match="Management operations on VM are disallowed because migration is in progress"):
        classic_writes.stop_vm(ctx, role.doc["service_name"], role.doc["deployment_name"], role.name)
    arm_vm = next(r for r in arm_rows if r.type == armt.VM)
    with pytest.raises(ServiceError) as err:
        arm_writes.put(ctx, ArmResource.model_validate(arm_vm.doc))
    assert err.value.code == "OperationNotAllowed"
    locked = migration.validate(ctx, ref)
    assert [m.message for m in locked.messages] == [
        f"Virtual Network {ref.name} is in the process of being migrated and hence cannot be changed"]
    # prepare again: idempotent, nothing duplicated
    again = migration.execute(ctx, Op.PREPARE, ref)
    assert again.status == "Succeeded" and counts(ctx)[1] == len(arm_rows) + arm_before
    commit = migration.execute(ctx, Op.COMMIT, ref)
    assert commit.status == "Succeeded"
    with ctx.store.read() as tx:
        assert tx.resources.get(ids.vnet_id(SUB, ref.name)) is None
        assert not tx.resources.query(SUB, model="arm", lock_holder=vnet_row.lock_holder)
        assert tx.resources.get(arm_vm.key) is not None and tx.resources.get(arm_vm.key).lock_holder is None  # type: ignore[union-attr]
    # VNet migration is metadata only: no VM went down
    assert all(d.windows == 0 for d in status.downtime(ctx, view.id))
    assert migration.execute(ctx, Op.COMMIT, ref).status == "Succeeded"  # idempotent after the end
    with pytest.raises(ServiceError):
        migration.start(ctx, Op.ABORT, ref)
    arm_writes.put(ctx, ArmResource.model_validate(arm_vm.doc))  # unlocked after commit


def test_deployment_outside_vnet_is_deallocated_and_abort_restores(ctx: AppContext) -> None:
    ref = dep_ref(ctx)
    with ctx.store.read() as tx:
        roles = tx.resources.query(SUB, types=[ids.T_VM], parent_key=ref.root_id(SUB))
    running = {r.name for r in roles if r.status == "ReadyRole"}
    assert running
    view = migration.execute(ctx, Op.PREPARE, ref)
    assert view.status == "Succeeded", view
    down = {d.vm: d for d in status.downtime(ctx, view.id)}
    assert {n for n, d in down.items() if d.windows == 1} == running
    assert all(not d.open for d in down.values())
    with ctx.store.read() as tx:
        after = tx.resources.query(SUB, types=[ids.T_VM], parent_key=ref.root_id(SUB))
    assert {r.status for r in after} == {"StoppedDeallocated"}
    classic_count, arm_count = counts(ctx)
    assert arm_count > 0
    abort = migration.execute(ctx, Op.ABORT, ref)
    assert abort.status == "Succeeded"
    with ctx.store.read() as tx:
        restored = {r.name: r.status for r in tx.resources.query(SUB, types=[ids.T_VM], parent_key=ref.root_id(SUB))}
        assert all(r.lock_holder is None and r.migration_state is None
                   for r in tx.resources.query(SUB, types=[ids.T_VM], parent_key=ref.root_id(SUB)))
    assert restored == {r.name: r.status for r in roles}
    assert counts(ctx) == (classic_count, 0)
    # after an abort the unit can be prepared again, and committed
    assert migration.execute(ctx, Op.PREPARE, ref).status == "Succeeded"
    assert migration.execute(ctx, Op.COMMIT, ref).status == "Succeeded"
    with ctx.store.read() as tx:
        assert tx.resources.get(ref.root_id(SUB)) is None


def test_out_of_order_calls(ctx: AppContext) -> None:
    ref = dep_ref(ctx)
    with pytest.raises(ServiceError) as err:
        migration.start(ctx, Op.COMMIT, ref)
    assert err.value.message == f"Deployment {ref.name} in HostedService {ref.service} has not been prepared for " \
                                "Migration."
    with pytest.raises(ServiceError):
        migration.start(ctx, Op.ABORT, ref)
    migration.execute(ctx, Op.PREPARE, ref)
    faults.set_fault(ctx, "commit.remove_classic", "R47")
    failed = migration.execute(ctx, Op.COMMIT, ref)
    assert (failed.status, failed.error_code, failed.error_message) == ("Failed", "InternalError",
                                                                        "Internal server error")
    with pytest.raises(ServiceError) as err:  # abort is forbidden once a commit was attempted
        migration.start(ctx, Op.ABORT, ref)
    assert "can't be aborted" in err.value.message
    with pytest.raises(ServiceError) as err:
        migration.start(ctx, Op.PREPARE, ref)
    assert err.value.message == f"Migration of Deployment {ref.name} in HostedService {ref.service} is in the " \
                                "process of being committed and cannot be changed until it completes successfully."
    assert migration.execute(ctx, Op.COMMIT, ref).status == "Succeeded"  # retry succeeds


def test_prepare_fault_then_retry_or_abort(ctx: AppContext) -> None:
    ref = vnet_ref(ctx)
    faults.set_fault(ctx, "prepare.create", "R48")
    failed = migration.execute(ctx, Op.PREPARE, ref)
    assert failed.status == "Failed" and failed.error_code == "DeploymentFailed"
    assert failed.error_message and failed.error_message.startswith("Template prepare-create-template deployment "
                                                                    "failed. CorrelationId=")
    assert next(u for u in status.status(ctx) if u.name == ref.name).state == "PrepareFailed"
    assert migration.execute(ctx, Op.PREPARE, ref).status == "Succeeded"
    assert migration.execute(ctx, Op.ABORT, ref).status == "Succeeded"
    with ctx.store.read() as tx:
        assert tx.resources.count(SUB, model="arm") == 0
        assert not [r for r in tx.resources.query(SUB) if r.lock_holder or r.migration_state]


def test_validation_errors_block_prepare(tmp_path: Path) -> None:
    c = AppContext.open(f"sqlite:///{tmp_path / 'b.db'}")
    world_clock.set_clock(c, clock.fixed(clock.parse_when("2023-06-01")))
    gen = generator.generate(vms=80, vnets=2, seed=5, blockers=1.0)
    estate.import_estate(c, gen, source="gen")
    blocked = next(n for n in gen.notes if n.startswith("blocker R09 hosted-service"))
    svc = blocked.split()[-1]
    dep = next(d for d in gen.deployments if d.service_name == svc)
    ref = UnitRef(UnitKind.DEPLOYMENT, dep.name, svc, NEW)
    res = migration.validate(c, ref)
    assert res.has_errors
    view = migration.execute(c, Op.PREPARE, ref)
    assert view.status == "Failed" and "multiple Availabilities Sets" in (view.error_message or "")
    with c.store.read() as tx:
        assert tx.resources.count(model="arm") == 0
        assert not tx.resources.query(lock_holder=None, migration_state="Preparing")
        assert not [r for r in tx.resources.query() if r.lock_holder]
    c.close()


def _all_refs(ctx: AppContext) -> list[UnitRef]:
    out = []
    for u in status.status(ctx):
        kind = UnitKind(u.kind)
        out.append(UnitRef(kind, u.name, u.service, NEW if kind == UnitKind.DEPLOYMENT else None))
    return out


def test_many_units_at_once_match_one_at_a_time(tmp_path: Path) -> None:
    """validate_many / execute_many give what validate / execute give unit by unit, blockers included."""
    def fresh(name: str) -> AppContext:
        c = AppContext.open(f"sqlite:///{tmp_path / name}")
        world_clock.set_clock(c, clock.fixed(clock.parse_when("2023-06-01")))
        estate.import_estate(c, generator.generate(vms=70, vnets=2, seed=21, blockers=0.3), source="gen")
        return c

    one, many = fresh("one.db"), fresh("many.db")
    refs = _all_refs(one)
    refs += refs[:3]  # a unit named twice: the second time finds what the first did, in the same transaction
    singles = [migration.validate(one, r) for r in refs]
    batch = migration.validate_many(many, refs)
    assert [(s.result, s.messages) for s in singles] == [(b.result, b.messages) for b in batch]
    assert any(s.has_errors for s in singles) and any(not s.has_errors for s in singles)
    def single(op: Op, ref: UnitRef) -> tuple[str, str | None, str | None]:
        try:
            v = migration.execute(one, op, ref)
        except ServiceError as exc:  # refused outright; execute_many reports it as that unit's failed operation
            return "Failed", exc.code, exc.message
        return v.status, v.error_code, v.error_message

    for op in (Op.PREPARE, Op.COMMIT):
        a = [single(op, r) for r in refs]
        b = migration.execute_many(many, op, refs, batch_rows=200)  # several transactions
        assert a == [(v.status, v.error_code, v.error_message) for v in b]
        assert any(x[0] == "Succeeded" for x in a) and any(x[0] == "Failed" for x in a)
    assert [(u.kind, u.name, u.state) for u in status.status(one)] == \
           [(u.kind, u.name, u.state) for u in status.status(many)]
    with one.store.read() as t1, many.store.read() as t2:
        assert [(r.id, r.type, r.doc) for r in t1.resources.query(model="arm")] == \
               [(r.id, r.type, r.doc) for r in t2.resources.query(model="arm")]
        assert t1.usage.in_location(SUB, "westus") == t2.usage.in_location(SUB, "westus")
        # the same writes, as the event log tells (units that failed in a batch left none)
        log = "SELECT resource_key, action, version FROM events"
        assert sorted(map(tuple, t1.conn.exec_driver_sql(log))) == sorted(map(tuple, t2.conn.exec_driver_sql(log)))
        for t in (t1, t2):
            assert not t.operations.all(status="InProgress")
    one.close()
    many.close()


def test_kept_index_follows_every_write(tmp_path: Path) -> None:
    """A context keeps its classic index between bulk calls and learns from the event log what others wrote:
    its validation stays exactly what a fresh context (a cold index) gives."""
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    keeper, writer = AppContext.open(url), AppContext.open(url)
    world_clock.set_clock(writer, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(writer, generator.generate(vms=70, vnets=2, seed=21, blockers=0.3), source="gen")

    def same_as_cold() -> None:
        refs = _all_refs(keeper)
        cold = AppContext.open(url)
        try:
            expected = [(v.result, v.messages) for v in migration.validate_many(cold, refs)]
        finally:
            cold.close()
        assert [(v.result, v.messages) for v in migration.validate_many(keeper, refs)] == expected

    def serves_what_is_stored() -> None:
        """Row by row, the kept index gives what is in the database (documents, versions, locks)."""
        with keeper.store.read() as tx, keeper.classic_index(tx, SUB) as idx:
            stored = {r.key: r for r in tx.resources.query(SUB, model=ids.CLASSIC)
                      if r.type != ids.T_DISK}  # (not indexed)
            served = idx.get_many(set(idx.rows))
            assert served.keys() == stored.keys()
            for key, row in stored.items():
                got = served[key]
                assert (got.doc, got.version, got.lock_holder, got.migration_state) == \
                       (row.doc, row.version, row.lock_holder, row.migration_state), key

    same_as_cold()
    kept = keeper._index
    assert kept is not None
    with writer.store.read() as tx:
        vms_ = [r for r in tx.resources.query(SUB, types=[ids.T_VM]) if r.doc["instance_status"] == "ReadyRole"][:3]
        deps = tx.resources.query(SUB, types=[ids.T_DEPLOYMENT])
    for vm in vms_:  # updates: documents change, versions move
        classic_writes.set_power(writer, vm.doc["service_name"], vm.doc["deployment_name"], vm.name, start=False)
    same_as_cold()
    victim = next(d for d in deps if not d.doc.get("virtual_network_name"))
    classic_writes.delete_deployment(writer, victim.doc["service_name"], victim.name, delete_media=False)
    same_as_cold()  # deleted: gone from the kept index too
    vm = vms_[0]
    with writer.store.read() as tx:  # (the storage units read disks by account)
        account = tx.resources.query(SUB, types=[ids.T_STORAGE])[0].name
    link = f"https://{account}.blob.core.windows.net/vhds/added-by-test.vhd"
    disk = classic.DataDisk(lun=40, disk_name="added-by-test", media_link=link, logical_size_gb=8)
    classic_writes.add_data_disk(writer, vm.doc["service_name"], vm.doc["deployment_name"], vm.name, disk)
    same_as_cold()  # a disk created: in its account's list
    classic_writes.delete_role(writer, vm.doc["service_name"], vm.doc["deployment_name"], vm.name, delete_media=True)
    same_as_cold()  # its disks deleted with it
    ref = next(r for r in _all_refs(writer) if not migration.validate(writer, r).has_errors)
    assert migration.execute(writer, Op.PREPARE, ref).status == "Succeeded"
    same_as_cold()  # locked by another context: R50 either way
    migration.execute(writer, Op.ABORT, ref)
    same_as_cold()
    # the keeper's own bulk writes, over several batches (locks, deallocated VMs), then undone
    refs = _all_refs(keeper)
    views = migration.execute_many(keeper, Op.PREPARE, refs, batch_rows=60)
    prepared = [r for r, v in zip(refs, views, strict=True) if v.status == "Succeeded"]
    assert len(prepared) >= 2
    serves_what_is_stored()
    same_as_cold()
    migration.execute_many(keeper, Op.ABORT, prepared, batch_rows=60)
    serves_what_is_stored()
    same_as_cold()
    estate.import_estate(writer, generator.generate(vms=20, vnets=1, seed=5, blockers=0.5), source="more")
    same_as_cold()  # created and replaced rows
    with writer.store.read() as tx:  # (NSG units list the VMs naming them)
        nsg = tx.resources.query(SUB, types=[ids.T_NSG])[0].name
        vm = next(r for r in tx.resources.query(SUB, types=[ids.T_VM]) if not r.doc.get("network_security_group"))
    classic_writes.update_role(writer, vm.doc["service_name"], vm.doc["deployment_name"], vm.name,
                               {"network_security_group": nsg})
    same_as_cold()  # a VM now naming an NSG
    with writer.store.tx() as tx:
        tx.resources.delete_all(SUB)
    estate.import_estate(writer, generator.generate(vms=30, vnets=1, seed=7, blockers=0.3), source="again")
    same_as_cold()  # everything deleted and created again, same keys and versions as before
    assert keeper._index is kept  # learnt, not rebuilt
    keeper.close()
    writer.close()


@pytest.mark.parametrize("many", [False, True], ids=["one-unit", "execute_many"])
def test_attached_disks_hold_their_vms_lock(ctx: AppContext, many: bool) -> None:
    """A VM's disks are not stamped with the unit's lock: they hold their VM's (service/locks.py). What reads a
    disk's lock sees the VM's; a re-import can't change a disk of a VM being migrated; commit removes the disks
    with their VM, abort leaves them as they were."""
    ref = dep_ref(ctx)
    disks = [d for d in generator.generate(vms=60, vnets=2, seed=11, blockers=0.0).disks
             if (d.hosted_service_name, d.deployment_name) == (ref.service, ref.name)]
    assert disks
    keys = [ids.disk_id(SUB, d.name).lower() for d in disks]

    def go(op: Op) -> None:
        view = migration.execute_many(ctx, op, [ref])[0] if many else migration.execute(ctx, op, ref)
        assert view.status == "Succeeded", view

    def shown() -> set[tuple[object, object]]:
        return {(s["locked"], s["migrationState"]) for s in (resources.show(ctx, k) for k in keys)}

    with ctx.store.read() as tx:
        before = {k: (r.version, r.doc) for k, r in tx.resources.get_many(keys).items()}
    go(Op.PREPARE)
    with ctx.store.read() as tx:
        rows = tx.resources.get_many(keys)
        assert {k: (r.version, r.doc) for k, r in rows.items()} == before  # not rewritten
        assert all(r.lock_holder is None for r in rows.values())
    assert shown() == {(True, "Prepared")}
    relabelled = disks[0].model_copy(update={"label": "changed"})
    with pytest.raises(Locked):
        estate.import_estate(ctx, Estate(disks=[relabelled]), source="again")
    go(Op.ABORT)
    assert shown() == {(False, None)}
    go(Op.PREPARE)
    go(Op.COMMIT)
    with ctx.store.read() as tx:
        assert not tx.resources.get_many(keys)
        assert tx.resources.count(SUB, types=[ids.T_STORAGE]) > 0  # the accounts holding the VHDs stay


@pytest.mark.parametrize("op", [Op.COMMIT, Op.ABORT])
def test_disks_stamped_by_an_older_prepare_still_commit_and_abort(ctx: AppContext, op: Op) -> None:
    """Before disks held their VM's lock, prepare stamped them with the unit's: such a database still ends
    cleanly (commit removes them, abort unlocks them)."""
    ref = dep_ref(ctx)
    assert migration.execute(ctx, Op.PREPARE, ref).status == "Succeeded"
    with ctx.store.tx() as tx:
        holder = tx.resources.get(ref.root_id(SUB)).lock_holder  # type: ignore[union-attr]
        vm_keys = [r.key for r in tx.resources.query(SUB, types=[ids.T_VM], lock_holder=holder)]
        disks = locks.attached_disks(tx, vm_keys)
        assert disks
        tx.resources.set_columns(disks, lock_holder=holder, migration_state="Prepared")
    assert migration.execute(ctx, op, ref).status == "Succeeded"
    with ctx.store.read() as tx:
        left = tx.resources.get_many(disks)
    if op == Op.COMMIT:
        assert not left
    else:
        assert len(left) == len(disks) and all(not r.lock_holder and not r.migration_state for r in left.values())
