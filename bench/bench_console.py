"""The web console's server time (issue 13): the overview of a 10,000-VM estate and the page of a 500-VM VNet,
each request timed in-process through the ASGI app (Starlette's TestClient: routing, sign-in check, the service
use case and the template, without a network), median of `--runs` (not a test).

    PYTHONPATH=src .venv/bin/python bench/bench_console.py [--runs 9] [--vms 10000] [--vnet-vms 500]

Estates: `generate(vms=N, seed=7, blockers=0.04)` as of 2023-06-01 (the plan bench's), and for the unit page
`generate(vms=K, seed=7, vnets=1)` with K the first found whose one VNet holds at least M VMs, before and after
its prepare (the page shows its VMs 50 at a time: the first page is timed). The overview's first request after a
change of the store builds the plan (what `classic2arm plan` takes) and is reported apart; the later ones reuse
it until the event log moves on; likewise the unit page's first request reads the subscription's classic index
(kept, and brought up to date from the event log by the next request after a change), reported apart.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from classic2arm.api.app import create_app
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import bulk, credentials, migration, providers, status
from classic2arm.service.context import AppContext

OVERVIEW_TARGET_MS = 300
UNIT_TARGET_MS = 200


def _estate(url: str, **generate: int | float) -> tuple[AppContext, str]:
    ctx = AppContext.open(url)
    bulk.fresh_generated_estate(ctx, "2023-06-01", seed=7, **generate)
    providers.register(ctx, "Microsoft.ClassicInfrastructureMigrate", True)
    token, _ = credentials.create_token(ctx, ctx.chosen_subscription())
    return ctx, token


def _times(client: TestClient, path: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{path}: HTTP {r.status_code}\n{r.text[-2000:]}")
    return out


def _row(name: str, times: list[float], target: float | None) -> str:
    med = statistics.median(times)
    verdict = "" if target is None else ("met" if med <= target else "**not met**")
    shown = ", ".join(f"{t:.0f}" for t in times)
    return f"| {name} | {med:.0f} | {target if target is not None else ''} | {verdict} | {shown} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--vnet-vms", type=int, default=500)
    a = ap.parse_args()
    rows = ["| request | median ms | target ms | | runs (ms) |", "| --- | --- | --- | --- | --- |"]
    with tempfile.TemporaryDirectory() as d:
        ctx, token = _estate(f"sqlite:///{Path(d) / 'big.db'}", vms=a.vms, blockers=0.04)
        client = TestClient(create_app(ctx), headers={"Authorization": f"Bearer {token}"})
        units = len(status.status(ctx))
        rows.append(_row(f"GET / ({a.vms} VMs, {units} units): first, builds the plan", _times(client, "/", 1), None))
        rows.append(_row(f"GET / ({a.vms} VMs)", _times(client, "/", a.runs), OVERVIEW_TARGET_MS))
        rows.append(_row(f"GET /?kind=deployment&page=3 ({a.vms} VMs)",
                         _times(client, "/?kind=deployment&page=3", a.runs), OVERVIEW_TARGET_MS))
        rows.append(_row(f"GET /?q=cs0001 ({a.vms} VMs)", _times(client, "/?q=cs0001", a.runs), OVERVIEW_TARGET_MS))
        ctx.close()

        # One VNet; some generated VMs are outside it: generate more until at least `--vnet-vms` are in it.
        vms = a.vnet_vms
        while True:
            ctx, token = _estate(f"sqlite:///{Path(d) / 'vnet.db'}", vms=vms, vnets=1)
            vnet = next(u for u in status.status(ctx) if u.kind == "vnet")
            if vnet.vms >= a.vnet_vms:
                break
            ctx.close()
            vms = vms * a.vnet_vms // max(1, vnet.vms) + 10
        client = TestClient(create_app(ctx), headers={"Authorization": f"Bearer {token}"})
        path = f"/units/vnet/{vnet.name}"
        rows.append(_row(f"GET {path} ({vnet.vms} VMs): first, reads the subscription's classic index",
                         _times(client, path, 1), None))
        rows.append(_row(f"GET {path} ({vnet.vms} VMs, not prepared)", _times(client, path, a.runs), UNIT_TARGET_MS))
        view = migration.execute(ctx, Op.PREPARE, UnitRef(UnitKind.VNET, vnet.name))
        if view.status != "Succeeded":
            raise SystemExit(f"prepare of {vnet.name}: {view.status} {view.error_message}")
        rows.append(_row(f"GET {path} ({vnet.vms} VMs, prepared): first, brings the kept index up to date",
                         _times(client, path, 1), None))
        rows.append(_row(f"GET {path} ({vnet.vms} VMs, prepared: classic beside ARM)", _times(client, path, a.runs),
                         UNIT_TARGET_MS))
        rows.append(_row(f"GET {path}?page=5 ({vnet.vms} VMs, prepared)", _times(client, path + "?page=5", a.runs),
                         UNIT_TARGET_MS))
        ctx.close()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
