"""Black box (issue 14): the real classic cross-platform CLI (npm azure-cli 0.10.20, `azure` in asm mode, installed
by scripts/xplat-deps.sh into .xplat/) against `classic2arm serve --tls`, set up as a user would:

    classic2arm import …; classic2arm cert create --publishsettings FILE --url URL
    azure account env add c2a --management-endpoint-url URL
    azure account env set c2a --active-directory-resource-id URL/ --active-directory-endpoint-url URL
    azure account import FILE                      (TLS trust through NODE_EXTRA_CA_CERTS)

then the reads and validate / prepare / abort / prepare / commit of a VNet (the netcfg's, once `affinity-group
set` placed its group), a deployment into a new VNet and one into an existing ARM VNet, a storage account, a
reserved IP, an NSG and a route table. The CLI waits 30 s before its first poll of each operation, so the units'
commands of each step run in parallel (one process each)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
XPLAT = ROOT / ".xplat"
AZURE = XPLAT / "node_modules" / ".bin" / "azure"
SAMPLE = ROOT / "examples" / "sample-estate.yaml"
FIXTURES = next((p for p in (ROOT.parent / "shared" / "fixtures", Path("/work/shared/fixtures")) if p.is_dir()),
                Path("/work/shared/fixtures"))
HOSTED = FIXTURES / "asm-rest" / "apache__libcloud___3761b98b_673d_526c_8d55_fee918758e6e_services_hostedservices_" \
                                 "dcoddkinztest01.xml"
NETCFG = FIXTURES / "netcfg" / "gitBowei__FCampOps__NetworkConfig.xml"
SUB = "11111111-2222-3333-4444-555555555555"  # the sample estate's
ARM_VNET = f"/subscriptions/{SUB}/resourceGroups/target-rg/providers/Microsoft.Network/virtualNetworks/target-vnet"

# Standalone units and an existing ARM VNet (West US, like the sample's jumpbox) for the "existing" destination.
EXTRAS = {
    "classic2arm": "estate/v1",
    "network_security_groups": [{"name": "nsg-solo", "location": "West US", "rules": [
        {"name": "allow-https", "priority": 100, "destination_port_range": "443", "protocol": "TCP"}]}],
    "route_tables": [{"name": "rt-solo", "location": "West US", "routes": [
        {"name": "to-fw", "address_prefix": "0.0.0.0/0", "next_hop_type": "VirtualAppliance",
         "next_hop_ip_address": "10.9.9.9"}]}],
    "storage_accounts": [{"name": "solostore", "location": "West US", "account_type": "Standard_GRS"}],
    "arm_resources": [
        {"id": f"/subscriptions/{SUB}/resourceGroups/target-rg", "name": "target-rg",
         "type": "Microsoft.Resources/resourceGroups", "location": "westus",
         "properties": {"provisioningState": "Succeeded"}},
        {"id": ARM_VNET, "name": "target-vnet", "type": "Microsoft.Network/virtualNetworks", "location": "westus",
         "properties": {"provisioningState": "Succeeded", "addressSpace": {"addressPrefixes": ["10.50.0.0/16"]},
                        "subnets": [{"id": f"{ARM_VNET}/subnets/apps", "name": "apps",
                                     "properties": {"addressPrefix": "10.50.1.0/24",
                                                    "provisioningState": "Succeeded"}}]}}],
}

# unit -> the `azure` words of its migration commands, and the arguments after `<verb>-migration`
UNITS: dict[str, tuple[list[str], list[str]]] = {
    "vnet": (["network", "vnet"], ["LUC-VIRTUALNETWORK"]),
    "deployment-new": (["service", "deployment"], ["dcoddkinztest01", "dc03", "New", "", "", ""]),
    "deployment-existing": (["service", "deployment"], ["jumpbox", "jumpbox", "Existing", "target-rg", "apps",
                                                        "target-vnet"]),
    "storage": (["storage", "account"], ["solostore"]),
    "reserved-ip": (["network", "reserved-ip"], ["spare-ip"]),
    "nsg": (["network", "nsg"], ["nsg-solo"]),
    "route-table": (["network", "route-table"], ["rt-solo"]),
}


def _classic2arm(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "classic2arm", "--db", db, *args], capture_output=True, text=True,
                          timeout=180, check=False)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


class Azure:
    def __init__(self, home: Path, ca: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if k.lower() not in {"https_proxy", "http_proxy", "all_proxy"}}
        self.env.update(HOME=str(home), NODE_EXTRA_CA_CERTS=str(ca), NODE_NO_WARNINGS="1", AZURE_NO_UPDATE="1")
        (home / ".azure").mkdir(parents=True)
        # answered in advance: the first run would otherwise wait for the data-collection prompt
        (home / ".azure" / "telemetry.json").write_text('{"telemetry": false}')

    def __call__(self, *args: str, as_json: bool = True) -> Any:
        argv = [str(AZURE), *args, *(["--json"] if as_json else [])]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=self.env, check=False)
        if proc.returncode != 0:
            return {"error": (proc.stdout + proc.stderr)[-2000:], "argv": args}
        if not as_json:
            return proc.stdout
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def parallel(self, calls: dict[str, list[str]]) -> dict[str, Any]:
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            futures = {key: pool.submit(self, *argv) for key, argv in calls.items()}
            return {key: f.result() for key, f in futures.items()}


@pytest.fixture(scope="module")
def azure_bin() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm are not installed: the classic xplat CLI test cannot run")
    subprocess.run(["bash", str(ROOT / "scripts" / "xplat-deps.sh")], check=True, timeout=900)
    assert AZURE.exists(), "scripts/xplat-deps.sh did not install the azure CLI"
    return AZURE


@pytest.fixture
def world(azure_bin: Path, tmp_path: Path, start_server: Any) -> Iterator[tuple[Azure, str, str]]:
    db = f"sqlite:///{tmp_path / 'xplat.db'}"
    extras = tmp_path / "extras.json"
    extras.write_text(json.dumps(EXTRAS))
    _classic2arm(db, "clock", "set", "2023-06-01")
    _classic2arm(db, "import", str(SAMPLE), str(HOSTED), str(NETCFG), str(extras))
    _classic2arm(db, "provider", "register", "Microsoft.ClassicInfrastructureMigrate")
    # (the sample's contoso-vnet has blockers; the netcfg's VNet migrates once its group has a location)
    _classic2arm(db, "affinity-group", "set", "LUC-AFFINITYGROUP", "--location", "West Europe")
    server = start_server(db, tls=True)
    assert server.base_url.startswith("https://") and server.ca_path is not None
    settings = tmp_path / "c2a.publishsettings"
    _classic2arm(db, "cert", "create", "--out", str(tmp_path / "cert"), "--publishsettings", str(settings),
                 "--url", server.base_url)
    az = Azure(tmp_path / "home", server.ca_path)
    for argv in (["config", "mode", "asm"],
                 ["account", "env", "add", "c2a", "--management-endpoint-url", server.base_url],
                 ["account", "env", "set", "c2a", "--active-directory-resource-id", f"{server.base_url}/",
                  "--active-directory-endpoint-url", server.base_url],
                 ["account", "import", str(settings)]):
        out = az(*argv, as_json=False)
        assert not isinstance(out, dict), out
    yield az, db, server.base_url


def _messages(parsed: Any) -> list[dict[str, Any]]:
    """The validation messages wherever the CLI's JSON puts them (each has a category and a message)."""
    if isinstance(parsed, dict):
        if "category" in parsed and "message" in parsed:
            return [parsed]
        return [m for v in parsed.values() for m in _messages(v)]
    if isinstance(parsed, list):
        return [m for v in parsed for m in _messages(v)]
    return []


