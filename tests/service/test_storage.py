"""Storage accounts migrate only as the real service lets them (issue 12 item 5): prepare refused while a classic
VM's disk is in the account, Delete Storage Account refused while a migrating or migrated VM's disks are in it,
and the account's VHD blobs still listed after the storage commit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from classic2arm.domain import arm as armt
from classic2arm.domain import catalogue as msg
from classic2arm.domain import classic, generator, media
from classic2arm.domain import identity as ids
from classic2arm.domain.estate import Estate
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.importers import estate_doc
from classic2arm.service import arm_reads, blobs, classic_writes, clock, estate, migration, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.errors import ServiceError

SUB = "00000000-0000-0000-0000-000000000001"
NEW = Destination("New")


def storage_estate(seed: int = 1) -> tuple[Estate, str]:
    """A generated estate and the storage account holding the most VHDs of VMs, with no classic Disk object,
    unattached disk or image left in it: only the VMs' own OSVirtualHardDisk/DataVirtualHardDisks point there."""
    est = generator.generate(vms=40, vnets=1, seed=seed, blockers=0.0)
    accounts = {media.account_of(d.media_link) for r in est.roles for d in _disks(r)}
    account = max(sorted(accounts), key=lambda a: len(holders(est, a)))  # (several units: a VNet, deployments)
    est.disks = [d for d in est.disks if not media.blob_in(d.media_link, account)]
    est.os_images = [i for i in est.os_images if not (i.media_link and media.blob_in(i.media_link, account))]
    est.vm_images = [i for i in est.vm_images if not any(media.blob_in(m, account) for m in i.media_links)]
    return est, account


def _disks(role: classic.Role) -> list[classic.OSDisk | classic.DataDisk]:
    return [*([role.os_disk] if role.os_disk else []), *role.data_disks]


def holders(est: Estate, account: str) -> list[UnitRef]:
    """The units (VNets, or deployments outside one) whose VMs have a disk in the account."""
    deps = {(d.service_name, d.name): d for d in est.deployments}
    out: list[UnitRef] = []
    for role in est.roles:
        if not any(media.blob_in(d.media_link, account) for d in _disks(role)):
            continue
        dep = deps[(role.service_name, role.deployment_name)]
        ref = (UnitRef(UnitKind.VNET, dep.virtual_network_name) if dep.virtual_network_name
               else UnitRef(UnitKind.DEPLOYMENT, dep.name, dep.service_name, NEW))
        if ref not in out:
            out.append(ref)
    return out


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    c = AppContext.open(f"sqlite:///{tmp_path / 's.db'}")
    world_clock.set_clock(c, clock.fixed(clock.parse_when("2023-06-01")))
    yield c
    c.close()


def outcome(ctx: AppContext, op: Op, ref: UnitRef) -> tuple[str, str | None]:
    try:
        view = migration.execute(ctx, op, ref)
    except ServiceError as exc:
        return "Refused", exc.message
    return view.status, view.error_message


def test_prepare_refused_while_a_classic_vms_disk_is_in_the_account(ctx: AppContext) -> None:
    est, account = storage_estate()
    estate.import_estate(ctx, est, source="gen")
    units = holders(est, account)
    assert len(units) >= 2
    ref = UnitRef(UnitKind.STORAGE, account)
    in_use = msg.R42_ACCOUNT_IN_USE.text(name=account)
    # validate does not check the account's disks (spec R42); prepare does, single and bulk alike
    assert not migration.validate(ctx, ref).has_errors
    assert outcome(ctx, Op.PREPARE, ref) == ("Failed", in_use)
    bulk = migration.execute_many(ctx, Op.PREPARE, [ref])[0]
    assert (bulk.status, bulk.error_message) == ("Failed", in_use)
    for unit in units:  # a prepared VM is still classic: its disks still hold the account back
        assert outcome(ctx, Op.PREPARE, unit)[0] == "Succeeded"
    assert outcome(ctx, Op.PREPARE, ref) == ("Failed", in_use)
    for unit in units[:-1]:
        assert outcome(ctx, Op.COMMIT, unit)[0] == "Succeeded"
    assert outcome(ctx, Op.PREPARE, ref) == ("Failed", in_use)  # one unit's VMs still to commit
    assert migration.execute_many(ctx, Op.PREPARE, [ref])[0].error_message == in_use
    assert outcome(ctx, Op.COMMIT, units[-1])[0] == "Succeeded"
    assert outcome(ctx, Op.PREPARE, ref) == ("Succeeded", None)
    assert outcome(ctx, Op.COMMIT, ref) == ("Succeeded", None)


