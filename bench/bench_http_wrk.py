"""ARM GET VM and ASM Get Deployment driven by `wrk` (Debian package `wrk`), a load generator in C.

    bash scripts/bench-deps.sh               # once: installs wrk (bench/bench_http.py needs only Python)
    .venv/bin/python bench/bench_http_wrk.py [--postgres]

The httpx client of bench/bench_http.py spends about 1 ms of CPU per request, so on a 2-core machine it takes the
core the server needs. wrk spends a few microseconds, so this shows what one server process itself sustains.
Same estate, server and token set-up as bench_http.py; loopback only; every cell bounded in time.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench_http import LOOPBACK, Postgres, Server, process_cpu, setup_store

LUA = """
local paths = {}
local i = 0
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["x-ms-version"] = "2017-01-01"
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    assert m, text
    value, unit = float(m[1]), m[2]
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_wrk(base: str, script: Path, clients: int, seconds: int) -> tuple[float, float, float, int]:
    out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", str(script), base],
                         capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out)[1])  # type: ignore[index]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    return rps, p50, p99, int(bad[1]) if bad else (1 if errors else 0)


def bench(backend: str, url: str, args: argparse.Namespace, work: Path) -> list[str]:
    fx = setup_store(url, args.vms, 1, 1000)
    rows = []
    server = Server(url, work / f"{backend}.log", "warning")
    try:
        if urlsplit(server.base_url).hostname not in LOOPBACK:
            raise SystemExit("loopback only")
        scenarios = {
            "ARM GET VM": [f"{vm}?api-version=2016-03-30" for vm in fx.vm_ids],
            "ASM Get Deployment": [f"/{fx.sub}/services/hostedservices/{s}/deployments/{d}"
                                   for s, d in fx.deployments],
        }
        for name, paths in scenarios.items():
            listing = work / f"{backend}-{name.replace(' ', '_')}.txt"
            listing.write_text("\n".join(paths) + "\n")
            script = work / f"{backend}-{name.replace(' ', '_')}.lua"
            script.write_text(LUA % {"paths": listing, "token": fx.token})
            run_wrk(server.base_url, script, 8, 1)  # warm-up
            for clients in args.clients:
                cpu0, t0 = process_cpu(server.pid), time.monotonic()
                rps, p50, p99, errors = run_wrk(server.base_url, script, clients, args.seconds)
                cpu = process_cpu(server.pid) - cpu0
                per_req = cpu / max(1.0, rps * (time.monotonic() - t0)) * 1000
                rows.append(f"| {backend} | {name} | {clients} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {errors} "
                            f"| {per_req:.2f} |")
    finally:
        server.stop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=6000)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--postgres", action="store_true")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="c2a-wrk-"))
    rows = bench("SQLite", f"sqlite:///{work / 'wrk.db'}", args, work)
    if args.postgres:
        pg = Postgres()
        try:
            rows += bench("PostgreSQL", pg.url, args, work)
        finally:
            pg.stop()
    print(f"command: `{' '.join([Path(sys.executable).name, *sys.argv])}`\n")
    print("| backend | scenario | clients | req/s | p50 ms | p99 ms | non-2xx | server CPU ms/req |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
