"""A committed unit's page (TestClient on the real app): its classic side is gone and its lock released, and it
lists the ARM resources its last successful prepare created that still exist, with their total and where they
are; an aborted unit lists none."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from console_kit import CSRF, GEN_SUB, Estate
from starlette.testclient import TestClient

from classic2arm.api.app import create_app
from classic2arm.service import classic_writes, console
from classic2arm.service.context import AppContext

ARM_ITEM = re.compile(r'<li><a href="/resources(/subscriptions/[^"]+)">([^<]+)</a> <span class="muted">([^<]+)</span>')


@pytest.fixture
def client(two_subs: Estate) -> Iterator[tuple[TestClient, str, AppContext]]:
    ctx = AppContext.open(two_subs.url)
    c = TestClient(create_app(ctx), follow_redirects=True)
    c.headers["Authorization"] = f"Bearer {two_subs.gen_token}"
    m = CSRF.search(c.get("/").text)
    assert m
    yield c, m.group(1), ctx
    ctx.close()


def arm_side(html: str) -> tuple[int, list[tuple[str, str, str]]]:
    """(the total the page says, [(ARM id, name, type)] listed) of the page's ARM column."""
    total = re.search(r"<h3>ARM \((\d+)(?:, the first \d+ listed)?\)</h3>", html)
    assert total, "no ARM column"
    listed = html.split('id="arm-resources"', 1)[1].split("</ul>", 1)[0]
    return int(total.group(1)), [(unquote(i), n, t) for i, n, t in ARM_ITEM.findall(listed)]


def note(html: str) -> str | None:
    m = re.search(r'<p id="committed-note">([^<]*)</p>', html)
    return m.group(1) if m else None


def test_a_committed_vnet_lists_what_its_migration_created(client: tuple[TestClient, str, AppContext]) -> None:
    c, csrf, _ = client
    unit = "/units/vnet/vnet004"
    prepared = c.post(unit + "/actions/prepare", data={"csrf": csrf}).text
    assert 'id="state">Prepared<' in prepared and note(prepared) is None
    before_total, before = arm_side(prepared)
    committed = c.post(unit + "/actions/commit", data={"csrf": csrf, "confirm": "yes"}).text
    assert 'id="state">Committed<' in committed
    total, listed = arm_side(committed)
    assert (total, sorted(listed)) == (before_total, sorted(before))  # what prepare made, still all there
    assert total == len(listed) > 0
    types = {t for _, _, t in listed}
    assert {"Microsoft.Network/virtualNetworks", "Microsoft.Compute/virtualMachines",
            "Microsoft.Network/networkInterfaces"} <= types
    assert ("vnet004", "Microsoft.Network/virtualNetworks") in {(n, t) for _, n, t in listed}
    vms = int(re.search(r" · (\d+) VMs", prepared).group(1))  # type: ignore[union-attr]
    assert vms > 0 and sum(t == "Microsoft.Compute/virtualMachines" for _, _, t in listed) == vms
    # where they went: every resource group they are in, named on the page
    groups = {i.split("/")[4] for i, _, _ in listed}
    text = note(committed)
    assert text and text.startswith("Committed:") and all(g in text for g in groups) and "vnet004-Migrated" in groups
    # each links to its resource page, which exists
    vnet_id = next(i for i, n, t in listed if t == "Microsoft.Network/virtualNetworks")
    page = c.get("/resources" + vnet_id)
    assert page.status_code == 200 and "ARM JSON" in page.text


def test_the_first_listed_and_all_counted(client: tuple[TestClient, str, AppContext],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    c, csrf, _ = client
    unit = "/units/deployment/cs00002/cs00002"
    c.post(unit + "/actions/prepare", data={"csrf": csrf})
    c.post(unit + "/actions/commit", data={"csrf": csrf, "confirm": "yes"})
    total, listed = arm_side(c.get(unit).text)
    assert total == len(listed) > 5
    monkeypatch.setattr(console, "LIST_LIMIT", 5)
    html = c.get(unit).text
    assert f"<h3>ARM ({total}, the first 5 listed)</h3>" in html
    assert arm_side(html)[1] == listed[:5]


def test_aborted_then_prepared_again_lists_only_the_last_prepare(
        client: tuple[TestClient, str, AppContext]) -> None:
    c, csrf, ctx = client
    unit = "/units/deployment/cs00002/cs00002"
    first_total, first = arm_side(c.post(unit + "/actions/prepare", data={"csrf": csrf}).text)
    aborted = c.post(unit + "/actions/abort", data={"csrf": csrf}).text
    assert arm_side(aborted) == (0, []) and "None yet: prepare creates them." in aborted and note(aborted) is None
    # between the two prepares one VM goes: the second prepare makes nothing of it
    nic_id, nic, _ = next(x for x in first if x[2] == "Microsoft.Network/networkInterfaces" and "-2-" in x[1])
    vm = nic.removesuffix("-PrimaryNic")
    classic_writes.delete_role(AppContext(ctx.store, GEN_SUB), "cs00002", "cs00002", vm, False)
    c.post(unit + "/actions/prepare", data={"csrf": csrf})
    committed = c.post(unit + "/actions/commit", data={"csrf": csrf, "confirm": "yes"}).text
    assert 'id="state">Committed<' in committed
    total, listed = arm_side(committed)
    assert 0 < total == len(listed) < first_total
    assert set(listed) < set(first) and not any(vm in i for i, _, _ in listed)
    # a resource put through the ARM API where the first prepare had made one is not the migration's
    put = c.put(nic_id + "?api-version=2023-09-01", json={"location": "westeurope", "properties": {}})
    assert put.status_code == 201, put.text
    assert arm_side(c.get(unit).text) == (total, listed)
    # and one of the migration's that is deleted is no longer listed
    lb_id = next(i for i, _, t in listed if t == "Microsoft.Network/loadBalancers")
    assert c.delete(lb_id + "?api-version=2023-09-01").status_code in (200, 202, 204)
    after_total, after = arm_side(c.get(unit).text)
    assert after_total == total - 1 and lb_id not in {i for i, _, _ in after}


def test_a_unit_only_aborted_lists_none(client: tuple[TestClient, str, AppContext]) -> None:
    c, csrf, _ = client
    unit = "/units/vnet/vnet001"
    assert arm_side(c.post(unit + "/actions/prepare", data={"csrf": csrf}).text)[0] > 0
    aborted = c.post(unit + "/actions/abort", data={"csrf": csrf}).text
    assert 'id="state">Committed<' not in aborted
    assert arm_side(aborted) == (0, []) and note(aborted) is None
    assert arm_side(c.get(unit).text) == (0, [])
