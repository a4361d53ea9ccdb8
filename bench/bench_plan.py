"""`classic2arm plan` of a 10,000-VM estate, end to end through the CLI (issue 12): whole processes, wall clock,
median of `--runs` (not a test).

    .venv/bin/python bench/bench_plan.py [--runs 3] [--vms 10000] [--blockers 0.04] [--no-compare]

The estate is built once in a temporary directory (`clock set 2023-06-01`, `generate --vms N --seed 7
--blockers B`, `provider register`); plan only reads, so every run uses the same database. One untimed run warms
the bytecode caches. For scale on a shared machine the same run times `--help`, `status --json` and
`validate --all --json` (on a fresh copy each run: validate records its operations) unless `--no-compare`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
CLI = [sys.executable, "-m", "classic2arm"]
TARGET_S = 2.0


def _run(args: list[str], ok: tuple[int, ...] = (0,)) -> float:
    t = time.perf_counter()
    res = subprocess.run([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    elapsed = time.perf_counter() - t
    if res.returncode not in ok:
        raise SystemExit(f"{' '.join(args)}: exit {res.returncode}\n{res.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--blockers", type=float, default=0.04)
    ap.add_argument("--no-compare", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "estate.db"
        url = f"sqlite:///{db}"
        for args in (["clock", "set", "2023-06-01"],
                     ["generate", "--vms", str(a.vms), "--seed", "7", "--blockers", str(a.blockers)],
                     ["provider", "register", "Microsoft.ClassicInfrastructureMigrate"]):
            _run(["--db", url, *args])
        _run(["--db", url, "plan", "--json"])  # warm the bytecode caches
        html = str(Path(d) / "plan.html")
        cases: list[tuple[str, list[str], tuple[int, ...], bool]] = [
            (f"plan, {a.vms} VMs (table)", ["--db", url, "plan"], (0,), False),
            (f"plan --json, {a.vms} VMs", ["--db", url, "plan", "--json"], (0,), False),
            (f"plan --format html -o FILE, {a.vms} VMs", ["--db", url, "plan", "--format", "html", "-o", html],
             (0,), False),
        ]
        if not a.no_compare:
            cases += [("--help", ["--help"], (0,), False),
                      (f"status --json, {a.vms} VMs", ["--db", url, "status", "--json"], (0,), False),
                      (f"validate --all --json, {a.vms} VMs", ["validate", "--all", "--json"], (0, 3), True)]
        print(f"load average at start: {os.getloadavg()}")
        print("| command | target s | median s | runs s |\n|---|---|---|---|")
        for label, args, ok, fresh_copy in cases:
            times = []
            for _ in range(a.runs):
                run_args = args
                if fresh_copy:
                    copy = Path(d) / "copy.db"
                    shutil.copyfile(db, copy)
                    run_args = ["--db", f"sqlite:///{copy}", *args]
                times.append(_run(run_args, ok))
            target = f"{TARGET_S:g}" if label.startswith("plan") else ""
            print(f"| `{label}` | {target} | {statistics.median(times):.3f} | "
                  f"{', '.join(f'{t:.2f}' for t in times)} |", flush=True)
        print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
