"""Benchmark: validate, prepare and commit every VNet and non-VNet deployment of generated estates, through
the service's many-unit entry points (`validate_many`, `execute_many`: one preloaded index, several units per
transaction, every unit still its own durable operation).

    .venv/bin/python bench/bench_migration.py --sizes 1000 10000

For each size: seconds for validate / prepare / commit of all units, validate throughput in VMs/s (cold: in a
fresh process, every row read and parsed; kept: the same call again in that process, on the index it kept,
brought up to date from the event log), and
the prepare time (with a cold index) as a ratio to bulk-inserting the same ARM rows straight into an empty store
in the same run. With --repeat N each figure is the best of N runs (the machine's noise is ±10 %).
Targets (issue 3): prepare + commit of 10,000 VMs < 30 s; time at 10,000 ≤ 12×
the time at 1,000; prepare ≤ 3× the raw bulk insert; validate ≥ 20,000 VMs/s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from classic2arm.domain import generator
from classic2arm.domain import identity as ids
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.gcpause import gc_paused
from classic2arm.service import clock, estate, migration, status, world_clock
from classic2arm.service.context import AppContext
from classic2arm.store import Row, Store


def _units(ctx: AppContext) -> list[tuple[UnitRef, int]]:
    out = []
    for u in status.status(ctx):
        if u.kind == "vnet" and u.vms:
            out.append((UnitRef(UnitKind.VNET, u.name), u.vms))
        elif u.kind == "deployment" and u.vms:
            out.append((UnitRef(UnitKind.DEPLOYMENT, u.name, u.service, Destination("New")), u.vms))
    return out


def _raw_insert(rows: list[Row], path: Path, paused: bool) -> float:
    """The same ARM rows inserted straight into an empty store: the baseline prepare is compared with. Timed with
    the garbage collector on and paused (as the service pauses it); the faster is the baseline."""
    raw = Store.open(f"sqlite:///{path}")
    with gc_paused() if paused else nullcontext():
        os.sync()  # each timed phase starts with the previous one's writes on disk, not still being written back
        t = time.perf_counter()
        with raw.tx() as tx:
            tx.resources.insert(rows)
        elapsed = time.perf_counter() - t
    raw.dispose()
    return elapsed


def _validate_fresh(url: str) -> dict[str, Any]:
    """Validate every unit as a fresh `classic2arm` process would (a new interpreter opens the store, lists the
    units, validates them all), then again on the index it kept."""
    done = subprocess.run([sys.executable, __file__, "--validate-in", url],
                          check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def _validate_here(url: str) -> None:
    ctx = AppContext.open(url)
    refs = [ref for ref, _ in _units(ctx)]
    ctx.forget_index()  # (`status` read through it)
    os.sync()
    t = time.perf_counter()
    results = migration.validate_many(ctx, refs)
    t_validate = time.perf_counter() - t
    assert not any(r.has_errors for r in results)
    t = time.perf_counter()
    again = migration.validate_many(ctx, refs)  # the kept index, brought up to date
    t_warm = time.perf_counter() - t
    ctx.close()

    def digest(rs: list[migration.ValidationResult]) -> str:
        return hashlib.sha256(repr([(r.result, r.messages) for r in rs]).encode()).hexdigest()

    print(json.dumps({"validate": t_validate, "warm": t_warm, "results": digest(results), "again": digest(again)}))


def measure(n: int, workdir: Path) -> dict[str, float]:
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = AppContext.open(f"sqlite:///{workdir / f'mig-{n}.db'}")
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(ctx, generator.generate(vms=n, seed=1, blockers=0.0), source="bench")
    units = _units(ctx)
    vms = sum(v for _, v in units)
    refs = [ref for ref, _ in units]
    url = f"sqlite:///{workdir / f'mig-{n}.db'}"
    fresh = _validate_fresh(url)
    assert fresh["results"] == fresh["again"]
    t_validate, t_warm = fresh["validate"], fresh["warm"]
    t_single = t_validate  # (one process: forked workers are gone, see bench/RESULTS.md "CLI")
    ctx.forget_index()  # prepare pays for reading every row, as in a fresh process
    os.sync()
    t = time.perf_counter()
    views = migration.execute_many(ctx, Op.PREPARE, refs)
    t_prepare = time.perf_counter() - t
    assert all(v.status == "Succeeded" for v in views), [v for v in views if v.status != "Succeeded"][:3]
    with ctx.store.read() as tx:
        arm_rows = tx.resources.query(model=ids.ARM)
    os.sync()
    t = time.perf_counter()
    views = migration.execute_many(ctx, Op.COMMIT, refs)
    t_commit = time.perf_counter() - t
    assert all(v.status == "Succeeded" for v in views)
    t_raw_on, t_raw_paused = (_raw_insert(arm_rows, workdir / f"raw-{n}-{i}.db", paused)
                              for i, paused in enumerate((False, True)))
    ctx.close()
    return {"vms": vms, "units": len(units), "arm": len(arm_rows), "validate": t_validate, "single": t_single,
            "warm": t_warm,
            "prepare": t_prepare,
            "commit": t_commit, "raw": min(t_raw_on, t_raw_paused), "raw_on": t_raw_on}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    ap.add_argument("--repeat", type=int, default=1, help="runs per size; each figure is the best of them")
    ap.add_argument("--validate-in", help=argparse.SUPPRESS)  # (internal: the fresh process of _validate_fresh)
    args = ap.parse_args()
    if args.validate_in:
        _validate_here(args.validate_in)
        return
    workdir = Path(tempfile.mkdtemp(prefix="c2a-mig-"))
    results = []
    for n in args.sizes:
        runs = [measure(n, workdir / f"run{i}") for i in range(args.repeat)]
        results.append({k: min(r[k] for r in runs) for k in runs[0]})
    print("| VMs migrated | units | ARM resources | validate s (cold / cold, one process / kept index) "
          "| validate VMs/s (cold / cold, one process / kept) "
          "| prepare s | commit s | prepare+commit s | raw insert of the ARM rows s (baseline / collector on) "
          "| prepare / raw |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['vms']:.0f} | {r['units']:.0f} | {r['arm']:.0f} "
              f"| {r['validate']:.2f} / {r['single']:.2f} / {r['warm']:.2f} "
              f"| {r['vms'] / r['validate']:.0f} / {r['vms'] / r['single']:.0f} / {r['vms'] / r['warm']:.0f} "
              f"| {r['prepare']:.2f} | {r['commit']:.2f} "
              f"| {r['prepare'] + r['commit']:.2f} | {r['raw']:.2f} / {r['raw_on']:.2f} "
              f"| {r['prepare'] / r['raw']:.2f} |")
    if len(results) >= 2:
        small, big = results[0], results[-1]
        scale = big["vms"] / small["vms"]
        growth = (big["prepare"] + big["commit"]) / (small["prepare"] + small["commit"])
        print(f"\nprepare+commit at {big['vms']:.0f} VMs / at {small['vms']:.0f} VMs = {growth:.1f}× "
              f"for {scale:.1f}× the VMs")


if __name__ == "__main__":
    main()
