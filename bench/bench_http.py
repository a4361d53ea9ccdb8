"""Benchmark: the HTTP APIs of ONE `classic2arm serve` process (plain HTTP, one worker) on loopback, over SQLite
and (with --postgres) PostgreSQL.

    .venv/bin/python bench/bench_http.py [--postgres] [--vms 6000] [--duration 5] [--warmup 1]

Per backend: a generated estate is imported (world clock 2023-06-01), the largest VNets are prepared through the
service layer until more than 1,000 ARM VMs exist, the non-VNet deployments are validated (only clean ones are
migrated over HTTP), a bearer token is minted, and one server process is started. The load comes from a separate
client process (httpx AsyncClient, HTTP/1.1 keep-alive, one pool shared by N asyncio tasks), so the client never
competes for the server's GIL. Each cell runs a warm-up, then a fixed measured duration; every non-2xx answer
counts as an error. Scenarios, each with 1, 8 and 32 concurrent clients:

- arm-get-vm: `GET /subscriptions/…/providers/Microsoft.Compute/virtualMachines/{vm}`, rotating over the VMs;
- arm-list-vms: `GET /subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines` following nextLink
  (1,000 per page); latency and rate are per page, and every full listing must count every ARM VM;
- asm-get-deployment: `GET /{sub}/services/hostedservices/{svc}/deployments/{dep}`, rotating;
- cycle: `POST …/migration?comp=prepare` → poll `GET /{sub}/operations/{id}` → `comp=commit` → poll, each client
  on its own distinct deployments; the rate and latency are per whole cycle, counting the cycles that finish
  inside the measured window.

Besides latency and rate, each cell reports the server's CPU per HTTP request and its CPU share, the client's
CPU share and how busy the whole machine was: on a small or shared machine the client and other tenants take
CPU from the server, and the CPU per request is the number that carries across machines.

Target (issue 4): ARM GET VM p50 under 5 ms and at least 1,000 requests/s from one process.
`--profile DIR` also records the server with py-spy (if installed) during the arm-get-vm cells (the sampling
slows the server down: those cells' numbers are not comparable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import os
import platform
import queue
import re
import secrets
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from classic2arm.domain import arm as armt
from classic2arm.domain import generator
from classic2arm.domain import identity as ids
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.service import clock, credentials, estate, migration, status, world_clock
from classic2arm.service.context import AppContext

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = ("arm-get-vm", "arm-list-vms", "asm-get-deployment", "cycle")
ARM_API_VERSION = "2016-03-30"
ASM_HEADERS = {"x-ms-version": "2017-01-01"}
PREPARE_BODY = (b'<DeploymentNetworkResource xmlns="http://schemas.microsoft.com/windowsazure" '
                b'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
                b"<DestinationVirtualNetwork>New</DestinationVirtualNetwork></DeploymentNetworkResource>")
LISTENING = re.compile(r"^classic2arm: listening on (?P<url>\S+)")
STATUS = re.compile(rb"<Status>(\w+)</Status>")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
OPERATION_TIMEOUT = 60.0  # seconds one prepare or commit may take before the cycle counts as failed
MAX_LISTINGS_PAGES = 100  # a listing that pages on longer than this is broken (counted as an error)


# --------------------------------------------------------------------------- the store


@dataclass
class Fixture:
    url: str
    sub: str
    token: str
    vm_ids: list[str]  # ARM ids of the prepared VMs
    deployments: list[tuple[str, str]]  # (service, deployment) of every classic deployment
    cycle_pool: list[tuple[str, str]]  # non-VNet deployments that validated clean
    vnets_prepared: int
    setup_s: float


def setup_store(url: str, vms: int, seed: int, min_arm_vms: int) -> Fixture:
    t = time.perf_counter()
    ctx = AppContext.open(url)
    try:
        world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
        estate.import_estate(ctx, generator.generate(vms=vms, seed=seed, blockers=0.0), source="bench_http")
        units = status.status(ctx)
        chosen: list[UnitRef] = []
        in_vnets = 0
        for u in sorted((u for u in units if u.kind == "vnet" and u.vms), key=lambda u: (-u.vms, u.name)):
            if in_vnets > min_arm_vms:
                break
            chosen.append(UnitRef(UnitKind.VNET, u.name))
            in_vnets += u.vms
        if in_vnets <= min_arm_vms:
            raise SystemExit(f"--vms {vms}: only {in_vnets} VMs are in VNets; the list needs more than "
                             f"{min_arm_vms} ARM VMs (raise --vms)")
        views = migration.execute_many(ctx, Op.PREPARE, chosen)
        failed = [v for v in views if v.status != "Succeeded"]
        if failed:
            raise SystemExit(f"preparing the VNets failed: {failed[:3]}")
        deps = [UnitRef(UnitKind.DEPLOYMENT, u.name, u.service, Destination("New"))
                for u in units if u.kind == "deployment" and u.vms]
        results = migration.validate_many(ctx, deps)
        clean = [(ref.service or ref.name, ref.name) for ref, r in zip(deps, results, strict=True)
                 if not r.has_errors]
        with ctx.store.read() as tx:
            sub = ctx.subscription_id(tx)
            vm_ids = sorted(r.id for r in tx.resources.query(sub, model=ids.ARM, types=[armt.VM]))
            all_deps = sorted((str(d.doc["service_name"]), d.name)
                              for d in tx.resources.query(sub, types=[ids.T_DEPLOYMENT]))
        token, _ = credentials.create_token(ctx, sub, timedelta(hours=6), "bench_http")
    finally:
        ctx.close()
    return Fixture(url, sub, token, vm_ids, all_deps, clean, len(chosen), time.perf_counter() - t)


# --------------------------------------------------------------------------- servers


class Server:
    """One `classic2arm serve --workers 1` process; its log (stderr) goes to a file."""

    def __init__(self, db_url: str, log: Path, log_level: str, launcher: Path | None = None,
                 timeout: float = 60) -> None:
        head = [str(launcher)] if launcher is not None else ["-m", "classic2arm"]
        argv = [sys.executable, *head, "--db", db_url, "serve", "--host", "127.0.0.1", "--port", "0",
                "--workers", "1", "--log-level", log_level]
        env = {k: v for k, v in os.environ.items() if k != "CLASSIC2ARM_ADMIN_TOKEN"}
        env["PYTHONUNBUFFERED"] = "1"
        self.log = log
        with open(log, "ab") as fh:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=fh, stdin=subprocess.DEVNULL,
                                         text=True, env=env)
        lines: queue.Queue[str | None] = queue.Queue()

        def reader() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=reader, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is not None and (m := LISTENING.match(line)):
                self.base_url = m["url"]
                break
            if line is None:
                self.stop()
                raise SystemExit(f"the server did not start; log:\n{log.read_text(errors='replace')[-3000:]}")
        if urlsplit(self.base_url).hostname not in LOOPBACK:
            self.stop()
            raise SystemExit(f"refusing a non-loopback target {self.base_url}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class Postgres:
    """A throwaway cluster through tests/pg.py (which also handles running as root)."""

    def __init__(self) -> None:
        # a fresh path straight under the temp dir: as root, tests/pg.py hands it to an unprivileged user
        self.dir = Path(tempfile.gettempdir()) / f"c2a-bench-pg-{os.getpid()}-{secrets.token_hex(4)}"
        res = subprocess.run([sys.executable, str(REPO / "tests" / "pg.py"), "start", str(self.dir)],
                             capture_output=True, text=True, timeout=120, check=False)
        if res.returncode != 0:
            raise RuntimeError(res.stderr.strip() or f"tests/pg.py start exited with {res.returncode}")
        self.url = res.stdout.strip().splitlines()[-1]
        if urlsplit(self.url).hostname not in LOOPBACK:
            self.stop()
            raise RuntimeError(f"refusing a non-loopback database {self.url}")

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=10) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"

    def stop(self) -> None:
        subprocess.run([sys.executable, str(REPO / "tests" / "pg.py"), "stop", str(self.dir)],
                       capture_output=True, timeout=120, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------- the load (client process)


@dataclass
class Cell:
    scenario: str
    clients: int
    base_url: str
    sub: str
    token: str
    warmup: float
    duration: float
    targets: list[Any]  # scenario-specific: ARM ids, (svc, dep) pairs, or one list of (svc, dep) per client
    expected: int = 0  # arm-list-vms: ARM VMs a full listing must count
    poll_interval: float = 0.01


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, measured window only
    errors: int = 0
    samples: list[str] = field(default_factory=list)  # the first few errors, for the report
    http_requests: int = 0  # measured window (cycle: every request of every recorded cycle)
    polls: int = 0
    window: float = 0.0
    sent: int = 0  # every HTTP request of the cell, warm-up included
    wall: float = 0.0  # seconds the whole cell took
    client_cpu: float = 0.0  # CPU seconds the client process spent on it
    exhausted: int = 0  # cycle: clients that ran out of deployments before the end

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.samples) < 3:
            self.samples.append(what[:300])


def run_cell(cell: Cell) -> Outcome:
    """Entry point in the client process."""
    return asyncio.run(_cell(cell))


async def _cell(cell: Cell) -> Outcome:
    pool = max(32, cell.clients)
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    out = Outcome()
    cpu0 = time.process_time()
    async with httpx.AsyncClient(base_url=cell.base_url, limits=limits, timeout=60.0, trust_env=False,
                                 headers={"Authorization": f"Bearer {cell.token}"}) as client:
        start = time.perf_counter()
        warm_end = start + cell.warmup
        end = warm_end + cell.duration
        worker = {"arm-get-vm": _get_loop, "asm-get-deployment": _get_loop, "arm-list-vms": _list_loop,
                  "cycle": _cycle_loop}[cell.scenario]
        finished = await asyncio.gather(*(worker(client, cell, i, warm_end, end, out) for i in range(cell.clients)))
        last = max(finished, default=end)
        out.window = max(1e-9, min(end, last) - warm_end) if cell.scenario == "cycle" else cell.duration
        out.wall = time.perf_counter() - start
    out.client_cpu = time.process_time() - cpu0
    return out


def _paths(cell: Cell) -> list[str]:
    if cell.scenario == "arm-get-vm":
        return [f"{vm_id}?api-version={ARM_API_VERSION}" for vm_id in cell.targets]
    return [f"/{cell.sub}/services/hostedservices/{svc}/deployments/{dep}" for svc, dep in cell.targets]


async def _get_loop(client: httpx.AsyncClient, cell: Cell, i: int, warm_end: float, end: float,
                    out: Outcome) -> float:
    paths = _paths(cell)
    headers = ASM_HEADERS if cell.scenario == "asm-get-deployment" else None
    k = i * max(1, len(paths) // cell.clients)
    now = time.perf_counter()
    while now < end:
        path = paths[k % len(paths)]
        k += 1
        try:
            out.sent += 1
            r = await client.get(path, headers=headers)
            ok, what = r.status_code == 200, f"{r.status_code} {path}: {r.text[:200]}"
        except httpx.HTTPError as exc:
            ok, what = False, f"{type(exc).__name__} {path}: {exc}"
        t = time.perf_counter()
        if now >= warm_end:
            out.latencies.append(t - now)
            out.http_requests += 1
            if not ok:
                out.error(what)
        elif not ok:
            out.error(f"(warm-up) {what}")
        now = t
    return now


async def _list_loop(client: httpx.AsyncClient, cell: Cell, i: int, warm_end: float, end: float,
                     out: Outcome) -> float:
    first = f"/subscriptions/{cell.sub}/providers/Microsoft.Compute/virtualMachines?api-version={ARM_API_VERSION}"
    now = time.perf_counter()
    while now < end:
        url: str | None = first
        seen = pages = 0
        while url and pages < MAX_LISTINGS_PAGES:
            if urlsplit(url).hostname not in (None, *LOOPBACK):
                out.error(f"nextLink leaves loopback: {url[:200]}")
                break
            pages += 1
            out.sent += 1
            try:
                r = await client.get(url)
                ok, what = r.status_code == 200, f"{r.status_code} {url}: {r.text[:200]}"
            except httpx.HTTPError as exc:
                r, ok, what = None, False, f"{type(exc).__name__} {url}: {exc}"
            t = time.perf_counter()
            if now >= warm_end:
                out.latencies.append(t - now)
                out.http_requests += 1
            now = t
            if not ok or r is None:
                out.error(what)
                break
            body = orjson.loads(r.content)
            seen += len(body.get("value", []))
            url = body.get("nextLink")
        else:
            if seen != cell.expected:
                out.error(f"a full listing counted {seen} VMs, expected {cell.expected}")
    return now


async def _operation(client: httpx.AsyncClient, cell: Cell, path: str, out: Outcome) -> tuple[int, str | None]:
    """POST one migration call and poll it to the end: (requests made, None on success or what went wrong)."""
    out.sent += 1
    r = await client.post(path, content=PREPARE_BODY if path.endswith("prepare") else b"",
                          headers={**ASM_HEADERS, "Content-Type": "application/xml"})
    if r.status_code != 202:
        return 1, f"{r.status_code} POST {path}: {r.text[:200]}"
    op = r.headers.get("x-ms-request-id", "")
    requests = 1
    deadline = time.perf_counter() + OPERATION_TIMEOUT
    while True:
        out.sent += 1
        r = await client.get(f"/{cell.sub}/operations/{op}", headers=ASM_HEADERS)
        requests += 1
        out.polls += 1
        if r.status_code != 200:
            return requests, f"{r.status_code} GET operation {op}: {r.text[:200]}"
        m = STATUS.search(r.content)
        state = m.group(1).decode() if m else "?"
        if state == "Succeeded":
            return requests, None
        if state != "InProgress":
            return requests, f"operation {op} of {path}: {state}: {r.text[:200]}"
        if time.perf_counter() > deadline:
            return requests, f"operation {op} of {path} still InProgress after {OPERATION_TIMEOUT:.0f} s"
        await asyncio.sleep(cell.poll_interval)


async def _cycle_loop(client: httpx.AsyncClient, cell: Cell, i: int, warm_end: float, end: float,
                      out: Outcome) -> float:
    mine: list[tuple[str, str]] = cell.targets[i]
    now = time.perf_counter()
    for svc, dep in mine:
        if now >= end:
            return now
        base = f"/{cell.sub}/services/hostedservices/{svc}/deployments/{dep}/migration?comp="
        requests = 0
        problem: str | None = None
        for comp in ("prepare", "commit"):
            try:
                n, problem = await _operation(client, cell, base + comp, out)
            except httpx.HTTPError as exc:
                n, problem = 1, f"{type(exc).__name__} {comp} {svc}/{dep}: {exc}"
            requests += n
            if problem:
                break
        t = time.perf_counter()
        if problem:
            out.error(problem)
        elif warm_end <= t <= end:  # cycles are counted when they finish inside the measured window
            out.latencies.append(t - now)
            out.http_requests += requests
        now = t
    out.exhausted += 1
    return now


# --------------------------------------------------------------------------- driving the cells


def quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile of an already sorted list (NaN when empty)."""
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


