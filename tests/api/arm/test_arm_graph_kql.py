"""Resource Graph's KQL: the duckdb-kql adapter (`api/graph/kql.py`) on small tables, every operator the
brief lists, errors as `InvalidQuery`, and the endpoint over the real estate (both models)."""

from __future__ import annotations

from typing import Any

import pytest
from arm_env import SUB, Env

from classic2arm.api.graph import kql

ROWS: list[dict[str, Any]] = [
    {"id": "/s/1", "name": "vm-a", "type": "microsoft.classiccompute/virtualmachines", "location": "eastus",
     "resourceGroup": "cs1", "subscriptionId": "s", "properties": {"x": 3, "hardwareProfile": {"size": "Small"},
                                                                   "instanceView": {"status": "ReadyRole"}},
     "tags": {"env": "prod"}},
    {"id": "/s/2", "name": "vm-b", "type": "microsoft.classiccompute/virtualmachines", "location": "westus",
     "resourceGroup": "cs2", "subscriptionId": "s", "properties": {"x": 5, "hardwareProfile": {"size": "Large"},
                                                                   "instanceView": {"status": "StoppedVM"}},
     "tags": {}},
    {"id": "/s/3", "name": "net-main", "type": "microsoft.classicnetwork/virtualnetworks", "location": "westus",
     "resourceGroup": "default-networking", "subscriptionId": "s", "properties": {"x": 7}, "tags": {}},
    {"id": "/s/4", "name": "vm-c", "type": "microsoft.compute/virtualmachines", "location": "eastus",
     "resourceGroup": "cs1-migrated", "subscriptionId": "s", "properties": {"x": 1}, "tags": {"env": "dev"}},
]
TABLES = {"resources": ROWS, "resourcecontainers": []}


def run(query: str) -> list[dict[str, Any]]:
    result = kql.run(TABLES, query)
    names = [c.name for c in result.columns]
    return [dict(zip(names, r, strict=True)) for r in result.rows]


def names(query: str) -> list[str]:
    return [r["name"] for r in run(query)]


@pytest.mark.parametrize(("query", "expected"), [
    ('resources | where type == "microsoft.classiccompute/virtualmachines" | project name | order by name asc',
     ["vm-a", "vm-b"]),
    ("resources | where type != 'microsoft.classiccompute/virtualmachines' | order by name asc", ["net-main", "vm-c"]),
    ("resources | where type =~ 'Microsoft.ClassicCompute/VirtualMachines' | order by name asc", ["vm-a", "vm-b"]),
    ("resources | where type !~ 'Microsoft.ClassicCompute/VirtualMachines' | order by name asc",
     ["net-main", "vm-c"]),
    ("resources | where properties.x < 5 | order by name asc", ["vm-a", "vm-c"]),
    ("resources | where properties.x > 5", ["net-main"]),
    ("resources | where name contains 'VM-' | order by name asc", ["vm-a", "vm-b", "vm-c"]),
    ("resources | where name !contains 'vm' ", ["net-main"]),
    ("resources | where name has 'main'", ["net-main"]),
    ("resources | where type startswith 'microsoft.classic' | order by name asc", ["net-main", "vm-a", "vm-b"]),
    ("resources | where name endswith '-b'", ["vm-b"]),
    ("resources | where location in ('eastus') | order by name asc", ["vm-a", "vm-c"]),
    ("resources | where location in~ ('EASTUS') | order by name asc", ["vm-a", "vm-c"]),
    ("resources | where location == 'westus' and properties.x == 5 or name == 'vm-c' | order by name asc",
     ["vm-b", "vm-c"]),
    ("resources | where not(location == 'westus') | order by name asc", ["vm-a", "vm-c"]),
    ("resources | where properties.hardwareProfile.size == 'Small'", ["vm-a"]),
    ("resources | where properties['hardwareProfile']['size'] == 'Large'", ["vm-b"]),
    ("resources | where tags.env == 'prod'", ["vm-a"]),
    ("resources | order by name desc | take 2", ["vm-c", "vm-b"]),
    ("resources | sort by name asc | limit 1", ["net-main"]),
    ("resources | top 1 by properties.x desc", ["net-main"]),
    ("where type =~ 'microsoft.classicnetwork/virtualnetworks'", ["net-main"]),  # leading table omitted
    ("Resources | where name == 'vm-a'", ["vm-a"]),
])
def test_operators(query: str, expected: list[str]) -> None:
    assert names(query) == expected


