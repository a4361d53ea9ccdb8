"""What a classic client sees of VM addresses in Get Deployment (`RoleInstance/IpAddress`) after Shutdown Role /
Start Role (the SDK's `shutdown_role` / `start_role`), after a deployment abort (prepare deallocated its VMs) and
after a VNet abort: every running VM shows a valid address of its subnet or of the fabric range, held by no
other VM there, static IPs kept; and the XML says what the service holds."""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import pytest
import requests
from live import SUB, LiveServer, sdk_client
from lxml import etree

from classic2arm.domain import identity as ids

sm = pytest.importorskip("azure.servicemanagement")

NS = "http://schemas.microsoft.com/windowsazure"
FABRIC = ipaddress.ip_network("100.64.0.0/10")
DESTINATION = (f'<DeploymentNetworkResource xmlns="{NS}"><ResourceGroupName></ResourceGroupName>'
               "<VirtualNetworkName></VirtualNetworkName><SubNetName></SubNetName>"
               "<DestinationVirtualNetwork>New</DestinationVirtualNetwork></DeploymentNetworkResource>").encode()


@pytest.fixture(scope="module")
def http(live: LiveServer) -> requests.Session:
    return live.session(live.token)


@pytest.fixture(scope="module")
def sms(live: LiveServer) -> Any:
    return sdk_client(live)


def wait(sms: Any, result: Any) -> None:
    status = sms.get_operation_status(result.request_id)
    assert status.status == "Succeeded", (status.status, status.error.code, status.error.message)


def migrate(http: requests.Session, live: LiveServer, path: str, comp: str, body: bytes = b"") -> None:
    headers = {"Content-Type": "application/xml"} if body else {}
    resp = http.post(f"{live.base_url}/{SUB}{path}/migration?comp={comp}", data=body, headers=headers)
    assert resp.status_code == 202, resp.text
    op = resp.headers["x-ms-request-id"]
    deadline = time.monotonic() + 60
    while True:
        doc = etree.fromstring(http.get(f"{live.base_url}/{SUB}/operations/{op}").content)
        status = doc.findtext(f"{{{NS}}}Status")
        if status != "InProgress":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status == "Succeeded", etree.tostring(doc)


def instances(http: requests.Session, live: LiveServer, svc: str, dep: str) -> dict[str, tuple[str, str | None]]:
    """Role name -> (InstanceStatus, IpAddress) from Get Deployment's XML body."""
    resp = http.get(f"{live.base_url}/{SUB}/services/hostedservices/{svc}/deployments/{dep}")
    assert resp.status_code == 200, resp.text
    root = etree.fromstring(resp.content)
    return {str(i.findtext(f"{{{NS}}}RoleName")): (str(i.findtext(f"{{{NS}}}InstanceStatus")),
                                                   i.findtext(f"{{{NS}}}IpAddress"))
            for i in root.iter(f"{{{NS}}}RoleInstance")}


def deployments(live: LiveServer, vnet: bool) -> list[tuple[str, str, str]]:
    """(service, deployment, VNet name) of the deployments with VMs, in or outside a VNet."""
    with live.ctx.store.read() as tx:
        deps = [d for d in tx.resources.query(SUB, types=[ids.T_DEPLOYMENT])
                if bool(d.doc.get("virtual_network_name")) == vnet and tx.resources.query(SUB, types=[ids.T_VM],
                                                                               parent_key=d.key)]
    return [(d.doc["service_name"], d.name, d.doc.get("virtual_network_name") or "") for d in deps]


