"""Fault injection for migration steps: makes a step fail with one of the documented transient errors
(R47–R49) a given number of times, so that "retry the operation" can be exercised. Stored in the
database (meta 'faults') so it reaches whichever process runs the operation."""

from __future__ import annotations

import uuid
from typing import Any

from ..domain import catalogue as msg
from ..store import Store
from .context import AppContext
from .errors import ServiceError

META_KEY = "faults"
MAX_TIMES = 1_000_000  # far more failures than any retry test needs; bounds what the store keeps

# Steps of the operations that can be made to fail.
STEPS = ("prepare.validate", "prepare.lock", "prepare.create", "prepare.dataplane", "prepare.finish",
         "commit.remove_classic", "commit.unlock_arm", "commit.finish",
         "abort.remove_arm", "abort.restore", "abort.finish")

TEXTS: dict[str, msg.Text] = {
    "R47": msg.R47_INTERNAL, "R47-retry": msg.R47_RETRY, "R47-network": msg.R47_NETWORK_ALLOCATION,
    "R48": msg.R48_TEMPLATE, "R49": msg.R49_XRP_VNET, "R49-unknown": msg.R49_UNKNOWN,
}


class TransientFault(ServiceError):
    http_status = 500


def set_fault(ctx: AppContext, step: str, error: str = "R47", times: int = 1) -> dict[str, Any]:
    if step not in STEPS:
        raise ServiceError("InvalidFault", f"unknown step '{step}'; steps: {', '.join(STEPS)}")
    if error not in TEXTS:
        raise ServiceError("InvalidFault", f"unknown error '{error}'; errors: {', '.join(TEXTS)}")
    if isinstance(times, bool) or not isinstance(times, int) or not 0 <= times <= MAX_TIMES:
        raise ServiceError("InvalidFault", f"times must be a whole number from 0 to {MAX_TIMES}; got "
                                           f"{str(times)[:40]}")
    with ctx.store.tx() as tx:
        faults = dict(tx.meta.get(META_KEY) or {})
        if times == 0:
            faults.pop(step, None)
        else:
            faults[step] = {"error": error, "times": times}
        tx.meta.set(META_KEY, faults)
        return faults


def clear(ctx: AppContext) -> None:
    with ctx.store.tx() as tx:
        tx.meta.set(META_KEY, {})


def list_faults(ctx: AppContext) -> dict[str, Any]:
    with ctx.store.read() as tx:
        return dict(tx.meta.get(META_KEY) or {})


def trip(store: Store, step: str) -> None:
    """Raise the configured fault for `step`, consuming one of its times in a transaction of its own
    (committed before the raise, so the failed step's rollback does not give the fault back)."""
    with store.tx() as tx:
        faults = tx.meta.get(META_KEY)
        if not faults or step not in faults:
            return
        entry = dict(faults[step])
        entry["times"] -= 1
        new = dict(faults)
        if entry["times"] <= 0:
            new.pop(step)
        else:
            new[step] = entry
        tx.meta.set(META_KEY, new)
    code, message = TEXTS[entry["error"]].render(template=f"{step.replace('.', '-')}-template",
                                                 guid=str(uuid.uuid4()), detail=f"step {step} failed")
    raise TransientFault(code, message)
