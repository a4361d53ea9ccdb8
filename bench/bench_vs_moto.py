"""ARM GET VM of one `classic2arm serve` process against moto's server (EC2 DescribeInstances of one instance by
id), side by side in one run, both driven by the same `wrk` settings on loopback (issue 11).

    bash scripts/bench-deps.sh      # once: wrk (Debian) and .bench-venv/ with moto[server], boto3, py-spy
    .venv/bin/python bench/bench_vs_moto.py [--postgres] [--clients 1 8] [--seconds 5] [--rounds 2]

Each side stores 1,000 VMs and every request reads one of them, cycling over their ids: classic2arm answers
`GET /subscriptions/…/virtualMachines/{vm}?api-version=…` with a bearer token (estate, token and server set-up
of bench_http.py); moto 5.x (`moto_server` from .bench-venv, threaded werkzeug, its default lax auth) holds 1,000
EC2 instances made through boto3 and answers `POST / Action=DescribeInstances&InstanceId.1={id}` as boto3 sends
it. For each connection count the sides alternate (classic2arm, moto, classic2arm, moto… `--rounds` times), so
both see the same machine load. Each cell reports req/s, p50/p99 latency, non-2xx answers and the server
process's CPU per request; each round gives the ratio of the rates. `--profile DIR` records each server with
py-spy (from .bench-venv) during one extra cell at 1 connection (not counted: sampling slows the server).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench_http import LOOPBACK, REPO, Postgres, Server, process_cpu, setup_store
from bench_http_wrk import LUA as ARM_LUA
from bench_http_wrk import run_wrk

BENCH_VENV = REPO / ".bench-venv"
RESOURCES = 1000
EC2_VERSION = "2016-11-15"
# moto takes region and account from the credential scope and does not check the signature (no IAM auth by
# default); boto3 sends the same header shape, signed per request.
AWS_AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, Signature=" + "0" * 64)
MOTO_LUA = """
local bodies = {}
local i = 0
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
wrk.headers["Authorization"] = "%(auth)s"
wrk.headers["X-Amz-Date"] = "20260101T000000Z"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/", nil, bodies[i])
end
"""
# Run by .bench-venv's Python: fills moto with `count` running instances through boto3, prints their ids.
SEED = """
import json, sys
import boto3
url, count = sys.argv[1], int(sys.argv[2])
ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                   aws_secret_access_key="testing")
image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
ids = []
while len(ids) < count:
    n = min(100, count - len(ids))
    ids += [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=n, MaxCount=n,
                                                       InstanceType="t3.micro")["Instances"]]
one = ec2.describe_instances(InstanceIds=[ids[0]])["Reservations"][0]["Instances"]
assert [i["InstanceId"] for i in one] == [ids[0]], one
print(json.dumps(ids))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MotoServer:
    """moto's own server (`moto_server`, .bench-venv) on a loopback port, filled with EC2 instances."""

    def __init__(self, log: Path, timeout: float = 60) -> None:
        exe = BENCH_VENV / "bin" / "moto_server"
        if not exe.exists():
            raise SystemExit(f"{exe} is missing: run `bash scripts/bench-deps.sh` first")
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        with open(log, "ab") as fh:
            self.proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=fh, stderr=fh,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/moto-api/data.json", timeout=5):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    tail = log.read_text(errors="replace")[-3000:]
                    raise SystemExit(f"moto's server did not start; log:\n{tail}") from None
                time.sleep(0.2)

    def seed(self, count: int) -> list[str]:
        res = subprocess.run([str(BENCH_VENV / "bin" / "python"), "-c", SEED, self.base_url, str(count)],
                             capture_output=True, text=True, timeout=600, check=False)
        if res.returncode != 0:
            raise SystemExit(f"filling moto failed:\n{res.stderr[-3000:]}")
        ids: list[str] = json.loads(res.stdout.strip().splitlines()[-1])
        return ids

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@dataclass
class Cell:
    side: str
    clients: int
    rps: float
    p50: float
    p99: float
    errors: int
    cpu_ms: float  # server CPU per request
    cpu_pct: float  # server CPU, % of one core


