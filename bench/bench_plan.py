"""`classic2arm plan` of a 10,000-VM estate, end to end through the CLI (issue 12): whole processes, wall clock,
median of `--runs` (not a test).

    .venv/bin/python bench/bench_plan.py [--runs 3] [--vms 10000] [--blockers 0.04] [--no-compare] [--against SRC]

The estate is built once in a temporary directory (`clock set 2023-06-01`, `generate --vms N --seed 7
--blockers B`, `provider register`); plan only reads, so every run uses the same database. One untimed run warms
the bytecode caches. For scale on a shared machine the same run times `--help`, `status --json` and
`validate --all --json` (on a fresh copy each run: validate records its operations) unless `--no-compare`.
Each row also gives the processes' CPU time (user + system, the plan's worker process included), which a shared
machine's load changes less than the wall clock. `plan` evaluates VNets and deployments in a second process only
when the machine has a core to spare (`service.plan.spare_core`: the load average below the cores less one), so
on a busy machine the wall clock is the one-process figure.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _cpu() -> float:
    """User + system CPU seconds of this process's finished children (and theirs: the plan's worker)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(args: list[str], ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process."""
    cpu, t = _cpu(), time.perf_counter()
    res = subprocess.run([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or ENV)
    elapsed = time.perf_counter() - t
    if res.returncode not in ok:
        raise SystemExit(f"{' '.join(args)}: exit {res.returncode}\n{res.stderr.decode()[-2000:]}")
    return elapsed, _cpu() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--blockers", type=float, default=0.04)
    ap.add_argument("--no-compare", action="store_true")
    ap.add_argument("--against", metavar="SRC", help="also time `plan --json` with the sources in SRC (e.g. an "
                    "older commit's src/ from `git archive`), alternating with these run by run")
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
        print("| command | target s | median s | runs s | median CPU s (user + system, worker included) |\n"
              "|---|---|---|---|---|")
        for label, args, ok, fresh_copy in cases:
            times, cpus = [], []
            for _ in range(a.runs):
                run_args = args
                if fresh_copy:
                    copy = Path(d) / "copy.db"
                    shutil.copyfile(db, copy)
                    run_args = ["--db", f"sqlite:///{copy}", *args]
                wall, cpu = _run(run_args, ok)
                times.append(wall)
                cpus.append(cpu)
            target = f"{TARGET_S:g}" if label.startswith("plan") else ""
            print(f"| `{label}` | {target} | {statistics.median(times):.3f} | "
                  f"{', '.join(f'{t:.2f}' for t in times)} | {statistics.median(cpus):.2f} |", flush=True)
        if a.against:
            other = {**ENV, "PYTHONPATH": str(Path(a.against).resolve())}
            _run(["--db", url, "plan", "--json"], env=other)  # (its bytecode caches too)
            pairs: dict[str, tuple[list[float], list[float]]] = {"these sources": ([], []), a.against: ([], [])}
            for _ in range(a.runs):
                for name, env in (("these sources", ENV), (a.against, other)):
                    wall, cpu = _run(["--db", url, "plan", "--json"], env=env)
                    pairs[name][0].append(wall)
                    pairs[name][1].append(cpu)
            for name, (walls, cpus) in pairs.items():
                print(f"| `plan --json`, {name} |  | {statistics.median(walls):.3f} | "
                      f"{', '.join(f'{t:.2f}' for t in walls)} | {statistics.median(cpus):.2f} |", flush=True)
        print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
