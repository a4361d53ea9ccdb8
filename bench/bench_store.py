"""Benchmark: generate and store a classic estate, then run the inventory over it.

    .venv/bin/python bench/bench_store.py --vms 10000 [--db-dir DIR]

Reports seconds for each step, the store time as a ratio to a raw bulk insert of the same rows into an
empty store (measured in the same run, so the ratio carries across machines), and the peak RSS of the
process. Targets (issue 2, 2-core machine): store 10,000 VMs < 10 s, inventory < 1 s, peak < 1 GB.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

from classic2arm.domain.generator import generate
from classic2arm.service import clock, inventory, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.estate import build_rows, import_estate
from classic2arm.store import Store


def _timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db-dir", type=Path, default=None)
    args = ap.parse_args()
    workdir = Path(args.db_dir or tempfile.mkdtemp(prefix="c2a-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    estate, t_gen = _timed(lambda: generate(vms=args.vms, seed=args.seed, blockers=0.05))

    ctx = AppContext.open(f"sqlite:///{workdir / 'estate.db'}")
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    report, t_store = _timed(lambda: import_estate(ctx, estate, source="bench"))
    rows_stored = report.created

    # Baseline: the same rows, already built, bulk-inserted straight into an empty store.
    raw = Store.open(f"sqlite:///{workdir / 'raw.db'}")
    with raw.tx() as tx:
        rows, _ = build_rows(tx, estate.subscription.id if estate.subscription else "s", generate(
            vms=args.vms, seed=args.seed, blockers=0.05), "bench", {}, clock.parse_when("2023-06-01"))

    def raw_insert() -> None:
        with raw.tx() as tx:
            tx.resources.insert(rows)

    _, t_raw = _timed(raw_insert)

    times = []
    n_items = 0
    for _ in range(5):
        items, t = _timed(lambda: inventory.inventory(ctx))
        n_items = len(items)
        times.append(t)
    t_inv = statistics.median(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print("| VMs | rows stored | generate s | store s | raw bulk insert s | store / raw | inventory s (median of 5) "
          "| inventory rows | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.vms} | {rows_stored} | {t_gen:.2f} | {t_store:.2f} | {t_raw:.2f} | {t_store / t_raw:.2f} "
          f"| {t_inv:.3f} | {n_items} | {peak_mb:.0f} |")
    ctx.close()
    raw.dispose()


if __name__ == "__main__":
    main()
