"""Issue 11: repeated query parameters are a 400; subscription ids compare case-insensitively and are stored in
one form; resource group and resource names follow ARM's character rules and ARM's case fold (ordinal,
ignore case: the Kelvin sign is not 'K')."""

from __future__ import annotations

from arm_env import OTHER_SUB, SUB, Env

Q = {"api-version": "2024-07-01"}
LOC = {"location": "westus"}
UPPER = OTHER_SUB.upper()  # '…0000000000BB': OTHER_SUB is the one with letters


def test_repeated_query_parameters_are_refused(fresh: Env) -> None:
    with fresh.client() as client:
        for query in ("api-version=2024-07-01&api-version=2016-01-01", "api-version=2024-07-01&API-VERSION=x",
                      "api-version=2024-07-01&$top=1&$top=2"):
            resp = client.get(f"/subscriptions/{SUB}/resourcegroups?{query}")
            assert resp.status_code == 400, resp.text
            assert resp.json()["error"]["code"] == "InvalidQueryParameter"
        put = client.put(f"/subscriptions/{SUB}/resourcegroups/dup-rg?api-version=1&api-version=2", json=LOC)
        assert put.status_code == 400
        assert client.get(f"/subscriptions/{SUB}/resourcegroups/dup-rg", params=Q).status_code == 404


def test_upper_case_subscription_id_is_the_same_subscription(fresh: Env) -> None:
    assert UPPER != OTHER_SUB
    with fresh.client(fresh.other_token) as client:
        lower_sub = client.get(f"/subscriptions/{OTHER_SUB}", params=Q)
        upper_sub = client.get(f"/subscriptions/{UPPER}", params=Q)
        assert upper_sub.status_code == lower_sub.status_code == 200, upper_sub.text
        assert upper_sub.json() == lower_sub.json()
        groups = client.get(f"/subscriptions/{OTHER_SUB}/resourcegroups", params=Q).json()["value"]
        assert groups and client.get(f"/subscriptions/{UPPER}/resourcegroups", params=Q).json()["value"] == groups
        vms = client.get(f"/subscriptions/{OTHER_SUB}/resources", params=Q).json()["value"]
        assert vms and client.get(f"/subscriptions/{UPPER}/resources", params=Q).json()["value"] == vms
        got = client.get(vms[0]["id"].replace(OTHER_SUB, UPPER), params=Q)
        assert got.status_code == 200 and got.json()["id"] == vms[0]["id"]

        put = client.put(f"/subscriptions/{UPPER}/resourcegroups/shouted-rg", params=Q, json=LOC)
        assert put.status_code == 201, put.text
        assert put.json()["id"] == f"/subscriptions/{OTHER_SUB}/resourceGroups/shouted-rg"
        after = client.get(f"/subscriptions/{OTHER_SUB}/resourcegroups", params=Q).json()["value"]
        assert "shouted-rg" in [g["name"] for g in after]
        assert client.get(f"/subscriptions/{OTHER_SUB}/resourcegroups/SHOUTED-RG", params=Q).status_code == 200
        again = client.put(f"/subscriptions/{OTHER_SUB}/resourcegroups/Shouted-RG", params=Q, json=LOC)
        assert again.status_code == 200 and again.json()["name"] == "shouted-rg"
        vnet = "resourceGroups/shouted-rg/providers/Microsoft.Network/virtualNetworks/loud"
        body = {**LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.8.0.0/16"]}}}
        made = client.put(f"/subscriptions/{UPPER}/{vnet}", params=Q, json=body)
        assert made.status_code == 201 and made.json()["id"] == f"/subscriptions/{OTHER_SUB}/{vnet}", made.text
        assert client.get(f"/subscriptions/{OTHER_SUB}/{vnet}", params=Q).json()["id"] == made.json()["id"]
    with fresh.client() as client:  # still another subscription's caller: refused, whatever the case
        assert client.get(f"/subscriptions/{UPPER}", params=Q).status_code == 403


def test_group_and_resource_names_follow_arm_rules(fresh: Env) -> None:
    with fresh.client() as client:
        assert client.put(f"/subscriptions/{SUB}/resourcegroups/ky", params=Q, json=LOC).status_code == 201
        kelvin = client.get(f"/subscriptions/{SUB}/resourcegroups/%E2%84%AAy", params=Q)
        assert kelvin.status_code == 400, kelvin.text
        assert kelvin.json()["error"]["code"] == "InvalidResourceGroup" and "U+212A" in kelvin.text
        assert client.put(f"/subscriptions/{SUB}/resourcegroups/%E2%84%AAy", params=Q, json=LOC).status_code == 400
        assert client.delete(f"/subscriptions/{SUB}/resourcegroups/%E2%84%AAy", params=Q).status_code == 400
        assert client.get(f"/subscriptions/{SUB}/resourcegroups/KY", params=Q).json()["name"] == "ky"
        for bad in ("rg%E2%80%AEgpj", "rg%E2%80%8Bx", "a%20b", "ends.", "x" * 91, "semi;colon"):
            resp = client.put(f"/subscriptions/{SUB}/resourcegroups/{bad}", params=Q, json=LOC)
            assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidResourceGroup", (bad, resp.text)
        names = [g["name"] for g in client.get(f"/subscriptions/{SUB}/resourcegroups", params=Q).json()["value"]]
        assert not any("\u202e" in n or "\u200b" in n or "\u212a" in n for n in names)
        for good in ("Rg_(1).x", "gr\u00fcn-gruppe"):
            assert client.put(f"/subscriptions/{SUB}/resourcegroups/{good}", params=Q, json=LOC).status_code == 201
        vnet = f"/subscriptions/{SUB}/resourcegroups/ky/providers/Microsoft.Network/virtualNetworks"
        body = {**LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}}
        for bad in ("v%E2%80%AEnet", "v%E2%80%8Bnet", "%E2%84%AAnet"):
            resp = client.put(f"{vnet}/{bad}", params=Q, json=body)
            assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidResourceName", resp.text
        assert client.put(f"{vnet}/knet", params=Q, json=body).status_code == 201
