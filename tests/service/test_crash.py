"""Crash safety: a real child process preparing, committing or aborting a 2,000-VM VNet is killed with
SIGKILL at random points; after a restart the operation finishes and the invariants hold (issue 3)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from invariants import check_invariants

from classic2arm.domain import generator
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import clock, estate, migration, status, world_clock
from classic2arm.service.context import AppContext

pytestmark = pytest.mark.slow

POINTS = {Op.PREPARE: 12, Op.COMMIT: 10, Op.ABORT: 10}
FINAL = {Op.PREPARE: "Prepared", Op.COMMIT: "Committed", Op.ABORT: "Aborted"}


def _open(path: Path) -> AppContext:
    return AppContext.open(f"sqlite:///{path}")


def _child(db: Path, op: Op, vnet: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{db}", "vnet", op.value, vnet,
                             "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A store with a ≥2,000-VM VNet (base), the same after prepare, and timings of unkilled runs."""
    d = tmp_path_factory.mktemp("crash")
    base = d / "base.db"
    ctx = _open(base)
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(ctx, generator.generate(vms=2900, vnets=1, seed=3), source="gen")
    vnet = max((u for u in status.status(ctx) if u.kind == "vnet"), key=lambda u: u.vms)
    assert vnet.vms >= 2000
    ctx.close()
    timings: dict[Op, float] = {}
    prepared = d / "prepared.db"
    shutil.copy(base, prepared)
    for op, db in ((Op.PREPARE, prepared),):
        t = time.monotonic()
        assert _child(db, op, vnet.name).wait(timeout=300) == 0
        timings[op] = time.monotonic() - t
    with_arm = _open(prepared)
    with with_arm.store.read() as tx:
        arm_count = tx.resources.count(model="arm")
    with_arm.close()
    for op in (Op.COMMIT, Op.ABORT):
        scratch = d / f"timing-{op.value}.db"
        shutil.copy(prepared, scratch)
        t = time.monotonic()
        assert _child(scratch, op, vnet.name).wait(timeout=300) == 0
        timings[op] = time.monotonic() - t
    return {"base": base, "prepared": prepared, "vnet": vnet.name, "timings": timings, "arm": arm_count}


CASES = [(op, i) for op, n in POINTS.items() for i in range(n)]


@pytest.mark.parametrize(("op", "point"), CASES, ids=[f"{op.value}-{i}" for op, i in CASES])
def test_sigkill_then_resume(templates: dict[str, object], tmp_path: Path, op: Op, point: int) -> None:
    start_from = templates["base" if op == Op.PREPARE else "prepared"]
    assert isinstance(start_from, Path)
    db = tmp_path / "c.db"
    shutil.copy(start_from, db)
    vnet = str(templates["vnet"])
    timings = templates["timings"]
    assert isinstance(timings, dict)
    rng = random.Random(f"{op.value}-{point}")
    delay = rng.uniform(0.05, float(timings[op]))
    child = _child(db, op, vnet)
    time.sleep(delay)
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=60)
    ctx = _open(db)
    try:
        check_invariants(ctx, allow_in_progress=True)  # nothing half-written even before recovery
        migration.resume_all(ctx)  # the restart: finish whatever the dead process left
        ref = UnitRef(UnitKind.VNET, vnet)
        unit = next(u for u in status.status(ctx) if u.kind == "vnet" and u.name == vnet)
        if unit.state != FINAL[op]:  # killed before the call was accepted (or it failed): the user retries
            assert migration.execute(ctx, op, ref).status == "Succeeded"
        check_invariants(ctx)
        with ctx.store.read() as tx:
            arm = tx.resources.count(model="arm")
            locked = [r for r in tx.resources.query() if r.lock_holder]
            classic_vnet = tx.resources.query(types=["Microsoft.ClassicNetwork/virtualNetworks"], name=vnet)
        if op == Op.PREPARE:
            assert arm == templates["arm"]  # every ARM resource once: no duplicates, none missing
            assert locked and classic_vnet
        elif op == Op.COMMIT:
            assert arm == templates["arm"] and not locked and not classic_vnet
        else:
            assert arm == 0 and not locked and classic_vnet
    finally:
        ctx.close()
