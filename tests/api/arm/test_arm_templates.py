# The SDK models type every field Optional; the asserts here check presence at run time.
# mypy: disable-error-code="union-attr,arg-type,index,attr-defined"
"""Round trip through the real azure-mgmt-resource client: prepare and commit a VNet whose deployments have
load balancers, public IPs, NSGs and a route table; export each of its resource groups
(`resource_groups.begin_export_template`); the template validates against the official schemas; deploy it into
an empty group (`deployments.begin_create_or_update`): the new group's resources equal the exported ones in type,
name and properties (ids aside); what-if of the same template on either group reports no change; validate,
get, list and operations of deployments; template errors answered clearly."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from arm_env import SUB, Env
from arm_sdk import make
from arm_server import serve
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.deployments.models import (
    Deployment,
    DeploymentProperties,
    DeploymentWhatIf,
    DeploymentWhatIfProperties,
)
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.models import ExportTemplateRequest

from classic2arm.domain import arm as armt
from classic2arm.domain import classic as c
from classic2arm.domain import generator, templates
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import arm_reads, clock, credentials, estate, migration, world_clock
from classic2arm.service.context import AppContext

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "domain"))
from test_translate_schema import BASE, arm_validator  # noqa: F401  (the schema validator fixture)

ROUTE_TABLE = "rt-apps"


def the_estate() -> tuple[Any, str]:
    """A generated estate whose biggest VNet has a route table on its first subnet."""
    e = generator.generate(vms=24, vnets=1, seed=11, blockers=0.0)
    vnet = e.virtual_networks[0]
    e.route_tables.append(c.RouteTable(name=ROUTE_TABLE, location=vnet.location, routes=[
        c.Route(name="to-fw", address_prefix="0.0.0.0/0", next_hop_type="VirtualAppliance",
                next_hop_ip_address=vnet.subnets[0].address_prefix.split("/")[0][:-1] + "4")]))
    vnet.subnets[0].route_table = ROUTE_TABLE
    return e, vnet.name


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("templates")
    ctx = AppContext.open(f"sqlite:///{folder / 'arm.db'}")
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    e, vnet = the_estate()
    estate.import_estate(ctx, e, source="gen")
    scoped = AppContext(ctx.store, SUB)
    ref = UnitRef(UnitKind.VNET, vnet)
    for op in (Op.PREPARE, Op.COMMIT):
        assert migration.execute(scoped, op, ref).status == "Succeeded"
    token, _ = credentials.create_token(ctx, SUB)
    with serve(ctx, folder, tls=True) as running:
        yield Env(ctx, running.base_url, token, "", running.ca_path, ref)
    ctx.close()


def groups_of(env: Env) -> dict[str, set[str]]:
    page = arm_reads.list_resources(AppContext(env.ctx.store, SUB), SUB, classic=False, include_children=True)
    out: dict[str, set[str]] = {}
    for r in page.items:
        out.setdefault(r["id"].split("/")[4], set()).add(r["type"])
    return out


def comparable_group(env: Env, rg: str) -> dict[tuple[str, str], Any]:
    page = arm_reads.list_resources(AppContext(env.ctx.store, SUB), SUB, resource_group=rg, classic=False,
                                    include_children=True)
    pattern = re.compile(re.escape(f"/resourceGroups/{rg}/"), re.IGNORECASE)
    out = {}
    for r in page.items:
        if r["type"] == armt.SUBNET:
            continue  # (inline in their VNet)
        doc = templates.comparable(r["type"], r)
        text = pattern.sub("/resourceGroups/{rg}/", json.dumps({k: doc.get(k) for k in (
            "location", "tags", "sku", "kind", "properties")}, sort_keys=True))
        out[(r["type"], r["name"])] = json.loads(text)
    return out


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {json.dumps(a)[:150]} != {json.dumps(b)[:150]}"]


def test_round_trip(env: Env, arm_validator: Any) -> None:  # noqa: F811
    client = make(ResourceManagementClient, env, SUB)
    deployer = make(DeploymentsMgmtClient, env, SUB)
    groups = groups_of(env)
    # the VNet's group holds the VNet and its NSG/route table clones; a cloud service's the VMs, NICs, LB, PIPs
    source = max((rg for rg, types in groups.items() if armt.LOAD_BALANCER in types),
                 key=lambda rg: len(groups[rg]))
    vnet_rg = next(rg for rg, types in groups.items() if armt.VNET in types)
    assert {armt.ROUTE_TABLE, armt.NSG} <= groups[vnet_rg]
    assert {armt.VM, armt.NIC, armt.PUBLIC_IP, armt.LOAD_BALANCER} <= groups[source]
    validator = arm_validator({"$ref": BASE + "schemas/2019-04-01/deploymentTemplate.json#"})
    for rg in (vnet_rg, source):
        exported = client.resource_groups.begin_export_template(rg, ExportTemplateRequest(resources=["*"])).result()
        template = exported.template
        errors = list(validator.iter_errors(template))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:5])
        if rg == source:
            assert exported.error is not None and exported.error.details  # the VHDs it points at, not copies
        target = f"copy-of-{rg}"
        client.resource_groups.create_or_update(target, {"location": "westus"})
        poller = deployer.deployments.begin_create_or_update(target, "roundtrip", Deployment(
            properties=DeploymentProperties(mode="Incremental", template=template)))
        done = poller.result()
        assert done.properties.provisioning_state == "Succeeded"
        assert len(done.properties.output_resources) == len(template["resources"])
        got, want = comparable_group(env, target), comparable_group(env, rg)
        assert got.keys() == want.keys()
        for key in want:
            assert got[key] == want[key], (key, differences(got[key], want[key])[:5])
        for where in (target, rg):
            what = deployer.deployments.begin_what_if(where, "check", DeploymentWhatIf(
                properties=DeploymentWhatIfProperties(mode="Incremental", template=template))).result()
            kinds = {ch.change_type for ch in what.changes if ch.change_type != "Ignore"}
            assert kinds == {"NoChange"}, [(ch.resource_id, ch.delta) for ch in what.changes
                                           if ch.change_type not in ("NoChange", "Ignore")][:3]
        listed = [d.name for d in deployer.deployments.list_by_resource_group(target)]
        assert listed == ["roundtrip"]
        ops = list(deployer.deployment_operations.list(target, "roundtrip"))
        assert len(ops) == len(template["resources"])
        assert all(o.properties.provisioning_state == "Succeeded" for o in ops)


def test_validate_and_template_errors(env: Env) -> None:
    client = make(ResourceManagementClient, env, SUB)
    deployer = make(DeploymentsMgmtClient, env, SUB)
    client.resource_groups.create_or_update("tpl-errors", {"location": "westus"})
    template = {
        "$schema": templates.SCHEMA, "contentVersion": "1.0.0.0",
        "parameters": {"prefix": {"type": "string", "defaultValue": "web"}, "count": {"type": "int"}},
        "variables": {"space": "10.50.0.0/16"},
        "resources": [
            {"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2016-03-30",
             "name": "[concat(parameters('prefix'), '-pip-', copyIndex())]", "location": "[resourceGroup().location]",
             "copy": {"name": "pips", "count": "[parameters('count')]"},
             "properties": {"publicIPAllocationMethod": "Static",
                            "dnsSettings": {"domainNameLabel": "[concat(parameters('prefix'), uniqueString("
                                                               "resourceGroup().id), copyIndex())]"}}},
            {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2016-03-30",
             "name": "[format('{0}-vnet', parameters('prefix'))]", "location": "westus", "dependsOn": ["pips"],
             "properties": {"addressSpace": {"addressPrefixes": ["[variables('space')]"]},
                            "subnets": [{"name": "a", "properties": {"addressPrefix": "10.50.1.0/24"}}]}},
        ],
        "outputs": {"fqdn": {"type": "string", "value": "[reference(resourceId('Microsoft.Network/"
                                                        "publicIPAddresses', 'web-pip-1')).dnsSettings."
                                                        "domainNameLabel]"}},
    }
    params = {"count": {"value": 2}}
    checked = deployer.deployments.begin_validate("tpl-errors", "v1", Deployment(properties=DeploymentProperties(
        mode="Incremental", template=template, parameters=params))).result()
    assert {r.id.rsplit("/", 1)[1] for r in checked.properties.validated_resources} == {
        "web-pip-0", "web-pip-1", "web-vnet"}
    assert list(client.resources.list_by_resource_group("tpl-errors")) == []  # validate writes nothing
    done = deployer.deployments.begin_create_or_update("tpl-errors", "d1", Deployment(properties=DeploymentProperties(
        mode="Incremental", template=template, parameters=params))).result()
    assert done.properties.outputs["fqdn"]["value"].startswith("web") and len(done.properties.output_resources) == 3
    vnet = client.resources.get_by_id(done.properties.output_resources[2].id, api_version="2016-03-30")
    assert vnet.properties["addressSpace"]["addressPrefixes"] == ["10.50.0.0/16"]
    bad = {**template, "resources": [{**template["resources"][1], "name": "[listKeys('x', '1')]"}]}
    with pytest.raises(HttpResponseError) as err:
        deployer.deployments.begin_create_or_update("tpl-errors", "d2", Deployment(properties=DeploymentProperties(
            mode="Incremental", template=bad, parameters=params))).result()
    assert err.value.status_code == 400 and "'listKeys' is not supported" in str(err.value.message)
    with pytest.raises(HttpResponseError) as err:
        deployer.deployments.begin_create_or_update("tpl-errors", "d3", Deployment(properties=DeploymentProperties(
            mode="Incremental", template=template))).result()
    assert "'count' is not provided" in str(err.value.message)
    failed = deployer.deployments.get("tpl-errors", "d3")
    assert failed.properties.provisioning_state == "Failed"
    unknown = {**template, "resources": [{"type": "Microsoft.Web/sites", "apiVersion": "2020-01-01", "name": "x",
                                          "location": "westus", "properties": {}}]}
    with pytest.raises(HttpResponseError) as err:
        deployer.deployments.begin_create_or_update("tpl-errors", "d4", Deployment(properties=DeploymentProperties(
            mode="Incremental", template=unknown, parameters=params))).result()
    assert err.value.status_code == 400 and "Microsoft.Web" in str(err.value.message)
    # nothing of a failed deployment stays
    assert {r.name for r in client.resources.list_by_resource_group("tpl-errors")} == {
        "web-pip-0", "web-pip-1", "web-vnet"}
