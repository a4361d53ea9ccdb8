"""The npm ASM clients (azure-asm-compute/-network/-storage, versions pinned in node/package-lock.json)
against a live server over HTTPS, trusting the test CA through NODE_EXTRA_CA_CERTS:

- with a management certificate (`createCertificateCloudCredentials({subscriptionId, pem})`): validate,
  prepare and abort on a deployment, a VNet and a storage account (all three client packages);
- with a bearer token (`TokenCloudCredentials`): all 24 migration calls — validate on every unit kind, and
  the non-`begin` prepare / abort / commit variants that poll Get Operation Status.

Node prints what the clients parsed; we compare."""

from __future__ import annotations

import json
import os
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


def _locks(live: LiveServer) -> dict[str, tuple[Any, Any]]:
    """Each resource's migration state and lock holder."""
    return {key: (state, lock) for key, (_v, state, lock, _doc) in live.dump()["resources"].items()}


def run_node(node: str, live: LiveServer, cfg: dict[str, Any]) -> dict[str, Any]:
    """migrate_all.js against the live server (https), trusting only the test CA."""
    assert live.base_url.startswith("https://") and live.ca is not None
    env = {k: v for k, v in os.environ.items() if k.lower() not in {"https_proxy", "http_proxy", "all_proxy"}}
    env["NODE_EXTRA_CA_CERTS"] = str(live.ca)  # replaces a global one (the system bundle here)
    cfg = {**cfg, "baseUri": live.base_url, "subscriptionId": SUB}
    proc = subprocess.run([node, str(NODE_DIR / "migrate_all.js"), json.dumps(cfg)], cwd=NODE_DIR, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def expected_messages(live: LiveServer, cfg: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    return {kind: [(m.resource_type, m.resource_name, m.category.value, m.message, m.virtual_machine)
                   for m in migration.validate(AppContext(live.ctx.store, SUB), ref).messages]
            for kind, ref in _refs(cfg).items()}


def parsed(messages: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(m["resourceType"], m["resourceName"], m["category"], m["message"], m["virtualMachineName"])
            for m in messages]


def test_management_certificate_validate_prepare_abort(node: str, live: LiveServer, tmp_path: Path) -> None:
    """Runs before the token run (which commits these units): abort leaves them as they were."""
    cert = live.management_certificate(tmp_path / "mgmt", SUB)
    cfg = _units(live)
    expected = expected_messages(live, cfg)
    before = _locks(live)
    kinds = ["deployment", "vnet", "storage"]
    out = run_node(node, live, {**cfg, "pemFile": str(cert.both), "order": kinds,
                                "steps": ["validate", "prepare", "abort"]})
    assert out["credentials"] == "CertificateCloudCredentials"
    for kind in kinds:
        r = out[kind]
        assert "error" not in r, (kind, r)
        assert r["calls"] == ["validate", "prepare", "abort"], kind
        assert parsed(r["validate"]) == expected[kind], kind
        assert r["prepare"] == r["abort"] == "Succeeded", (kind, r)
    assert set(out["deployment"]["statePrepared"]) == {"Prepared"} and set(out["deployment"]["stateAborted"]) == {None}
    assert out["vnet"]["statePrepared"] == out["storage"]["statePrepared"] == ["Prepared"]
    assert out["vnet"]["stateAborted"] == out["storage"]["stateAborted"] == [None]
    assert _locks(live) == before  # aborted: no resource left prepared or locked
    assert {state for state, _op in live.dump()["units"].values()} == {"Aborted"}


def test_unregistered_certificate_refused_by_the_node_clients(node: str, live: LiveServer, tmp_path: Path) -> None:
    stranger = live.management_certificate(tmp_path / "stranger", register=False)
    cfg = _units(live)
    out = run_node(node, live, {**cfg, "pemFile": str(stranger.both), "order": ["vnet"], "steps": ["validate"]})
    error = out["vnet"].get("error")
    assert error is not None and out["vnet"]["calls"] == []
    if live.any_client_certificate:
        assert error["code"] == "ForbiddenError", error
    assert SUB not in json.dumps(out)


def test_all_24_migration_calls_through_the_npm_clients(node: str, live: LiveServer) -> None:
    cfg = _units(live)
    expected = expected_messages(live, cfg)
    out = run_node(node, live, {**cfg, "token": live.token, "order": ORDER})
    assert out["credentials"] == "TokenCloudCredentials"
    calls = 0
    for kind in ORDER:
        r = out[kind]
        assert "error" not in r, (kind, r)
        assert r["calls"] == ["validate", "prepare", "abort", "prepare", "commit"], kind
        calls += len(r["calls"]) - 1  # prepare runs twice; the 24 distinct calls are validate/prepare/abort/commit
        assert parsed(r["validate"]) == expected[kind], kind
        assert all(r[k] == "Succeeded" for k in ("prepare", "abort", "prepareAgain", "commit")), (kind, r)
    assert calls == 24
    # MigrationState as the clients parse it while prepared (and gone after abort)
    assert out["deployment"]["statePrepared"] and set(out["deployment"]["statePrepared"]) == {"Prepared"}
    assert out["vnet"]["statePrepared"] == ["Prepared"]
    assert out["storage"]["statePrepared"] == ["Prepared"]
    assert set(out["deployment"]["stateAborted"]) == {None}
    assert out["vnet"]["stateAborted"] == [None] and out["storage"]["stateAborted"] == [None]
    assert any(expected[k] for k in expected), "validate returned no message for any unit"
