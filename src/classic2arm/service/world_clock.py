"""Setting the world clock, and what the retirement dates do to the estate as time passes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..domain import retirement
from . import clock

if TYPE_CHECKING:
    from ..store import Tx
    from .context import AppContext


def enforce_retirement(tx: Tx, now: datetime) -> int:
    """Stop and deallocate every allocated classic VM once the retirement date has passed."""
    if not retirement.classic_vms_must_be_deallocated(now):
        return 0
    # (imported here: `clock show` reads the clock without the domain models or the power use case)
    from ..domain import classic as c
    from ..domain import identity as ids
    from . import power

    changes: list[power.Change] = []
    for row in tx.resources.query(types=[ids.T_VM]):
        if row.status != c.InstanceStatus.STOPPED_DEALLOCATED.value:
            changes.append((row, c.InstanceStatus.STOPPED_DEALLOCATED, c.PowerState.STOPPED))
    # (VMs of every subscription: no address is placed when deallocating, so the subscription goes unused)
    return len(power.change(tx, "", changes))


def set_clock(ctx: AppContext, setting: clock.ClockSetting) -> tuple[clock.ClockSetting, int]:
    """Move the world clock; returns the setting and how many classic VMs retirement deallocated."""
    with ctx.store.tx() as tx:
        clock.write(tx, setting)
        now = setting.now()
        tx.now = now
        return setting, enforce_retirement(tx, now)


def show_clock(ctx: AppContext) -> dict[str, object]:
    setting = clock.read_setting(ctx)
    now = setting.now()
    return {**setting.to_json(), "now": now.isoformat(),
            "classicVmsRetired": retirement.classic_vms_must_be_deallocated(now),
            "classicVmRetirement": retirement.CLASSIC_VM_RETIREMENT.date().isoformat()}
