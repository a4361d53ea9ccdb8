"""Bad input never gets a 500: malformed XML, oversized bodies, wrong namespaces, XXE, entity bombs, wrong
content types, huge and unicode names, missing x-ms-version — every answer a 4xx `<Error>`, the server
stays up and the store is unchanged. Plus a bounded hypothesis fuzz of the write endpoints (loopback)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live import SUB, LiveServer
from lxml import etree

NS = "http://schemas.microsoft.com/windowsazure"
NETCFG = "http://schemas.microsoft.com/ServiceHosting/2011/07/NetworkConfiguration"
XML = {"Content-Type": "application/xml"}

XXE = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<CreateHostedService xmlns="' + NS.encode() + b'"><ServiceName>&x;</ServiceName></CreateHostedService>')
BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><CreateHostedService xmlns="' + NS.encode()
        + b'"><ServiceName>&lol3;</ServiceName></CreateHostedService>')


def _hs(name: str, ns: str = NS) -> bytes:
    return (f'<CreateHostedService xmlns="{ns}"><ServiceName>{name}</ServiceName><Label>bA==</Label>'
            f'<Location>West US</Location></CreateHostedService>').encode()


@pytest.fixture(scope="module")
def http(live: LiveServer) -> requests.Session:
    return live.session(live.token)  # HTTPS, trusting only the test CA; bearer token and x-ms-version


@pytest.fixture(scope="module")
def before(live: LiveServer) -> dict[str, Any]:
    return live.dump()


def assert_error(resp: requests.Response, *statuses: int) -> etree._Element:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:500])
    if statuses:
        assert resp.status_code in statuses, (resp.status_code, resp.text[:500])
    root = etree.fromstring(resp.content)
    assert root.tag == f"{{{NS}}}Error", resp.text[:300]
    code, message = root.findtext(f"{{{NS}}}Code"), root.findtext(f"{{{NS}}}Message")
    assert code and message, resp.text[:300]
    assert resp.headers.get("x-ms-request-id")
    return root


def _vm(live: LiveServer) -> tuple[str, str, str]:
    from classic2arm.domain import identity as ids

    with live.ctx.store.read() as tx:
        row = tx.resources.query(SUB, types=[ids.T_VM])[0]
    return row.doc["service_name"], row.doc["deployment_name"], row.name


CASES: list[tuple[str, str, dict[str, str], bytes, tuple[int, ...]]] = [
    ("POST", "/services/hostedservices", XML, b"<CreateHostedService><ServiceName>x", (400,)),
    ("POST", "/services/hostedservices", XML, b"\xff\xfe\x00garbage", (400,)),
    ("POST", "/services/hostedservices", XML, b"", (400,)),
    ("POST", "/services/hostedservices", XML, _hs("wrongns", "http://example.com/other"), (400,)),
    ("POST", "/services/hostedservices", XML, XXE, (400,)),
    ("POST", "/services/hostedservices", XML, BOMB, (400,)),
    ("POST", "/services/hostedservices", {"Content-Type": "application/json"}, b'{"ServiceName": "j"}', (400,)),
    ("POST", "/services/hostedservices", {"Content-Type": "multipart/form-data"}, _hs("formy"), (400,)),
    ("POST", "/services/hostedservices", XML, _hs("x" * 5000), (400,)),
    ("POST", "/services/hostedservices", XML, _hs("名前サービス"), (400,)),
    ("POST", "/services/hostedservices", XML, _hs("bad name!"), (400,)),
    ("POST", "/services/hostedservices", XML, b"<CreateStorageServiceInput xmlns='" + NS.encode() + b"'/>", (400,)),
    ("POST", "/services/hostedservices", XML, b"<CreateHostedService xmlns='" + NS.encode() + b"'/>", (400,)),
    ("POST", "/services/hostedservices", XML, b"<a>" * 5000 + b"</a>" * 5000, (400,)),
    ("POST", "/services/storageservices", XML,
     b"<CreateStorageServiceInput xmlns='" + NS.encode() + b"'><ServiceName>UPPER</ServiceName>"
     b"<Location>West US</Location></CreateStorageServiceInput>", (400,)),
    ("POST", "/services/storageservices", XML,
     b"<CreateStorageServiceInput xmlns='" + NS.encode() + b"'><ServiceName>okname</ServiceName>"
     b"<Location>Atlantis</Location></CreateStorageServiceInput>", (400,)),
    ("POST", "/services/networking/reservedips", XML,
     b"<ReservedIP xmlns='" + NS.encode() + b"'><Name>r</Name></ReservedIP>", (400,)),
    ("PUT", "/services/networking/media", {"Content-Type": "text/plain"},
     f"<NetworkConfiguration xmlns='{NETCFG}'/>".encode(), (400,)),
    ("PUT", "/services/networking/media", XML, _hs("nope"), (400,)),
    ("PUT", "/services/networking/media", XML,
     f"<NetworkConfiguration xmlns='{NETCFG}'><VirtualNetworkConfiguration><VirtualNetworkSites>"
     f"<VirtualNetworkSite name='v' Location='West US'><AddressSpace><AddressPrefix>10.0.0.0/99</AddressPrefix>"
     f"</AddressSpace></VirtualNetworkSite></VirtualNetworkSites></VirtualNetworkConfiguration>"
     f"</NetworkConfiguration>".encode(), (400,)),
    ("DELETE", "/locations", {}, b"", (405,)),
    ("GET", "/services/nothing/here", {}, b"", (404,)),
    ("GET", "/services/hostedservices/" + "n" * 3000, {}, b"", (404,)),
    ("GET", "/services/hostedservices/" + quote("ünïcødé 服务"), {}, b"", (404,)),
    ("GET", "/operations/not-an-operation", {}, b"", (404,)),
    ("POST", "/services/networking/virtualnetwork/nope/migration?comp=explode", {}, b"", (400,)),
    ("POST", "/services/networking/virtualnetwork/nope/migration", {}, b"", (400,)),
    ("POST", "/services/networking/virtualnetwork/nope/migration?comp=prepare", {}, b"", (400, 404)),
    ("POST", "/services/storageservices/nope/migration?comp=commit", {}, b"", (400, 404)),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "statuses"), CASES,
                         ids=[f"{m} {p[:40]} {i}" for i, (m, p, _h, _b, _s) in enumerate(CASES)])
def test_bad_request_is_a_4xx_error(http: requests.Session, live: LiveServer, before: dict[str, Any], method: str,
                                    path: str, headers: dict[str, str], body: bytes,
                                    statuses: tuple[int, ...]) -> None:
    assert_error(http.request(method, f"{live.base_url}/{SUB}{path}", headers=headers, data=body), *statuses)


def test_deployment_and_role_bodies(http: requests.Session, live: LiveServer, before: dict[str, Any]) -> None:
    svc, dep, vm = _vm(live)
    base = f"{live.base_url}/{SUB}/services/hostedservices/{svc}/deployments/{dep}"
    cases = [
        ("POST", f"{base}/migration?comp=validate", b""),
        ("POST", f"{base}/migration?comp=validate", b"<DeploymentNetworkResource xmlns='urn:x'/>"),
        ("POST", f"{base}/roles", b"<PersistentVMRole xmlns='" + NS.encode() + b"'><RoleName>r</RoleName>"
                                  b"<RoleSize>Small</RoleSize></PersistentVMRole>"),
        ("PUT", f"{base}/roles/{vm}", b"<PersistentVMRole xmlns='" + NS.encode() + b"'><RoleName>other</RoleName>"
                                      b"</PersistentVMRole>"),
        ("POST", f"{base}/roles/{vm}/DataDisks", b"<DataVirtualHardDisk xmlns='" + NS.encode() + b"'><Lun>x</Lun>"
                                                 b"</DataVirtualHardDisk>"),
        ("POST", f"{base}/roleinstances/{vm}/Operations", b"<RestartRoleOperation xmlns='" + NS.encode()
         + b"'><OperationType>StartRoleOperation</OperationType></RestartRoleOperation>"),
        ("POST", f"{base}/roleinstances/{vm}/Operations", b"<ShutdownRoleOperation xmlns='" + NS.encode()
         + b"'><OperationType>ShutdownRoleOperation</OperationType><PostShutdownAction>Explode"
           b"</PostShutdownAction></ShutdownRoleOperation>"),
        ("GET", f"{base}/roles/{vm}/DataDisks/99", b""),
        ("POST", f"{live.base_url}/{SUB}/services/hostedservices/{svc}/deployments", b"<Deployment xmlns='"
         + NS.encode() + b"'><Name>d2</Name><RoleList/></Deployment>"),
    ]
    for method, url, body in cases:
        assert_error(http.request(method, url, headers=XML, data=body))


def test_oversized_and_header_problems(http: requests.Session, live: LiveServer, before: dict[str, Any]) -> None:
    url = f"{live.base_url}/{SUB}/services/hostedservices"
    big = (b"<CreateHostedService xmlns='" + NS.encode() + b"'><Description>" + b"a" * (2 * 1024 * 1024)
           + b"</Description>")
    root = assert_error(http.post(url, headers=XML, data=big), 400)
    assert "limit" in (root.findtext(f"{{{NS}}}Message") or "")
    no_version = {k: v for k, v in live.headers.items() if k != "x-ms-version"}
    bare = live.session(version=None)  # no credentials, no x-ms-version: each request sets its own
    root = assert_error(bare.get(url, headers=no_version), 400)
    assert root.findtext(f"{{{NS}}}Code") == "MissingOrIncorrectVersionHeader"
    assert_error(bare.get(url, headers={**live.headers, "x-ms-version": "2001-01-01"}), 400)
    assert_error(bare.get(url, headers={**live.headers, "x-ms-version": "yesterday"}), 400)
    assert_error(bare.get(url, headers={"x-ms-version": "2016-07-01"}), 401)
    assert_error(bare.get(url, headers={"x-ms-version": "2016-07-01", "Authorization": "Bearer nope"}), 401)
    other = {"x-ms-version": "2016-07-01", "Authorization": f"Bearer {live.other_token}"}
    root = assert_error(bare.get(url, headers=other), 403)
    assert SUB not in (root.findtext(f"{{{NS}}}Message") or "")
    bare.close()


# --------------------------------------------------------------------------- hypothesis fuzz

_tag = st.from_regex(r"[a-z][a-z0-9]{0,12}", fullmatch=True)
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)
ROOTS = ["CreateHostedService", "CreateStorageServiceInput", "ReservedIP", "Deployment", "PersistentVMRole",
         "DataVirtualHardDisk", "ShutdownRoleOperation", "DeploymentNetworkResource", "NetworkConfiguration"]


@st.composite
def _tree(draw: st.DrawFn) -> bytes:
    """A document that is invalid by construction: a known root with random lower-case children (so never
    a required element), a random root, or a known root in a foreign namespace."""
    kind = draw(st.sampled_from(["children", "random-root", "foreign-ns"]))
    root_name = draw(_tag) if kind == "random-root" else draw(st.sampled_from(ROOTS))
    ns = "urn:fuzz:" + draw(_tag) if kind == "foreign-ns" else NS
    root = etree.Element(f"{{{ns}}}{root_name}")
    for _ in range(draw(st.integers(0, 6))):
        child = etree.SubElement(root, f"{{{ns}}}{draw(_tag)}")
        text = draw(_text)
        child.text = "".join(ch for ch in text if ch.isprintable())
    return etree.tostring(root)


_bodies = st.one_of(_tree(), st.binary(max_size=300), _text.map(lambda t: t.encode("utf-8")))
_names = st.one_of(_tag, st.text(min_size=1, max_size=40).map(lambda t: quote(t, safe="")))
_content_types = st.sampled_from(["application/xml", "text/xml", "application/atom+xml;type=entry;charset=utf-8",
                                  "text/plain", "application/json", "application/x-www-form-urlencoded", ""])


@st.composite
def _request(draw: st.DrawFn) -> tuple[str, str]:
    n1, n2, n3 = draw(_names), draw(_names), draw(_names)
    return draw(st.sampled_from([
        ("POST", "/services/hostedservices"), ("POST", "/services/storageservices"),
        ("POST", "/services/networking/reservedips"), ("PUT", "/services/networking/media"),
        ("POST", f"/services/hostedservices/{n1}/deployments"),
        ("POST", f"/services/hostedservices/{n1}/deployments/{n2}/roles"),
        ("PUT", f"/services/hostedservices/{n1}/deployments/{n2}/roles/{n3}"),
        ("POST", f"/services/hostedservices/{n1}/deployments/{n2}/roles/{n3}/DataDisks"),
        ("POST", f"/services/hostedservices/{n1}/deployments/{n2}/roleinstances/{n3}/Operations"),
        ("POST", f"/services/hostedservices/{n1}/deployments/{n2}/migration?comp=prepare"),
        ("POST", f"/services/networking/reservedips/{n1}/operations/associate"),
        ("DELETE", f"/services/hostedservices/{n1}"), ("DELETE", f"/services/storageservices/{n1}"),
        ("POST", f"/services/{n1}/{n2}"),
    ]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(req=_request(), body=_bodies, ctype=_content_types)
def test_fuzz_write_endpoints(http: requests.Session, live: LiveServer, req: tuple[str, str], body: bytes,
                              ctype: str) -> None:
    method, path = req
    headers = {"Content-Type": ctype} if ctype else {}
    assert_error(http.request(method, f"{live.base_url}/{SUB}{path}", headers=headers, data=body))


def test_server_up_and_store_unchanged(http: requests.Session, live: LiveServer, before: dict[str, Any]) -> None:
    assert live.alive()
    assert http.get(f"{live.base_url}/{SUB}/services/hostedservices").status_code == 200
    assert live.dump() == before


@pytest.mark.parametrize("path", ["/services/0/%0A0", "/services/hostedservices/a%0Ab", "/%0A"])
def test_unroutable_paths_answer_in_asm_format(http: requests.Session, live: LiveServer, path: str) -> None:
    """A control character in the path matches no route; the answer is still an ASM <Error>, not framework JSON."""
    assert_error(http.post(f"{live.base_url}/{SUB}{path}", data=b""), 404, 405)
