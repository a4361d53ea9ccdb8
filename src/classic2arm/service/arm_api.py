"""Use cases that change what ARM shows: resource groups and ARM resources (PUT/PATCH/DELETE, locks checked by
`arm_writes`), child resources kept inline in their parent (subnets, security rules, routes, LB rules…), and
resource providers. Reads (addresses, listings, gets, Resource Graph rows) are `arm_reads.py`'s.

Every function takes the caller's subscription explicitly; the HTTP adapter has already authorised it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Final

from ..domain import arm as armt
from ..domain import catalogue as msg
from ..domain import identity as ids
from ..domain import vm_power
from ..domain.arm import ArmResource
from ..domain.locations import UnknownLocation, arm_name, display_name
from ..store import Tx
from . import arm_reads, arm_writes, providers
from .arm_reads import INLINE_CHILDREN, KNOWN_TYPES, ResourceAddress, canonical_type, check_type
from .context import AppContext
from .errors import NotFound, ServiceError

# Types that need a location on PUT (tracked resources); inline children take none.
TRACKED: Final = frozenset({
    armt.VM, armt.VM_EXTENSION, armt.AVAILABILITY_SET, armt.VNET, armt.NIC, armt.PUBLIC_IP, armt.LOAD_BALANCER,
    armt.NSG, armt.ROUTE_TABLE, armt.VNET_GATEWAY, armt.LOCAL_GATEWAY, armt.CONNECTION, armt.STORAGE_ACCOUNT,
    armt.KEY_VAULT,
})
WRITABLE: Final = TRACKED | frozenset(INLINE_CHILDREN)
_NAME_OK = re.compile(r"^[^\x00-\x1f\x7f<>%&:\\?/*#|]{1,260}$")


def check_name(name: str, what: str = "resource") -> None:
    if not _NAME_OK.match(name) or name.endswith((".", " ")):
        raise ServiceError("InvalidResourceName", f"The {what} name '{name[:80]}' is invalid.", 400)
    reason = ids.resource_name_problem(name)
    if reason:
        raise ServiceError(*msg.ARM_INVALID_RESOURCE_NAME.render(what=what, name=name[:80], reason=reason), 400)


def _location(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ServiceError("LocationRequired", "The location property is required for this definition.", 400)
    try:
        return arm_name(display_name(value))
    except UnknownLocation:
        raise ServiceError("LocationNotAvailableForResourceType",
                           f"The provided location '{value[:60]}' is not available for this resource type.",
                           400) from None


def _tags(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 50 or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 512 and len(v) <= 256
            for k, v in value.items()):
        raise ServiceError("InvalidTag", "Tags must be an object of at most 50 string name/value pairs.", 400)
    return dict(value)


def put_group(ctx: AppContext, sub: str, rg: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create or update a resource group: (its JSON, created?). One transaction: checked and written together."""
    arm_reads.check_group_name(rg)
    location, tags = _location(body.get("location")), _tags(body.get("tags"))
    with ctx.store.tx() as tx:
        existing = tx.resources.get(ids.resource_group_id(sub, rg))
        name = existing.name if existing else rg
        res = armt.resource_group(sub, name, location, tags)
        if existing is not None:
            old = armt.ArmResource.model_validate(existing.doc)
            if old.location and old.location != res.location:
                raise ServiceError("InvalidResourceGroupLocation",
                                   f"Invalid resource group location '{res.location}'. The Resource group already "
                                   f"exists in location '{old.location}' in resource group '{name}'.", 409)
        arm_writes.put_in(tx, res)
    return res.to_json(), existing is None


