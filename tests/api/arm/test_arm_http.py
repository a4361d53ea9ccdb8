"""Wire details ARM clients rely on, checked with plain HTTP: api-version, error bodies, request ids,
case-insensitive paths, long-running-operation headers and their status URLs, paging, inline children."""

from __future__ import annotations

import httpx
from arm_env import SUB, Env

Q = {"api-version": "2024-07-01"}


def test_api_version_required_and_any_value_accepted(arm: Env) -> None:
    with arm.client() as client:
        missing = client.get(f"/subscriptions/{SUB}/resourcegroups")
        assert missing.status_code == 400
        assert missing.json()["error"]["code"] == "MissingApiVersionParameter"
        for version in ("2016-03-30", "2099-01-01-preview", "x"):
            assert client.get(f"/subscriptions/{SUB}/resourcegroups", params={"api-version": version}).status_code \
                == 200


def test_paths_are_case_insensitive_and_ids_carry_headers(arm: Env) -> None:
    with arm.client() as client:
        a = client.get(f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines", params=Q)
        b = client.get(f"/SUBSCRIPTIONS/{SUB}/PROVIDERS/microsoft.compute/VIRTUALMACHINES", params=Q)
        assert a.status_code == b.status_code == 200 and a.json() == b.json()
        vm = a.json()["value"][0]
        c = client.get(vm["id"].upper().replace(SUB.upper(), SUB), params=Q)
        assert c.status_code == 200 and c.json()["id"] == vm["id"]
        corr = "6b3c1f9e-8a55-4f6e-9d2c-1b2a3c4d5e6f"
        d = client.get(vm["id"], params=Q, headers={"x-ms-correlation-request-id": corr})
        assert d.headers["x-ms-correlation-request-id"] == corr and len(d.headers["x-ms-request-id"]) == 36


def test_error_bodies(arm: Env) -> None:
    with arm.client() as client:
        cases = {
            f"/subscriptions/{SUB}/resourceGroups/nope": (404, "ResourceGroupNotFound"),
            f"/subscriptions/{SUB}/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines/x":
                (404, "ResourceGroupNotFound"),
            f"/subscriptions/{SUB}/resourceGroups/Default-Networking/providers/Microsoft.Nope/things/x":
                (400, "NoRegisteredProviderFound"),
            f"/subscriptions/{SUB}/resourceGroups/Default-Networking/providers/Microsoft.Compute/nope/x":
                (404, "InvalidResourceType"),
            f"/subscriptions/{SUB}/providers/Microsoft.Nope": (404, "InvalidResourceNamespace"),
            f"/subscriptions/{SUB}/whatever": (404, "NotFound"),
        }
        for path, (status, code) in cases.items():
            resp = client.get(path, params=Q)
            assert (resp.status_code, resp.json()["error"]["code"]) == (status, code), path
            assert resp.json()["error"]["message"]
        bad = client.put(f"/subscriptions/{SUB}/resourcegroups/r1", params=Q, content=b"{not json",
                         headers={"content-type": "application/json"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidRequestContent"
        loc = client.put(f"/subscriptions/{SUB}/resourcegroups/r1", params=Q, json={"location": "moon"})
        assert loc.status_code == 400 and loc.json()["error"]["code"] == "LocationNotAvailableForResourceType"
        method = client.post(f"/subscriptions/{SUB}/resourcegroups", params=Q)
        assert method.status_code == 405 and method.json()["error"]["code"] == "MethodNotAllowed"


def test_long_running_operation_headers_point_at_served_status(fresh: Env) -> None:
    with fresh.client() as client:
        assert client.put(f"/subscriptions/{SUB}/resourcegroups/lro", params=Q,
                          json={"location": "westus"}).status_code == 201
        nsg = f"/subscriptions/{SUB}/resourceGroups/lro/providers/Microsoft.Network/networkSecurityGroups/n1"
        put = client.put(nsg, params=Q, json={"location": "westus", "properties": {"securityRules": [
            {"name": "r1", "properties": {"priority": 100, "access": "Allow", "direction": "Inbound"}}]}})
        assert put.status_code == 201 and put.json()["properties"]["provisioningState"] == "Succeeded"
        status = client.get(put.headers["Azure-AsyncOperation"])
        assert status.status_code == 200 and status.json()["status"] == "Succeeded"
        again = client.put(nsg, params=Q, json={"location": "westus", "properties": {}})
        assert again.status_code == 200
        rule = client.put(f"{nsg}/securityRules/r2", params=Q, json={"properties": {"priority": 200}})
        assert rule.status_code == 201 and rule.json()["type"].endswith("/securityRules")
        assert [r["name"] for r in client.get(f"{nsg}/securityRules", params=Q).json()["value"]] == ["r2"]
        assert client.get(f"{nsg}/securityRules/R2", params=Q).json()["properties"]["priority"] == 200
        patched = client.patch(nsg, params=Q, json={"tags": {"k": "v"}})
        assert patched.status_code == 200 and patched.json()["tags"] == {"k": "v"}
        assert patched.json()["properties"]["securityRules"][0]["name"] == "r2"
        deleted = client.delete(nsg, params=Q)
        assert deleted.status_code == 202
        assert client.get(deleted.headers["Location"]).status_code == 204
        assert client.get(deleted.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
        assert client.delete(nsg, params=Q).status_code == 204
        assert client.get(nsg, params=Q).status_code == 404
        assert client.head(f"/subscriptions/{SUB}/resourcegroups/lro", params=Q).status_code == 204
        rg_del = client.delete(f"/subscriptions/{SUB}/resourcegroups/lro", params=Q)
        assert rg_del.status_code == 202 and client.get(rg_del.headers["Location"]).status_code == 204
        assert client.head(f"/subscriptions/{SUB}/resourcegroups/lro", params=Q).status_code == 404


def test_classic_resources_visible_and_read_only(arm: Env) -> None:
    with arm.client() as client:
        listed = client.get(f"/subscriptions/{SUB}/providers/Microsoft.ClassicNetwork/virtualNetworks", params=Q)
        vnets = listed.json()["value"]
        assert vnets and all(v["type"] == "Microsoft.ClassicNetwork/virtualNetworks" for v in vnets)
        one = client.get(vnets[0]["id"], params=Q)
        assert one.status_code == 200 and one.json()["name"] == vnets[0]["name"]
        for method in ("PUT", "PATCH", "DELETE"):
            resp = client.request(method, vnets[0]["id"], params=Q, json={"location": "westus"})
            assert resp.status_code == 409 and resp.json()["error"]["code"] == "OperationNotAllowed", method
        storage = client.get(f"/subscriptions/{SUB}/providers/Microsoft.ClassicStorage/storageAccounts", params=Q)
        assert storage.status_code == 200 and storage.json()["value"]


def test_vm_list_pages_with_top_and_skiptoken(arm: Env) -> None:
    with arm.client() as client:
        url = f"/subscriptions/{SUB}/providers/Microsoft.ClassicCompute/virtualMachines"
        full = client.get(url, params=Q).json()
        assert "nextLink" not in full and len(full["value"]) == 60  # up to 1,000 per page
        seen: list[str] = []
        page = client.get(url, params={**Q, "$top": "25"}).json()
        while True:
            seen += [v["id"] for v in page["value"]]
            if "nextLink" not in page:
                break
            assert "api-version=" in page["nextLink"]
            page = httpx.get(page["nextLink"], headers={"Authorization": f"Bearer {arm.token}"}).json()
        assert seen == [v["id"] for v in full["value"]]
        bad = client.get(url, params={**Q, "$skiptoken": "!!!"})
        assert bad.status_code == 400


def test_openapi_document_describes_the_surface(arm: Env) -> None:
    doc = httpx.get(f"{arm.url}/openapi/arm.json").json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    vm = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/" \
         "virtualMachines/{name0}"
    assert {"get", "put", "patch", "delete", "head"} <= set(paths[vm])
    classic = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/" \
              "Microsoft.ClassicCompute/virtualMachines/{name0}"
    assert set(paths[classic]) == {"get", "head"}
    assert "post" in paths["/providers/Microsoft.ResourceGraph/resources"]
    assert "/subscriptions/{subscriptionId}/providers/{resourceProviderNamespace}/register" in paths
