"""A storage account holding VMs' disks, through the APIs (issue 12 item 5): Prepare Storage Migration fails
while a classic VM (prepared or not) has a disk in it; Delete Storage Account answers an `<Error>` while any VM's
VHDs are there (ASM's own text for classic disks, ours for VMs already in ARM); after the storage commit the ARM
API lists the account's containers (ListContainerItems)."""

from __future__ import annotations

import time

import pytest
import requests
from live import SUB, LiveServer
from lxml import etree

from classic2arm.domain import arm as armt
from classic2arm.domain import catalogue as msg
from classic2arm.domain import identity as ids
from classic2arm.domain import media
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.service import migration
from classic2arm.service.context import AppContext

NS = "http://schemas.microsoft.com/windowsazure"


@pytest.fixture(scope="module")
def http(live: LiveServer) -> requests.Session:
    return live.session(live.token)


def storage_op(http: requests.Session, live: LiveServer, account: str, comp: str) -> tuple[str, str | None]:
    """POST …/storageservices/{account}/migration?comp=…, then Get Operation Status until it ends."""
    resp = http.post(f"{live.base_url}/{SUB}/services/storageservices/{account}/migration?comp={comp}")
    assert resp.status_code == 202, resp.text
    op = resp.headers["x-ms-request-id"]
    deadline = time.monotonic() + 60  # (a hang guard)
    while True:
        body = etree.fromstring(http.get(f"{live.base_url}/{SUB}/operations/{op}").content)
        status = body.findtext(f"{{{NS}}}Status")
        if status != "InProgress":
            return str(status), body.findtext(f".//{{{NS}}}Error/{{{NS}}}Message")
        assert time.monotonic() < deadline
        time.sleep(0.05)


def error_of(resp: requests.Response) -> tuple[int, str | None, str | None]:
    root = etree.fromstring(resp.content)
    assert root.tag == f"{{{NS}}}Error", resp.text[:300]
    return resp.status_code, root.findtext(f"{{{NS}}}Code"), root.findtext(f"{{{NS}}}Message")


def test_storage_account_holding_vm_disks(http: requests.Session, live: LiveServer) -> None:
    ctx = AppContext(live.ctx.store, SUB)  # (the store holds a second subscription)
    with ctx.store.read() as tx:
        vms = tx.resources.query(SUB, types=[ids.T_VM])
        deps = {d.key: d for d in tx.resources.query(SUB, types=[ids.T_DEPLOYMENT])}
    account = media.account_of(vms[0].doc["os_disk"]["media_link"])
    units: list[UnitRef] = []
    for vm in vms:
        links = [d["media_link"] for d in [vm.doc["os_disk"], *vm.doc["data_disks"]] if d]
        if not any(media.blob_in(link, account) for link in links):
            continue
        dep = deps[vm.parent_key or ""]
        vnet = dep.doc.get("virtual_network_name")
        ref = (UnitRef(UnitKind.VNET, vnet) if vnet
               else UnitRef(UnitKind.DEPLOYMENT, dep.name, dep.doc["service_name"], Destination("New")))
        if ref not in units:
            units.append(ref)
    assert units
    with ctx.store.tx() as tx:  # leftovers (unattached disks, images) out of the way: only VMs hold the account
        leftovers = [r.key for r in tx.resources.query(SUB, types=[ids.T_DISK, ids.T_OS_IMAGE, ids.T_VM_IMAGE])
                     if not r.doc.get("role_name") and any(
                         media.blob_in(link, account) for link in [r.doc.get("media_link") or "",
                                                                   *r.doc.get("media_links", [])])]
        tx.resources.delete(leftovers)
    url = f"{live.base_url}/{SUB}/services/storageservices/{account}"
    in_use = msg.R42_ACCOUNT_IN_USE.text(name=account)
    artifacts = (400, "BadRequest", msg.STORAGE_ACTIVE_ARTIFACTS.text(name=account, count=1))

    validated = http.post(f"{url}/migration?comp=validate")  # (validate doesn't check the account's disks)
    assert validated.status_code == 200 and b"<Category>Error" not in validated.content, validated.text
    assert storage_op(http, live, account, "prepare") == ("Failed", in_use)
    assert error_of(http.delete(url)) == artifacts
    for unit in units:  # prepared VMs are still classic VMs with their disks in the account
        assert migration.execute(ctx, Op.PREPARE, unit).status == "Succeeded"
    assert storage_op(http, live, account, "prepare") == ("Failed", in_use)
    assert error_of(http.delete(url)) == artifacts
    for unit in units:
        assert migration.execute(ctx, Op.COMMIT, unit).status == "Succeeded"
    status, code, text = error_of(http.delete(url))  # committed: ARM VMs, still on the account's VHDs
    assert (status, code) == (409, "ConflictError")
    assert text is not None and text.startswith(f"Storage account {account} holds the VHDs of ")
    assert http.get(url).status_code == 200  # nothing was deleted

    assert storage_op(http, live, account, "prepare") == ("Succeeded", None)
    assert storage_op(http, live, account, "commit") == ("Succeeded", None)
    assert http.get(url).status_code == 404  # the classic account is gone; its data is the ARM one's
    with ctx.store.read() as tx:
        arm_id = next(r.id for r in tx.resources.query(SUB, model="arm", types=[armt.STORAGE_ACCOUNT], name=account))
    account_json = http.get(f"{live.base_url}{arm_id}?api-version=2016-01-01").json()
    assert "_blobs" not in account_json and account_json["type"] == armt.STORAGE_ACCOUNT  # (kept, not served)
    resp = http.get(f"{live.base_url}{arm_id}/blobServices/default/containers?api-version=2016-01-01")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"value": [{
        "id": f"{arm_id}/blobServices/default/containers/vhds", "name": "vhds",
        "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
        "properties": {"publicAccess": "None", "leaseStatus": "Unlocked", "leaseState": "Available",
                       "lastModifiedTime": account_json["properties"]["creationTime"],
                       "hasImmutabilityPolicy": False, "hasLegalHold": False}}]}
    missing = http.get(f"{live.base_url}{arm_id}x/blobServices/default/containers?api-version=2016-01-01")
    assert missing.status_code == 404
    other = http.get(f"{live.base_url}{arm_id}/blobServices/other/containers?api-version=2016-01-01")
    assert other.status_code == 404
