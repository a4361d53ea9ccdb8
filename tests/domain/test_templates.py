"""Template export (domain/templates.py) over what translate() produces: valid against the official
deploymentTemplate schema (offline, through test_translate_schema's validator), name parameters, `[resourceId()]`
references, dependsOn from them (acyclic), no read-only properties, warnings for what is not carried."""

from __future__ import annotations

import json
from typing import Any

from test_translate_schema import BASE, SAMPLES, _schema_doc, arm_validator  # noqa: F401  (fixture)

from classic2arm.domain import arm, templates


def by_group() -> dict[str, list[dict[str, Any]]]:
    """The samples by resource group, one of each id (several sample units share groups)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in SAMPLES:
        if r.resource_group and r.type != arm.RESOURCE_GROUP:
            out.setdefault(r.resource_group, {})[r.id.lower()] = r.to_json()
    return {rg: list(items.values()) for rg, items in out.items()}


def biggest() -> tuple[str, list[dict[str, Any]]]:
    """The group with VMs holding the most types."""
    return max(((rg, items) for rg, items in by_group().items() if any(r["type"] == arm.VM for r in items)),
               key=lambda kv: len({r["type"] for r in kv[1]}))


def test_export_valid_against_the_schema(arm_validator: Any) -> None:  # noqa: F811
    rg, resources = biggest()
    exported = templates.export(rg, resources)
    t = exported.template
    assert t["$schema"] == templates.SCHEMA
    _, schema = _schema_doc("schemas/2019-04-01/deploymentTemplate.json#")
    errors = list(arm_validator({"$ref": BASE + "schemas/2019-04-01/deploymentTemplate.json#"}).iter_errors(t))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:5])
    broken = {**t, "resources": [{**t["resources"][0], "apiVersion": 2016}]}
    assert not arm_validator(schema).is_valid(broken)


def test_parameters_references_and_depends_on() -> None:
    rg, resources = biggest()
    t = templates.export(rg, resources).template
    top = [r for r in resources if r["type"].count("/") == 1]
    assert len(t["parameters"]) >= len(top)
    for p in t["parameters"].values():
        assert p["type"] == "string" and p["defaultValue"]
    text = json.dumps(t["resources"])
    assert "/subscriptions/" not in text  # every id became an expression (or an externalid parameter)
    for key in ('"provisioningState"', '"resourceGuid"', '"etag"'):
        assert key not in text
    names = {r["name"]: r for r in t["resources"]}
    # dependsOn name exported resources only, and form no cycle
    expr_of = {f"[resourceId('{r['type']}', {r['name'][1:-1]})]": r["name"] for r in t["resources"]
               if r["type"].count("/") == 1}
    graph = {r["name"]: [expr_of[d] for d in r.get("dependsOn", [])] for r in t["resources"]}
    assert any(graph.values())
    seen: dict[str, int] = {}

    def visit(n: str) -> None:
        assert seen.get(n) != 1, f"cycle through {n}"
        if seen.get(n) == 2:
            return
        seen[n] = 1
        for m in graph[n]:
            visit(m)
        seen[n] = 2

    for n in names:
        visit(n)
    vm = next(r for r in t["resources"] if r["type"] == arm.VM)
    nic_ref = vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
    assert nic_ref.startswith("[resourceId('Microsoft.Network/networkInterfaces', parameters('networkInterfaces_")
    assert nic_ref in vm["dependsOn"]
    assert vm["properties"]["storageProfile"]["osDisk"]["vhd"]["uri"].startswith("https://")


def test_warnings_and_skip_parameterization() -> None:
    rg, resources = biggest()
    classic = {"id": f"/subscriptions/s/resourceGroups/{rg}/providers/Microsoft.ClassicCompute/virtualMachines/x",
               "name": "x", "type": "Microsoft.ClassicCompute/virtualMachines", "properties": {}}
    done = templates.export(rg, [*resources, classic], parameterize=False)
    codes = {w.code for w in done.warnings}
    assert "ExportTemplateProviderError" in codes and "ExportTemplateUnmanagedDisks" in codes
    body = done.to_json()
    assert body["error"]["code"] == "ExportTemplateCompletedWithErrors"
    assert {d["target"] for d in body["error"]["details"]} >= {classic["id"]}
    t = done.template
    assert all("parameters(" not in r["name"] for r in t["resources"])
    assert not any(p.endswith("_name") for p in t["parameters"])
    assert all(r["type"] != classic["type"] for r in t["resources"])
