"""The classic writes `classic2arm fix` is made of, on the ASM wire: Delete Disk, Update Disk, Delete OS Image,
Delete VM Image (each with and without comp=media), Update Role's extensions, endpoint ACLs and DebugSettings,
Restart Role — status codes with x-ms-request-id, `<Error>` bodies for unknown resources, bad bodies, disks in use
and migration locks (R50/R51)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from live import SUB, LiveServer
from lxml import etree

from classic2arm.domain import catalogue as msg
from classic2arm.domain import classic as c
from classic2arm.domain import identity as ids
from classic2arm.domain import media
from classic2arm.domain.estate import Estate
from classic2arm.service import estate
from classic2arm.service.context import AppContext

NS = "http://schemas.microsoft.com/windowsazure"
XML = {"Content-Type": "application/xml"}


@pytest.fixture(scope="module")
def http(live: LiveServer) -> requests.Session:
    return live.session(live.token)


def url(live: LiveServer, path: str) -> str:
    return f"{live.base_url}/{SUB}{path}"


def error(resp: requests.Response, status: int, code: str | None = None) -> str:
    """The `<Error>` body's message, after checking the status (and code)."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    root = etree.fromstring(resp.content)
    assert etree.QName(root).localname == "Error"
    if code is not None:
        assert root.findtext(f"{{{NS}}}Code") == code, resp.text
    return root.findtext(f"{{{NS}}}Message") or ""


