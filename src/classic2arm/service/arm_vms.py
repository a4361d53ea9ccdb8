"""ARM VMs that run: the instance view of a VM (its own resource, or `$expand=instanceView` on a GET) and the
power actions (POST start, powerOff, deallocate, restart). A change goes through `power.change`, the one power
change of every VM, and is recorded in the data-plane timeline (`classic2arm downtime`) with the id of the
long-running operation that reports it; a VM a migration holds (Prepared) is refused, as every ARM write on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..domain import arm as armt
from ..domain import catalogue as msg
from ..domain import identity as ids
from ..domain import vm_power
from ..store import Row, Tx
from . import arm_reads, arm_writes, clock, power
from .arm_reads import ResourceAddress
from .context import AppContext
from .errors import NotFound, ServiceError


@dataclass(frozen=True, slots=True)
class ActionResult:
    operation_id: str  # the long-running operation's id (also the timeline entries')
    location: str  # the VM's region, for the operation's status URL
    power: str  # the VM's ARM power code after the action


def _vm_row(tx: Tx, addr: ResourceAddress) -> Row:
    arm_reads.check_type(addr)
    row = arm_reads.row_of(tx, addr.resource_id(1))
    if row is None or row.type != armt.VM or row.model != ids.ARM:
        if row is None or row.model == ids.ARM:
            raise NotFound(f"The Resource 'Microsoft.Compute/virtualMachines/{addr.names[0]}' under resource group "
                           f"'{addr.resource_group}' was not found.")
        raise ServiceError("OperationNotAllowed", f"'{row.arm_id or row.id}' is a classic resource; it is read-only "
                                                  "through Azure Resource Manager.", 409)
    return row


def instance_view(ctx: AppContext, addr: ResourceAddress) -> dict[str, Any]:
    """`GET …/virtualMachines/{vm}/instanceView`."""
    with ctx.store.read() as tx:
        return vm_power.instance_view(_vm_row(tx, addr).doc)


def get_expanded(ctx: AppContext, addr: ResourceAddress, expand: str | None) -> dict[str, Any]:
    """`GET` of a resource; an ARM VM with `$expand=instanceView` carries `properties.instanceView` too."""
    if (expand or "").strip().lower() != "instanceview" or len(addr.names) != 1 \
            or arm_reads.canonical_type(addr.full_type) != armt.VM:
        return arm_reads.get_resource(ctx, addr)
    with ctx.store.read() as tx:
        row = _vm_row(tx, addr)
        doc = arm_reads.arm_json(tx, row)
        return {**doc, "properties": {**doc.get("properties", {}), "instanceView": vm_power.instance_view(row.doc)}}


def act(ctx: AppContext, addr: ResourceAddress, action: str) -> ActionResult:
    """One power action on an ARM VM, in one transaction: refused while a migration holds the VM, a restart of a
    VM that does not run refused as the Compute RP does; the state change and its timeline entries together."""
    known = vm_power.ACTIONS.get(action.lower())
    if known is None:
        raise ServiceError(*msg.ARM_VM_UNKNOWN_ACTION.render(action=action[:60]), 404)
    name, status, state = known
    op_id = uuid.uuid4().hex
    with ctx.store.tx() as tx:
        row = _vm_row(tx, addr)
        arm_writes.refuse_if_held(row)
        before = str(row.doc.get(armt.POWER_KEY) or vm_power.RUNNING)
        if name == "restart" and before != vm_power.RUNNING:
            raise ServiceError(*msg.ARM_VM_ACTION_NOT_ALLOWED.render(action="Restart", vm=row.name, state=before),
                               409)
        after = vm_power.arm_code(status.value)
        if name == "powerOff" and before == vm_power.DEALLOCATED:
            after = before  # nothing runs to power off: it stays deallocated
        now, real = clock.now(tx), datetime.now(UTC)
        events = []
        if name == "restart" or (vm_power.is_running(before) != vm_power.is_running(after)):
            if vm_power.is_running(before):
                events.append(_event(addr.subscription, row, "down", now, real, op_id, f"ARM {name}"))
            if vm_power.is_running(after):
                events.append(_event(addr.subscription, row, "up", now, datetime.now(UTC), op_id, f"ARM {name}"))
        if after != before:
            power.change(tx, addr.subscription, [(row, status.value, state.value)])
        tx.timeline.add(events)
        return ActionResult(op_id, row.location or "global", after)


def _event(sub: str, row: Row, event: str, at: datetime, real: datetime, op_id: str, reason: str) -> dict[str, Any]:
    return {"subscription_id": sub, "vm_key": row.key, "event": event, "at": at, "real_at": real,
            "operation_id": op_id, "reason": reason}
