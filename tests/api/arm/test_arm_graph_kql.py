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


# --------------------------------------------------------------------------- hostile queries (issue 11, item 1)

ISSUE_QUERY = ("resources | take 1 | extend a=@'\\' | union (range x from 1 to 100000000 step 1) "
               "| extend b=@'\\' | count")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("query", [
    ISSUE_QUERY,
    'resources | take 1 | extend a=@"\\" | union (range x from 1 to 100000000 step 1) | extend b=@"\\" | count',
    "resources | extend a='x' // ' \n| union (range x from 1 to 100000000 step 1) | count",
    "// leading comment\nrange x from 1 to 100000000 step 1",
    "resources | where name in ((range x from 1 to 100000000 step 1 | project tostring(x)))",
    "resources | lookup (print x = 1) on $left.name == $right.x",
    "resources | extend n = toscalar(resources | count)",
    "database('other').resources | take 1",
    "resources | union isfuzzy=true resourc*",
])
def test_hostile_sources_refused_from_the_parse(query: str) -> None:
    with pytest.raises(kql.QueryError, match="not supported") as err:
        kql.run(TABLES, query)
    assert not isinstance(err.value, kql.LimitExceeded)


def test_control_command_behind_a_comment_refused() -> None:
    with pytest.raises(kql.QueryError, match="Control commands"):
        kql.run(TABLES, "// setup\n.drop table resources")


def test_verbatim_strings_are_data() -> None:
    assert names("resources | where name != @'range x from 1 to 9 step 1\\' | where name == 'vm-a'") == ["vm-a"]
    assert names("// range\nwhere name == @'vm-a'") == ["vm-a"]


@pytest.mark.parametrize("query", [
    "resources | join (resources) on id | join (resources) on id | join (resources) on id "
    "| join (resources) on id",
    "resources | union resources, resources, resources, resources",
])
def test_resource_graph_operator_limits(query: str) -> None:
    with pytest.raises(kql.QueryError, match="at most 3"):
        kql.run(TABLES, query)


_MEMORY_BOUND = """
import resource, sys
from classic2arm.api.graph import kql
rows = [{"id": f"/s/{i}", "name": f"vm{i}"} for i in range(3000)]
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GB of address space for all of it
result = kql.run({"resources": rows}, sys.argv[1])
print(len(result.rows), max(len(r[-1]) for r in result.rows))
"""


@pytest.mark.timeout(120)
def test_strrep_is_capped_as_kusto_caps_it_within_bounded_memory() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _MEMORY_BOUND, "resources | extend a=strrep('a',100000000)"],
                         capture_output=True, text=True, timeout=110, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["3000", "1024"]  # 3,000 rows, each 'a' repeated 1024 times (Kusto's cap)


@pytest.mark.timeout(60)
def test_a_cell_grown_past_the_limit_is_cut() -> None:
    doubling = "resources | take 1 | extend a = strrep(name, 1024)" + " | extend a = strcat(a, a)" * 10
    with pytest.raises(kql.LimitExceeded) as err:
        kql.run(TABLES, doubling)
    assert err.value.code == "ResponsePayloadTooLarge"


def test_result_bytes_and_cells_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kql, "MAX_RESULT_BYTES", 5_000)
    with pytest.raises(kql.LimitExceeded, match="exceeded the limit of 5000") as err:
        kql.run(TABLES, "resources | extend a = strrep(name, 500)")
    assert err.value.code == "ResponsePayloadTooLarge"
    monkeypatch.setattr(kql, "MAX_CELLS", 6)
    result = kql.run(TABLES, "resources | project name, location | order by name asc")
    assert result.truncated and [r[0] for r in result.rows] == ["net-main", "vm-a", "vm-b"]


def test_busy_evaluator_answers_rate_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    slots = threading.BoundedSemaphore(1)
    monkeypatch.setattr(kql, "_SLOTS", slots)
    assert slots.acquire(timeout=5)
    try:
        with pytest.raises(kql.Busy):
            kql.run(TABLES, "resources | count", timeout=0.05)
    finally:
        slots.release()
    assert run("resources | count") == [{"Count": 4}]


@pytest.mark.timeout(120)
def test_endpoint_refuses_hostile_queries_in_arg_shape(arm: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    status, out = graph(arm, {"query": ISSUE_QUERY})
    assert status == 400 and out["error"]["code"] == "BadRequest"
    assert out["error"]["message"].startswith("Please provide below info when asking for support: timestamp = ")
    assert out["error"]["details"][0]["code"] == "InvalidQuery" and "range" in out["error"]["details"][1]["message"]
    monkeypatch.setattr(kql, "MAX_RESULT_BYTES", 5_000)
    status, out = graph(arm, {"query": "resources | extend a = strrep(name, 100000000)"})
    assert status == 400 and out["error"]["details"] == [
        {"code": "ResponsePayloadTooLarge", "message": out["error"]["details"][0]["message"]}]
    monkeypatch.undo()
    status, out = graph(arm, {"query": "resources | take 2 | extend a = strrep(name, 100000000) | project name, a"})
    assert status == 200 and len(out["data"]) == 2 and all(r["a"] == r["name"] * 1024 for r in out["data"])
