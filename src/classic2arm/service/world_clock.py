"""Setting the world clock, and what the retirement dates do to the estate as time passes."""

from __future__ import annotations

from datetime import datetime

from ..domain import classic as c
from ..domain import identity as ids
from ..domain import retirement
from ..store import Row, Tx
from . import clock, codec
from .context import AppContext


def enforce_retirement(tx: Tx, now: datetime) -> int:
    """Stop and deallocate every allocated classic VM once the retirement date has passed."""
    if not retirement.classic_vms_must_be_deallocated(now):
        return 0
    changed: list[Row] = []
    for row in tx.query(types=[ids.T_VM]):
        if row.status == c.InstanceStatus.STOPPED_DEALLOCATED.value:
            continue
        codec.set_power(row, c.InstanceStatus.STOPPED_DEALLOCATED.value, c.PowerState.STOPPED.value)
        changed.append(row)
    tx.update_documents(changed)
    return len(changed)



def set_clock(ctx: AppContext, setting: clock.ClockSetting) -> tuple[clock.ClockSetting, int]:
    """Move the world clock; returns the setting and how many classic VMs retirement deallocated."""
    with ctx.store.tx() as tx:
        clock.write(tx, setting)
        now = setting.now()
        tx.now = now
        return setting, enforce_retirement(tx, now)


def show_clock(ctx: AppContext) -> dict[str, object]:
    with ctx.store.read() as tx:
        setting = clock.read(tx)
    now = setting.now()
    return {**setting.to_json(), "now": now.isoformat(),
            "classicVmsRetired": retirement.classic_vms_must_be_deallocated(now),
            "classicVmRetirement": retirement.CLASSIC_VM_RETIREMENT.date().isoformat()}