def test_bulk_prepare_sees_the_vms_disks_as_the_single_unit_path(tmp_path: Path) -> None:
    """The kept index (execute_many) learns that the VMs committed, as a fresh single-unit read does."""
    est, account = storage_estate()
    ctx = AppContext.open(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
        estate.import_estate(ctx, est, source="gen")
        ref = UnitRef(UnitKind.STORAGE, account)
        units = holders(est, account)
        assert migration.execute_many(ctx, Op.PREPARE, [ref])[0].status == "Failed"
        kept = ctx._index
        assert kept is not None  # (SQLite: the context keeps its index and learns the commits from the log)
        assert all(v.status == "Succeeded" for v in migration.execute_many(ctx, Op.PREPARE, units))
        assert migration.execute_many(ctx, Op.PREPARE, [ref])[0].status == "Failed"
        assert all(v.status == "Succeeded" for v in migration.execute_many(ctx, Op.COMMIT, units))
        assert migration.execute_many(ctx, Op.PREPARE, [ref])[0].status == "Succeeded"
        assert ctx._index is kept
    finally:
        ctx.close()


def test_a_disk_added_to_another_vm_blocks_the_account_again(ctx: AppContext) -> None:
    """Attached disks are read from the VM's own document: a data disk added to a VM whose other disks are
    elsewhere lands in the account's list, with or without its classic Disk object."""
    est, account = storage_estate(seed=5)  # (two accounts)
    estate.import_estate(ctx, est, source="gen")
    units = holders(est, account)
    held = {u.name for u in units}
    deps = {(d.service_name, d.name): d for d in est.deployments}
    vm = next(r for r in est.roles if r.role_type == classic.RoleType.PERSISTENT_VM
              and (deps[(r.service_name, r.deployment_name)].virtual_network_name or r.deployment_name) not in held)
    for unit in units:
        assert outcome(ctx, Op.PREPARE, unit)[0] == "Succeeded"
        assert outcome(ctx, Op.COMMIT, unit)[0] == "Succeeded"
    disk = classic.DataDisk(lun=30, disk_name="late-disk", logical_size_gb=4,
                            media_link=media.link(account, "vhds", "late-disk.vhd"))
    classic_writes.add_data_disk(ctx, vm.service_name, vm.deployment_name, vm.name, disk)
    with ctx.store.tx() as tx:
        tx.resources.delete([ids.disk_id(SUB, "late-disk").lower()])
    ref = UnitRef(UnitKind.STORAGE, account)
    assert outcome(ctx, Op.PREPARE, ref) == ("Failed", msg.R42_ACCOUNT_IN_USE.text(name=account))
    classic_writes.delete_role(ctx, vm.service_name, vm.deployment_name, vm.name, delete_media=False)
    assert outcome(ctx, Op.PREPARE, ref) == ("Succeeded", None)


def test_delete_refused_while_vhds_are_in_use_and_blobs_listed_after_commit(ctx: AppContext) -> None:
    est, account = storage_estate()
    estate.import_estate(ctx, est, source="gen")
    units = holders(est, account)
    before = blobs.inventory(ctx, account)
    assert before.model == "classic" and before.containers["vhds"]
    classic_text = msg.STORAGE_ACTIVE_ARTIFACTS.text(name=account, count=1)

    def delete() -> tuple[str, int, str]:
        with pytest.raises(ServiceError) as err:
            classic_writes.delete_storage_account(ctx, account)
        return err.value.code, err.value.http_status, err.value.message

    assert delete() == ("BadRequest", 400, classic_text)  # classic VMs' disks
    for unit in units:
        assert outcome(ctx, Op.PREPARE, unit)[0] == "Succeeded"
    assert delete() == ("BadRequest", 400, classic_text)  # prepared VMs: still classic disks
    for unit in units:
        assert outcome(ctx, Op.COMMIT, unit)[0] == "Succeeded"
    code, status, text = delete()  # the VMs are ARM's now, their VHDs still in the account
    assert (code, status) == ("ConflictError", 409)
    assert text.startswith(f"Storage account {account} holds the VHDs of ") and "virtual machine(s)" in text
    ref = UnitRef(UnitKind.STORAGE, account)
    assert outcome(ctx, Op.PREPARE, ref) == ("Succeeded", None)
    assert blobs.inventory(ctx, account).containers == before.containers  # (classic, Prepared)
    assert outcome(ctx, Op.COMMIT, ref) == ("Succeeded", None)
    after = blobs.inventory(ctx, account)
    assert after.model == "arm" and after.resource_id.endswith(f"/Microsoft.Storage/storageAccounts/{account}")
    assert after.containers == before.containers  # every VHD blob, same size and lease
    with ctx.store.read() as tx:  # the blob inventory is kept beside the ARM shape, never served in it
        row = next(r for r in tx.resources.query(SUB, model="arm", types=[armt.STORAGE_ACCOUNT], name=account))
    assert armt.BLOBS_KEY in row.doc
    shown = arm_reads.get_resource(ctx, arm_reads.parse_id(row.id))  # type: ignore[arg-type]
    assert armt.BLOBS_KEY not in shown and "blobs" not in shown["properties"]
    with pytest.raises(ServiceError) as err:  # the classic account is gone
        classic_writes.delete_storage_account(ctx, account)
    assert err.value.http_status == 404


def test_unknown_account_has_no_inventory(ctx: AppContext) -> None:
    estate.import_estate(ctx, storage_estate()[0], source="gen")
    with pytest.raises(ServiceError) as err:
        blobs.inventory(ctx, "nosuchaccount")
    assert (err.value.http_status, err.value.message) == (404, msg.R02_STORAGE_NOT_FOUND.text(name="nosuchaccount"))


def test_a_migrated_accounts_blobs_survive_export_and_import(ctx: AppContext, tmp_path: Path) -> None:
    est, account = storage_estate()
    estate.import_estate(ctx, est, source="gen")
    for unit in holders(est, account):
        assert outcome(ctx, Op.PREPARE, unit)[0] == "Succeeded"
        assert outcome(ctx, Op.COMMIT, unit)[0] == "Succeeded"
    ref = UnitRef(UnitKind.STORAGE, account)
    assert outcome(ctx, Op.PREPARE, ref)[0] == "Succeeded"
    assert outcome(ctx, Op.COMMIT, ref)[0] == "Succeeded"
    listed = blobs.inventory(ctx, account)
    doc = estate_doc.dumps(estate.export_estate(ctx), "json")
    other = AppContext.open(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        world_clock.set_clock(other, clock.fixed(clock.parse_when("2023-06-01")))
        estate.import_estate(other, estate_doc.load(doc, "estate.json"), source="again")
        assert blobs.inventory(other, account) == listed
    finally:
        other.close()
