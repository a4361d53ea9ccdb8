"""`classic2arm fix` and its verbs as a user runs them (a real `classic2arm` process per call): the listing,
a dry run that writes nothing, `fix --all` leaving no fixable blocker, and `disk delete|update`, `image delete`,
`vm extension remove`, `vm endpoint acl clear`, `vm boot-diagnostics disable`, `vm restart` on the sample
estate, with their refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_cli import SAMPLE, ok_json, run

from classic2arm.domain import catalogue as msg
from classic2arm.domain import fixes


def _fixes(survey: Any) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in survey["fixes"]}


def test_fix_list_dry_run_and_all(tmp_path: Path) -> None:
    db = tmp_path / "fix.db"
    assert run(db, "clock", "set", "2023-06-01").returncode == 0
    ok_json(db, "generate", "--vms", "120", "--seed", "2", "--blockers", "1")
    survey = ok_json(db, "fix", "--list")
    listed = _fixes(survey)
    assert set(listed) == set(fixes.BY_NAME)
    for name in ("xml-extensions", "vmsnapshot-extension", "endpoint-acls", "premium-boot-diagnostics", "disk-size",
                 "restart-unknown-vms", "unattached-disks-images"):
        assert listed[name]["units"] > 0 and listed[name]["changes"] > 0, listed[name]
    assert survey["manual"] and all(m["advice"] and m["examples"] for m in survey["manual"])  # type: ignore[index]
    table = run(db, "fix", "--list")
    assert table.returncode == 0 and "xml-extensions" in table.stdout and "advice" in table.stdout

    before = ok_json(db, "export", "--format", "json")
    dry = ok_json(db, "fix", "--all", "--dry-run")
    assert isinstance(dry, dict) and dry["dryRun"] and dry["counts"] == {"planned": len(dry["changes"])}
    assert dry["nsgRulesToRecreate"] and all(v["securityRules"] for v in dry["nsgRulesToRecreate"])
    assert ok_json(db, "export", "--format", "json") == before  # nothing written

    one = next(ch for ch in dry["changes"] if ch["fix"] == "premium-boot-diagnostics")
    scoped = ok_json(db, "fix", "premium-boot-diagnostics", "--unit", one["unit"], "--dry-run")
    assert isinstance(scoped, dict) and {ch["unit"] for ch in scoped["changes"]} == {one["unit"]}

    done = ok_json(db, "fix", "--all")
    assert isinstance(done, dict) and done["counts"] == {"applied": len(dry["changes"])}
    assert all(ch["operationId"] for ch in done["changes"])
    after = _fixes(ok_json(db, "fix", "--list"))
    assert all(f["messages"] == 0 and f["changes"] == 0 for f in after.values()), after
    again = ok_json(db, "fix", "--all")
    assert isinstance(again, dict) and again["changes"] == []


def test_fix_usage_errors(tmp_path: Path) -> None:
    db = tmp_path / "usage.db"
    ok_json(db, "import", str(SAMPLE))
    assert run(db, "fix").returncode == 2  # neither NAME nor --all
    assert run(db, "fix", "xml-extensions", "--all").returncode == 2
    assert run(db, "fix", "--list", "--all").returncode == 2
    res = run(db, "fix", "nope")
    assert res.returncode == 1 and "unknown fix 'nope'" in res.stderr and "Traceback" not in res.stderr
    res = run(db, "fix", "--all", "--unit", "vnet:no-such-vnet")
    assert res.returncode == 1 and "does not exist" in res.stderr
    assert run(db, "fix", "--all", "--unit", "planet:x").returncode == 2


def _show(db: Path, path: str) -> dict[str, Any]:
    shown = ok_json(db, "show", path)
    assert isinstance(shown, dict)
    return shown


SHOP = "/services/hostedservices/shop/deployments/shop/roles/"
VM = ("--service", "shop", "--deployment", "shop")


def test_disk_image_and_vm_verbs(tmp_path: Path) -> None:
    db = tmp_path / "verbs.db"
    assert run(db, "clock", "set", "2023-06-01").returncode == 0
    ok_json(db, "import", str(SAMPLE))

    deleted = ok_json(db, "disk", "delete", "orphan-disk")
    assert isinstance(deleted, dict) and deleted["operationId"]
    assert "vhds/orphan.vhd" in _show(db, "contosovhds")["properties"]["blobs"]  # the VHD stays
    assert run(db, "disk", "delete", "orphan-disk").returncode == 1

    assert run(db, "disk", "update", "orphan-disk", "--label", "x").returncode == 1  # gone

    assert run(db, "image", "delete", "no-such-image").returncode == 1
    assert run(db, "image", "delete", "no-such-image", "--vm-image").returncode == 1

    removed = ok_json(db, "vm", "extension", "remove", "web1", *VM, "--extension", "BGInfo")
    assert isinstance(removed, dict) and removed["operationId"]
    assert _show(db, SHOP + "web1")["properties"]["extensions"] == []
    res = run(db, "vm", "extension", "remove", "web1", *VM, "--extension", "BGInfo")
    assert res.returncode == 1 and "has no extension named 'BGInfo'" in res.stderr

    cleared = ok_json(db, "vm", "endpoint", "acl", "clear", "web1", *VM)
    assert cleared == {"operationId": None, "endpoints": [], "nsgRules": []}  # the sample has no ACLs
    res = run(db, "vm", "endpoint", "acl", "clear", "web1", *VM, "--endpoint", "nope")
    assert res.returncode == 1 and "has no input endpoint named 'nope'" in res.stderr

    off = ok_json(db, "vm", "boot-diagnostics", "disable", "web1", *VM)
    assert off == {"operationId": None}  # it was not on
    restarted = ok_json(db, "vm", "restart", "web1", *VM)
    assert isinstance(restarted, dict) and restarted["instanceStatus"] == "ReadyRole"
    assert run(db, "vm", "restart", "ghost", *VM).returncode == 1


def test_acl_and_boot_diagnostics_verbs(tmp_path: Path) -> None:
    db = tmp_path / "acl.db"
    assert run(db, "clock", "set", "2023-06-01").returncode == 0
    ok_json(db, "generate", "--vms", "120", "--seed", "2", "--blockers", "1")
    dry = ok_json(db, "fix", "--all", "--dry-run")
    assert isinstance(dry, dict)
    acl = next(ch for ch in dry["changes"] if ch["fix"] == "endpoint-acls")
    where = ("--service", acl["service"], "--deployment", acl["deployment"])
    cleared = ok_json(db, "vm", "endpoint", "acl", "clear", acl["resource"], *where)
    assert isinstance(cleared, dict) and cleared["operationId"] and cleared["endpoints"] == acl["items"]
    assert cleared["nsgRules"] == acl["nsgRules"]  # what the fix report says to re-create
    diag = next(ch for ch in dry["changes"] if ch["fix"] == "premium-boot-diagnostics")
    off = ok_json(db, "vm", "boot-diagnostics", "disable", diag["resource"], "--service", diag["service"],
                  "--deployment", diag["deployment"])
    assert isinstance(off, dict) and off["operationId"]

    grow = next(ch for ch in dry["changes"] if ch["fix"] == "disk-size")  # an attached data disk
    disk = _show(db, grow["resource"])["properties"]
    res = run(db, "disk", "delete", grow["resource"])
    assert res.returncode == 1 and msg.ASM_DISK_IN_USE.text(
        disk=disk["name"], vm=disk["role_name"], hs=disk["hosted_service_name"], dep=disk["deployment_name"]) \
        in res.stderr.replace("\n", " ")
    res = run(db, "disk", "update", grow["resource"], "--resized-size-gb", str(disk["logical_size_gb"]))
    assert res.returncode == 1 and "must be larger" in res.stderr
    assert run(db, "disk", "update", grow["resource"]).returncode == 2
    ok_json(db, "disk", "update", grow["resource"], "--resized-size-gb", str(grow["sizeGb"]), "--label", "grown")
    role = _show(db, f"/services/hostedservices/{disk['hosted_service_name']}/deployments/"
                     f"{disk['deployment_name']}/roles/{disk['role_name']}")["properties"]
    assert {d["disk_name"]: d["logical_size_gb"] for d in role["data_disks"]}[disk["name"]] == grow["sizeGb"]

    left = {(ch["fix"], ch["resource"]) for ch in ok_json(db, "fix", "--all", "--dry-run")["changes"]}  # type: ignore[index]
    assert not left & {("endpoint-acls", acl["resource"]), ("premium-boot-diagnostics", diag["resource"]),
                       ("disk-size", grow["resource"])}
