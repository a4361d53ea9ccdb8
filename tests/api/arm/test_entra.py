# mypy: disable-error-code="union-attr,arg-type,index"
"""The Entra ID stand-in and the cloud metadata: azure-identity's ClientSecretCredential (MSAL underneath) logs a
service principal in over HTTPS and the token it gets drives azure-mgmt-resource; wrong secrets, unknown apps
and tenants get AAD's error shape; each subscription is a tenant of its own, consistent across `/tenants`, a
subscription's `tenantId` and the discovery document, and a service principal reaches nothing of another."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from arm_env import API, OTHER_SUB, SUB, Env
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

from classic2arm.domain import generator
from classic2arm.domain import identity as ids
from classic2arm.service import entra, estate
from classic2arm.service.context import AppContext


@pytest.fixture(scope="module")
def tls() -> bool:
    return True


def http(env: Env) -> httpx.Client:
    return httpx.Client(base_url=env.url, verify=str(env.ca_path), timeout=60)


def credential(env: Env, tenant: str, app_id: str, secret: str) -> ClientSecretCredential:
    return ClientSecretCredential(tenant, app_id, secret, authority=env.url, disable_instance_discovery=True,
                                  connection_verify=str(env.ca_path))


def token_form(app_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret,
            "scope": "https://management.core.windows.net//.default"}


def aad_error(r: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error_codes"] == [code] and body["error_description"].startswith(f"AADSTS{code}: ")
    assert {"error", "timestamp", "trace_id", "correlation_id", "error_uri"} <= set(body)
    return dict(body)


def test_metadata_endpoints_point_at_this_server(arm: Env) -> None:
    with http(arm) as c:
        meta = c.get("/metadata/endpoints", params={"api-version": "2022-09-01"}).json()
        assert c.get("/metadata/endpoints").status_code == 400
    assert meta["resourceManager"] == f"{arm.url}/" and meta["authentication"]["loginEndpoint"] == f"{arm.url}/"
    assert meta["authentication"]["audiences"] and meta["name"]


def test_service_principal_logs_in_with_the_real_identity_client(arm: Env) -> None:
    sp = entra.create_service_principal(arm.ctx, SUB)
    assert sp.tenant == ids.tenant_id(SUB)
    with http(arm) as c:
        doc = c.get(f"/{sp.tenant}/v2.0/.well-known/openid-configuration").json()
        assert doc["token_endpoint"] == f"{arm.url}/{sp.tenant}/oauth2/v2.0/token"
        assert doc["issuer"].startswith("https://") and doc["authorization_endpoint"].split("/")[3] == sp.tenant
    cred = credential(arm, sp.tenant, sp.app_id, sp.password)
    client = ResourceManagementClient(cred, SUB, base_url=arm.url, connection_verify=str(arm.ca_path))
    assert any(g.name for g in client.resource_groups.list())
    auth = {"Authorization": f"Bearer {cred.get_token(f'{arm.url}/.default').token}"}
    with http(arm) as c:
        listed = c.get("/subscriptions", params={"api-version": API}, headers=auth).json()["value"]
        assert [(s["subscriptionId"], s["tenantId"]) for s in listed] == [(SUB, sp.tenant)]
        tenants = c.get("/tenants", params={"api-version": API}, headers=auth).json()["value"]
        assert [t["tenantId"] for t in tenants] == [sp.tenant]


def test_wrong_secret_unknown_app_and_tenant(arm: Env) -> None:
    sp = entra.create_service_principal(arm.ctx, SUB)
    url = f"/{sp.tenant}/oauth2/v2.0/token"
    with http(arm) as c:
        body = aad_error(c.post(url, data=token_form(sp.app_id, sp.password + "x")), 401, 7000215)
        assert body["error"] == "invalid_client" and sp.password not in json.dumps(body)
        aad_error(c.post(url, data=token_form("0f0f0f0f-0000-0000-0000-000000000000", sp.password)), 400, 700016)
        aad_error(c.post(url, data={**token_form(sp.app_id, sp.password), "grant_type": "password"}), 400, 70003)
        aad_error(c.post(url, data={"grant_type": "client_credentials"}), 400, 900144)
        aad_error(c.post(f"/{ids.tenant_id('nope')}/oauth2/v2.0/token", data=token_form(sp.app_id, sp.password)),
                  400, 90002)
        aad_error(c.get(f"/{ids.tenant_id('nope')}/v2.0/.well-known/openid-configuration"), 400, 90002)
        ok = c.post(url, data=token_form(sp.app_id, sp.password))
        assert ok.status_code == 200 and ok.json()["token_type"] == "Bearer" and ok.json()["expires_in"] > 0
    with pytest.raises(ClientAuthenticationError) as err:
        credential(arm, sp.tenant, sp.app_id, "wrong").get_token("https://management.core.windows.net//.default")
    assert "AADSTS7000215" in str(err.value)


def test_nothing_of_another_subscription(arm: Env) -> None:
    sp = entra.create_service_principal(arm.ctx, SUB)
    other_tenant = ids.tenant_id(OTHER_SUB)
    with http(arm) as c:
        # the app does not exist in the other subscription's tenant
        aad_error(c.post(f"/{other_tenant}/oauth2/v2.0/token", data=token_form(sp.app_id, sp.password)), 400,
                  700016)
        issued = c.post(f"/{sp.tenant}/oauth2/v2.0/token", data=token_form(sp.app_id, sp.password)).json()
        auth = {"Authorization": f"Bearer {issued['access_token']}"}
        assert c.get(f"/subscriptions/{OTHER_SUB}/resourcegroups", params={"api-version": API},
                     headers=auth).status_code == 403
        assert c.get(f"/{OTHER_SUB}/services/hostedservices", headers={**auth, "x-ms-version": "2014-10-01"}
                     ).status_code == 403
        tenants = c.get("/tenants", params={"api-version": API}, headers=auth).json()["value"]
        assert [t["tenantId"] for t in tenants] == [sp.tenant]
        me = c.get(f"/subscriptions/{SUB}", params={"api-version": API}, headers=auth).json()
        assert me["tenantId"] == sp.tenant != other_tenant


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", "--db", url, *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_sp_create(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sp.db'}"
    ctx = AppContext.open(url)
    estate.import_estate(ctx, generator.generate(vms=2, vnets=1, seed=3, subscription_id=OTHER_SUB), source="gen")
    ctx.close()
    out = cli(url, "sp", "create", "--subscription", OTHER_SUB, "--json")
    assert out.returncode == 0, out.stderr
    sp = json.loads(out.stdout)
    assert sp["tenant"] == ids.tenant_id(OTHER_SUB) and sp["appId"] and sp["password"]
    ctx = AppContext.open(url)
    try:
        assert entra.token(ctx, sp["tenant"], token_form(sp["appId"], sp["password"]))["access_token"]
        with pytest.raises(entra.EntraError):
            entra.token(ctx, sp["tenant"], token_form(sp["appId"], sp["password"][:-1]))
    finally:
        ctx.close()
    missing = cli(url, "sp", "create", "--subscription", "nope")
    assert missing.returncode == 1 and "nope" in missing.stderr and "Traceback" not in missing.stderr
