"""Issue 11: repeated query parameters, role sizes, labels, `x-ms-version` dates and XML declarations naming a
non-text codec are refused as bad input with an ASM `<Error>`, and nothing is changed."""

from __future__ import annotations

import pytest
import requests
from live import SUB, LiveServer
from lxml import etree

from classic2arm.domain import identity as ids
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import migration
from classic2arm.service.context import AppContext

NS = "http://schemas.microsoft.com/windowsazure"
XML = {"Content-Type": "application/xml"}


@pytest.fixture(scope="module")
def http(live: LiveServer) -> requests.Session:
    return live.session(live.token)


def refused(resp: requests.Response, status: int = 400) -> str:
    assert resp.status_code == status, (resp.status_code, resp.text[:400])
    root = etree.fromstring(resp.content)
    assert root.tag == f"{{{NS}}}Error", resp.text[:300]
    return root.findtext(f"{{{NS}}}Message") or ""


def _vnets(live: LiveServer) -> list[str]:
    with live.ctx.store.read() as tx:
        return [r.name for r in tx.resources.query(SUB, types=[ids.T_VNET])]


def test_repeated_comp_is_refused_and_runs_nothing(http: requests.Session, live: LiveServer) -> None:
    first, second = _vnets(live)[:2]
    path = f"{live.base_url}/{SUB}/services/networking/virtualnetwork/{{}}/migration"
    before = live.dump()
    for query in ("comp=validate&comp=prepare", "comp=prepare&COMP=prepare", "comp=validate&Comp=abort"):
        message = refused(http.post(path.format(first) + "?" + query))
        assert "comp" in message.lower() and "more than once" in message, message
    assert live.dump() == before
    # A prepared unit: abort-then-commit must not commit (irreversibly) nor abort.
    scoped = AppContext(live.ctx.store, SUB)
    ref = UnitRef(UnitKind.VNET, second)
    assert migration.execute(scoped, Op.PREPARE, ref).status == "Succeeded"
    prepared = live.dump()
    refused(http.post(path.format(second) + "?comp=abort&comp=commit"))
    refused(http.get(f"{live.base_url}/{SUB}/services/hostedservices?a=1&A=2"))
    assert live.dump() == prepared
    assert migration.execute(scoped, Op.ABORT, ref).status == "Succeeded"


@pytest.mark.parametrize("codec", ["base64", "rot13", "zlib", "hex"])
def test_xml_declaration_naming_a_non_text_codec(http: requests.Session, live: LiveServer, codec: str) -> None:
    before = live.dump()
    body = (f'<?xml version="1.0" encoding="{codec}"?><CreateHostedService xmlns="{NS}"><ServiceName>codec-{codec}'
            f'</ServiceName><Label>bA==</Label><Location>West US</Location></CreateHostedService>').encode()
    message = refused(http.post(f"{live.base_url}/{SUB}/services/hostedservices", data=body, headers=XML))
    assert f"encoding '{codec}'" in message and "not a text encoding" in message
    assert live.dump() == before


def test_x_ms_version_must_be_a_known_version(live: LiveServer) -> None:
    from classic2arm.api.asm import versions

    url = f"{live.base_url}/{SUB}/services/hostedservices"
    bare = live.session(live.token, version=None)
    for version in ("2016-13-45", "2016-07-02", "2099-01-01", "2016-7-1", "0000-00-00", "2016-07-01x"):
        resp = bare.get(url, headers={"x-ms-version": version})
        assert resp.status_code == 400, (version, resp.status_code)
        root = etree.fromstring(resp.content)
        assert root.findtext(f"{{{NS}}}Code") == "MissingOrIncorrectVersionHeader"
        assert version in (root.findtext(f"{{{NS}}}Message") or "")
    for version in ("2009-10-01", "2014-10-01", "2015-04-01", "2016-03-01", "2016-06-01", "2016-07-01",
                    "2017-01-01"):
        assert versions.known(version)
        assert bare.get(url, headers={"x-ms-version": version}).status_code == 200, version


def _deployment(live: LiveServer) -> tuple[str, str, str, str]:
    """(service, deployment, VM, a subnet of its VNet) of an unlocked VM."""
    with live.ctx.store.read() as tx:
        row = next(r for r in tx.resources.query(SUB, types=[ids.T_VM]) if not r.migration_state and not r.lock_holder)
        dep = tx.resources.get(ids.deployment_id(SUB, row.doc["service_name"], row.doc["deployment_name"]))
        assert dep is not None
        vnet = tx.resources.get(ids.vnet_id(SUB, dep.doc["virtual_network_name"]))
        assert vnet is not None
    return row.doc["service_name"], row.doc["deployment_name"], row.name, vnet.doc["subnets"][0]["name"]


