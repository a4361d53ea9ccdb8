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
        return [r.name for r in tx.query(SUB, types=[ids.T_VNET])]


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
