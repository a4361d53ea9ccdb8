"""`classic2arm storage prepare|delete|containers` on an account holding VMs' disks, as a user runs them (real
processes, a real SQLite file): prepare and delete refused while the VMs' VHDs are there, the VHDs still listed
after the storage commit (issue 12 item 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from classic2arm.domain import catalogue as msg
from classic2arm.domain import identity as ids
from classic2arm.domain import media
from classic2arm.service.context import AppContext

SUB = "00000000-0000-0000-0000-000000000001"


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{db}", *args],
                          capture_output=True, text=True, timeout=180, env=dict(os.environ))


def ok(db: Path, *args: str) -> str:
    res = run(db, *args)
    assert res.returncode == 0, res.stderr
    return res.stdout


def refused(db: Path, text: str, *args: str) -> None:
    res = run(db, *args)
    assert res.returncode == 1, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()  # (one line, after the progress bar's)
    assert text in res.stderr and len(lines) == 1 and "Traceback" not in res.stderr, res.stderr


def _holders(db: Path) -> tuple[str, list[list[str]]]:
    """The account holding the first VM's disks and the unit verbs that migrate its VMs; leftovers (unattached
    disks, images) in it are removed, so that only the VMs hold it."""
    ctx = AppContext.open(f"sqlite:///{db}")
    try:
        with ctx.store.tx() as tx:
            vms = tx.resources.query(SUB, types=[ids.T_VM])
            deps = {d.key: d for d in tx.resources.query(SUB, types=[ids.T_DEPLOYMENT])}
            account = media.account_of(vms[0].doc["os_disk"]["media_link"])
            units: list[list[str]] = []
            for vm in vms:
                links = [d["media_link"] for d in [vm.doc["os_disk"], *vm.doc["data_disks"]] if d]
                if not any(media.blob_in(link, account) for link in links):
                    continue
                dep = deps[vm.parent_key or ""]
                vnet = dep.doc.get("virtual_network_name")
                unit = ["vnet", vnet] if vnet else ["deployment", "--service", dep.doc["service_name"],
                                                    "--deployment", dep.name]
                if unit not in units:
                    units.append(unit)
            tx.resources.delete([r.key for r in tx.resources.query(SUB, types=[ids.T_DISK, ids.T_OS_IMAGE,
                                                                              ids.T_VM_IMAGE])
                                 if not r.doc.get("role_name") and any(
                                     media.blob_in(link, account)
                                     for link in [r.doc.get("media_link") or "", *r.doc.get("media_links", [])])])
    finally:
        ctx.close()
    return account, units


def test_storage_account_holding_vm_disks(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ok(db, "clock", "set", "2023-06-01")
    ok(db, "generate", "--vms", "20", "--vnets", "1", "--seed", "1", "--blockers", "0")
    account, units = _holders(db)
    assert units
    before = json.loads(ok(db, "storage", "containers", account, "--json"))
    assert before["model"] == "classic" and before["containers"][0]["name"] == "vhds"
    assert before["containers"][0]["blobs"]
    in_use = msg.R42_ACCOUNT_IN_USE.text(name=account)
    artifacts = msg.STORAGE_ACTIVE_ARTIFACTS.text(name=account, count=1)

    refused(db, in_use, "storage", "prepare", account)
    refused(db, artifacts, "storage", "delete", account)
    for unit in units:
        ok(db, unit[0], "prepare", *unit[1:], *(["--new-vnet"] if unit[0] == "deployment" else []))
    refused(db, in_use, "storage", "prepare", account)  # prepared VMs are still classic
    refused(db, artifacts, "storage", "delete", account)
    for unit in units:
        ok(db, unit[0], "commit", *unit[1:])
    refused(db, f"Storage account {account} holds the VHDs of ", "storage", "delete", account)
    ok(db, "storage", "prepare", account)
    ok(db, "storage", "commit", account)
    after = json.loads(ok(db, "storage", "containers", account, "--json"))
    assert after["model"] == "arm" and after["id"].endswith(f"/Microsoft.Storage/storageAccounts/{account}")
    assert after["containers"] == before["containers"]  # every VHD, same size, lease and URL
    table = ok(db, "storage", "containers", account)
    assert all(b["name"] in table for b in after["containers"][0]["blobs"])
    refused(db, msg.R02_STORAGE_NOT_FOUND.text(name=account), "storage", "delete", account)
    refused(db, msg.R02_STORAGE_NOT_FOUND.text(name="nosuchaccount"), "storage", "containers", "nosuchaccount")


def test_delete_an_unused_account(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    ok(db, "clock", "set", "2023-06-01")
    ok(db, "generate", "--vms", "4", "--vnets", "1", "--seed", "2", "--blockers", "0")
    ctx = AppContext.open(f"sqlite:///{db}")
    try:
        from classic2arm.domain import classic as c
        from classic2arm.service import classic_writes

        classic_writes.create_storage_account(ctx, c.StorageAccount(name="emptystore", location="West US"))
    finally:
        ctx.close()
    assert json.loads(ok(db, "storage", "delete", "emptystore", "--json"))["deleted"] == "emptystore"
    refused(db, msg.R02_STORAGE_NOT_FOUND.text(name="emptystore"), "storage", "containers", "emptystore")