def succeeded(http: requests.Session, live: LiveServer, resp: requests.Response, status: int) -> None:
    """An accepted write: the status, an empty body and a request id whose operation has Succeeded."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    op = resp.headers["x-ms-request-id"]
    deadline = time.monotonic() + 30
    while True:
        body = etree.fromstring(http.get(url(live, f"/operations/{op}")).content)
        state = body.findtext(f"{{{NS}}}Status")
        if state != "InProgress":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert state == "Succeeded", etree.tostring(body)


def rows(live: LiveServer, rtype: str) -> list[Any]:
    with live.ctx.store.read() as tx:
        return tx.resources.query(SUB, types=[rtype])


def blobs(live: LiveServer, account: str) -> dict[str, Any]:
    with live.ctx.store.read() as tx:
        row = tx.resources.get(ids.storage_id(SUB, account))
        assert row is not None
        return dict(row.doc["blobs"])


def held(live: LiveServer, link: str) -> bool:
    """A media link into a storage account the store holds (so its blob can be seen)."""
    with live.ctx.store.read() as tx:
        return tx.resources.get(ids.storage_id(SUB, media.account_of(link))) is not None


def test_delete_disk(http: requests.Session, live: LiveServer) -> None:
    free = [c.Disk.model_validate(r.doc) for r in rows(live, ids.T_DISK) if not r.doc.get("role_name")
            and held(live, r.doc["media_link"])]
    assert len(free) >= 2, "the generated estate has unattached disks"
    keep, drop = free[0], free[1]
    succeeded(http, live, http.delete(url(live, f"/services/disks/{keep.name}")), 200)
    assert "does not exist" in error(http.get(url(live, f"/services/disks/{keep.name}")), 404, "ResourceNotFound")
    assert media.parse(keep.media_link).path in blobs(live, media.account_of(keep.media_link))  # VHD kept
    succeeded(http, live, http.delete(url(live, f"/services/disks/{drop.name}?comp=media")), 200)
    assert media.parse(drop.media_link).path not in blobs(live, media.account_of(drop.media_link))  # VHD gone

    assert "does not exist" in error(http.delete(url(live, f"/services/disks/{keep.name}")), 404, "ResourceNotFound")
    attached = c.Disk.model_validate(next(r.doc for r in rows(live, ids.T_DISK) if r.doc.get("role_name")))
    text = error(http.delete(url(live, f"/services/disks/{attached.name}?comp=media")), 400, "BadRequest")
    assert text == msg.ASM_DISK_IN_USE.text(disk=attached.name, vm=attached.role_name,
                                            hs=attached.hosted_service_name, dep=attached.deployment_name)
    assert media.parse(attached.media_link).path in blobs(live, media.account_of(attached.media_link))


def _data_disk(live: LiveServer) -> tuple[c.Role, c.DataDisk]:
    for r in rows(live, ids.T_VM):
        role = c.Role.model_validate(r.doc)
        if role.data_disks and held(live, role.data_disks[0].media_link) and role.deployment_name:
            return role, role.data_disks[0]
    raise AssertionError("no VM with a data disk")


def test_update_disk(http: requests.Session, live: LiveServer) -> None:
    role, disk = _data_disk(live)
    path = url(live, f"/services/disks/{disk.disk_name}")
    new = disk.logical_size_gb + 5
    body = f"<Disk xmlns='{NS}'><Label>grown</Label><Name>{disk.disk_name}</Name><ResizedSizeInGB>{new}" \
           f"</ResizedSizeInGB></Disk>"
    # a resize is asynchronous, as the .NET SDK's BeginUpdatingDisk (Update-AzureDisk -ResizedSizeInGB) expects:
    # 202, an empty body, a request id to poll
    resized = http.put(path, headers=XML, data=body)
    assert resized.content == b""
    succeeded(http, live, resized, 202)
    got = etree.fromstring(http.get(path).content)
    assert (got.findtext(f"{{{NS}}}Label"), got.findtext(f"{{{NS}}}LogicalDiskSizeInGB")) == ("grown", str(new))
    # a label alone: 200 and the disk as it now is, the <Disk> the SDK's UpdateDisk reads (Get Disk's shape)
    relabelled = http.put(path, headers=XML, data=f"<Disk xmlns='{NS}'><Label>again</Label></Disk>")
    succeeded(http, live, relabelled, 200)
    assert relabelled.headers["content-type"].startswith("application/xml")
    answer = etree.fromstring(relabelled.content)
    assert answer.tag == f"{{{NS}}}Disk"
    assert {e: answer.findtext(f"{{{NS}}}{e}") for e in ("Name", "Label", "LogicalDiskSizeInGB", "MediaLink")} == \
        {"Name": disk.disk_name, "Label": "again", "LogicalDiskSizeInGB": str(new), "MediaLink": disk.media_link}
    shown = etree.fromstring(http.get(path).content)
    assert [(e.tag, e.text) for e in answer.iter()] == [(e.tag, e.text) for e in shown.iter()]
    role_xml = etree.fromstring(http.get(url(live, f"/services/hostedservices/{role.service_name}/deployments/"
                                                   f"{role.deployment_name}/roles/{role.name}")).content)
    sizes = {d.findtext(f"{{{NS}}}DiskName"): d.findtext(f"{{{NS}}}LogicalDiskSizeInGB")
             for d in role_xml.iter(f"{{{NS}}}DataVirtualHardDisk")}
    assert sizes[disk.disk_name] == str(new)  # the VM's view of its disk grew with it
    assert blobs(live, media.account_of(disk.media_link))[media.parse(disk.media_link).path]["size_bytes"] == \
        media.vhd_blob_size(new)  # and so did the page blob

    shrink = f"<Disk xmlns='{NS}'><ResizedSizeInGB>{new - 1}</ResizedSizeInGB></Disk>"
    assert error(http.put(path, headers=XML, data=shrink), 400, "BadRequest") == msg.ASM_DISK_SHRINK.text(
        disk=disk.disk_name, size=new, resized=new - 1, limit=4095)
    assert "cannot be renamed" in error(http.put(path, headers=XML, data=f"<Disk xmlns='{NS}'><Name>other</Name>"
                                                                          f"<Label>x</Label></Disk>"), 400)
    assert "nothing to update" in error(http.put(path, headers=XML, data=f"<Disk xmlns='{NS}'/>"), 400)
    assert "not an integer" in error(http.put(path, headers=XML, data=f"<Disk xmlns='{NS}'><ResizedSizeInGB>big"
                                                                      f"</ResizedSizeInGB></Disk>"), 400)
    assert "<Disk>" in error(http.put(path, headers=XML, data=f"<Role xmlns='{NS}'/>"), 400)
    error(http.put(path, headers=XML, data=b"<Disk"), 400)
    error(http.put(url(live, "/services/disks/no-such-disk"), headers=XML, data=f"<Disk xmlns='{NS}'><Label>x"
                                                                              f"</Label></Disk>"), 404,
          "ResourceNotFound")


def test_delete_images(http: requests.Session, live: LiveServer) -> None:
    succeeded(http, live, http.delete(url(live, "/services/images/golden-ubuntu")), 200)
    assert "does not exist" in error(http.get(url(live, "/services/images/golden-ubuntu")), 404)
    assert "does not exist" in error(http.delete(url(live, "/services/images/golden-ubuntu")), 404,
                                     "ResourceNotFound")
    link = media.link("solostore", "images", "base.vhd")  # an image whose VHD the store holds
    with live.ctx.store.read() as tx:
        row = tx.resources.get(ids.storage_id(SUB, "solostore"))
        assert row is not None
    sa = c.StorageAccount.model_validate(row.doc)
    sa.blobs[media.parse(link).path] = c.Blob(size_bytes=media.vhd_blob_size(30))
    estate.import_estate(AppContext(live.ctx.store, SUB), Estate(storage_accounts=[sa], os_images=[
        c.OSImage(name="base", location=sa.location, media_link=link)]), source="test")
    succeeded(http, live, http.delete(url(live, "/services/images/base?comp=media")), 200)
    assert media.parse(link).path not in blobs(live, "solostore")

    succeeded(http, live, http.delete(url(live, "/services/vmimages/web-tier?comp=media")), 202)
    assert "web-tier" not in {r.name for r in rows(live, ids.T_VM_IMAGE)}
    assert "does not exist" in error(http.delete(url(live, "/services/vmimages/web-tier")), 404, "ResourceNotFound")
    assert error(http.get(url(live, "/services/vmimages/web-tier")), 405)  # a delete-only path


def _role_path(role: c.Role) -> str:
    return f"/services/hostedservices/{role.service_name}/deployments/{role.deployment_name}/roles/{role.name}"


def _endpoints_xml(role: c.Role, acl: bool) -> str:
    eps = []
    for ep in role.input_endpoints:
        rules = ("<EndpointAcl><Rules><Rule><Order>100</Order><Action>permit</Action><RemoteSubnet>203.0.113.0/24"
                 "</RemoteSubnet><Description>office</Description></Rule></Rules></EndpointAcl>") if acl else ""
        eps.append(f"<InputEndpoint><LocalPort>{ep.local_port}</LocalPort><Name>{ep.name}</Name><Port>{ep.port}"
                   f"</Port><Protocol>{ep.protocol}</Protocol>{rules}</InputEndpoint>")
    subnets = "".join(f"<SubnetName>{s}</SubnetName>" for s in role.subnet_names)
    return (f"<ConfigurationSets><ConfigurationSet><ConfigurationSetType>NetworkConfiguration</ConfigurationSetType>"
            f"<InputEndpoints>{''.join(eps)}</InputEndpoints><SubnetNames>{subnets}</SubnetNames>"
            f"</ConfigurationSet></ConfigurationSets>")


def test_update_role_extensions_acls_debug_settings(http: requests.Session, live: LiveServer) -> None:
    role = next(c.Role.model_validate(r.doc) for r in rows(live, ids.T_VM)
                if r.doc["input_endpoints"] and r.doc["extensions"])
    path = url(live, _role_path(role))

    def put(inner: str) -> requests.Response:
        return http.put(path, headers=XML, data=f"<PersistentVMRole xmlns='{NS}'><RoleName>{role.name}</RoleName>"
                                                f"<RoleType>PersistentVMRole</RoleType>{inner}</PersistentVMRole>")

    def current() -> c.Role:
        with live.ctx.store.read() as tx:
            row = tx.resources.get(ids.role_id(SUB, role.service_name, role.deployment_name, role.name))
            assert row is not None
            return c.Role.model_validate(row.doc)

    succeeded(http, live, put(_endpoints_xml(role, acl=True)), 202)
    assert all(ep.acl for ep in current().input_endpoints)
    assert b"EndpointAcl" in http.get(path).content
    succeeded(http, live, put(_endpoints_xml(role, acl=False)), 202)
    assert not any(ep.acl for ep in current().input_endpoints) and b"EndpointAcl" not in http.get(path).content

    succeeded(http, live, put("<ResourceExtensionReferences/>"), 202)
    assert current().extensions == [] and current().input_endpoints  # only what the body names changes

    blob = "https://solostore.blob.core.windows.net/bootdiagnostics/serial.log"
    succeeded(http, live, put(f"<DebugSettings><BootDiagnosticsEnabled>true</BootDiagnosticsEnabled>"
                              f"<SerialOutputBlobUri>{blob}</SerialOutputBlobUri></DebugSettings>"), 202)
    diag = current().boot_diagnostics
    assert diag is not None and diag.enabled and b"BootDiagnosticsEnabled" in http.get(path).content
    succeeded(http, live, put("<DebugSettings><BootDiagnosticsEnabled>false</BootDiagnosticsEnabled>"
                              "</DebugSettings>"), 202)
    diag = current().boot_diagnostics
    assert diag is not None and not diag.enabled and b"BootDiagnosticsEnabled" not in http.get(path).content

    error(put("<DebugSettings><BootDiagnosticsEnabled>maybe</BootDiagnosticsEnabled></DebugSettings>"), 400)
    error(http.put(url(live, _role_path(role)[:-len(role.name)] + "no-such-vm"), headers=XML,
                   data=f"<PersistentVMRole xmlns='{NS}'><RoleName>no-such-vm</RoleName></PersistentVMRole>"), 404)


def test_restart_role(http: requests.Session, live: LiveServer) -> None:
    role = c.Role.model_validate(rows(live, ids.T_VM)[0].doc)
    with live.ctx.store.tx() as tx:  # the state restart is the remedy for (R14)
        row = tx.resources.get(ids.role_id(SUB, role.service_name, role.deployment_name, role.name))
        assert row is not None
        row.doc.update(instance_status="RoleStateUnknown", power_state="Unknown")
        tx.resources.update(row)
    ops = url(live, f"/services/hostedservices/{role.service_name}/deployments/{role.deployment_name}/roleinstances/"
                    f"{role.name}/Operations")
    succeeded(http, live, http.post(ops, headers=XML, data=f"<RestartRoleOperation xmlns='{NS}'><OperationType>"
                                                           f"RestartRoleOperation</OperationType>"
                                                           f"</RestartRoleOperation>"), 202)
    with live.ctx.store.read() as tx:
        row = tx.resources.get(ids.role_id(SUB, role.service_name, role.deployment_name, role.name))
        assert row is not None and (row.doc["instance_status"], row.doc["power_state"]) == ("ReadyRole", "Started")


def _migrate(http: requests.Session, live: LiveServer, path: str, comp: str) -> None:
    succeeded(http, live, http.post(url(live, f"{path}/migration?comp={comp}")), 202)


def test_refused_while_a_migration_holds_it(http: requests.Session, live: LiveServer) -> None:
    deps = [c.Deployment.model_validate(r.doc) for r in rows(live, ids.T_DEPLOYMENT)]
    dep = next(d for d in deps if d.virtual_network_name)
    with live.ctx.store.read() as tx:
        vm_rows = tx.resources.query(SUB, types=[ids.T_VM],
                                     parent_key=ids.deployment_id(SUB, dep.service_name, dep.name).lower())
    vm = next(c.Role.model_validate(r.doc) for r in vm_rows if r.doc["data_disks"] or r.doc["os_disk"])
    disk = vm.data_disks[0].disk_name if vm.data_disks else (vm.os_disk.disk_name if vm.os_disk else "")
    _migrate(http, live, f"/services/networking/virtualnetwork/{dep.virtual_network_name}", "prepare")
    try:
        locked_vm = msg.R51_VM_LOCKED.text()
        assert error(http.put(url(live, _role_path(vm)), headers=XML,
                              data=f"<PersistentVMRole xmlns='{NS}'><RoleName>{vm.name}</RoleName>"
                                   f"<ResourceExtensionReferences/></PersistentVMRole>"), 409,
                     "ConflictError") == locked_vm
        # an attached disk holds its VM's lock: the lock is what refuses, before "in use"
        assert error(http.delete(url(live, f"/services/disks/{disk}")), 409, "ConflictError") == locked_vm
        assert error(http.put(url(live, f"/services/disks/{disk}"), headers=XML,
                              data=f"<Disk xmlns='{NS}'><ResizedSizeInGB>1000</ResizedSizeInGB></Disk>"), 409,
                     "ConflictError") == locked_vm
        ops = url(live, f"/services/hostedservices/{vm.service_name}/deployments/{vm.deployment_name}/"
                        f"roleinstances/{vm.name}/Operations")
        assert error(http.post(ops, headers=XML, data=f"<RestartRoleOperation xmlns='{NS}'><OperationType>"
                                                      f"RestartRoleOperation</OperationType></RestartRoleOperation>"),
                     409) == locked_vm
    finally:
        _migrate(http, live, f"/services/networking/virtualnetwork/{dep.virtual_network_name}", "abort")
    succeeded(http, live, http.put(url(live, _role_path(vm)), headers=XML,
                                   data=f"<PersistentVMRole xmlns='{NS}'><RoleName>{vm.name}</RoleName>"
                                        f"<ResourceExtensionReferences/></PersistentVMRole>"), 202)


def test_through_the_python_sdk(live: LiveServer) -> None:
    """azure-servicemanagement-legacy's own methods: update_disk (label), delete_disk (with delete_vhd),
    delete_os_image, delete_vm_image, restart_role — unchanged, against these endpoints."""
    pytest.importorskip("azure.servicemanagement")
    from azure.common import AzureMissingResourceHttpError
    from live import sdk_client

    sms = sdk_client(live)
    disk = c.Disk(name="sdk-disk", media_link=media.link("solostore", "vhds", "sdk.vhd"), logical_size_gb=10,
                  location="West US")
    estate.import_estate(AppContext(live.ctx.store, SUB), Estate(disks=[disk]), source="test")
    assert sms.update_disk(disk.name, label="relabelled") is None
    assert sms.get_disk(disk.name).label == "relabelled"
    sms.delete_disk(disk.name, delete_vhd=True)
    assert disk.name not in {d.name for d in sms.list_disks()}

    estate.import_estate(AppContext(live.ctx.store, SUB), Estate(
        os_images=[c.OSImage(name="sdk-image", location="West US", media_link=media.link("solostore", "i", "x.vhd"))],
        vm_images=[c.VMImage(name="sdk-vm-image", location="West US")]), source="test")
    for result in (sms.delete_os_image("sdk-image"), sms.delete_vm_image("sdk-vm-image", delete_vhd=True)):
        assert result is not None and result.request_id
        assert sms.get_operation_status(result.request_id).status == "Succeeded"
    assert "sdk-image" not in {i.name for i in sms.list_os_images()}
    assert "sdk-vm-image" not in {i.name for i in sms.list_vm_images()}
    with pytest.raises(AzureMissingResourceHttpError):
        sms.delete_disk("no-such-disk")

    role = c.Role.model_validate(rows(live, ids.T_VM)[-1].doc)
    result = sms.restart_role(role.service_name, role.deployment_name, role.name)
    assert sms.get_operation_status(result.request_id).status == "Succeeded"