@dataclass
class Result:
    backend: str
    scenario: str
    clients: int
    count: int
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    http_rate: float = 0.0
    polls_per_cycle: float = 0.0
    server_ms_per_request: float = 0.0  # server CPU per HTTP request (warm-up included)
    server_cpu: float = 0.0  # % of one core, over the whole cell
    client_cpu: float = 0.0  # % of one core
    machine_busy: float = 0.0  # % of all cores
    note: str = ""
    samples: list[str] = field(default_factory=list)


def summarize(backend: str, cell: Cell, out: Outcome, server_cpu: float, machine: tuple[int, int]) -> Result:
    lat = sorted(out.latencies)
    n = len(lat)
    note = f"{out.exhausted} of {cell.clients} clients ran out of deployments" if out.exhausted else ""
    cycles_seen = max(1, n + out.errors)
    return Result(backend, cell.scenario, cell.clients, n, n / out.window, quantile(lat, 0.5) * 1e3,
                  quantile(lat, 0.99) * 1e3, out.errors, out.http_requests / out.window,
                  out.polls / cycles_seen if cell.scenario == "cycle" else 0.0,
                  server_cpu * 1e3 / max(1, out.sent), 100 * server_cpu / out.wall, 100 * out.client_cpu / out.wall,
                  100 * machine[0] / max(1, machine[1]), note, out.samples)


