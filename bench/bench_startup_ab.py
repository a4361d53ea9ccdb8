"""Start-up side by side: `clock show` and `--help` of another source tree (e.g. an older commit's, from
`git archive COMMIT src | tar -x -C DIR`) alternated with this one's, so that both see the same load (not a test).

    .venv/bin/python bench/bench_startup_ab.py --other DIR/src [--runs 7]

Each run is a whole `classic2arm` process on the 200-VM demo estate (built once, by this tree); printed: the
median wall clock and the median user + system CPU of the child (`getrusage`), which contention inflates less.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"


def _env(src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(src)
    return env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--other", type=Path, required=True, help="the other tree's src directory")
    ap.add_argument("--runs", type=int, default=7)
    opts = ap.parse_args()
    trees = {"other": opts.other.resolve(), "this": HERE}
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'demo200.db'}"
        subprocess.run([sys.executable, "-m", "classic2arm", "--db", db, "generate", "--vms", "200", "--vnets", "4",
                        "--seed", "7", "--blockers", "0.04", "--json"], env=_env(HERE), check=True,
                       stdout=subprocess.DEVNULL)
        commands = {"clock show": ["--db", db, "clock", "show"], "--help": ["--help"]}
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for label, args in commands.items():
            for src in trees.values():  # (untimed: writes the bytecode caches)
                subprocess.run([sys.executable, "-m", "classic2arm", *args], env=_env(src), check=True,
                               stdout=subprocess.DEVNULL)
            for _ in range(opts.runs):
                for name, src in trees.items():
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "classic2arm", *args], env=_env(src), check=True,
                                   stdout=subprocess.DEVNULL)
                    wall = time.perf_counter() - t
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                    times.setdefault((label, name), []).append((wall, cpu))
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print("| command | tree | wall s (median) | CPU s (median) | walls s |")
    print("|---|---|---|---|---|")
    for (label, name), runs in times.items():
        walls = [w for w, _ in runs]
        print(f"| `{label}` | {name} | {statistics.median(walls):.3f} | {statistics.median(c for _, c in runs):.3f} "
              f"| {', '.join(f'{w:.2f}' for w in walls)} |")


if __name__ == "__main__":
    main()
