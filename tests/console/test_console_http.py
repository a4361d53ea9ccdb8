"""The console over HTTP (Starlette's TestClient on the real app): sign-in, one subscription per credential,
CSRF, escaping, the pages and the actions, and bad input answered as pages with 4xx."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_kit import CSRF, GEN_SUB, SAMPLE_SUB, SCRIPT_NAME, Estate, check_facts
from starlette.testclient import TestClient

from classic2arm.api.app import create_app
from classic2arm.service import status
from classic2arm.service.context import AppContext


@pytest.fixture
def app_ctx(two_subs: Estate) -> Iterator[AppContext]:
    ctx = AppContext.open(two_subs.url)
    yield ctx
    ctx.close()


def _client(ctx: AppContext, token: str | None = None, cookie: bool = True) -> TestClient:
    c = TestClient(create_app(ctx), follow_redirects=True)
    if token is not None:
        if cookie:
            r = c.post("/signin", data={"token": token, "next": "/"}, follow_redirects=False)
            assert r.status_code == 303, r.text
            assert "httponly" in r.headers["set-cookie"].lower()
            assert "samesite=strict" in r.headers["set-cookie"].lower()
        else:
            c.headers["Authorization"] = f"Bearer {token}"
    return c


def _csrf(c: TestClient, path: str = "/") -> str:
    m = CSRF.search(c.get(path).text)
    assert m, "no CSRF token on the page"
    return m.group(1)


def _unit_state(ctx: AppContext, sub: str, kind: str, name: str) -> str:
    units = status.status(AppContext(ctx.store, sub), status.UnitFilter(kind=kind))
    return next(u.state for u in units if u.name == name)


def test_the_estate_is_what_the_journeys_assume(two_subs: Estate) -> None:
    check_facts(two_subs.url)


# --------------------------------------------------------------------------- security


@pytest.mark.parametrize("path", ["/", "/units/vnet/vnet001", "/graph?q=resources",
                                  f"/resources/{GEN_SUB}/services/networking/virtualnetwork/vnet001",
                                  "/units/vnet/vnet001/live"])
def test_no_credential_gets_the_sign_in_page_and_no_data(app_ctx: AppContext, path: str) -> None:
    r = _client(app_ctx).get(path)
    assert r.status_code == 401
    assert "Sign in" in r.text and 'name="token"' in r.text
    shown = re.sub(r'<input type="hidden" name="next" value="[^"]*">', "", r.text)  # (where to go after)
    assert "vnet001" not in shown and GEN_SUB not in shown and "cs000" not in shown


def test_a_wrong_token_gets_the_sign_in_page(app_ctx: AppContext) -> None:
    c = _client(app_ctx)
    r = c.post("/signin", data={"token": "c2a.not-a-token"})
    assert r.status_code == 401 and "invalid" in r.text
    c.cookies.set("c2a_console", "c2a.forged")
    r = c.get("/")
    assert r.status_code == 401 and "vnet001" not in r.text
    r = c.get("/", headers={"Authorization": "Bearer c2a.forged"})
    assert r.status_code == 401 and "vnet001" not in r.text


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "/\t/x"])
def test_sign_in_never_redirects_off_the_server(app_ctx: AppContext, two_subs: Estate, target: str) -> None:
    r = _client(app_ctx).post("/signin", data={"token": two_subs.gen_token, "next": target}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_bad_forms_are_refused_with_a_page(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx)
    r = c.post("/signin", content=b"token=" + b"x" * 70_000,
               headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "64 KiB" in r.text
    r = c.post("/signin", content=b"token=\xff\xfe", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "Traceback" not in r.text
    signed = _client(app_ctx, two_subs.gen_token)
    r = signed.post("/units/vnet/vnet001/fix", data={"csrf": _csrf(signed), "fix": "no-such-fix"})
    assert r.status_code == 400 and "unknown fix" in r.text


def test_the_bearer_header_works_like_the_cookie(app_ctx: AppContext, two_subs: Estate) -> None:
    r = _client(app_ctx, two_subs.gen_token, cookie=False).get("/")
    assert r.status_code == 200 and "vnet001" in r.text


def test_another_subscriptions_token_sees_nothing_of_this_one(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx, two_subs.sample_token)
    home = c.get("/")
    assert home.status_code == 200
    assert "contoso-vnet" in home.text and SAMPLE_SUB in home.text
    assert "vnet001" not in home.text and GEN_SUB not in home.text and "cs000" not in home.text
    assert c.get("/units/vnet/vnet001").status_code == 404
    r = c.get(f"/resources/{GEN_SUB}/services/networking/virtualnetwork/vnet001")
    assert r.status_code == 404 and "vnet001" in r.text  # (the id asked for, echoed: nothing of the resource)
    assert '"properties"' not in r.text
    graph = c.get("/graph", params={"q": "resources | project name"})
    assert graph.status_code == 200 and "contoso-vnet" in graph.text and "vnet001" not in graph.text
    # and the other way round
    other = _client(app_ctx, two_subs.gen_token).get("/")
    assert "vnet001" in other.text and "contoso-vnet" not in other.text


def test_a_post_without_the_csrf_token_is_refused(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx, two_subs.gen_token)
    for data in ({}, {"csrf": "0" * 64}):
        r = c.post("/units/vnet/vnet001/actions/prepare", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    assert _unit_state(app_ctx, GEN_SUB, "vnet", "vnet001") == "NotPrepared"
    # another credential's CSRF token does not work either
    theirs = _csrf(_client(app_ctx, two_subs.sample_token))
    assert c.post("/units/vnet/vnet001/actions/prepare", data={"csrf": theirs}).status_code == 403
    assert c.post("/signout", data={}).status_code == 403


def test_a_resource_named_like_a_script_is_shown_as_text(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx, two_subs.sample_token)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for page in (c.get("/", params={"kind": "reserved-ip"}), c.get("/graph", params={"q": "resources | project name"})):
        assert escaped in page.text
        assert SCRIPT_NAME not in page.text
    link = re.search(r'href="(/units/reserved-ip/[^"]*script[^"]*)"', c.get("/", params={"kind": "reserved-ip"}).text)
    assert link
    unit = c.get(link.group(1).replace("&amp;", "&"))
    assert unit.status_code == 200 and escaped in unit.text and SCRIPT_NAME not in unit.text
    resource = re.search(r'href="(/resources/[^"]*script[^"]*)"', unit.text)
    assert resource
    page = c.get(resource.group(1))
    assert page.status_code == 200 and SCRIPT_NAME not in page.text and "alert(1)" in page.text
    # (ASM has no GET for a name with a '/'; its neighbour's page shows its ASM XML, as text)
    other = c.get(f"/resources/{SAMPLE_SUB}/services/networking/reservedips/shop-ip")
    assert 'id="asm-xml"' in other.text and "&lt;ReservedIP" in other.text and "40.112.10.20" in other.text
    # every script the pages have is the vendored file: nothing inline a strict CSP would refuse
    for page in (c.get("/"), c.get("/units/vnet/contoso-vnet")):
        assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/static/console.js" defer>']
        assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_static_files_are_served_and_nothing_else(app_ctx: AppContext) -> None:
    c = _client(app_ctx)
    assert c.get("/static/console.js").status_code == 200
    assert c.get("/static/console.css").status_code == 200
    assert c.get("/static/..%2Fsecurity.py").status_code == 404
    assert c.get("/static/nothing.js").status_code == 404


# --------------------------------------------------------------------------- pages and actions


def test_overview_filters_searches_and_pages(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx, two_subs.gen_token)
    home = c.get("/")
    assert "Blockers that hold back the most VMs" in home.text and "Plan waves" in home.text
    assert re.search(r"estimated\s*<strong id=\"estimate\">\d+ minutes", home.text)
    vnets = c.get("/", params={"kind": "vnet"}).text
    assert "vnet001" in vnets and "cs00009" not in vnets
    found = c.get("/", params={"q": "cs00009"}).text
    assert "cs00009/cs00009" in found and "vnet001</a>" not in found
    first = c.get("/", params={"per_page": 5}).text
    assert "page 1 of" in first and 'rel="next"' in first
    second = c.get("/", params={"per_page": 5, "page": 2}).text
    assert "page 2 of" in second and 'rel="prev"' in second
    for bad in ({"kind": "castle"}, {"page": "two"}, {"page": "0"}, {"per_page": "100000"}):
        r = c.get("/", params=bad)
        assert r.status_code == 400 and "Traceback" not in r.text


def test_unknown_unit_and_resource_are_404_pages(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx, two_subs.gen_token)
    assert c.get("/units/vnet/no-such-vnet").status_code == 404
    assert c.get("/units/castle/x").status_code == 400
    assert c.get("/units/deployment/only-one-part").status_code == 400
    assert c.get("/resources/no/such/thing").status_code == 404


def test_validate_fix_prepare_abort_commit(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx, two_subs.gen_token)
    csrf = _csrf(c)
    blocked = "/units/deployment/cs00009/cs00009"
    r = c.post(blocked + "/validate", data={"csrf": csrf})
    assert r.status_code == 200 and "Validation result" in r.text
    assert 'class="msg-error"' in r.text and 'class="mitigation"' in r.text
    assert "Apply " in r.text
    fix_name = re.search(r'name="fix" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    preview = c.post(blocked + "/fix", data={"csrf": csrf, "fix": fix_name, "apply": "0"})
    assert "Preview of fix" in preview.text and "planned" in preview.text
    applied = c.post(blocked + "/fix", data={"csrf": csrf, "fix": fix_name, "apply": "1"})
    assert f"Fix {fix_name} applied" in applied.text and "applied" in applied.text
    after = c.post(blocked + "/validate", data={"csrf": csrf})
    assert 'class="msg-error"' not in after.text

    vnet = "/units/vnet/vnet001"
    prepared = c.post(vnet + "/actions/prepare", data={"csrf": csrf})
    assert prepared.status_code == 200 and 'id="state">Prepared<' in prepared.text
    assert "Classic beside ARM" in prepared.text
    assert 'class="mark-kept"' in prepared.text and "as documented" in prepared.text
    assert "DNS label of the public IP" in prepared.text or "virtual network" in prepared.text
    arm_link = re.search(r'href="(/resources/subscriptions/[^"]+)"', prepared.text)
    assert arm_link
    res = c.get(arm_link.group(1))
    assert res.status_code == 200 and "ARM JSON" in res.text and "Event log" in res.text
    assert 'id="asm-xml"' not in res.text
    vm_link = re.search(r'href="(/resources/[^"]*/roles/[^"]+)"', prepared.text)
    assert vm_link
    vm = c.get(vm_link.group(1))
    assert vm.status_code == 200 and "&lt;PersistentVMRole" in vm.text and "Microsoft.ClassicCompute" in vm.text
    assert re.search(r"<td>\d+</td><td>[^<]+</td><td>update</td>", vm.text)  # the event log: prepare's lock
    refused = c.post(vnet + "/actions/commit", data={"csrf": csrf})  # not confirmed
    assert refused.status_code == 400 and "type yes" in refused.text
    assert f'href="{vnet}">Back to the unit' in refused.text
    assert c.post(vnet + "/actions/commit", data={"csrf": csrf, "confirm": "no"}).status_code == 400
    assert _unit_state(app_ctx, GEN_SUB, "vnet", "vnet001") == "Prepared"
    aborted = c.post(vnet + "/actions/abort", data={"csrf": csrf})
    assert "Classic beside ARM" not in aborted.text
    assert _unit_state(app_ctx, GEN_SUB, "vnet", "vnet001") != "Prepared"
    c.post(vnet + "/actions/prepare", data={"csrf": csrf})
    done = c.post(vnet + "/actions/commit", data={"csrf": csrf, "confirm": "yes"})
    assert 'id="state">Committed<' in done.text
    assert c.post(vnet + "/actions/explode", data={"csrf": csrf}).status_code == 404


def test_downtime_chart_of_a_deployment_outside_a_vnet(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx, two_subs.gen_token)
    csrf = _csrf(c)
    unit = "/units/deployment/cs00002/cs00002"
    before = c.get(unit).text
    assert "<svg" in before and 'class="window' not in before
    r = c.post(unit + "/actions/prepare", data={"csrf": csrf})
    running = 2
    assert len(re.findall(r'<rect class="window', r.text)) == running
    # an abort adds one window per VM (stopped in ARM, started again on the classic side)
    aborted = c.post(unit + "/actions/abort", data={"csrf": csrf})
    assert len(re.findall(r'<rect class="window', aborted.text)) == 2 * running
    assert aborted.text.count("2 windows") == running
    # committed, the classic VMs are gone: their windows are still shown, from the timeline
    c.post(unit + "/actions/prepare", data={"csrf": csrf})
    committed = c.post(unit + "/actions/commit", data={"csrf": csrf, "confirm": "yes"})
    assert 'id="state">Committed<' in committed.text
    assert len(re.findall(r'<rect class="window', committed.text)) == 3 * running
    assert c.get(unit + "/live").text.startswith('<section id="live"')


def test_resource_graph_errors_are_shown(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx, two_subs.gen_token)
    r = c.get("/graph", params={"q": "resources | where"})
    assert r.status_code == 200 and 'role="alert"' in r.text


def test_sign_out_clears_the_cookie(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx, two_subs.gen_token)
    r = c.post("/signout", data={"csrf": _csrf(c)})
    assert r.status_code == 200 and "Sign in" in r.text
    assert c.get("/").status_code == 401


def test_the_apis_still_answer_beside_the_console(app_ctx: AppContext, two_subs: Estate) -> None:
    c = _client(app_ctx)
    r = c.get(f"/{GEN_SUB}/services/hostedservices", headers={"Authorization": f"Bearer {two_subs.gen_token}",
                                                                "x-ms-version": "2015-04-01"})
    assert r.status_code == 200 and "<HostedServices" in r.text
    r = c.get(f"/subscriptions/{GEN_SUB}/resourcegroups?api-version=2021-04-01",
              headers={"Authorization": f"Bearer {two_subs.gen_token}"})
    assert r.status_code == 200


def test_a_big_unit_is_shown_a_page_of_vms_at_a_time(app_ctx: AppContext, two_subs: Estate,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from classic2arm.service import console

    monkeypatch.setattr(console, "VMS_PER_PAGE", 5)
    c = _client(app_ctx, two_subs.gen_token)
    vnet = "/units/vnet/vnet001"
    c.post(vnet + "/actions/prepare", data={"csrf": _csrf(c)})
    first, second = c.get(vnet).text, c.get(vnet, params={"page": 2}).text
    assert "VMs page 1 of 3" in first and "VMs page 2 of 3" in second and 'rel="next"' in first
    vms_of = [set(re.findall(r"<td>VM (vm[\w-]+)</td>", page)) for page in (first, second)]
    assert len(vms_of[0]) == len(vms_of[1]) == 5 and not vms_of[0] & vms_of[1]
    assert "virtual network vnet001" in first and "virtual network vnet001" not in second
    assert len(re.findall(r'<g class="vm-row"', second)) == 5
    assert c.get(vnet, params={"page": 0}).status_code == 400


def test_overview_of_an_unregistered_subscription_lists_units_and_says_why_no_plan(
        app_ctx: AppContext, two_subs: Estate) -> None:
    from classic2arm.service import providers

    providers.register(AppContext(app_ctx.store, SAMPLE_SUB), "Microsoft.ClassicInfrastructureMigrate", False)
    page = _client(app_ctx, two_subs.sample_token).get("/")
    assert page.status_code == 200 and "contoso-vnet" in page.text
    assert 'id="plan-error"' in page.text and "provider register" in page.text
    assert "Plan waves" not in page.text


def test_a_running_operation_is_followed_live(app_ctx: AppContext, two_subs: Estate) -> None:
    from classic2arm.domain.state_machine import Op
    from classic2arm.domain.units import UnitKind, UnitRef
    from classic2arm.service import migration

    gen = AppContext(app_ctx.store, GEN_SUB)
    view = migration.start(gen, Op.PREPARE, UnitRef(UnitKind.VNET, "vnet004"))  # accepted, not run yet
    c = _client(app_ctx, two_subs.gen_token)
    live = c.get("/units/vnet/vnet004/live").text
    assert 'data-poll="/units/vnet/vnet004/live"' in live and "InProgress" in live
    assert "step 1 of 5: validate" in live
    assert migration.run(gen, view.id).status == "Succeeded"
    done = c.get("/units/vnet/vnet004/live").text
    assert "data-poll" not in done and 'id="state">Prepared<' in done


def test_a_store_that_fails_is_a_503_page(two_subs: Estate, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(Path(two_subs.url.removeprefix("sqlite:///")).read_bytes())
    ctx = AppContext.open(f"sqlite:///{copy}")
    try:
        c = _client(ctx, two_subs.gen_token)
        assert c.get("/").status_code == 200
        copy.unlink()  # the file deleted under the server
        r = c.get("/")
        assert r.status_code == 503 and "The store is unavailable" in r.text
    finally:
        ctx.close()
