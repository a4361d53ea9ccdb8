"""Invariants of the migration service that must hold after every step, crash or retry (issue 3)."""

from __future__ import annotations

from classic2arm.domain.state_machine import LOCKED_STATES
from classic2arm.service.context import AppContext


def check_invariants(ctx: AppContext, allow_in_progress: bool = False) -> None:
    with ctx.store.read() as tx:
        units = {u.id: u for u in tx.units.all()}
        rows = tx.resources.query()
        ops = tx.operations.all(status="InProgress")
    if not allow_in_progress:
        assert not ops, f"operations left in progress: {[o.id for o in ops]}"
    holders: dict[str, list[str]] = {}
    for r in rows:
        if r.lock_holder:
            holders.setdefault(r.lock_holder, []).append(r.key)
            unit = units.get(r.lock_holder)
            assert unit is not None, f"{r.id} locked by an unknown unit {r.lock_holder}"
            assert unit.state in LOCKED_STATES, f"{r.id} locked by unit in state {unit.state}"
        elif r.model == "arm":
            assert r.migration_state is None, f"{r.id}: ARM row in migration state without a lock"
        if r.model == "classic" and r.migration_state:
            assert r.lock_holder, f"{r.id}: classic row in {r.migration_state} but not locked"
    keys = {r.key for r in rows}
    for uid, unit in units.items():
        state = unit.state
        mine = holders.get(uid, [])
        arm_mine = [k for k in mine if k.startswith("/subscriptions/")]
        if state == "Prepared":
            assert unit.root_key in keys, f"prepared unit {unit.name} lost its classic root"
            assert arm_mine, f"prepared unit {unit.name} has no ARM resources"
            root = next(r for r in rows if r.key == unit.root_key)
            assert root.lock_holder == uid and root.migration_state == "Prepared"
        elif state in (None, "Aborted"):
            assert not mine, f"unit {unit.name} in state {state} still holds {len(mine)} rows"
        elif state == "Committed":
            assert not mine, f"committed unit {unit.name} still holds {len(mine)} rows"
            assert unit.root_key not in keys, f"committed unit {unit.name}: classic root still there"
        # Preparing / PrepareFailed / Aborting / Committing are transitional: both sides may exist, locked
