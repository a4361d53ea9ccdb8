"""`classic2arm import` of a real estate whole, as a user runs it (issue 14): every shared fixture in one run with
no option, the one affinity-group note and its command, `--as-of`, and every unreadable file named at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = next((p for p in (Path(__file__).resolve().parents[3] / "shared" / "fixtures",
                             Path("/work/shared/fixtures")) if p.is_dir()), Path("/work/shared/fixtures"))
FILES = sorted(str(p) for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md")

pytestmark = pytest.mark.skipif(not FILES, reason=f"no fixtures at {FIXTURES}")


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{db}", *args],
                          capture_output=True, text=True, timeout=180, env=dict(os.environ))


def test_every_fixture_in_one_run_then_place_a_group(tmp_path: Path) -> None:
    db = tmp_path / "all.db"
    res = run(db, "import", *FILES, "--as-of", "2023-06-01", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["deallocatedForRetirement"] == 0 and report["retirementNote"] is None
    [groups] = [n for n in report["notes"] if n.startswith("affinity groups ")]
    assert "classic2arm affinity-group set WestUsAffinityGroup --location LOCATION" in groups
    placed = run(db, "affinity-group", "set", "WestUsAffinityGroup", "--location", "West US", "--json")
    assert placed.returncode == 0, placed.stderr
    assert len(json.loads(placed.stdout)["placed"]) == 3  # the netcfg's three VNets
    missing = run(db, "affinity-group", "set", "no-such-group", "--location", "West US")
    assert missing.returncode == 1 and "no-such-group" in missing.stderr
    plan = run(db, "provider", "register", "Microsoft.ClassicInfrastructureMigrate")
    assert plan.returncode == 0, plan.stderr
    plan = run(db, "plan", "--json")
    assert plan.returncode == 0, plan.stderr
    assert any("which no imported file describes" in n for n in json.loads(plan.stdout)["notes"])


def test_unreadable_files_are_all_named_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text("<Nonsense/>")
    (tmp_path / "b.json").write_text("{")
    res = run(tmp_path / "x.db", "import", str(tmp_path / "a.xml"), FILES[0], str(tmp_path / "b.json"))
    assert res.returncode == 1
    assert "2 files could not be imported" in res.stderr
    assert f"{tmp_path / 'a.xml'}: " in res.stderr and f"{tmp_path / 'b.json'}: " in res.stderr


# A Get Deployment (or Get Role) body alone (issue 14): no file gives its hosted service's location, so the import
# assumes one (the default, West US: nothing else is in the estate) and says so; the deployment then validates,
# prepares and commits into <service>-Migrated there, unless a documented rule blocks it.
ASM_REST = FIXTURES / "asm-rest"
LIBCLOUD = ("apache__libcloud___3761b98b_673d_526c_8d55_fee918758e6e_services_hostedservices_dcoddkinztest01_"
            "deploymentslots_Production.xml")
JCLOUDS = "jclouds__jclouds-labs__deployment.xml"
MIGAZ = "zyadamec__migAz__VM1-06-VirtualMachine-myservice-myservice-myservice.xml"


def ok(db: Path, *args: str) -> dict[str, object]:
    res = run(db, *args, "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert isinstance(out, dict)
    return out


def _import_alone(db: Path, name: str, service: str) -> dict[str, object]:
    report = ok(db, "import", str(ASM_REST / name), "--as-of", "2023-06-01")
    notes = report["notes"]
    assert isinstance(notes, list)
    assert (f"no file gives the location of hosted service '{service}': placed in West US, the default location "
            "(nothing else in the estate gives one), and marked inferred (location_inferred), so its deployment "
            "can be rehearsed (an inferred storage account of its disks is placed there too); to set the real one, "
            "import the files again with 'classic2arm import FILE... --location LOCATION'") in notes
    ok(db, "provider", "register", "Microsoft.ClassicInfrastructureMigrate")
    return report


def _errors(db: Path, service: str, deployment: str) -> tuple[int, list[str]]:
    res = run(db, "deployment", "validate", "--service", service, "--deployment", deployment, "--new-vnet", "--json")
    body = json.loads(res.stdout)
    return res.returncode, [m["message"] for m in body["messages"] if m["category"] == "Error"]


def _prepare_commit_into_migrated(db: Path, service: str, deployment: str) -> None:
    args = ["--service", service, "--deployment", deployment]
    assert ok(db, "deployment", "prepare", *args, "--new-vnet")["status"] == "Succeeded"
    assert ok(db, "deployment", "commit", *args)["status"] == "Succeeded"
    listed = ok(db, "arm", "list", "-g", f"{service}-Migrated", "--no-classic")["value"]
    assert isinstance(listed, list)
    vms = [r for r in listed if r["type"] == "Microsoft.Compute/virtualMachines"]
    assert vms and {r["location"] for r in listed} == {"westus"}
    assert all(f"/resourceGroups/{service}-Migrated/" in r["id"] for r in listed)


@pytest.mark.skipif(not (ASM_REST / LIBCLOUD).is_file(), reason="no libcloud fixture")
def test_libcloud_get_deployment_alone_commits_into_service_migrated(tmp_path: Path) -> None:
    db = tmp_path / "libcloud.db"
    _import_alone(db, LIBCLOUD, "dcoddkinztest01")
    assert _errors(db, "dcoddkinztest01", "dc03") == (0, [])
    _prepare_commit_into_migrated(db, "dcoddkinztest01", "dc03")


@pytest.mark.skipif(not (ASM_REST / MIGAZ).is_file(), reason="no migAz fixture")
def test_migaz_get_role_alone_is_blocked_by_its_xml_extension_then_commits(tmp_path: Path) -> None:
    db = tmp_path / "migaz.db"
    _import_alone(db, MIGAZ, "myservice")
    # R19, documented (errors page): the body's BGInfo 1.* is an XML extension, unsupported in ARM
    assert _errors(db, "myservice", "myservice") == (3, [
        "VM myservice in HostedService myservice contains Extension BGInfo which isn't supported in Azure Resource "
        "Manager. It's recommended to uninstall it from the VM before continuing with migration."])
    # its documented mitigation (uninstall it), then the deployment goes
    fixed = run(db, "fix", "xml-extensions", "--unit", "deployment:myservice/myservice")
    assert fixed.returncode == 0, fixed.stderr
    assert _errors(db, "myservice", "myservice") == (0, [])
    _prepare_commit_into_migrated(db, "myservice", "myservice")


@pytest.mark.skipif(not (ASM_REST / JCLOUDS).is_file(), reason="no jclouds fixture")
def test_jclouds_get_deployment_alone_is_blocked_only_by_its_vnet(tmp_path: Path) -> None:
    db = tmp_path / "jclouds.db"
    svc = "node1855162607153993262-b26"
    report = _import_alone(db, JCLOUDS, svc)
    notes = report["notes"]
    assert isinstance(notes, list)
    assert any("is in virtual network 'jclouds', which no imported file describes" in n for n in notes)
    # R06 (spec): a deployment in a VNet migrates with its VNet, which no file describes; no location error left
    assert _errors(db, svc, svc) == (3, [
        f"Deployment {svc} in HostedService {svc}  belongs to Virtual Network jclouds. Migrate Virtual Network "
        f"jclouds to migrate this HostedService {svc}."])
    planned = ok(db, "plan")["notes"]
    assert isinstance(planned, list)
    assert (f"hosted service '{svc}' is in West US by an assumption of the import (no file gave the location; "
            "marked location_inferred); to set the real one, import the files again with 'classic2arm import "
            "FILE... --location LOCATION'") in planned
