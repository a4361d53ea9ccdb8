"""Classic VM lifecycle writes that the retirement policy governs: create, start, stop, deallocate."""

from __future__ import annotations

from ..domain import catalogue as msg
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import retirement
from ..store import Row, Tx
from . import clock, codec
from .context import AppContext
from .errors import Locked, NotFound, ServiceError


def _subscription(tx: Tx, sub_id: str) -> c.Subscription:
    doc = tx.get_subscription(sub_id)
    if doc is None:
        raise NotFound(f"subscription '{sub_id}' is not in the store", code="SubscriptionNotFound")
    return c.Subscription.model_validate(doc)


def _denied(denial: retirement.Denial | None) -> None:
    if denial is not None:
        raise ServiceError(denial.code, denial.message, denial.http_status)


def _vm_row(tx: Tx, sub: str, svc: str, dep: str, name: str) -> Row:
    row = tx.get(ids.role_id(sub, svc, dep, name))
    if row is None or row.type != ids.T_VM:
        raise NotFound(f"The virtual machine '{name}' does not exist in deployment '{dep}' of hosted service "
                       f"'{svc}'.")
    if row.lock_holder or row.migration_state:
        raise Locked(msg.R51_VM_LOCKED.text())
    return row


def create_vm(ctx: AppContext, role: c.Role) -> c.Role:
    """Add a VM to an existing deployment (ASM Add Role), subject to the February 2020 rule."""
    with ctx.store.tx() as tx:
        sub_id = ctx.subscription_id(tx)
        now = clock.now(tx)
        tx.now = now
        _denied(retirement.may_create_classic_vm(_subscription(tx, sub_id), now))
        dep_row = tx.get(ids.deployment_id(sub_id, role.service_name, role.deployment_name))
        if dep_row is None:
            raise NotFound(f"The deployment name '{role.deployment_name}' does not exist.")
        if dep_row.lock_holder or dep_row.migration_state:
            raise Locked(msg.R50_DEPLOYMENT_LOCKED.text(dep=role.deployment_name, hs=role.service_name))
        if tx.get(ids.role_id(sub_id, role.service_name, role.deployment_name, role.name)) is not None:
            raise ServiceError("ConflictError", f"A role named '{role.name}' already exists in deployment "
                                                f"'{role.deployment_name}'.", 409)
        hs_row = tx.get(dep_row.parent_key or "")
        loc = str(hs_row.doc.get("location")) if hs_row and hs_row.doc.get("location") else None
        tx.insert([codec.classic_row(sub_id, role, loc, dep_row.resource_group)])
        return role


def _set_state(ctx: AppContext, svc: str, dep: str, name: str, status: c.InstanceStatus, power: c.PowerState,
               check_start: bool) -> c.Role:
    with ctx.store.tx() as tx:
        sub_id = ctx.subscription_id(tx)
        now = clock.now(tx)
        tx.now = now
        if check_start:
            _denied(retirement.may_start_classic_vm(now))
        row = _vm_row(tx, sub_id, svc, dep, name)
        role = c.Role.model_validate(row.doc)
        role.instance_status, role.power_state = status, power
        if status == c.InstanceStatus.STOPPED_DEALLOCATED:
            role.ip_address = None
        row.doc = role.model_dump(mode="json")
        row.status = status.value
        tx.update(row)
        return role


def start_vm(ctx: AppContext, svc: str, dep: str, name: str) -> c.Role:
    return _set_state(ctx, svc, dep, name, c.InstanceStatus.READY, c.PowerState.STARTED, check_start=True)


def stop_vm(ctx: AppContext, svc: str, dep: str, name: str, deallocate: bool = True) -> c.Role:
    status = c.InstanceStatus.STOPPED_DEALLOCATED if deallocate else c.InstanceStatus.STOPPED_VM
    return _set_state(ctx, svc, dep, name, status, c.PowerState.STOPPED, check_start=False)


def create_storage_account(ctx: AppContext, account: c.StorageAccount) -> c.StorageAccount:
    """Create a classic storage account, subject to the classic storage cut-off dates."""
    with ctx.store.tx() as tx:
        sub_id = ctx.subscription_id(tx)
        now = clock.now(tx)
        tx.now = now
        _denied(retirement.may_create_classic_storage(_subscription(tx, sub_id), now))
        if tx.query(types=[ids.T_STORAGE], name=account.name):
            raise ServiceError("ConflictError", f"The storage account named '{account.name}' is already taken.",
                               409)
        tx.insert([codec.classic_row(sub_id, account)])
        return account