def _state(db: str) -> dict[str, str]:
    out = json.loads(_classic2arm(db, "status", "--json").stdout)
    return {u["name"]: u["state"] for u in out}


def test_xplat_cli_reads_and_migrates_every_unit_kind(world: tuple[Azure, str, str]) -> None:
    az, db, url = world
    reads = az.parallel({
        "vm": ["vm", "list"], "service": ["service", "list"], "vnets": ["network", "vnet", "list"],
        "vnet": ["network", "vnet", "show", "contoso-vnet"], "storage": ["storage", "account", "list"],
        "rips": ["network", "reserved-ip", "list"], "nsgs": ["network", "nsg", "list"],
        "ags": ["account", "affinity-group", "list"]})
    for key, value in reads.items():
        assert not (isinstance(value, dict) and "error" in value), (key, value)
    assert {"web1", "web2", "db1", "jump", "dc03", "oddkinz2"} <= {v["VMName"] for v in reads["vm"]}
    services = {s["serviceName"]: s for s in reads["service"]}
    assert services["dcoddkinztest01"]["uri"] == f"{url}/{SUB}/services/hostedservices/dcoddkinztest01"
    assert {"contoso-vnet", "LUC-VIRTUALNETWORK"} <= {v["name"] for v in reads["vnets"]}
    assert reads["vnet"]["name"] == "contoso-vnet"
    accounts = {a["name"]: a for a in reads["storage"]}
    assert accounts["solostore"]["uri"] == f"{url}/{SUB}/services/storageservices/solostore"
    assert "mtlytics" in accounts  # inferred from the hosted service's disks
    assert {"shop-ip", "spare-ip"} <= {r["name"] for r in reads["rips"]}
    assert {"web-nsg", "nsg-solo"} <= {n["name"] for n in reads["nsgs"]}
    # the group the netcfg binds its VNet to (no file defines it) is listed, as the sample's own
    assert {"contoso-ag", "LUC-AFFINITYGROUP"} <= {g["name"] for g in reads["ags"]}

    def step(verb: str) -> dict[str, Any]:
        return az.parallel({unit: [*words, f"{verb}-migration", *args] for unit, (words, args) in UNITS.items()})

    validated = step("validate")
    for unit, result in validated.items():
        assert not (isinstance(result, dict) and "error" in result), (unit, result)
        messages = _messages(result)
        assert messages, (unit, result)  # (at least the Information listing of what will migrate)
        assert not [m for m in messages if m.get("category") == "Error"], (unit, messages)
    names = ["LUC-VIRTUALNETWORK", "dc03", "jumpbox", "solostore", "spare-ip", "nsg-solo", "rt-solo"]
    for verb, state in (("prepare", "Prepared"), ("abort", "Aborted"), ("prepare", "Prepared"),
                        ("commit", "Committed")):
        results = step(verb)
        assert not [r for r in results.values() if isinstance(r, dict) and "error" in r], results
        states = _state(db)
        assert {n: states.get(n) for n in names} == dict.fromkeys(names, state), (verb, states)
    arm = json.loads(_classic2arm(db, "arm", "list", "--json").stdout)["value"]
    groups = {r["id"].split("/")[4] for r in arm}  # the resource groups the migrated resources are in
    assert {"LUC-VIRTUALNETWORK-Migrated", "dcoddkinztest01-Migrated", "jumpbox-Migrated", "solostore-Migrated",
            "spare-ip-Migrated", "nsg-solo-Migrated", "rt-solo-Migrated"} <= groups
