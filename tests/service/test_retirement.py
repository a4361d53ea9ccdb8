"""The world clock and the retirement policy of spec §8."""

from __future__ import annotations

import pytest

from classic2arm.domain import classic as c
from classic2arm.domain import identity as ids
from classic2arm.domain import retirement
from classic2arm.service import classic_writes, clock, inventory, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.errors import Locked, ServiceError
from classic2arm.store import Tx

SUB = "11111111-2222-3333-4444-555555555555"


def _set(ctx: AppContext, when: str) -> int:
    return world_clock.set_clock(ctx, clock.fixed(clock.parse_when(when)))[1]


def _sub(ctx: AppContext, **changes: object) -> None:
    with ctx.store.tx() as tx:
        doc = tx.subscriptions.get(SUB)
        assert doc is not None
        tx.subscriptions.put({**doc, **changes})


def test_clock_modes() -> None:
    fixed = clock.fixed(clock.parse_when("2023-06-01"))
    assert fixed.now().isoformat() == "2023-06-01T00:00:00+00:00"
    running = clock.running_from(clock.parse_when("2020-01-01T12:00:00Z"))
    assert running.now().year == 2020
    assert clock.ClockSetting.from_json(running.to_json()).offset == running.offset
    with pytest.raises(ValueError, match="not a date"):
        clock.parse_when("yesterday")


def test_clock_is_stored_per_database(sample_ctx: AppContext) -> None:
    data = world_clock.show_clock(sample_ctx)
    assert data["mode"] == "fixed" and str(data["now"]).startswith("2023-06-01")
    assert data["classicVmsRetired"] is False


def test_vm_start_stop_before_retirement(sample_ctx: AppContext) -> None:
    role = classic_writes.start_vm(sample_ctx, "jumpbox", "jumpbox", "jump")
    assert role.instance_status == c.InstanceStatus.READY
    role = classic_writes.stop_vm(sample_ctx, "jumpbox", "jumpbox", "jump", deallocate=False)
    assert role.instance_status == c.InstanceStatus.STOPPED_VM


def test_retirement_date_deallocates_and_forbids_start(sample_ctx: AppContext) -> None:
    running = [i for i in inventory.inventory(sample_ctx) if i.powerState != "StoppedDeallocated"]
    assert running
    assert _set(sample_ctx, "2023-09-01") == len(running)
    assert {i.powerState for i in inventory.inventory(sample_ctx)} == {"StoppedDeallocated"}
    with pytest.raises(ServiceError) as err:
        classic_writes.start_vm(sample_ctx, "shop", "shop", "web1")
    assert err.value.code == "ClassicVMRetired"
    assert _set(sample_ctx, "2024-01-01") == 0  # nothing left to deallocate


def test_day_before_retirement_nothing_happens(sample_ctx: AppContext) -> None:
    assert _set(sample_ctx, "2023-08-31T23:59:59") == 0


def _new_vm(name: str) -> c.Role:
    return c.Role(name=name, service_name="jumpbox", deployment_name="jumpbox", size="Small")


def _add(ctx: AppContext, role: c.Role) -> c.Role:
    """Add Role, then the role as stored."""
    classic_writes.add_role(ctx, role.service_name, role.deployment_name, role)
    with ctx.store.read() as tx:
        row = tx.resources.get(ids.role_id(SUB, role.service_name, role.deployment_name, role.name))
    assert row is not None
    return c.Role.model_validate(row.doc)


def test_new_customers_cannot_create_classic_vms_after_deprecation(sample_ctx: AppContext) -> None:
    _sub(sample_ctx, had_classic_vms_feb_2020=False)
    with pytest.raises(ServiceError) as err:
        _add(sample_ctx, _new_vm("new1"))
    assert err.value.code == "NewClassicVMCreationNotAllowedForSubscription" and err.value.http_status == 403
    _set(sample_ctx, "2020-02-27")  # before the deprecation anyone may
    added = _add(sample_ctx, _new_vm("new1"))
    assert added.name == "new1" and added.instance_status == c.InstanceStatus.READY and added.ip_address


def test_existing_and_allow_listed_customers_may_create(sample_ctx: AppContext) -> None:
    _add(sample_ctx, _new_vm("exist1"))
    _sub(sample_ctx, had_classic_vms_feb_2020=False, allow_listed_for_classic_vms=True)
    _add(sample_ctx, _new_vm("allow1"))
    _set(sample_ctx, "2023-09-02")
    with pytest.raises(ServiceError) as err:
        _add(sample_ctx, _new_vm("late"))
    assert err.value.code == "ClassicVMRetired"


def test_duplicate_vm_and_missing_deployment(sample_ctx: AppContext) -> None:
    with pytest.raises(ServiceError, match="already exists"):
        _add(sample_ctx, c.Role(name="jump", service_name="jumpbox", deployment_name="jumpbox"))
    with pytest.raises(ServiceError, match="does not exist"):
        _add(sample_ctx, c.Role(name="x", service_name="jumpbox", deployment_name="nope"))


def test_locked_vm_is_refused(sample_ctx: AppContext) -> None:
    with sample_ctx.store.tx() as tx:
        _lock(tx, f"/{SUB}/services/hostedservices/shop/deployments/shop/roles/web1")
    with pytest.raises(Locked, match="migration is in progress"):
        classic_writes.stop_vm(sample_ctx, "shop", "shop", "web1")


def _lock(tx: Tx, key: str) -> None:
    tx.resources.set_columns([key], lock_holder="op1", migration_state="Prepared")


@pytest.mark.parametrize(
    ("created", "when", "code"),
    [
        ("2021-01-01", "2023-01-01", None),
        ("2022-09-15", "2023-01-01", "ClassicStorageAccountCreationNotAllowed"),
        ("2021-01-01", "2024-08-16", "ClassicStorageAccountCreationNotAllowed"),
    ],
)
def test_classic_storage_cutoffs(sample_ctx: AppContext, created: str, when: str, code: str | None) -> None:
    _sub(sample_ctx, created=clock.parse_when(created).isoformat())
    _set(sample_ctx, when)
    account = c.StorageAccount(name="newaccount1", location="West US")
    if code is None:
        classic_writes.create_storage_account(sample_ctx, account)
        with sample_ctx.store.read() as tx:
            assert tx.resources.get(ids.storage_id(SUB, "newaccount1")) is not None
    else:
        with pytest.raises(ServiceError) as err:
            classic_writes.create_storage_account(sample_ctx, account)
        assert err.value.code == code


def test_dates_live_in_one_place() -> None:
    assert retirement.CLASSIC_VM_RETIREMENT.date().isoformat() == "2023-09-01"
    assert retirement.CLASSIC_VM_DEPRECATION.date().isoformat() == "2020-02-28"
    assert retirement.may_manage_classic_storage(clock.parse_when("2024-09-01")) is not None
    assert retirement.may_manage_classic_storage(clock.parse_when("2024-08-31")) is None