def split_pool(pool: list[tuple[str, str]], concurrencies: list[int]) -> list[list[list[tuple[str, str]]]]:
    """Deployments for each cycle cell (shares weighted by clients^0.4: one client still needs ~80 for a 6 s
    cell on a fast server), then for each client of the cell."""
    weights = [c ** 0.4 for c in concurrencies]
    cells: list[list[list[tuple[str, str]]]] = []
    at = 0
    for c, w in zip(concurrencies, weights, strict=True):
        share = int(len(pool) * w / sum(weights))
        chunk = pool[at:at + share]
        at += share
        cells.append([chunk[j::c] for j in range(c)])
    return cells


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def profile_start(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not os.access(spy, os.X_OK):
        print("--profile: py-spy not found (pip install py-spy); not profiling", file=sys.stderr)
        return None
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(math.ceil(seconds)), "--rate",
                             "200", "--format", "raw", "--output", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def bench_backend(backend: str, db_url: str, args: argparse.Namespace, workdir: Path,
                  pool: ProcessPoolExecutor) -> tuple[list[Result], Fixture]:
    fx = setup_store(db_url, args.vms, args.seed, args.min_arm_vms)
    print(f"[{backend}] store ready in {fx.setup_s:.1f} s: {len(fx.vm_ids)} ARM VMs ({fx.vnets_prepared} VNets "
          f"prepared), {len(fx.deployments)} deployments, {len(fx.cycle_pool)} clean non-VNet deployments",
          file=sys.stderr)
    server = Server(db_url, workdir / f"server-{backend}.log", args.server_log_level, args.launcher)
    results: list[Result] = []
    cycle_sets = split_pool(fx.cycle_pool, args.clients)
    try:
        for scenario in args.scenarios:
            for k, c in enumerate(args.clients):
                targets: list[Any] = {"arm-get-vm": fx.vm_ids, "asm-get-deployment": fx.deployments,
                                      "arm-list-vms": [], "cycle": cycle_sets[k]}[scenario]
                cell = Cell(scenario, c, server.base_url, fx.sub, fx.token, args.warmup, args.duration, targets,
                            expected=len(fx.vm_ids), poll_interval=args.poll_interval)
                spy = None
                if args.profile and scenario == "arm-get-vm":
                    args.profile.mkdir(parents=True, exist_ok=True)
                    spy = profile_start(server.pid, args.warmup + args.duration,
                                        args.profile / f"{backend}-arm-get-vm-c{c}.txt")
                cpu0, (busy0, total0) = process_cpu(server.pid), machine_ticks()
                out = pool.submit(run_cell, cell).result()
                cpu1, (busy1, total1) = process_cpu(server.pid), machine_ticks()
                res = summarize(backend, cell, out, cpu1 - cpu0, (busy1 - busy0, total1 - total0))
                if spy is not None:
                    spy.wait(timeout=60)
                if server.proc.poll() is not None:
                    raise SystemExit(f"the server died; log: {server.log}")
                print(f"[{backend}] {scenario} ×{c}: {res.count} in {args.duration:.0f} s, {res.rate:.0f}/s, "
                      f"p50 {res.p50_ms:.2f} ms, p99 {res.p99_ms:.2f} ms, errors {res.errors}, server "
                      f"{res.server_ms_per_request:.2f} CPU ms/req at {res.server_cpu:.0f}%, "
                      f"client {res.client_cpu:.0f}%, machine {res.machine_busy:.0f}% busy", file=sys.stderr)
                results.append(res)
    finally:
        server.stop()
    return results, fx


# --------------------------------------------------------------------------- report


def background_busy(seconds: float = 2.0) -> float:
    """% of all cores busy before the benchmark starts (other tenants of the machine)."""
    b0, t0 = machine_ticks()
    time.sleep(seconds)
    b1, t1 = machine_ticks()
    return 100 * (b1 - b0) / max(1, t1 - t0)


def machine_facts(load: tuple[float, float, float], background: float, versions: list[str]) -> str:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    return (f"machine: nproc {os.cpu_count()}{f' ({cpu})' if cpu else ''}, load average at start "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, CPU busy before starting {background:.0f}% of all cores, "
            f"Python {platform.python_version()}, httpx {httpx.__version__}, {', '.join(versions)}")


def fmt(x: float, digits: int = 2) -> str:
    return "–" if math.isnan(x) else f"{x:.{digits}f}"


def report(results: list[Result], command: str, facts: str, estates: list[str]) -> None:
    print(f"command: `{command}`\n\n{facts}\n")
    for line in estates:
        print(line)
    print()
    requests = [r for r in results if r.scenario != "cycle"]
    if requests:
        print("| backend | scenario | clients | requests | req/s | p50 ms | p99 ms | errors | server CPU ms/req "
              "| server CPU % | client CPU % | machine busy % |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in requests:
            what = "arm-list-vms (per page)" if r.scenario == "arm-list-vms" else r.scenario
            print(f"| {r.backend} | {what} | {r.clients} | {r.count} | {r.rate:.0f} | {fmt(r.p50_ms)} "
                  f"| {fmt(r.p99_ms)} | {r.errors} | {r.server_ms_per_request:.2f} | {r.server_cpu:.0f} "
                  f"| {r.client_cpu:.0f} | {r.machine_busy:.0f} |")
        print()
    cycles = [r for r in results if r.scenario == "cycle"]
    if cycles:
        print("| backend | clients | cycles | cycles/s | cycle p50 ms | cycle p99 ms | HTTP req/s | polls per cycle "
              "| errors | server CPU % | client CPU % | machine busy % | note |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in cycles:
            print(f"| {r.backend} | {r.clients} | {r.count} | {r.rate:.1f} | {fmt(r.p50_ms, 1)} | {fmt(r.p99_ms, 1)} "
                  f"| {r.http_rate:.0f} | {r.polls_per_cycle:.1f} | {r.errors} | {r.server_cpu:.0f} "
                  f"| {r.client_cpu:.0f} | {r.machine_busy:.0f} | {r.note} |")
        print()
    for backend in dict.fromkeys(r.backend for r in results):
        gets = [r for r in results if r.backend == backend and r.scenario == "arm-get-vm"]
        if not gets:
            continue
        p50 = max(r.p50_ms for r in gets)
        best = max(gets, key=lambda r: r.rate)
        met = p50 < 5 and best.rate >= 1000
        print(f"target ARM GET VM on {backend}: worst p50 {p50:.2f} ms (< 5), best {best.rate:.0f} req/s at "
              f"{best.clients} clients (≥ 1,000): {'MET' if met else 'NOT MET'}")
    for r in results:
        for s in r.samples:
            print(f"error sample ({r.backend} {r.scenario} ×{r.clients}): {s}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vms", type=int, default=6000, help="VMs in the generated estate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-arm-vms", type=int, default=1000,
                    help="prepare VNets until more than this many ARM VMs exist (the list pages at 1,000)")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32], help="concurrencies")
    ap.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    ap.add_argument("--duration", type=float, default=5.0, help="measured seconds per cell")
    ap.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each cell")
    ap.add_argument("--poll-interval", type=float, default=0.01, help="seconds between operation polls")
    ap.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL (tests/pg.py)")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--server-log-level", default="warning",
                    help="the server's --log-level (info adds an access-log line per request)")
    ap.add_argument("--launcher", type=Path, default=None,
                    help="a Python file run instead of `-m classic2arm` (same arguments), to try a server-side "
                         "change without editing the package")
    ap.add_argument("--profile", type=Path, default=None, help="py-spy raw profiles of the arm-get-vm cells here")
    args = ap.parse_args()
    if not 0 < args.duration <= 60 or not 0 <= args.warmup <= 30 or not all(0 < c <= 256 for c in args.clients):
        ap.error("duration must be in (0, 60], warm-up in [0, 30], clients in [1, 256]")
    command = shlex.join([".venv/bin/python", "bench/bench_http.py", *sys.argv[1:]])
    load = os.getloadavg()
    background = background_busy()
    workdir = Path(tempfile.mkdtemp(prefix="c2a-http-"))
    backends: list[tuple[str, str | None]] = []
    if not args.no_sqlite:
        backends.append(("SQLite", f"sqlite:///{workdir / 'http.db'}"))
    if args.postgres:
        backends.append(("PostgreSQL", None))
    versions = [f"SQLite {sqlite3.sqlite_version}"] if not args.no_sqlite else []
    results: list[Result] = []
    estates: list[str] = []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        for backend, url in backends:
            pg: Postgres | None = None
            try:
                if url is None:
                    try:
                        pg = Postgres()
                    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
                        continue
                    url = pg.url
                    versions.append(pg.version())
                rows, fx = bench_backend(backend, url, args, workdir, pool)
                results += rows
                estates.append(f"{backend}: estate of {args.vms} VMs (seed {args.seed}); {len(fx.vm_ids)} ARM VMs "
                               f"after preparing {fx.vnets_prepared} VNets; {len(fx.deployments)} deployments; "
                               f"{len(fx.cycle_pool)} clean non-VNet deployments for the cycles; setup "
                               f"{fx.setup_s:.1f} s")
            finally:
                if pg is not None:
                    pg.stop()
    estates.append(f"each cell: {args.warmup:g} s warm-up + {args.duration:g} s measured; one server process "
                   f"(--workers 1, --log-level {args.server_log_level}); one client process (httpx, keep-alive); "
                   f"operation polls every {args.poll_interval * 1e3:g} ms; total {time.perf_counter() - t0:.0f} s"
                   + (f"; server started through {args.launcher}" if args.launcher else ""))
    report(results, command, machine_facts(load, background, versions), estates)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