def measure(side: str, pid: int, base: str, script: Path, clients: int, seconds: int) -> Cell:
    cpu0, t0 = process_cpu(pid), time.monotonic()
    rps, p50, p99, errors = run_wrk(base, script, clients, seconds)
    cpu, wall = process_cpu(pid) - cpu0, time.monotonic() - t0
    return Cell(side, clients, rps, p50, p99, errors, cpu / max(1.0, rps * wall) * 1000, 100 * cpu / wall)


def profile(pid: int, seconds: int, out: Path) -> None:
    spy = BENCH_VENV / "bin" / "py-spy"
    if not spy.exists():
        print("--profile: py-spy is not in .bench-venv; not profiling", file=sys.stderr)
        return
    subprocess.run([str(spy), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250",
                    "--nonblocking", "--format", "raw", "--output", str(out)], capture_output=True, timeout=120,
                   check=False)


def profiled_cell(pid: int, base: str, script: Path, seconds: int, out: Path) -> None:
    """One unmeasured cell at 1 connection with py-spy attached to the server."""
    load = subprocess.Popen(["wrk", "-t1", "-c1", f"-d{seconds + 2}s", "-s", str(script), base],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        profile(pid, seconds, out)
    finally:
        load.wait(timeout=seconds + 30)


def run(label: str, db_url: str, moto: MotoServer, moto_script: Path, args: argparse.Namespace,
        work: Path) -> tuple[list[Cell], int]:
    fx = setup_store(db_url, args.vms, 1, RESOURCES)
    vm_paths = [f"{vm}?api-version=2016-03-30" for vm in fx.vm_ids[:RESOURCES]]
    listing = work / f"{label}-vms.txt"
    listing.write_text("\n".join(vm_paths) + "\n")
    arm_script = work / f"{label}-arm.lua"
    arm_script.write_text(ARM_LUA % {"paths": listing, "token": fx.token})
    server = Server(db_url, work / f"{label}.log", "warning")
    cells: list[Cell] = []
    try:
        if urlsplit(server.base_url).hostname not in LOOPBACK:
            raise SystemExit("loopback only")
        sides = [(f"classic2arm {label}", server.pid, server.base_url, arm_script),
                 ("moto", moto.pid, moto.base_url, moto_script)]
        for _, _, base, script in sides:
            run_wrk(base, script, 8, 2)  # warm-up
        for clients in args.clients:
            for _ in range(args.rounds):
                for side, pid, base, script in sides:
                    cell = measure(side, pid, base, script, clients, args.seconds)
                    print(f"{side} ×{clients}: {cell.rps:.0f} req/s, p50 {cell.p50:.2f} ms, p99 {cell.p99:.2f} ms, "
                          f"non-2xx {cell.errors}, {cell.cpu_ms:.2f} CPU ms/req", file=sys.stderr)
                    cells.append(cell)
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            for side, pid, base, script in sides:
                profiled_cell(pid, base, script, args.seconds, args.profile / f"{side.replace(' ', '-')}.txt")
    finally:
        server.stop()
    return cells, len(fx.vm_ids)


def report(cells: list[Cell], clients: list[int]) -> None:
    print("| side | connections | round | req/s | p50 ms | p99 ms | non-2xx | server CPU ms/req | server CPU % |")
    print("|---|---|---|---|---|---|---|---|---|")
    rounds: dict[tuple[str, int], int] = {}
    for c in cells:
        k = rounds[(c.side, c.clients)] = rounds.get((c.side, c.clients), 0) + 1
        print(f"| {c.side} | {c.clients} | {k} | {c.rps:.0f} | {c.p50:.2f} | {c.p99:.2f} | {c.errors} "
              f"| {c.cpu_ms:.2f} | {c.cpu_pct:.0f} |")
    print()
    for side in dict.fromkeys(c.side for c in cells if c.side != "moto"):
        for n in clients:
            ours = [c.rps for c in cells if c.side == side and c.clients == n]
            theirs = [c.rps for c in cells if c.side == "moto" and c.clients == n]
            ratios = [a / b for a, b in zip(ours, theirs, strict=False) if b > 0]
            if not ratios:
                continue
            # the 8× target is the default store's; PostgreSQL's is the absolute rate below
            verdict = "no ratio target" if "PostgreSQL" in side else \
                "≥ 8×: MET" if min(ratios) >= 8 else "≥ 8×: NOT MET"
            print(f"{side} / moto at {n} connection{'s' if n > 1 else ''}: "
                  f"{' '.join(f'{r:.1f}×' for r in ratios)} (median {statistics.median(ratios):.1f}×; {verdict})")
        if "PostgreSQL" in side:
            best = max(c.rps for c in cells if c.side == side)
            print(f"{side}: best {best:.0f} req/s from one process ({'≥ 1,000: MET' if best >= 1000 else 'NOT MET'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vms", type=int, default=6000, help="VMs in classic2arm's generated estate")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8], help="wrk connections")
    ap.add_argument("--seconds", type=int, default=5, help="measured seconds per cell")
    ap.add_argument("--rounds", type=int, default=2, help="alternations of the two sides per connection count")
    ap.add_argument("--postgres", action="store_true", help="also classic2arm on a throwaway PostgreSQL")
    ap.add_argument("--no-sqlite", action="store_true", help="classic2arm on PostgreSQL only")
    ap.add_argument("--profile", type=Path, default=None, help="py-spy raw profiles of each server here")
    args = ap.parse_args()
    if not 1 <= args.seconds <= 60 or not 1 <= args.rounds <= 10 or not all(1 <= c <= 256 for c in args.clients):
        ap.error("seconds in [1, 60], rounds in [1, 10], clients in [1, 256]")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `bash scripts/bench-deps.sh`")
    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="c2a-moto-"))
    moto = MotoServer(work / "moto.log")
    cells: list[Cell] = []
    estates: list[str] = []
    try:
        t = time.perf_counter()
        ids = moto.seed(RESOURCES)
        estates.append(f"moto: {len(ids)} EC2 instances made through boto3 in {time.perf_counter() - t:.0f} s")
        bodies = work / "moto-bodies.txt"
        bodies.write_text("".join(f"Action=DescribeInstances&Version={EC2_VERSION}&InstanceId.1={i}\n"
                                  for i in ids))
        moto_script = work / "moto.lua"
        moto_script.write_text(MOTO_LUA % {"bodies": bodies, "auth": AWS_AUTH})
        backends = [] if args.no_sqlite else [("SQLite", f"sqlite:///{work / 'c2a.db'}")]
        for label, url in backends:
            got, arm_vms = run(label, url, moto, moto_script, args, work)
            cells += got
            estates.append(f"classic2arm {label}: {args.vms}-VM estate, {arm_vms} ARM VMs stored, the first "
                           f"{RESOURCES} requested")
        if args.postgres:
            pg = Postgres()
            try:
                got, arm_vms = run("PostgreSQL", pg.url, moto, moto_script, args, work)
                cells += got
                estates.append(f"classic2arm PostgreSQL ({pg.version()}): {arm_vms} ARM VMs stored, the first "
                               f"{RESOURCES} requested")
            finally:
                pg.stop()
    finally:
        moto.stop()
    end = os.getloadavg()
    moto_version = subprocess.run([str(BENCH_VENV / "bin" / "python"), "-c", "import moto; print(moto.__version__)"],
                                  capture_output=True, text=True, check=False).stdout.strip()
    print(f"command: `{shlex.join(['.venv/bin/python', 'bench/bench_vs_moto.py', *sys.argv[1:]])}`\n")
    print(f"moto {moto_version}; wrk -t1 -c<connections> -d{args.seconds}s for every cell; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start, {end[0]:.2f} {end[1]:.2f} {end[2]:.2f} at end "
          f"(nproc {os.cpu_count()})")
    for line in estates:
        print(line)
    print()
    report(cells, args.clients)
    if args.profile:
        print(f"\nprofiles: {args.profile}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
