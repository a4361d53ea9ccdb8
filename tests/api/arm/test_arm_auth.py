"""Auth matrix over every ARM endpoint family: no credentials → 401, garbage or expired tokens → 401,
another subscription's valid token → 403 that says nothing about the subscription asked for."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from arm_env import OTHER_SUB, SUB, Env

from classic2arm.service import credentials

RG = "Default-Networking"
VNET_ID = f"/subscriptions/{SUB}/resourceGroups/vnet002-Migrated/providers/Microsoft.Network/virtualNetworks/vnet002"
FAMILIES: list[tuple[str, str, dict[str, object] | None]] = [
    ("GET", "/subscriptions", None),
    ("GET", f"/subscriptions/{SUB}", None),
    ("GET", f"/subscriptions/{SUB}/resourcegroups", None),
    ("GET", f"/subscriptions/{SUB}/resourceGroups/{RG}", None),
    ("HEAD", f"/subscriptions/{SUB}/resourceGroups/{RG}", None),
    ("PUT", f"/subscriptions/{SUB}/resourceGroups/new-rg", {"location": "westus"}),
    ("PATCH", f"/subscriptions/{SUB}/resourceGroups/{RG}", {"tags": {}}),
    ("DELETE", f"/subscriptions/{SUB}/resourceGroups/{RG}", None),
    ("GET", f"/subscriptions/{SUB}/resources", None),
    ("GET", f"/subscriptions/{SUB}/resourceGroups/{RG}/resources", None),
    ("GET", f"/subscriptions/{SUB}/providers", None),
    ("GET", "/providers", None),
    ("GET", "/providers/Microsoft.Compute", None),
    ("GET", f"/subscriptions/{SUB}/providers/Microsoft.ClassicInfrastructureMigrate", None),
    ("POST", f"/subscriptions/{SUB}/providers/Microsoft.ClassicInfrastructureMigrate/register", None),
    ("POST", f"/subscriptions/{SUB}/providers/Microsoft.ClassicInfrastructureMigrate/unregister", None),
    ("GET", f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines", None),
    ("GET", f"/subscriptions/{SUB}/providers/Microsoft.ClassicCompute/virtualMachines", None),
    ("GET", VNET_ID, None),
    ("GET", VNET_ID + "/subnets", None),
    ("PUT", VNET_ID, {"location": "eastus", "properties": {}}),
    ("PATCH", VNET_ID, {"tags": {"a": "b"}}),
    ("DELETE", VNET_ID, None),
    ("GET", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ClassicNetwork/virtualNetworks/vnet001",
     None),
    ("GET", f"/subscriptions/{SUB}/providers/Microsoft.Network/locations/westus/operations/"
            "0b9bb5f4-5c7c-4f3c-8a55-2a1f2b2f5e00", None),
    ("POST", "/providers/Microsoft.ResourceGraph/resources", {"subscriptions": [SUB], "query": "resources"}),
]
IDS = [f"{m} {p.split('/')[-1] or p}" for m, p, _ in FAMILIES]


def call(env: Env, method: str, path: str, body: dict[str, object] | None, headers: dict[str, str],
         sub: str = SUB) -> httpx.Response:
    with httpx.Client(base_url=env.url, timeout=30) as client:
        return client.request(method, path.replace(SUB, sub), params={"api-version": "2024-07-01"}, json=body,
                              headers=headers)


def error_of(resp: httpx.Response) -> dict[str, str]:
    if resp.request.method == "HEAD":
        return {}
    body = resp.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return dict(body["error"])


@pytest.fixture(scope="module")
def expired(arm: Env) -> str:
    token, _ = credentials.create_token(arm.ctx, SUB, ttl=timedelta(seconds=-1))
    return token


@pytest.fixture(scope="module")
def snapshot(arm: Env) -> list[tuple[str, int]]:
    with arm.ctx.store.read() as tx:
        return [(r.key, r.version) for r in tx.resources.query()]


@pytest.mark.parametrize(("method", "path", "body"), FAMILIES, ids=IDS)
def test_no_credentials_401(arm: Env, method: str, path: str, body: dict[str, object] | None) -> None:
    resp = call(arm, method, path, body, {})
    assert resp.status_code == 401
    assert resp.headers["x-ms-request-id"] and "x-ms-correlation-request-id" in resp.headers
    assert error_of(resp).get("code", "AuthenticationFailed") == "AuthenticationFailed"


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer  x y", "Basic dXNlcjpwYXNz", "Bearer c2a.nope", "token"])
@pytest.mark.parametrize(("method", "path", "body"), FAMILIES, ids=IDS)
def test_garbage_tokens_401(arm: Env, method: str, path: str, body: dict[str, object] | None, header: str) -> None:
    resp = call(arm, method, path, body, {"Authorization": header})
    assert resp.status_code == 401
    error_of(resp)


@pytest.mark.parametrize(("method", "path", "body"), FAMILIES, ids=IDS)
def test_expired_token_401(arm: Env, expired: str, method: str, path: str, body: dict[str, object] | None) -> None:
    resp = call(arm, method, path, body, {"Authorization": f"Bearer {expired}"})
    assert resp.status_code == 401
    assert "InvalidAuthenticationToken" in (error_of(resp).get("code") or "InvalidAuthenticationToken")


@pytest.mark.parametrize(("method", "path", "body"), FAMILIES, ids=IDS)
def test_other_subscription_403_reveals_nothing(arm: Env, snapshot: list[tuple[str, int]], method: str, path: str,
                                                 body: dict[str, object] | None) -> None:
    """A valid token of OTHER_SUB used on SUB; and SUB's token on OTHER_SUB (which exists, with resources)."""
    if SUB not in path and "ResourceGraph" not in path:
        pytest.skip("no subscription in this path: the caller's own subscription is used")
    for token, target in ((arm.other_token, SUB), (arm.token, OTHER_SUB)):
        asked = target
        if "ResourceGraph" in path:
            body = {"subscriptions": [asked], "query": "resources"}
        resp = call(arm, method, path, body, {"Authorization": f"Bearer {token}"}, sub=asked)
        assert resp.status_code == 403, resp.text
        assert asked not in resp.text and asked.lower() not in resp.text.lower()
        assert error_of(resp).get("code", "AuthorizationFailed") == "AuthorizationFailed"
    with arm.ctx.store.read() as tx:
        assert [(r.key, r.version) for r in tx.resources.query()] == snapshot


def test_tenant_level_calls_use_the_callers_subscription(arm: Env) -> None:
    with arm.client(arm.other_token) as client:
        subs = client.get("/subscriptions", params={"api-version": "2022-12-01"}).json()["value"]
        assert [s["subscriptionId"] for s in subs] == [OTHER_SUB]
        graph = client.post("/providers/Microsoft.ResourceGraph/resources", params={"api-version": "2021-03-01"},
                            json={"query": "resources | distinct subscriptionId"}).json()
        assert graph["data"] == [{"subscriptionId": OTHER_SUB}]