def patch_group(ctx: AppContext, sub: str, rg: str, body: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.tx() as tx:
        current = arm_reads.group_in(tx, sub, rg)
        tags = _tags(body["tags"]) if "tags" in body else current.get("tags")
        res = armt.resource_group(sub, current["name"], current["location"], tags)
        arm_writes.put_in(tx, res)
    return res.to_json()


def delete_group(ctx: AppContext, sub: str, rg: str) -> str:
    """Delete a resource group and everything in it; returns its location (for the operation URL)."""
    arm_reads.check_group_name(rg)
    with ctx.store.tx() as tx:
        row = tx.resources.get(ids.resource_group_id(sub, rg))
        if row is None:
            raise arm_reads.group_missing(rg)
        if tx.resources.query(sub, model=ids.CLASSIC, resource_group=rg, limit=1):
            raise ServiceError("OperationNotAllowed", f"Resource group '{row.name}' holds classic resources, which "
                                                      "are read-only through Azure Resource Manager.", 409)
        arm_writes.delete_in(tx, row.id)
    return row.location or "global"


# --------------------------------------------------------------------------- writes


def _refuse_classic(addr: ResourceAddress) -> None:
    if addr.is_classic:
        raise ServiceError("OperationNotAllowed", f"'{addr.full_type}' is a classic resource type; classic "
                                                  "resources are read-only through Azure Resource Manager.", 409)


def _writable_type(addr: ResourceAddress) -> str:
    check_type(addr)
    _refuse_classic(addr)
    rtype = canonical_type(addr.full_type)
    if rtype is None or rtype not in WRITABLE:
        raise ServiceError("MethodNotAllowed", f"The resource type '{addr.full_type}' does not support this "
                                               "operation.", 405)
    return rtype


def _build(addr: ResourceAddress, rtype: str, body: dict[str, Any], old: dict[str, Any] | None,
           group_name: str) -> ArmResource:
    props = body.get("properties", {})
    if not isinstance(props, dict):
        raise ServiceError("InvalidRequestContent", "The 'properties' of the request must be an object.", 400)
    sku, kind = body.get("sku"), body.get("kind")
    if sku is not None and not isinstance(sku, dict):
        raise ServiceError("InvalidRequestContent", "The 'sku' of the request must be an object.", 400)
    if kind is not None and not isinstance(kind, str):
        raise ServiceError("InvalidRequestContent", "The 'kind' of the request must be a string.", 400)
    location = _location(body.get("location") or (old or {}).get("location")) if rtype in TRACKED else None
    for n in addr.names:
        check_name(n)
    canon = ResourceAddress(addr.subscription, group_name, rtype.split("/")[0], tuple(rtype.split("/")[1:]),
                            addr.names)
    if old is not None:
        canon_id, name = old["id"], old["name"]
    else:
        canon_id, name = canon.resource_id(), addr.names[-1]
    props = {k: v for k, v in props.items() if k != "provisioningState"}
    for child_type, (parent_type, collection) in INLINE_CHILDREN.items():
        if parent_type == rtype and isinstance(props.get(collection), list):
            props[collection] = [_inline_child(canon_id, child_type, collection, i) for i in props[collection]]
    # (a PUT replaces the resource's control-plane shape; its data plane, a storage account's blobs or a VM's
    # power state, stays; a new VM runs)
    blobs = ArmResource.model_validate(old).blobs if old is not None and armt.BLOBS_KEY in old else None
    power = (old or {}).get(armt.POWER_KEY) or (vm_power.RUNNING if rtype == armt.VM else None)
    return ArmResource(id=canon_id, name=name, type=rtype, location=location, tags=_tags(body.get("tags")),
                       sku=sku, kind=kind, properties={"provisioningState": "Succeeded", **props}, blobs=blobs,
                       power=power)


def _inline_child(parent_id: str, child_type: str, collection: str, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ServiceError("InvalidRequestContent", f"Every item of '{collection}' needs a name.", 400)
    check_name(item["name"])
    props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
    return {"id": f"{parent_id}/{collection}/{item['name']}", "name": item["name"], "type": child_type,
            "properties": {**(props or {}), "provisioningState": "Succeeded"}}


def _inline_item(res: ArmResource) -> dict[str, Any]:
    return {"id": res.id, "name": res.name, "type": res.type, "properties": res.properties}


def put_resource(ctx: AppContext, addr: ResourceAddress, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create or replace (PUT): (the stored JSON, created?). Refused on prepared/classic resources. One
    transaction: a VNet, its subnets' rows and an inline child's parent are written together or not at all."""
    rtype = _writable_type(addr)
    with ctx.store.tx() as tx:
        return _put_in(tx, addr, rtype, body)


def put_in(tx: Tx, addr: ResourceAddress, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """`put_resource` inside the caller's transaction (a template deployment writes all its resources in one)."""
    return _put_in(tx, addr, _writable_type(addr), body)


def _put_in(tx: Tx, addr: ResourceAddress, rtype: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    group = tx.resources.get(ids.resource_group_id(addr.subscription, addr.resource_group))
    if group is None:
        raise arm_reads.group_missing(addr.resource_group)
    old_row = arm_reads.row_of(tx, addr.resource_id())
    parent_row = arm_reads.row_of(tx, addr.parent().resource_id()) if len(addr.names) > 1 else None
    parent = arm_reads.arm_json(tx, parent_row) if parent_row else None
    if len(addr.names) > 1 and parent is None:
        raise NotFound(f"Parent resource '{'/'.join(addr.names[:-1])}' not found.", code="ParentResourceNotFound")
    old = old_row.doc if old_row else None
    if rtype in INLINE_CHILDREN and parent is not None:
        _, items = arm_reads.inline_items_or_empty(parent, INLINE_CHILDREN[rtype][1])
        old = old or next((i for i in items if i["name"].lower() == addr.names[-1].lower()), None)
        res = _build(addr, rtype, body, old, group.name)
        _replace_inline(tx, parent, INLINE_CHILDREN[rtype][1], res.name, _inline_item(res))
        if rtype != armt.SUBNET:
            return _inline_item(res), old is None
    else:
        res = _build(addr, rtype, body, old, group.name)
    arm_writes.put_in(tx, res)
    if rtype == armt.VNET:
        _sync_subnets(tx, res)
    return res.to_json(), old is None


def _replace_inline(tx: Tx, parent: dict[str, Any], collection: str, name: str, item: dict[str, Any] | None) -> bool:
    """Put (or, with item None, remove) one inline child in its parent; the parent's lock is checked, and a
    subnet's address range against its VNet."""
    key, _ = arm_reads.inline_items_or_empty(parent, collection)
    items = parent["properties"].get(key) or []
    kept = [i for i in items if not (isinstance(i, dict) and str(i.get("name", "")).lower() == name.lower())]
    if item is None and len(kept) == len(items):
        return False
    if item is not None and parent.get("type") == armt.VNET:
        _check_subnet(parent, item, [i for i in kept if isinstance(i, dict)])
    new_items = kept if item is None else [*kept, item]
    arm_writes.put_in(tx, ArmResource.model_validate({**parent, "properties": {**parent["properties"],
                                                                                 key: new_items}}))
    return True


def _networks(value: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    """The address prefixes given (one string or a list), or None when they are not valid prefixes."""
    given = value if isinstance(value, list) else [value]
    try:
        return [ipaddress.ip_network(str(p), strict=True) for p in given]
    except ValueError:
        return None


def _within(inner: ipaddress.IPv4Network | ipaddress.IPv6Network,
            outer: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return inner.version == outer.version and int(outer.network_address) <= int(inner.network_address) \
        and int(inner.broadcast_address) <= int(outer.broadcast_address)


def _check_subnet(vnet: dict[str, Any], item: dict[str, Any], others: list[dict[str, Any]]) -> None:
    """A subnet's range must be a valid prefix inside the VNet's address space that overlaps no other subnet
    of the VNet (as ARM checks it)."""
    props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
    raw = (props or {}).get("addressPrefix") or (props or {}).get("addressPrefixes")
    if raw is None:
        return
    name, vnet_name = item.get("name"), vnet.get("name")
    nets = _networks(raw)
    if not nets:
        raise ServiceError("NetcfgInvalidSubnet", f"Subnet '{name}' is not valid in virtual network "
                                                  f"'{vnet_name}'.", 400)
    space = _networks(((vnet.get("properties") or {}).get("addressSpace") or {}).get("addressPrefixes") or [])
    if space and not all(any(_within(n, s) for s in space) for n in nets):
        raise ServiceError("NetcfgSubnetRangeOutsideVnet", f"Subnet '{name}' is not valid because its IP address "
                                                           f"range is outside the IP address range of virtual "
                                                           f"network '{vnet_name}'.", 400)
    for other in others:
        oprops = other.get("properties") if isinstance(other.get("properties"), dict) else {}
        theirs = _networks((oprops or {}).get("addressPrefix") or (oprops or {}).get("addressPrefixes") or [])
        if theirs and any(n.overlaps(t) for n in nets for t in theirs):
            raise ServiceError("NetcfgSubnetRangesOverlap", f"Subnet '{name}' is not valid because its IP address "
                                                            f"range overlaps with that of an existing subnet in "
                                                            f"virtual network '{vnet_name}'.", 400)


def _sync_subnets(tx: Tx, vnet: ArmResource) -> None:
    """Subnets given inline with a VNet PUT become child rows (and ones left out are removed), each checked
    against the VNet and the subnets before it as it is written: a bad one fails the whole PUT."""
    vnet_json = vnet.to_json()
    have = tx.resources.query(vnet.subscription_id, model=ids.ARM, key_prefix=vnet.id.lower() + "/subnets/")
    items = [i for i in vnet.properties.get("subnets") or [] if isinstance(i, dict) and isinstance(i.get("name"), str)]
    wanted = {f"{vnet.id}/subnets/{i['name']}".lower() for i in items}
    for row in have:
        if row.key not in wanted:
            arm_writes.delete_in(tx, row.id)
    for n, item in enumerate(items):
        check_name(item["name"])
        _check_subnet(vnet_json, item, items[:n])
        props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        arm_writes.put_in(tx, ArmResource(id=f"{vnet.id}/subnets/{item['name']}", name=item["name"],
                                          type=armt.SUBNET,
                                          properties={"provisioningState": "Succeeded", **(props or {})}))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def patch_resource(ctx: AppContext, addr: ResourceAddress, body: dict[str, Any]) -> dict[str, Any]:
    """PATCH: tags replaced when given, properties/sku merged (RFC 7386); read and written in one transaction."""
    rtype = _writable_type(addr)
    with ctx.store.tx() as tx:
        current = arm_reads.resource_in(tx, addr)
        merged = merge_patch({k: current.get(k) for k in ("location", "sku", "kind", "properties")},
                             {k: v for k, v in body.items() if k in ("sku", "kind", "properties")})
        merged["tags"] = body["tags"] if "tags" in body else current.get("tags")
        return _put_in(tx, addr, rtype, merged)[0]


def delete_resource(ctx: AppContext, addr: ResourceAddress) -> str | None:
    """DELETE; returns the deleted resource's location, or None when there was nothing to delete
    (ARM answers 204 then). One transaction: an inline child leaves its parent and its own row together."""
    rtype = _writable_type(addr)
    with ctx.store.tx() as tx:
        row = arm_reads.row_of(tx, addr.resource_id())
        parent_row = arm_reads.row_of(tx, addr.parent().resource_id()) if len(addr.names) > 1 else None
        parent = arm_reads.arm_json(tx, parent_row) if parent_row else None
        location: str | None = row.location if row else None
        if rtype in INLINE_CHILDREN and parent is not None and _replace_inline(
                tx, parent, INLINE_CHILDREN[rtype][1], addr.names[-1], None):
            location = location or parent.get("location") or "global"
        if row is not None:
            arm_writes.delete_in(tx, row.id)
    return location


# --------------------------------------------------------------------------- providers


_API_VERSIONS: Final = ["2026-04-01", "2025-04-01", "2024-07-01", "2023-09-01", "2021-04-01", "2016-03-30",
                        "2015-06-15"]


# Resource types of providers that own none of the stored types.
_PROVIDER_TYPES: Final[dict[str, tuple[str, ...]]] = {
    providers.MIGRATION_PROVIDER: ("classicInfrastructureResources",),
    "Microsoft.ResourceGraph": ("resources",),
    "Microsoft.Resources": ("resourceGroups", "subscriptions", "providers", "resources"),
}


def _provider_json(sub: str, view: dict[str, Any], locations: list[str]) -> dict[str, Any]:
    ns = view["namespace"]
    types = sorted({t.split("/", 1)[1] for t in KNOWN_TYPES.values() if t.split("/")[0] == ns}
                   | set(_PROVIDER_TYPES.get(ns, ())))
    return {"id": f"/subscriptions/{sub}/providers/{ns}", "namespace": ns,
            "registrationState": view["registrationState"], "registrationPolicy": "RegistrationRequired",
            "resourceTypes": [{"resourceType": t, "locations": locations, "apiVersions": _API_VERSIONS}
                              for t in types]}


def _locations() -> list[str]:
    from ..domain.locations import REGIONS

    return sorted(REGIONS)


def list_providers(ctx: AppContext, sub: str) -> list[dict[str, Any]]:
    scoped = AppContext(ctx.store, sub)
    return [_provider_json(sub, providers.show(scoped, ns), _locations()) for ns in providers.KNOWN]


def get_provider(ctx: AppContext, sub: str, namespace: str) -> dict[str, Any]:
    return _provider_json(sub, providers.show(AppContext(ctx.store, sub), namespace), _locations())


def register_provider(ctx: AppContext, sub: str, namespace: str, registered: bool) -> dict[str, Any]:
    """Register/unregister; for Microsoft.ClassicInfrastructureMigrate this is what allows migration."""
    return _provider_json(sub, providers.register(AppContext(ctx.store, sub), namespace, registered), _locations())

