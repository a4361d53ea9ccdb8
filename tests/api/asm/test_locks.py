"""While a unit is prepared, the classic write endpoints refuse with the documented lock texts (R50/R51);
after abort they work again."""

from __future__ import annotations

import time

import pytest
import requests
from live import SUB, LiveServer
from lxml import etree

from classic2arm.domain import catalogue as msg
from classic2arm.domain import classic as c
from classic2arm.domain import identity as ids

NS = "http://schemas.microsoft.com/windowsazure"
XML = {"Content-Type": "application/xml"}


@pytest.fixture(scope="module")
def http(live: LiveServer) -> requests.Session:
    return live.session(live.token)  # HTTPS, trusting only the test CA; bearer token and x-ms-version


def migrate(http: requests.Session, live: LiveServer, path: str, comp: str) -> None:
    resp = http.post(f"{live.base_url}/{SUB}{path}/migration?comp={comp}")
    assert resp.status_code == 202, resp.text
    op = resp.headers["x-ms-request-id"]
    deadline = time.monotonic() + 30
    while True:
        body = etree.fromstring(http.get(f"{live.base_url}/{SUB}/operations/{op}").content)
        status = body.findtext(f"{{{NS}}}Status")
        if status != "InProgress":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status == "Succeeded", etree.tostring(body)


def refused(resp: requests.Response, text: str) -> None:
    assert resp.status_code == 409, (resp.status_code, resp.text)
    root = etree.fromstring(resp.content)
    assert root.findtext(f"{{{NS}}}Message") == text


def test_writes_refused_while_prepared(http: requests.Session, live: LiveServer) -> None:
    with live.ctx.store.read() as tx:
        dep_row = next(d for d in tx.resources.query(SUB, types=[ids.T_DEPLOYMENT])
                       if d.doc.get("virtual_network_name"))
        vm_row = tx.resources.query(SUB, types=[ids.T_VM], parent_key=dep_row.key)[0]
        spare = next(r.name for r in tx.resources.query(SUB, types=[ids.T_RESERVED_IP])
                     if not r.doc.get("service_name"))
    dep = c.Deployment.model_validate(dep_row.doc)
    vnet, svc, vm = dep.virtual_network_name or "", dep.service_name, vm_row.name
    base = f"{live.base_url}/{SUB}/services/hostedservices/{svc}/deployments/{dep.name}"
    migrate(http, live, f"/services/networking/virtualnetwork/{vnet}", "prepare")
    migrate(http, live, "/services/storageservices/solostore", "prepare")
    migrate(http, live, f"/services/networking/reservedips/{spare}", "prepare")

    dep_text = msg.R50_DEPLOYMENT_LOCKED.text(dep=dep.name, hs=svc)
    vm_text = msg.R51_VM_LOCKED.text()
    role_body = (f"<PersistentVMRole xmlns='{NS}'><RoleName>extra</RoleName><RoleType>PersistentVMRole</RoleType>"
                 f"<OSVirtualHardDisk><DiskName>extra-os</DiskName><MediaLink>https://solostore.blob.core.windows"
                 f".net/vhds/extra.vhd</MediaLink><OS>Linux</OS></OSVirtualHardDisk><RoleSize>Small</RoleSize>"
                 f"</PersistentVMRole>").encode()
    refused(http.post(f"{base}/roles", headers=XML, data=role_body), dep_text)
    refused(http.put(f"{base}/roles/{vm}", headers=XML,
                     data=f"<PersistentVMRole xmlns='{NS}'><RoleName>{vm}</RoleName><RoleSize>Large</RoleSize>"
                          f"</PersistentVMRole>"), vm_text)
    refused(http.post(f"{base}/roleinstances/{vm}/Operations", headers=XML,
                      data=f"<ShutdownRoleOperation xmlns='{NS}'><OperationType>ShutdownRoleOperation"
                           f"</OperationType><PostShutdownAction>StoppedDeallocated</PostShutdownAction>"
                           f"</ShutdownRoleOperation>"), vm_text)
    refused(http.post(f"{base}/roles/{vm}/DataDisks", headers=XML,
                      data=f"<DataVirtualHardDisk xmlns='{NS}'><Lun>9</Lun><LogicalDiskSizeInGB>5"
                           f"</LogicalDiskSizeInGB><MediaLink>https://solostore.blob.core.windows.net/vhds/d9.vhd"
                           f"</MediaLink></DataVirtualHardDisk>"), vm_text)
    refused(http.delete(f"{base}/roles/{vm}"), dep_text)
    refused(http.delete(base), dep_text)
    refused(http.delete(f"{live.base_url}/{SUB}/services/storageservices/solostore"),
            msg.R50_LOCKED.text(kind="Storage account", name="solostore"))
    refused(http.delete(f"{live.base_url}/{SUB}/services/networking/reservedips/{spare}"),
            msg.R50_LOCKED.text(kind="Reserved IP", name=spare))
    # Set Network Configuration: changing (or dropping) the prepared VNet is refused; the others may change.
    netcfg = http.get(f"{live.base_url}/{SUB}/services/networking/media").content
    changed = netcfg.replace(b"</Subnets>", b"<Subnet name='added'><AddressPrefix>10.250.0.0/24</AddressPrefix>"
                                            b"</Subnet></Subnets>", 1)
    assert changed != netcfg
    first_vnet = etree.fromstring(netcfg).find(".//{*}VirtualNetworkSite").get("name")  # type: ignore[union-attr]
    resp = http.put(f"{live.base_url}/{SUB}/services/networking/media", headers={"Content-Type": "text/plain"},
                    data=changed)
    if first_vnet == vnet:
        refused(resp, msg.R50_LOCKED.text(kind="Virtual Network", name=vnet))
    else:
        assert resp.status_code == 202, resp.text
    with live.ctx.store.read() as tx:
        assert tx.resources.get(ids.role_id(SUB, svc, dep.name, vm)) is not None

    migrate(http, live, f"/services/networking/virtualnetwork/{vnet}", "abort")
    resp = http.post(f"{base}/roleinstances/{vm}/Operations", headers=XML,
                     data=f"<ShutdownRoleOperation xmlns='{NS}'><OperationType>ShutdownRoleOperation</OperationType>"
                          f"<PostShutdownAction>Stopped</PostShutdownAction></ShutdownRoleOperation>")
    assert resp.status_code == 202, resp.text