def test_project_extend_and_functions() -> None:
    rows = run("resources | where name == 'vm-a' | extend status = tostring(properties.instanceView.status), "
               "up = toupper(name), low = tolower('ABC') | project name, status, up, low, size = "
               "properties.hardwareProfile.size")
    assert rows == [{"name": "vm-a", "status": "ReadyRole", "up": "VM-A", "low": "abc", "size": "Small"}]
    away = run("resources | take 1 | project-away properties, tags, sku, plan, identity, zones, extendedLocation")
    assert "properties" not in away[0] and "name" in away[0]
    whole = run("resources | where name == 'vm-a' | project properties, tags")
    assert whole == [{"properties": ROWS[0]["properties"], "tags": {"env": "prod"}}]


def test_summarize_and_count() -> None:
    assert run("resources | summarize count() by type | order by type asc") == [
        {"type": "microsoft.classiccompute/virtualmachines", "count_": 2},
        {"type": "microsoft.classicnetwork/virtualnetworks", "count_": 1},
        {"type": "microsoft.compute/virtualmachines", "count_": 1}]
    assert run("resources | where type startswith 'microsoft.classic' | summarize n = count() by location "
               "| order by n desc, location asc") == [{"location": "westus", "n": 2}, {"location": "eastus", "n": 1}]
    assert run("resources | count") == [{"Count": 4}]
    assert run("resources | summarize count()") == [{"count_": 4}]


@pytest.mark.parametrize("query", [
    "", "   ", "1 + 1", "resources | wherex name == 'a'", "resources | where", "nosuchtable | take 1",
    "resources | project nosuchcolumn", ".drop table resources", "resources | where name == 'unterminated",
    "externaldata (x:string) ['/etc/passwd']", "resources | take 1 | evaluate nosuchplugin()", "x" * 30_000,
])
def test_errors_are_query_errors(query: str) -> None:
    with pytest.raises(kql.QueryError) as err:
        kql.run(TABLES, query)
    assert err.value.message


def test_runaway_query_is_interrupted() -> None:
    many = [{**ROWS[0], "id": f"/s/{i}", "name": f"vm{i}"} for i in range(3000)]
    with pytest.raises(kql.QueryError, match="ran for more than"):
        kql.run({"resources": many}, "resources | join kind=inner (resources) on type "
                                     "| join kind=inner (resources) on type | summarize count()", timeout=0.5)


@pytest.mark.parametrize("query", ["range x from 1 to 3000000000 step 1", "print 1",
                                   "resources | join (datatable(a:int)[1]) on $left.x == $right.a",
                                   "resources | evaluate bag_unpack(properties)"])
def test_unbounded_sources_refused_before_running(query: str) -> None:
    with pytest.raises(kql.QueryError, match="not supported"):
        kql.run(TABLES, query)


def test_keywords_inside_strings_are_data() -> None:
    assert names("resources | where name != 'range print' | where name == 'vm-a'") == ["vm-a"]


def graph(env: Env, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    with env.client() as client:
        resp = client.post("/providers/Microsoft.ResourceGraph/resources", params={"api-version": "2021-03-01"},
                           json=body)
    return resp.status_code, resp.json()


def test_endpoint_over_both_models(arm: Env) -> None:
    status, body = graph(arm, {"subscriptions": [SUB], "query": (
        "resources | where type in~ ('microsoft.classiccompute/virtualmachines', "
        "'microsoft.compute/virtualmachines') | summarize n = count() by type | order by type asc")})
    assert status == 200 and body["resultTruncated"] == "false" and body["facets"] == []
    counts = {r["type"]: r["n"] for r in body["data"]}
    assert counts["microsoft.classiccompute/virtualmachines"] == 60 and counts["microsoft.compute/virtualmachines"]
    status, body = graph(arm, {"query": "resourcecontainers | where name =~ 'default-networking' | project type",
                               "options": {"resultFormat": "table"}})
    assert status == 200 and body["data"]["columns"] == [{"name": "type", "type": "string"}]
    assert body["data"]["rows"] == [["microsoft.resources/subscriptions/resourcegroups"]]
    status, body = graph(arm, {"query": "resources | extend status = tostring(properties.instanceView.status) "
                                        "| where type == 'microsoft.classiccompute/virtualmachines' "
                                        "| summarize count() by status"})
    assert status == 200 and sum(r["count_"] for r in body["data"]) == 60


@pytest.mark.parametrize("body", [
    {"query": "resources | wherex"}, {"query": 5}, {}, {"query": "resources", "options": {"$top": 0}},
    {"query": "resources", "options": {"resultFormat": "csv"}}, {"query": "resources", "options": {"$skipToken": "@"}},
])
def test_endpoint_errors(arm: Env, body: dict[str, Any]) -> None:
    status, out = graph(arm, body)
    assert status == 400 and out["error"]["code"] in ("BadRequest", "InvalidRequestContent")
    if body.get("query") == "resources | wherex":
        assert out["error"]["details"][0]["code"] == "InvalidQuery"
