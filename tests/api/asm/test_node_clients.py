"""The npm ASM clients (azure-asm-compute/-network/-storage, versions pinned in node/package-lock.json) run
all 24 migration calls against a live server: validate on every unit kind, and the non-`begin` prepare /
abort / commit variants that poll Get Operation Status. Node prints what the clients parsed; we compare."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from live import SUB, LiveServer

from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.service import migration, status
from classic2arm.service.context import AppContext

NODE_DIR = Path(__file__).parent / "node"
ORDER = ["deployment", "vnet", "storage", "reservedIp", "nsg", "routeTable"]


@pytest.fixture(scope="module")
def node() -> str:
    node_bin, npm_bin = shutil.which("node"), shutil.which("npm")
    if node_bin is None or npm_bin is None:
        reason = "node/npm are not installed: the npm ASM client conformance tests cannot run"
        print(reason)
        pytest.skip(reason)
    if not (NODE_DIR / "node_modules" / "azure-asm-compute").is_dir():
        subprocess.run([npm_bin, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=600)
    return node_bin


def _units(live: LiveServer) -> dict[str, Any]:
    ctx = AppContext(live.ctx.store, SUB)
    units = status.status(ctx)
    dep = next(u for u in units if u.kind == "deployment" and u.vms > 0)
    vnet = max((u for u in units if u.kind == "vnet"), key=lambda u: u.vms)
    rip = next(u for u in units if u.kind == "reserved-ip" and u.name.startswith("rip-spare"))
    return {"deployment": {"service": dep.service, "name": dep.name}, "vnet": vnet.name, "storage": "solostore",
            "reservedIp": rip.name, "nsg": "nsg-solo", "routeTable": "rt-solo"}


def _refs(cfg: dict[str, Any]) -> dict[str, UnitRef]:
    d = cfg["deployment"]
    return {"deployment": UnitRef(UnitKind.DEPLOYMENT, d["name"], d["service"], Destination("New")),
            "vnet": UnitRef(UnitKind.VNET, cfg["vnet"]), "storage": UnitRef(UnitKind.STORAGE, cfg["storage"]),
            "reservedIp": UnitRef(UnitKind.RESERVED_IP, cfg["reservedIp"]),
            "nsg": UnitRef(UnitKind.NSG, cfg["nsg"]), "routeTable": UnitRef(UnitKind.ROUTE_TABLE, cfg["routeTable"])}


def test_all_24_migration_calls_through_the_npm_clients(node: str, live: LiveServer) -> None:
    cfg = _units(live)
    expected = {kind: [(m.resource_type, m.resource_name, m.category.value, m.message, m.virtual_machine)
                       for m in migration.validate(AppContext(live.ctx.store, SUB), ref).messages]
                for kind, ref in _refs(cfg).items()}
    cfg.update(baseUri=live.base_url, subscriptionId=SUB, token=live.token, order=ORDER)
    proc = subprocess.run([node, str(NODE_DIR / "migrate_all.js"), json.dumps(cfg)], cwd=NODE_DIR,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    calls = 0
    for kind in ORDER:
        r = out[kind]
        assert "error" not in r, (kind, r)
        assert r["calls"] == ["validate", "prepare", "abort", "prepare", "commit"], kind
        calls += len(r["calls"]) - 1  # prepare runs twice; the 24 distinct calls are validate/prepare/abort/commit
        got = [(m["resourceType"], m["resourceName"], m["category"], m["message"], m["virtualMachineName"])
               for m in r["validate"]]
        assert got == expected[kind], kind
        assert all(r[k] == "Succeeded" for k in ("prepare", "abort", "prepareAgain", "commit")), (kind, r)
    assert calls == 24
    # MigrationState as the clients parse it while prepared (and gone after abort)
    assert out["deployment"]["statePrepared"] and set(out["deployment"]["statePrepared"]) == {"Prepared"}
    assert out["vnet"]["statePrepared"] == ["Prepared"]
    assert out["storage"]["statePrepared"] == ["Prepared"]
    assert set(out["deployment"]["stateAborted"]) == {None}
    assert out["vnet"]["stateAborted"] == [None] and out["storage"]["stateAborted"] == [None]
    assert any(expected[k] for k in expected), "validate returned no message for any unit"