def _role_xml(root: str, name: str, size: str, subnet: str) -> str:
    return (f'<{root}><RoleName>{name}</RoleName><RoleType>PersistentVMRole</RoleType>'
            f'<ConfigurationSets><ConfigurationSet><ConfigurationSetType>NetworkConfiguration</ConfigurationSetType>'
            f'<SubnetNames><SubnetName>{subnet}</SubnetName></SubnetNames></ConfigurationSet></ConfigurationSets>'
            f'<OSVirtualHardDisk><MediaLink>https://x.blob.core.windows.net/vhds/{name}.vhd</MediaLink>'
            f'<SourceImageName>golden-ubuntu</SourceImageName></OSVirtualHardDisk>'
            f'<RoleSize>{size}</RoleSize></{root.split()[0]}>')


def test_unknown_role_size_is_refused(http: requests.Session, live: LiveServer) -> None:
    from classic2arm.domain import sizes

    svc, dep, vm, subnet = _deployment(live)
    base = f"{live.base_url}/{SUB}/services/hostedservices/{svc}/deployments/{dep}"
    before = live.dump()
    for size in ("NoSuchSize", "Standard_A1000", "Small\u200b"):
        body = _role_xml(f'PersistentVMRole xmlns="{NS}"', "sized1", size, subnet).encode()
        message = refused(http.post(f"{base}/roles", data=body, headers=XML))
        assert f"'{size}'" in message and "ExtraSmall" in message, message
        update = (f'<PersistentVMRole xmlns="{NS}"><RoleName>{vm}</RoleName><RoleSize>{size}</RoleSize>'
                  f'</PersistentVMRole>').encode()
        assert f"'{size}'" in refused(http.put(f"{base}/roles/{vm}", data=update, headers=XML))
        deployment = (f'<Deployment xmlns="{NS}"><Name>sized</Name><DeploymentSlot>Staging</DeploymentSlot>'
                      f'<Label>c2l6ZWQ=</Label><RoleList>{_role_xml("Role", "sized2", size, subnet)}</RoleList>'
                      f'</Deployment>').encode()
        assert f"'{size}'" in refused(http.post(f"{live.base_url}/{SUB}/services/hostedservices/{svc}/deployments",
                                                data=deployment, headers=XML))
    assert live.dump() == before
    assert sizes.role_size("medium") == "Medium" and sizes.role_size("NoSuchSize") is None
    # A known size in any case is stored in its canonical spelling.
    update = f'<PersistentVMRole xmlns="{NS}"><RoleName>{vm}</RoleName><RoleSize>large</RoleSize></PersistentVMRole>'
    assert http.put(f"{base}/roles/{vm}", data=update.encode(), headers=XML).status_code == 202
    with live.ctx.store.read() as tx:
        assert tx.resources.get(ids.role_id(SUB, svc, dep, vm)).doc["size"] == "Large"  # type: ignore[union-attr]
    body = _role_xml(f'PersistentVMRole xmlns="{NS}"', "sized1", "a7", subnet).encode()  # the same body, a known size
    added = http.post(f"{base}/roles", data=body, headers=XML)
    assert added.status_code == 202, added.text
    with live.ctx.store.read() as tx:
        assert tx.resources.get(ids.role_id(SUB, svc, dep, "sized1")).doc["size"] == "A7"  # type: ignore[union-attr]


def _hosted_service(name: str, label: str) -> bytes:
    return (f'<CreateHostedService xmlns="{NS}"><ServiceName>{name}</ServiceName><Label>{label}</Label>'
            f'<Location>West US</Location></CreateHostedService>').encode()


def test_label_must_be_base64(http: requests.Session, live: LiveServer) -> None:
    import base64

    url = f"{live.base_url}/{SUB}/services/hostedservices"
    before = live.dump()
    too_long = base64.b64encode(b"x" * 101).decode()
    for label in ("not base64!", "bA=", "////", "AA==", too_long, "%%%%"):
        message = refused(http.post(url, data=_hosted_service("labelled", label), headers=XML))
        assert "Label" in message and "base64" in message, message
        storage = (f'<CreateStorageServiceInput xmlns="{NS}"><ServiceName>labelstore01</ServiceName>'
                   f'<Label>{label}</Label><Location>West US</Location></CreateStorageServiceInput>').encode()
        refused(http.post(f"{live.base_url}/{SUB}/services/storageservices", data=storage, headers=XML))
    assert live.dump() == before
    good = base64.b64encode("caf\u00e9 service".encode()).decode()
    assert http.post(url, data=_hosted_service("labelled", good), headers=XML).status_code == 201
    with live.ctx.store.read() as tx:
        row = tx.resources.get(ids.hosted_service_id(SUB, "labelled"))
        assert row is not None and row.doc["label"] == "caf\u00e9 service"
