"""The real Azure CLI (PyPI azure-cli, installed into .az-venv/ by scripts/az-deps.sh) pointed at classic2arm
over HTTPS, as a black box: `az cloud register`, `az login --service-principal` through the Entra ID stand-in
(a wrong secret refused), then group, VM (show -d, start/stop/deallocate), VNet, `az group export` and
`az deployment group create` with the exported template. Skipped, saying why, only when the CLI cannot be
installed."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from arm_env import SUB, open_estate, prepare_units
from arm_server import serve

from classic2arm.domain.state_machine import Op
from classic2arm.service import entra, migration
from classic2arm.service.context import AppContext

ROOT = Path(__file__).resolve().parents[3]
AZ = ROOT / ".az-venv" / "bin" / "az"


def az_binary() -> Path:
    if not AZ.exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "az-deps.sh")], timeout=1800, check=False)
    if not AZ.exists():
        pytest.skip(f"the Azure CLI could not be installed into {AZ.parent.parent} (scripts/az-deps.sh failed; "
                    "see its output)")
    return AZ


@dataclass
class Az:
    url: str
    env: dict[str, str]
    sp: entra.ServicePrincipal
    ctx: AppContext
    deployment_rg: str

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        res = subprocess.run([str(AZ), *args], capture_output=True, text=True, timeout=300, env=self.env)
        if ok:
            assert res.returncode == 0, f"az {' '.join(args)}: {res.stderr[-2000:]}"
        return res

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def az(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Az]:
    az_binary()
    folder = tmp_path_factory.mktemp("az")
    ctx = open_estate(folder)
    vnet, dep, _ = prepare_units(ctx)
    scoped = AppContext(ctx.store, SUB)
    for ref in (vnet, dep):
        assert migration.execute(scoped, Op.COMMIT, ref).status == "Succeeded"
    sp = entra.create_service_principal(ctx, SUB)
    with serve(ctx, folder, tls=True) as running:
        assert running.ca_path is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "REQUESTS_", "PYTHON"))}
        env.update({"AZURE_CONFIG_DIR": str(folder / "azconfig"), "REQUESTS_CA_BUNDLE": str(running.ca_path),
                    "AZURE_CORE_COLLECT_TELEMETRY": "false", "AZURE_CORE_NO_COLOR": "true",
                    "AZURE_CORE_ONLY_SHOW_ERRORS": "true", "AZURE_CORE_SURVEY_MESSAGE": "false"})
        yield Az(running.base_url, env, sp, ctx, f"{dep.name}-Migrated")
    ctx.close()


@pytest.fixture(scope="module")
def logged_in(az: Az) -> Az:
    """The three commands of the README (cloud register + set, instance discovery off, login)."""
    az.run("cloud", "register", "-n", "classic2arm", "--endpoint-resource-manager", az.url)
    az.run("cloud", "set", "-n", "classic2arm")
    az.run("config", "set", "core.instance_discovery=false")
    wrong = az.run("login", "--service-principal", "-u", az.sp.app_id, "-p", az.sp.password + "x",
                   "--tenant", az.sp.tenant, ok=False)
    assert wrong.returncode != 0 and "AADSTS7000215" in wrong.stderr
    accounts = az.json("login", "--service-principal", "-u", az.sp.app_id, "-p", az.sp.password,
                       "--tenant", az.sp.tenant)
    assert [(a["id"], a["tenantId"]) for a in accounts] == [(SUB, az.sp.tenant)]
    return az


def test_reads(logged_in: Az) -> None:
    az = logged_in
    groups = {g["name"] for g in az.json("group", "list")}
    assert az.deployment_rg in groups
    vms = az.json("vm", "list")
    assert vms and all(v["type"] == "Microsoft.Compute/virtualMachines" for v in vms)
    vnets = az.json("network", "vnet", "list")
    vnet = az.json("network", "vnet", "show", "-g", vnets[0]["resourceGroup"], "-n", vnets[0]["name"])
    assert vnet["addressSpace"]["addressPrefixes"] and vnet["subnets"]


def test_power(logged_in: Az) -> None:
    az = logged_in
    vm = next(v for v in az.json("vm", "list", "-g", az.deployment_rg))
    args = ("-g", az.deployment_rg, "-n", vm["name"])

    def power() -> str:
        return str(az.json("vm", "show", "-d", *args)["powerState"])

    az.run("vm", "start", *args)
    assert power() == "VM running"
    az.run("vm", "stop", *args)
    assert power() == "VM stopped"
    az.run("vm", "deallocate", *args)
    assert power() == "VM deallocated"
    az.run("vm", "start", *args)
    assert power() == "VM running"
    view = az.json("vm", "get-instance-view", *args)
    assert [s["code"] for s in view["instanceView"]["statuses"]] == ["ProvisioningState/succeeded",
                                                                     "PowerState/running"]


def test_export_and_deploy(logged_in: Az, tmp_path: Path) -> None:
    az = logged_in
    template = az.json("group", "export", "-n", az.deployment_rg)
    assert template["$schema"].endswith("2019-04-01/deploymentTemplate.json#") and template["resources"]
    path = tmp_path / "exported.json"
    path.write_text(json.dumps(template))
    az.run("group", "create", "-n", "az-copy", "-l", "westus")
    done = az.json("deployment", "group", "create", "-g", "az-copy", "-n", "from-export", "--template-file",
                   str(path))
    assert done["properties"]["provisioningState"] == "Succeeded"
    source = {(r["type"], r["name"]) for r in az.json("resource", "list", "-g", az.deployment_rg)}
    copied = {(r["type"], r["name"]) for r in az.json("resource", "list", "-g", "az-copy")}
    assert copied == source and len(copied) == len(template["resources"])
    shown = az.json("deployment", "group", "show", "-g", "az-copy", "-n", "from-export")
    assert shown["properties"]["provisioningState"] == "Succeeded"