def check(http: requests.Session, live: LiveServer, vnet: bool) -> int:
    """The XML of every deployment (in or outside a VNet) shows what the service holds, and every running VM a
    valid address no other VM of its VNet or deployment holds; returns how many running VMs were checked."""
    with live.ctx.store.read() as tx:
        prefixes = {(r.name.lower(), s["name"].lower()): s["address_prefix"]
                    for r in tx.resources.query(SUB, types=[ids.T_VNET]) for s in r.doc["subnets"]}
        stored = {(r.doc["service_name"], r.doc["deployment_name"], r.name): r.doc
                  for r in tx.resources.query(SUB, types=[ids.T_VM])}
    held: dict[tuple[str, str], str] = {}
    running = 0
    for svc, dep, vnet_name in deployments(live, vnet):
        for name, (status, address) in instances(http, live, svc, dep).items():
            doc = stored.get((svc, dep, name))
            if doc is None:
                continue  # a PaaS role instance
            assert (status, address) == (doc["instance_status"], doc["ip_address"]), (svc, dep, name)
            if status == "StoppedDeallocated":
                assert address is None
                continue
            running += 1
            assert address, (svc, dep, name, status)
            ip = ipaddress.ip_address(address)
            if vnet_name:
                net = ipaddress.ip_network(prefixes[(vnet_name.lower(), doc["subnet_names"][0].lower())])
                assert ip in net and int(ip) - int(net.network_address) >= 4 and ip != net.broadcast_address
                if doc.get("static_ip"):
                    assert address == doc["static_ip"]
            else:
                assert ip in FABRIC
            scope = vnet_name.lower() or f"{svc}/{dep}"
            assert held.setdefault((scope, address), name) == name, f"{address} shown twice in {scope}"
    return running


def test_shutdown_and_start_role(sms: Any, http: requests.Session, live: LiveServer) -> None:
    for vnet in (True, False):
        svc, dep, _ = deployments(live, vnet)[0]
        name, (_status, address) = next((n, s) for n, s in instances(http, live, svc, dep).items()
                                       if s[0] == "ReadyRole")
        wait(sms, sms.shutdown_role(svc, dep, name, post_shutdown_action="Stopped"))
        assert instances(http, live, svc, dep)[name] == ("StoppedVM", address)  # kept while provisioned
        wait(sms, sms.shutdown_role(svc, dep, name, post_shutdown_action="StoppedDeallocated"))
        assert instances(http, live, svc, dep)[name] == ("StoppedDeallocated", None)
        wait(sms, sms.start_role(svc, dep, name))
        role = {i.role_name: i for i in sms.get_deployment_by_name(svc, dep).role_instance_list}[name]
        assert role.instance_status == "ReadyRole" and role.ip_address
        assert check(http, live, vnet) > 0


def test_deployment_abort(http: requests.Session, live: LiveServer) -> None:
    svc, dep, _ = max(deployments(live, False), key=lambda d: len(instances(http, live, d[0], d[1])))
    before = instances(http, live, svc, dep)
    path = f"/services/hostedservices/{svc}/deployments/{dep}"
    migrate(http, live, path, "prepare", DESTINATION)
    assert {s for s, _ in instances(http, live, svc, dep).values()} == {"StoppedDeallocated"}
    migrate(http, live, path, "abort")
    after = instances(http, live, svc, dep)
    assert {n: s for n, (s, _) in after.items()} == {n: s for n, (s, _) in before.items()}
    assert any(s != "StoppedDeallocated" for s, _ in after.values())
    assert check(http, live, False) > 0


def test_vnet_abort(http: requests.Session, live: LiveServer) -> None:
    svc, dep, vnet = deployments(live, True)[0]
    with live.ctx.store.read() as tx:
        statics = {r.name: r.doc["static_ip"] for r in tx.resources.query(SUB, types=[ids.T_VM])
                   if r.doc.get("static_ip") and r.doc["deployment_name"] == dep}
    migrate(http, live, f"/services/networking/virtualnetwork/{vnet}", "prepare")
    migrate(http, live, f"/services/networking/virtualnetwork/{vnet}", "abort")
    after = instances(http, live, svc, dep)
    assert all(after[n][1] == ip for n, ip in statics.items() if after[n][0] != "StoppedDeallocated")
    assert check(http, live, True) > 0
