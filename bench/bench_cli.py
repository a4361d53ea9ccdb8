"""The CLI as a user runs it: whole `classic2arm` processes, wall-clock, median of `--runs` (not a test).

    .venv/bin/python bench/bench_cli.py [--runs 5] [--vms 10000] [--demo-runs 5] [--variant-runs 3] [--skip-demo]

Estates are built once in a temporary directory: the 200-VM demo estate (`generate` with the demo's
parameters) and a `--vms` estate from the generator (its defaults: one VNet per 200 VMs). Every timed run of a
command that writes (validate records its operations; the demo empties and refills its database) starts from a
fresh copy of the estate, made outside the timing. Python writes its bytecode caches as an installed tool does
(PYTHONDONTWRITEBYTECODE is removed for the children), and one untimed run warms them.

"Variants" time `validate --all` and `demo` with one of the bulk path's tricks turned off in the child process
(by patching before the command runs: nothing in the product reads a switch): `gcpause` (the collector left
on), `textrow` (every document parsed into a dict as rows are read). (`forked`, worker processes for
`validate_many`, was measured the same way and removed: bench/RESULTS.md.)
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
from collections.abc import Callable
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
CLI = [sys.executable, "-m", "classic2arm"]

# Run the CLI in a child with one trick turned off (see the module notes).
_VARIANT_PRELUDE = {
    "gcpause": ("import contextlib, classic2arm.gcpause as g\n"
                "class Off(contextlib.ContextDecorator):\n"
                "    def __enter__(self): return self\n"
                "    def __exit__(self, *exc): return False\n"
                "g.gc_paused = Off"),
    "textrow": ("import classic2arm.store.resources as r; q = r.ResourceRepo.query; "
                "r.ResourceRepo.query = lambda self, *a, **k: q(self, *a, **{**k, 'text_docs': False})"),
}


def _cmd(args: list[str], variant: str | None = None) -> list[str]:
    if variant is None:
        return [*CLI, *args]
    code = (f"import sys\n{_VARIANT_PRELUDE[variant]}\nsys.argv = ['classic2arm'] + sys.argv[1:]\n"
            "from classic2arm.cli.main import main\nmain()")
    return [sys.executable, "-c", code, *args]


def _run(args: list[str], ok: tuple[int, ...] = (0,), variant: str | None = None) -> float:
    t = time.perf_counter()
    res = subprocess.run(_cmd(args, variant), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    elapsed = time.perf_counter() - t
    if res.returncode not in ok:
        raise SystemExit(f"{' '.join(args)}: exit {res.returncode}\n{res.stderr.decode()[-2000:]}")
    return elapsed


def _median(runs: int, once: Callable[[], float]) -> tuple[float, list[float]]:
    times = [once() for _ in range(runs)]
    return statistics.median(times), times


def _copy(base: Path, work: Path) -> str:
    for left in (work.with_name(work.name + "-wal"), work.with_name(work.name + "-shm")):
        left.unlink(missing_ok=True)  # (the last run's: SQLite would pair them with the new copy)
    shutil.copyfile(base, work)
    return f"sqlite:///{work}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--demo-runs", type=int, default=5)
    ap.add_argument("--variant-runs", type=int, default=3)
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--skip-variants", action="store_true")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        d = Path(tmp)
        small, big, work = d / "demo200.db", d / f"gen{opts.vms}.db", d / "work.db"
        for db, gen in ((small, ["--vms", "200", "--vnets", "4", "--seed", "7", "--blockers", "0.04"]),
                        (big, ["--vms", str(opts.vms), "--seed", "7", "--blockers", "0.04"])):
            _run(["--db", f"sqlite:///{db}", "clock", "set", "2023-06-01"])
            _run(["--db", f"sqlite:///{db}", "generate", *gen, "--json"])
        out = subprocess.run([*CLI, "--db", f"sqlite:///{small}", "status", "--kind", "vnet", "--json"],
                             capture_output=True, text=True, env=ENV, check=True).stdout
        import json

        vnet = max(json.loads(out), key=lambda u: u["vms"])["name"]
        _run(["--help"])  # (warms the bytecode caches)
        rows: list[tuple[str, str, float, list[float], str]] = []

        def measure(label: str, target: str, args: list[str], db: Path | None, runs: int,
                    ok: tuple[int, ...] = (0,), variant: str | None = None) -> None:
            def once() -> float:
                url = _copy(db, work) if db is not None else None
                return _run((["--db", url] if url else []) + args, ok, variant)

            med, times = _median(runs, once)
            rows.append((label, target, med, times, variant or ""))
            print(f"{label:45} {variant or '':8} median {med:7.3f} s  runs {', '.join(f'{t:.3f}' for t in times)}",
                  flush=True)

        measure("classic2arm --help", "0.35", ["--help"], None, opts.runs)
        measure("classic2arm --version", "", ["--version"], None, opts.runs)
        measure("clock show (200-VM estate)", "0.35", ["clock", "show"], small, opts.runs)
        measure(f"vnet validate {vnet} (200-VM demo estate)", "0.6", ["vnet", "validate", vnet, "--json"], small,
                opts.runs, ok=(0, 3))
        measure(f"inventory, {opts.vms} VMs, table", "2", ["inventory", "--format", "table"], big, opts.runs)
        measure(f"inventory, {opts.vms} VMs, tab-separated (piped)", "", ["inventory"], big, opts.runs)
        measure(f"inventory --json, {opts.vms} VMs", "2", ["inventory", "--json"], big, opts.runs)
        measure(f"status, {opts.vms} VMs", "", ["status"], big, opts.runs)
        measure(f"validate --all --json, {opts.vms} VMs", "3", ["validate", "--all", "--json"], big, opts.runs,
                ok=(0, 3))
        if not opts.skip_variants:
            for variant in _VARIANT_PRELUDE:
                measure(f"validate --all --json, {opts.vms} VMs", "", ["validate", "--all", "--json"], big,
                        opts.variant_runs, ok=(0, 3), variant=variant)
        if not opts.skip_demo:
            demo = ["demo", "--vms", str(opts.vms)]
            measure(f"demo --vms {opts.vms}", "60", demo, small, opts.demo_runs)
            if not opts.skip_variants:
                for variant in _VARIANT_PRELUDE:
                    measure(f"demo --vms {opts.vms}", "", demo, small, opts.variant_runs, variant=variant)
        print()
        print(f"load average at the end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
              f"{os.getloadavg()[2]:.2f} on {os.cpu_count()} cores")
        print("| command | trick off | target s | median s | runs s |")
        print("|---|---|---|---|---|")
        for label, target, med, times, variant in rows:
            print(f"| `{label}` | {variant} | {target} | {med:.3f} | {', '.join(f'{t:.2f}' for t in times)} |")


if __name__ == "__main__":
    main()
