"""Where prepare's time goes: every VNet and non-VNet deployment of a generated estate prepared through
`execute_many`, with each step and the store's main calls timed by wrappers (cumulative seconds; nested calls
count in their callers too, so the rows don't add up to the total).

    .venv/bin/python bench/prepare_steps.py --vms 10000

The wrappers cost a little; use bench_migration.py for the figures the targets are judged by.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_migration import _units
from classic2arm.domain import generator
from classic2arm.domain.state_machine import Op
from classic2arm.service import clock, estate, migration, sources, steps, world_clock
from classic2arm.service import context as context_mod
from classic2arm.service.context import AppContext
from classic2arm.store import repository
from classic2arm.store.resources import ResourceRepo

spent: Counter[str] = Counter()


def _timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - t
    return wrapper


def _instrument() -> None:
    for (op, step), fn in list(steps.PLAN.funcs.items()):
        if op == Op.PREPARE:
            steps.PLAN.funcs[(op, step)] = _timed(f"step {step}", fn)
    for name in ("translate", "load_unit"):
        setattr(steps, name, _timed(name, getattr(steps, name)))
    migration.rules.validate = _timed("rules", migration.rules.validate)  # type: ignore[assignment]
    migration.codec.arm_row = _timed("rows from resources", migration.codec.arm_row)  # type: ignore[assignment]
    context_mod.IndexSource = _timed("index (read)", sources.IndexSource)  # type: ignore[misc]
    repository.Tx.flush = _timed("Tx.flush", repository.Tx.flush)  # type: ignore[method-assign]
    for name in ("set_columns", "update_documents"):
        setattr(ResourceRepo, name, _timed(f"tx.resources.{name}", getattr(ResourceRepo, name)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10_000)
    args = ap.parse_args()
    ctx = AppContext.open(f"sqlite:///{Path(tempfile.mkdtemp(prefix='c2a-steps-')) / 'steps.db'}")
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(ctx, generator.generate(vms=args.vms, seed=1, blockers=0.0), source="bench")
    refs = [ref for ref, _ in _units(ctx)]
    commit = ctx.store.engine.dialect.do_commit
    ctx.store.engine.dialect.do_commit = _timed("SQLite commits", commit)  # type: ignore[method-assign]
    _instrument()
    t = time.perf_counter()
    views = migration.execute_many(ctx, Op.PREPARE, refs)
    total = time.perf_counter() - t
    assert all(v.status == "Succeeded" for v in views)
    print(f"prepare of {len(refs)} units ({args.vms} VMs): {total:.2f} s\n")
    print("| part | seconds |\n|---|---|")
    for label, seconds in spent.most_common():
        print(f"| {label} | {seconds:.2f} |")
    ctx.close()


if __name__ == "__main__":
    main()
