"""Every resource translate() produces validates against the offline ARM template schemas.

The validator follows /work/shared/schemas/arm/README.md: every local schema registered under its `id`, every
unresolved `$ref` document stubbed with never-matching leaves (so only real schemas can match), a retrieve
hook that refuses the network, and a draft-04 validator whose `pattern` falls back to an ECMA-262 engine
(`regress`) for the one JavaScript-only pattern. It is built once per session.

Two checks per resource:
- JSON Schema validation against the resource definition its type and api-version select (what the
  template index's `oneOf` would pick), plus, marked slow, one full deploymentTemplate with one resource per type;
- a strict name check: the 2016 schemas leave objects open (no `additionalProperties: false`), so a misspelt
  property would pass validation; every key we emit must be declared by the schema, apart from the few
  read-only fields ARM returns on GET that the create schemas omit (listed below with the reason).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")
regress = pytest.importorskip("regress")

from jsonschema import validators  # noqa: E402
from jsonschema.exceptions import ValidationError  # noqa: E402
from referencing import Registry, Resource  # noqa: E402
from referencing.exceptions import NoSuchResource  # noqa: E402
from referencing.jsonschema import DRAFT4  # noqa: E402
from test_translate import (  # noqa: E402
    NOW,
    ONPREM,
    SUB,
    _gateway_site,
    _nsg,
    _rich_snapshot,
    cloud,
    dep_snap,
    ep,
    vm,
    vnet_snap,
)

from classic2arm.domain import arm  # noqa: E402
from classic2arm.domain import classic as c  # noqa: E402
from classic2arm.domain.arm import ArmResource  # noqa: E402
from classic2arm.domain.translate import translate  # noqa: E402
from classic2arm.domain.units import Destination, UnitKind, UnitRef, UnitSnapshot  # noqa: E402

SCHEMAS = Path(os.environ.get("ARM_SCHEMAS", "/work/shared/schemas/arm"))
BASE = "https://schema.management.azure.com/"
NEVER: dict[str, Any] = {"not": {}}
DRAFT4_URI = "http://json-schema.org/draft-04/schema"

# ARM type -> resource definition for the api-version arm.API_VERSIONS writes it with.
DEFINITIONS: dict[str, str] = {
    arm.VM: "schemas/2016-03-30/Microsoft.Compute.json#/resourceDefinitions/virtualMachines",
    arm.AVAILABILITY_SET: "schemas/2016-03-30/Microsoft.Compute.json#/resourceDefinitions/availabilitySets",
    arm.VM_EXTENSION: "schemas/2016-03-30/Microsoft.Compute.Extensions.json#/resourceDefinitions/"
                      "virtualMachines_extensions",
    arm.VNET: "schemas/2016-03-30/Microsoft.Network.NRP.json#/resourceDefinitions/virtualNetworks",
    arm.SUBNET: "schemas/2016-03-30/Microsoft.Network.NRP.json#/resourceDefinitions/virtualNetworks_subnets",
    arm.NIC: "schemas/2016-03-30/Microsoft.Network.NRP.json#/resourceDefinitions/networkInterfaces",
    arm.PUBLIC_IP: "schemas/2016-03-30/Microsoft.Network.NRP.json#/resourceDefinitions/publicIPAddresses",
    arm.LOAD_BALANCER: "schemas/2016-03-30/Microsoft.Network.NRP.json#/resourceDefinitions/loadBalancers",
    arm.NSG: "schemas/2016-03-30/Microsoft.Network.NRP.json#/resourceDefinitions/networkSecurityGroups",
    arm.ROUTE_TABLE: "schemas/2016-03-30/Microsoft.Network.NRP.json#/resourceDefinitions/routeTables",
    arm.VNET_GATEWAY: "schemas/2016-03-30/Microsoft.Network.NRP.json#/resourceDefinitions/virtualNetworkGateways",
    arm.LOCAL_GATEWAY: "schemas/2016-03-30/Microsoft.Network.NRP.json#/resourceDefinitions/localNetworkGateways",
    arm.CONNECTION: "schemas/2016-03-30/Microsoft.Network.NRP.json#/resourceDefinitions/connections",
    arm.STORAGE_ACCOUNT: "schemas/2016-01-01/Microsoft.Storage.json#/resourceDefinitions/storageAccounts",
    arm.KEY_VAULT: "schemas/2015-06-01/Microsoft.KeyVault.json#/resourceDefinitions/vaults",
    # Resource groups live at subscription scope, which the RG-scope template never reaches (README "Scope").
    arm.RESOURCE_GROUP: "schemas/2025-04-01/Microsoft.Resources.json#/subscription_resourceDefinitions/resourceGroups",
}

# Keys ARM returns on GET that the create-time schemas do not declare: (type, JSON path of the object) -> keys.
READ_ONLY: dict[tuple[str, str], set[str]] = {
    # Storage 2016-01-01 only describes create parameters; GETs add the endpoints, location and status.
    (arm.STORAGE_ACCOUNT, "properties"): {"primaryEndpoints", "primaryLocation", "statusOfPrimary",
                                          "creationTime", "provisioningState"},
    # Spec row 14 says reserved IPs become Basic-SKU public IPs; the sku field arrived after 2016-03-30.
    (arm.PUBLIC_IP, ""): {"sku"},
    # Every GET carries provisioningState; the Compute, KeyVault and Resources create schemas leave it out.
    (arm.VM, "properties"): {"provisioningState"},
    (arm.AVAILABILITY_SET, "properties"): {"provisioningState"},
    (arm.VM_EXTENSION, "properties"): {"provisioningState"},
    (arm.KEY_VAULT, "properties"): {"provisioningState"},
    (arm.RESOURCE_GROUP, "properties"): {"provisioningState"},
}


# --------------------------------------------------------------------------- validator set-up


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = re.search(pattern, instance) is not None
    except re.error:  # valid ECMA-262, not Python (README "ECMAScript regex")
        matched = regress.Regex(pattern).find(instance) is not None
    if not matched:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _stub_documents() -> dict[str, dict[str, Any]]:
    """One document per unresolved URL holding every pointer the refs name, each leaf never matching."""
    docs: dict[str, dict[str, Any]] = {}
    for line in (SCHEMAS / "unresolved-refs.txt").read_text().splitlines():
        if not line.startswith("http"):
            continue
        url, _, pointer = line.partition("#")
        node = docs.setdefault(url, {})
        parts = [p for p in pointer.split("/") if p]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = dict(NEVER)
    return docs


def _refuse(uri: str) -> Resource[Any]:
    raise NoSuchResource(uri)


@pytest.fixture(scope="session")
def arm_validator() -> Iterator[Any]:
    if not (SCHEMAS / "unresolved-refs.txt").exists():
        pytest.skip(f"ARM schemas not found under {SCHEMAS}")
    resources: list[tuple[str, Resource[Any]]] = []
    for path in sorted((SCHEMAS / "schemas").rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
        resources.append((doc["id"].rstrip("#"), DRAFT4.create_resource(doc)))
    resources += [(url, DRAFT4.create_resource(doc)) for url, doc in _stub_documents().items()]
    # referencing's attrs-generated __init__ is not visible to mypy, hence the ignore.
    registry: Registry[Any] = Registry(retrieve=_refuse).with_resources(resources)  # type: ignore[call-arg]
    cls = validators.extend(validators.Draft4Validator, {"pattern": _ecma_pattern})
    # jsonschema re-picks the class from each file's $schema when following a $ref; register ours for draft-04
    # for this session only, and put the stock class back afterwards.
    saved = dict(validators._META_SCHEMAS)
    validators.validates("draft4-ecma")(cls)
    try:
        yield lambda schema: cls(schema, registry=registry)
    finally:
        validators._META_SCHEMAS.clear()
        validators._META_SCHEMAS.update(saved)


def _schema_doc(ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
    path, _, pointer = ref.partition("#")
    doc = json.loads((SCHEMAS / path).read_text(encoding="utf-8-sig"))
    node = doc
    for part in pointer.split("/")[1:]:
        node = node[part]
    return doc, node


# --------------------------------------------------------------------------- resources under test


def template_form(r: ArmResource) -> dict[str, Any]:
    """The resource as a template would declare it: child types are named `parent/child`."""
    name = r.name
    if r.type.count("/") == 2:
        name = f"{r.parent_id.rsplit('/', 1)[1] if r.parent_id else ''}/{r.name}"
    out: dict[str, Any] = {"type": r.type, "apiVersion": arm.API_VERSIONS[r.type], "name": name}
    for key in ("location", "tags", "sku", "kind"):
        value = getattr(r, key)
        if value:
            out[key] = value
    out["properties"] = r.properties
    return out


def _samples() -> list[ArmResource]:
    """A spread of units covering every family: VNet with gateway and two services, deployments (New/Existing,
    reserved VIP, internal LB), storage and the standalone units."""
    out = translate(_rich_snapshot()).all()
    v2v = vnet_snap(vnet=_gateway_site(vpn_client_address_pool=["172.16.0.0/24"]), local_sites=ONPREM)
    out += translate(v2v, peer_vnets={"other": ["192.168.0.0/16"]}).all()
    vips = [c.VirtualIP(name="svcRContractContract", address="52.1.1.1", is_reserved=True, reserved_ip_name="rip")]
    ilb = c.InternalLoadBalancer(name="ilb")
    role = vm("vmr", "svcR", input_endpoints=[ep("SSH", 22), ep("SQL", 1433, load_balanced_endpoint_set_name="s",
                                                                   load_balancer_name="ilb")],
              boot_diagnostics=c.BootDiagnostics(enabled=True, storage_uri="https://d.blob.core.windows.net/"),
              computer_name="vmr", admin_username="root",
              os_disk=c.OSDisk(disk_name="os", media_link="https://a.blob.core.windows.net/v/os.vhd", os="Linux"))
    out += translate(dep_snap(cloud("svcR", role, certs=1, virtual_ips=vips, internal_load_balancers=[ilb]))).all()
    dest = Destination(kind="Existing", resource_group="rg", vnet="net", subnet="sn")
    out += translate(dep_snap(cloud("svcE", vm("vme", "svcE")), destination=dest)).all()
    sub = c.Subscription(id=SUB)
    for kind, name, extra in (
        (UnitKind.STORAGE, "acct", {"storage_account": c.StorageAccount(name="acct", location="West US",
                                                                        account_type="Standard_GRS", created=NOW)}),
        (UnitKind.RESERVED_IP, "rip2", {"reserved_ip": c.ReservedIP(name="rip2", address="1.2.3.4",
                                                                    location="West US")}),
        (UnitKind.NSG, "nsg1", {"nsg": _nsg(), "location": "West US"}),
        (UnitKind.ROUTE_TABLE, "rt", {"route_table": c.RouteTable(name="rt", location="West US", routes=[
            c.Route(name="r", address_prefix="0.0.0.0/0", next_hop_type="VirtualAppliance",
                    next_hop_ip_address="10.0.0.4")])}),
    ):
        out += translate(UnitSnapshot(subscription=sub, ref=UnitRef(kind, name), now=NOW, exists=True,
                                      **extra)).all()
    return out


SAMPLES = _samples()


def test_samples_cover_every_arm_type() -> None:
    assert {r.type for r in SAMPLES} == set(arm.ARM_TYPES)


@pytest.mark.parametrize("resource", SAMPLES, ids=lambda r: f"{r.type.split('/', 1)[1]}:{r.name}")
def test_resource_matches_its_schema(arm_validator: Any, resource: ArmResource) -> None:
    schema = {"$ref": BASE + DEFINITIONS[resource.type]}
    errors = sorted(arm_validator(schema).iter_errors(template_form(resource)), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors)


def test_validator_rejects_bad_resources(arm_validator: Any) -> None:
    """Guards the set-up: a permissive stub or a broken registry would let anything through."""
    vnet = template_form(next(r for r in SAMPLES if r.type == arm.VNET))
    schema = {"$ref": BASE + DEFINITIONS[arm.VNET]}
    assert arm_validator(schema).is_valid(vnet)
    bad_space = {**vnet, "properties": {**vnet["properties"], "addressSpace": "10.0.0.0/16"}}
    bad_version = {**vnet, "apiVersion": "2024-05-01"}
    rule = template_form(next(r for r in SAMPLES if r.type == arm.NSG))
    rule["properties"] = {"securityRules": [{"name": "x", "properties": {
        "protocol": "Icmp", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Allow",
        "direction": "Inbound"}}]}
    assert not arm_validator(schema).is_valid(bad_space)
    assert not arm_validator(schema).is_valid(bad_version)
    assert not arm_validator({"$ref": BASE + DEFINITIONS[arm.NSG]}).is_valid(rule)


# --------------------------------------------------------------------------- strict property names


class _Schemas:
    """Follows $ref/oneOf/anyOf/allOf across the local files; stubs (unresolved documents) are open."""

    def __init__(self) -> None:
        self.docs: dict[str, Any] = {}

    def doc(self, url: str) -> Any:
        if url not in self.docs:
            path = SCHEMAS / url.removeprefix(BASE)
            self.docs[url] = json.loads(path.read_text(encoding="utf-8-sig")) if path.exists() else None
        return self.docs[url]

    def alternatives(self, schema: Any, base: str, seen: frozenset[str] = frozenset()) -> list[tuple[Any, str]]:
        if not isinstance(schema, dict):
            return []
        if "$ref" in schema:
            url, _, pointer = schema["$ref"].partition("#")
            url = url or base
            key = f"{url}#{pointer}"
            node = self.doc(url)
            if node is None or key in seen:
                return []
            for part in pointer.split("/")[1:]:
                node = node[part]
            return self.alternatives(node, url, seen | {key})
        out = [(schema, base)]
        for kw in ("oneOf", "anyOf", "allOf"):
            for sub in schema.get(kw, []):
                out += self.alternatives(sub, base, seen)
        return out


def _unknown_keys(schemas: _Schemas, rtype: str, value: Any, alts: list[tuple[Any, str]], path: str) -> list[str]:
    if isinstance(value, list):
        items = [alt for s, b in alts if isinstance(s.get("items"), dict)
                 for alt in schemas.alternatives(s["items"], b)]
        return [x for v in value for x in _unknown_keys(schemas, rtype, v, items, path)]
    if not isinstance(value, dict):
        return []
    declared = [(s, b) for s, b in alts if "properties" in s]
    if not declared or any(s.get("additionalProperties") not in (None, False) for s, _ in alts):
        return []  # open object (extension settings, tags as a string map) or a stubbed schema
    allowed = {k for s, _ in declared for k in s["properties"]} | READ_ONLY.get((rtype, path), set())
    problems = [f"{path}.{k}" for k in value if k not in allowed]
    for k, v in value.items():
        subs = [alt for s, b in declared if k in s["properties"] for alt in schemas.alternatives(s["properties"][k], b)]
        problems += _unknown_keys(schemas, rtype, v, subs, f"{path}.{k}".lstrip("."))
    return problems


@pytest.mark.parametrize("rtype", sorted(arm.ARM_TYPES))
def test_property_names_are_declared(rtype: str) -> None:
    schemas = _Schemas()
    path, _, pointer = DEFINITIONS[rtype].partition("#")
    root = schemas.alternatives({"$ref": BASE + DEFINITIONS[rtype]}, BASE + path)
    assert root, pointer
    problems = sorted({p for r in SAMPLES if r.type == rtype
                       for p in _unknown_keys(schemas, rtype, template_form(r), root, "")})
    assert not problems, problems


def test_strict_check_catches_misspelt_names() -> None:
    schemas = _Schemas()
    path = DEFINITIONS[arm.NIC].partition("#")[0]
    root = schemas.alternatives({"$ref": BASE + DEFINITIONS[arm.NIC]}, BASE + path)
    nic = copy.deepcopy(template_form(next(r for r in SAMPLES if r.type == arm.NIC)))
    nic["properties"]["enableIpForwarding"] = True
    nic["properties"]["ipConfigurations"][0] = {"name": "x", "properties": {"privateIpAddress": "10.0.0.4"}}
    assert _unknown_keys(schemas, arm.NIC, nic, root, "") == [
        "properties.enableIpForwarding", "properties.ipConfigurations.properties.privateIpAddress"]


# --------------------------------------------------------------------------- full template (slow)


def test_full_deployment_template(arm_validator: Any) -> None:
    """One resource per type through deploymentTemplate.json itself, i.e. through the 23,700-branch index
    (about 1 s per resource, ~13 s here: under the 20 s bar for a `slow` mark). A broken copy must fail there
    too, proving the never-matching stubs keep the index from accepting anything."""
    per_type = {r.type: r for r in reversed(SAMPLES) if r.type != arm.RESOURCE_GROUP}
    template: dict[str, Any] = {"$schema": BASE + "schemas/2019-04-01/deploymentTemplate.json#",
                                "contentVersion": "1.0.0.0",
                                "resources": [template_form(r) for r in per_type.values()]}
    _, schema = _schema_doc("schemas/2019-04-01/deploymentTemplate.json#")
    validator = arm_validator(schema)
    errors = list(validator.iter_errors(template))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:200]}" for e in errors)
    broken = copy.deepcopy(template["resources"][0])
    broken["properties"] = "not an object"
    assert not validator.is_valid({**template, "resources": [broken]})
