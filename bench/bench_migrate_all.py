"""`classic2arm migrate --all --commit` of a 10,000-VM estate without blockers, end to end through the CLI
(issue 12: target ≤ 30 s). Not a test.

    PYTHONPATH=src .venv/bin/python bench/bench_migrate_all.py [--vms 10000] [--runs 3] [--profile out.prof]

The estate (`generate --vms N --blockers 0`, clock 2023-06-01) is built once in a temporary directory; every
timed run starts from a fresh copy of it, made outside the timing, and runs the whole command as a user does:
process start, plan, every wave's prepare and commit, the report (`--json`, so the terminal's rendering is not
timed). `--keep-going`: the generator always leaves a few unattached disks and images in some storage accounts,
whose prepare fails (R42) until `classic2arm fix` deletes them; the run carries on past them, as a user would.
`--profile FILE` runs the command once more under cProfile (in the child) and prints the top of it.
"""

from __future__ import annotations

import argparse
import json
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
ARGS = ["migrate", "--all", "--commit", "--keep-going", "--json"]
TARGET = 30.0


def _run(db: Path, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[bytes]:
    res = subprocess.run([*CLI, "--db", f"sqlite:///{db}", *args], capture_output=True, env=ENV)
    if res.returncode not in ok:
        raise SystemExit(f"{' '.join(args)}: exit {res.returncode}\n{res.stderr.decode()[-2000:]}")
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", type=Path)
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.db"
        _run(base, "clock", "set", "2023-06-01")
        t = time.perf_counter()
        _run(base, "generate", "--vms", str(opts.vms), "--seed", "1", "--blockers", "0")
        print(f"estate of {opts.vms} VMs generated in {time.perf_counter() - t:.1f} s (not timed)")
        times: list[float] = []
        summary: dict[str, object] = {}
        for i in range(opts.runs):
            db = Path(tmp) / f"run{i}.db"
            shutil.copy(base, db)
            t = time.perf_counter()
            res = _run(db, *ARGS, ok=(0, 1, 3))
            times.append(time.perf_counter() - t)
            data = json.loads(res.stdout)
            summary = {"summary": data["summary"], "vms": data["vms"], "exit": res.returncode}
            print(f"run {i + 1}: {times[-1]:.2f} s  {summary}")
        median = statistics.median(times)
        verdict = "met" if median <= TARGET else "NOT met"
        print(f"`classic2arm {' '.join(ARGS)}` of {opts.vms} VMs: median {median:.2f} s of "
              f"{', '.join(f'{x:.2f}' for x in times)} (target ≤ {TARGET:.0f} s: {verdict})")
        if opts.profile:
            db = Path(tmp) / "profile.db"
            shutil.copy(base, db)
            code = ("import sys, cProfile\nsys.argv = ['classic2arm'] + sys.argv[1:]\n"
                    "from classic2arm.cli.main import main\n"
                    f"cProfile.run('main()', {str(opts.profile)!r})")
            subprocess.run([sys.executable, "-c", code, "--db", f"sqlite:///{db}", *ARGS], capture_output=True,
                           env=ENV)
            import pstats

            pstats.Stats(str(opts.profile)).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
