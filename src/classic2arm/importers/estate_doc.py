"""The native estate document (YAML or JSON): every modelled feature, nested as a person writes it.

    classic2arm: estate/v1
    subscription: {id: ..., registered_for_migration: true}
    hosted_services:
      - name: cs1
        location: West US
        deployments:
          - name: cs1
            virtual_network_name: vnet1
            roles: [{name: vm1, size: Small, subnet_names: [web]}]
    virtual_networks: [...]
    storage_accounts: [...]
    arm_resources: [...]          # ARM resources in ARM's JSON shape

Deployments and roles take their service/deployment names from where they are nested.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..domain import classic as c
from ..domain.arm import ArmResource
from ..domain.estate import Estate
from .errors import InputError

FORMAT = "estate/v1"
MAX_BYTES = 200 * 1024 * 1024

_FLAT: dict[str, type[BaseModel]] = {
    "affinity_groups": c.AffinityGroup,
    "virtual_networks": c.VirtualNetworkSite,
    "local_network_sites": c.LocalNetworkSite,
    "storage_accounts": c.StorageAccount,
    "disks": c.Disk,
    "os_images": c.OSImage,
    "vm_images": c.VMImage,
    "reserved_ips": c.ReservedIP,
    "network_security_groups": c.NetworkSecurityGroup,
    "route_tables": c.RouteTable,
    "express_route_circuits": c.ExpressRouteCircuit,
    "role_assignments": c.RoleAssignment,
}
_KEYS = {"classic2arm", "subscription", "hosted_services", "arm_resources", *_FLAT}


MAX_DEPTH = 100  # an estate document nests about 8 levels; PyYAML's composer recurses once per level


class _NoAliasLoader(yaml.SafeLoader):
    """YAML anchors/aliases are how 'billion laughs' works in YAML; an estate never needs them. Nesting is
    bounded too: 50,000 levels would exhaust the interpreter's stack (a RecursionError, not bad input)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError(f"aliases are not allowed (line {event.start_mark.line + 1})")
        if self._depth >= MAX_DEPTH:
            raise yaml.YAMLError(f"nested more than {MAX_DEPTH} levels deep (line {event.start_mark.line + 1})")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _parse(data: bytes, name: str) -> dict[str, Any]:
    if len(data) > MAX_BYTES:
        raise InputError(name, "document", f"larger than {MAX_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(name, f"byte {exc.start}", "not valid UTF-8") from None
    try:
        doc = orjson.loads(text) if text.lstrip().startswith("{") else yaml.load(text, Loader=_NoAliasLoader)
    except orjson.JSONDecodeError as exc:
        raise InputError(name, f"line {exc.lineno} column {exc.colno}", f"malformed JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        raise InputError(name, "document", f"malformed YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise InputError(name, "document", "an estate document is a mapping at the top level")
    return doc


def _loc(prefix: str, err: ErrorDetails) -> str:
    parts = [prefix]
    for p in err["loc"]:
        parts.append(f"[{p}]" if isinstance(p, int) else f".{p}")
    return "".join(parts)


def _validate(model: type[BaseModel], value: Any, name: str, where: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(name, _loc(where, first), first["msg"]) from None


def _list(doc: dict[str, Any], key: str, name: str) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise InputError(name, key, "must be a list")
    return value


def load(data: bytes, name: str) -> Estate:
    doc = _parse(data, name)
    if doc.get("classic2arm") != FORMAT:
        raise InputError(name, "classic2arm", f"unsupported estate format {doc.get('classic2arm')!r}; "
                                              f"expected {FORMAT!r}")
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise InputError(name, unknown[0], "unknown section")
    estate = Estate()
    if doc.get("subscription") is not None:
        estate.subscription = _validate(c.Subscription, doc["subscription"], name, "subscription")
    for key, model in _FLAT.items():
        items = getattr(estate, key)
        for i, item in enumerate(_list(doc, key, name)):
            items.append(_validate(model, item, name, f"{key}[{i}]"))
    for i, hs_doc in enumerate(_list(doc, "hosted_services", name)):
        where = f"hosted_services[{i}]"
        if not isinstance(hs_doc, dict):
            raise InputError(name, where, "must be a mapping")
        hs_doc = dict(hs_doc)
        deps = hs_doc.pop("deployments", None) or []
        hs = _validate(c.HostedService, hs_doc, name, where)
        estate.hosted_services.append(hs)
        for j, dep_doc in enumerate(deps):
            dwhere = f"{where}.deployments[{j}]"
            if not isinstance(dep_doc, dict):
                raise InputError(name, dwhere, "must be a mapping")
            dep_doc = {"service_name": hs.name, **dep_doc}
            roles = dep_doc.pop("roles", None) or []
            dep = _validate(c.Deployment, dep_doc, name, dwhere)
            estate.deployments.append(dep)
            for k, role_doc in enumerate(roles):
                rwhere = f"{dwhere}.roles[{k}]"
                if not isinstance(role_doc, dict):
                    raise InputError(name, rwhere, "must be a mapping")
                role = {"service_name": hs.name, "deployment_name": dep.name, **role_doc}
                estate.roles.append(_validate(c.Role, role, name, rwhere))
    for i, res in enumerate(_list(doc, "arm_resources", name)):
        estate.arm_resources.append(_validate(ArmResource, res, name, f"arm_resources[{i}]"))
    return estate


def dump(estate: Estate) -> dict[str, Any]:
    """The estate as a document `load` reads back to the same resources."""
    out: dict[str, Any] = {"classic2arm": FORMAT}
    if estate.subscription is not None:
        out["subscription"] = estate.subscription.model_dump(mode="json")
    roles_by_dep: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for role in estate.roles:
        d = role.model_dump(mode="json", exclude={"service_name", "deployment_name"})
        roles_by_dep.setdefault((role.service_name.lower(), role.deployment_name.lower()), []).append(d)
    deps_by_svc: dict[str, list[dict[str, Any]]] = {}
    for dep in estate.deployments:
        d = dep.model_dump(mode="json", exclude={"service_name"})
        d["roles"] = roles_by_dep.get((dep.service_name.lower(), dep.name.lower()), [])
        deps_by_svc.setdefault(dep.service_name.lower(), []).append(d)
    out["hosted_services"] = []
    for hs in estate.hosted_services:
        d = hs.model_dump(mode="json")
        d["deployments"] = deps_by_svc.get(hs.name.lower(), [])
        out["hosted_services"].append(d)
    for key in _FLAT:
        out[key] = [obj.model_dump(mode="json") for obj in getattr(estate, key)]
    out["arm_resources"] = [r.stored() for r in estate.arm_resources]  # (a migrated account's blobs too)
    return out


def dumps(estate: Estate, fmt: str = "yaml") -> bytes:
    doc = dump(estate)
    if fmt == "json":
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
