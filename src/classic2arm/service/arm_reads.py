"""The read side of what ARM shows, shared by every surface: typed resource addresses, the one listing of
resources (ARM resources and the `Microsoft.Classic*` views of classic ones, filtered one way), the one get of
a resource (or of an item its parent holds inline), resource groups (those holding only classic resources too),
the subscription, and the rows Resource Graph queries run over.

The ARM API and the CLI (`arm list`, `arm show`) both call these. Functions take the subscription explicitly
(the HTTP adapter has authorised it), or the context's chosen one where they say so.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from ..domain import arm as armt
from ..domain import catalogue as msg
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import media
from ..domain.arm import ArmResource
from ..domain.classic_view import generic_view, vm_view
from ..domain.locations import display_name
from ..store import Row, Tx
from . import codec, providers
from .context import AppContext
from .errors import NotFound, ServiceError

SECURITY_RULE: Final = "Microsoft.Network/networkSecurityGroups/securityRules"
ROUTE: Final = "Microsoft.Network/routeTables/routes"
MAX_PAGE: Final = 1000

# Child types ARM returns inside their parent's properties (and, for subnets, also stores as rows).
INLINE_CHILDREN: Final[dict[str, tuple[str, str]]] = {
    armt.SUBNET: (armt.VNET, "subnets"),
    SECURITY_RULE: (armt.NSG, "securityRules"),
    ROUTE: (armt.ROUTE_TABLE, "routes"),
}
CLASSIC_NAMESPACES: Final = ("microsoft.classiccompute", "microsoft.classicnetwork", "microsoft.classicstorage")
# Classic types ARM shows through the classic providers; the others (disks, images, local network sites…)
# have no ARM view.
_CLASSIC_VIEW_TYPES: Final = tuple(t for t in ids.CLASSIC_TYPES if t not in (
    ids.T_LOCAL_SITE, ids.T_DISK, ids.T_OS_IMAGE, ids.T_VM_IMAGE, ids.T_AFFINITY_GROUP, ids.T_ROLE_ASSIGNMENT))
KNOWN_TYPES: Final[dict[str, str]] = {t.lower(): t for t in (*armt.ARM_TYPES, SECURITY_RULE, ROUTE,
                                                             *ids.CLASSIC_TYPES)}
# What a listing shows unless asked for types: resource groups and subnets are listed by their own calls.
_LISTED_TYPES: Final = tuple(t for t in armt.ARM_TYPES if t not in (armt.RESOURCE_GROUP, armt.SUBNET)) \
    + _CLASSIC_VIEW_TYPES


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True, slots=True)
class ResourceAddress:
    """`/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{t1}/{n1}[/{t2}/{n2}…]` (names may be one
    short of types: a collection)."""

    subscription: str
    resource_group: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def is_collection(self) -> bool:
        return len(self.types) == len(self.names) + 1

    @property
    def full_type(self) -> str:
        return "/".join((self.namespace, *self.types))

    @property
    def is_classic(self) -> bool:
        return self.namespace.lower() in CLASSIC_NAMESPACES

    def resource_id(self, depth: int | None = None) -> str:
        n = len(self.names) if depth is None else depth
        parts = [f"{t}/{name}" for t, name in zip(self.types[:n], self.names[:n], strict=True)]
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/" \
               f"{self.namespace}/" + "/".join(parts)

    def parent(self) -> ResourceAddress:
        """The address one level up (the item owning this child or collection)."""
        n = len(self.names) - (0 if self.is_collection else 1)
        return ResourceAddress(self.subscription, self.resource_group, self.namespace, self.types[:n],
                               self.names[:n])


def canonical_type(full_type: str) -> str | None:
    return KNOWN_TYPES.get(full_type.lower())


def _namespace_known(namespace: str) -> bool:
    return any(k.lower() == namespace.lower() for k in providers.KNOWN)


def check_group_name(rg: str) -> None:
    """A resource group name outside ARM's rules is refused before any look-up: the store compares keys
    lower-cased, so a name such as 'K' + 'y' with the Kelvin sign must never reach it and find group 'ky'."""
    reason = ids.resource_group_name_problem(rg)
    if reason:
        raise ServiceError(*msg.ARM_INVALID_RESOURCE_GROUP.render(name=rg[:90], reason=reason), 400)


def check_type(addr: ResourceAddress) -> None:
    """Unknown namespaces and top-level types are refused as ARM does (and group names outside ARM's rules)."""
    if addr.resource_group:
        check_group_name(addr.resource_group)
    if not _namespace_known(addr.namespace):
        raise ServiceError("NoRegisteredProviderFound", f"No registered resource provider found for namespace "
                                                        f"'{addr.namespace}'.", 400)
    top = f"{addr.namespace}/{addr.types[0]}"
    if canonical_type(top) is None:
        raise NotFound(f"The resource type '{addr.types[0]}' could not be found in the namespace "
                       f"'{addr.namespace}'.", code="InvalidResourceType")


def parse_id(arm_id: str) -> ResourceAddress | tuple[str, str]:
    """An ARM id as typed by a user (any case): a resource's address, or (subscription, resource group) for a
    resource group's id. InvalidResourceId when it is neither."""
    segs = [s for s in arm_id.strip().split("/") if s]
    low = [s.lower() for s in segs]
    if len(segs) >= 4 and low[0] == "subscriptions" and low[2] == "resourcegroups":
        if len(segs) == 4:
            return segs[1], segs[3]
        chain = segs[6:]
        if low[4] == "providers" and len(chain) >= 2 and len(chain) % 2 == 0:
            return ResourceAddress(segs[1], segs[3], segs[5], tuple(chain[0::2]), tuple(chain[1::2]))
    raise ServiceError("InvalidResourceId", f"'{arm_id[:300]}' is not an ARM resource id: expected "
                                            "/subscriptions/{sub}/resourceGroups/{group}[/providers/{namespace}/"
                                            "{type}/{name}…]", 400)


# --------------------------------------------------------------------------- paging tokens


def encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_token(token: str | None) -> str | None:
    if not token:
        return None
    try:
        key = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = ""
    if not key.startswith("/"):
        raise ServiceError("InvalidSkipToken", "The skip token is invalid.", 400)
    return key


def page_size(top: str | None) -> int:
    if top is None or top == "":
        return MAX_PAGE
    try:
        n = int(top)
    except ValueError:
        raise ServiceError("InvalidParameter", "The value of '$top' must be an integer.", 400) from None
    if n < 1:
        raise ServiceError("InvalidParameter", "The value of '$top' must be at least 1.", 400)
    return min(n, MAX_PAGE)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_token: str | None


# --------------------------------------------------------------------------- one resource in ARM's shape


def arm_view(tx: Tx, row: Row) -> ArmResource:
    """The ARM shape of any row: ARM rows as stored, classic rows through their classic-provider view."""
    if row.model == ids.ARM:
        return codec.arm_object(row)
    obj = codec.classic_object(row)
    location = display_name(row.location) if row.location else None
    if isinstance(obj, c.Role) and obj.is_vm:
        dep_row = tx.resources.get(row.parent_key or "")
        dep = c.Deployment.model_validate(dep_row.doc) if dep_row else None
        return vm_view(row.subscription_id, obj, dep, location, row.resource_group or obj.service_name,
                       row.migration_state)
    return generic_view(row.subscription_id, obj, location, row.migration_state)


def arm_json(tx: Tx, row: Row) -> dict[str, Any]:
    """A row in ARM's JSON shape. ARM rows are stored in that shape already (written by `ArmResource.to_json`),
    so they are returned as read, without a model round trip; classic rows go through their view."""
    if row.model == ids.ARM:
        return armt.wire(row.doc)
    return arm_view(tx, row).to_json()


def has_view(row: Row) -> bool:
    if row.model == ids.ARM:
        return row.type not in (armt.RESOURCE_GROUP, armt.SUBNET, armt.DEPLOYMENT)
    return row.arm_id is not None and row.type in _CLASSIC_VIEW_TYPES


def row_of(tx: Tx, arm_id: str) -> Row | None:
    """The row behind an ARM id: an ARM resource, or a classic one by its view's id."""
    row = tx.resources.get(arm_id) or tx.resources.get_by_arm_id(arm_id)
    if row is not None and row.model == ids.CLASSIC and row.arm_id is None:
        return None
    return row


# --------------------------------------------------------------------------- listing


def list_resources(ctx: AppContext, sub: str | None = None, *, types: Iterable[str] | None = None,
                   resource_group: str | None = None, classic: bool = True, key_prefix: str | None = None,
                   include_children: bool = False, limit: int | None = None, after: str | None = None) -> Page:
    """The one listing of what ARM shows, in key order: ARM resources and, with `classic`, classic ones as their
    `Microsoft.Classic*` views (types without a view, resource groups and subnets left out unless
    `include_children` lists a parent's child rows). `sub` None: the context's chosen subscription. With `limit`,
    one page after the key `after`, whose token is the key of its last row (keyset paging, stable under
    concurrent writes)."""
    type_list = [canonical_type(t) or t for t in types] if types is not None else \
        (None if key_prefix else list(_LISTED_TYPES))
    items: list[dict[str, Any]] = []
    last: str | None = None
    with ctx.store.read() as tx:
        sub = sub or ctx.subscription_id(tx)
        while True:
            batch = tx.resources.query(sub, model=None if classic else ids.ARM, types=type_list,
                             resource_group=resource_group, key_prefix=key_prefix,
                             limit=None if limit is None else limit + 1, after_key=after)
            for r in batch:
                if not ((include_children and r.model == ids.ARM) or has_view(r)):
                    continue
                if limit is not None and len(items) == limit:
                    return Page(items, encode_token(last or ""))
                items.append(arm_json(tx, r))
                last = r.key
            if limit is None or len(batch) <= limit:
                return Page(items, None)
            after = batch[-1].key


def list_page(ctx: AppContext, sub: str, *, types: Iterable[str] | None = None, resource_group: str | None = None,
              key_prefix: str | None = None, top: str | None = None, skiptoken: str | None = None,
              include_children: bool = False) -> Page:
    """`list_resources` one page at a time, as the ARM API's `$top` and `$skiptoken` ask."""
    return list_resources(ctx, sub, types=types, resource_group=resource_group, key_prefix=key_prefix,
                          include_children=include_children, limit=page_size(top), after=decode_token(skiptoken))


def list_collection(ctx: AppContext, addr: ResourceAddress, top: str | None, skiptoken: str | None) -> Page:
    """`…/providers/{ns}/{type}` in a resource group, or a child collection of a resource."""
    check_type(addr)
    if len(addr.types) == 1:
        with ctx.store.read() as tx:
            if not addr.is_classic and not _group_exists(tx, addr.subscription, addr.resource_group):
                raise group_missing(addr.resource_group)
        return list_page(ctx, addr.subscription, types=[addr.full_type], resource_group=addr.resource_group,
                         top=top, skiptoken=skiptoken)
    if addr.full_type.lower() == armt.BLOB_CONTAINER.lower():
        return Page(blob_containers(ctx, addr), None)
    with ctx.store.read() as tx:
        parent = row_of(tx, addr.parent().resource_id())
        if parent is None:
            raise not_found(addr.parent())
        pview = arm_json(tx, parent)
    child_type = canonical_type(addr.full_type)
    if child_type is not None and child_type not in INLINE_CHILDREN:
        prefix = f"{pview['id']}/{addr.types[-1]}/"
        return list_page(ctx, addr.subscription, key_prefix=prefix, top=top, skiptoken=skiptoken,
                         include_children=True)
    return Page(_inline_items(pview, pview["type"], addr.types[-1])[1], None)


def blob_containers(ctx: AppContext, addr: ResourceAddress) -> list[dict[str, Any]]:
    """`…/Microsoft.Storage/storageAccounts/{a}/blobServices/default/containers`: ListContainerItems, from the
    blob inventory the ARM account keeps (a migrated classic account lists its VHDs' containers)."""
    account = addr.parent().parent()  # …/storageAccounts/{a}
    if addr.names[1].lower() != "default":
        raise not_found(addr.parent())
    with ctx.store.read() as tx:
        row = row_of(tx, account.resource_id())
        if row is None or row.model != ids.ARM:
            raise not_found(account)
        res = codec.arm_object(row)
    created = res.properties.get("creationTime")
    return [armt.blob_container(res.id, name, str(created) if created else None)
            for name in media.by_container(res.blobs or {})]


def list_type(ctx: AppContext, sub: str, namespace: str, rtype: str, top: str | None,
              skiptoken: str | None) -> Page:
    """`/subscriptions/{sub}/providers/{ns}/{type}`: every resource of one type in the subscription."""
    addr = ResourceAddress(sub, "", namespace, (rtype,), ())
    check_type(addr)
    return list_page(ctx, sub, types=[addr.full_type], top=top, skiptoken=skiptoken)


# --------------------------------------------------------------------------- one resource


def not_found(addr: ResourceAddress) -> NotFound:
    rtype = addr.full_type if not addr.is_collection else addr.parent().full_type
    name = "/".join(addr.names)
    return NotFound(f"The Resource '{rtype}/{name}' under resource group '{addr.resource_group}' was not found.")


def _inline_items(parent: dict[str, Any], parent_type: str, collection: str) -> tuple[str, list[dict[str, Any]]]:
    """The array `collection` of the parent's properties (key matched case-insensitively), with each item
    given its id/name/type."""
    props = parent.get("properties") or {}
    key = next((k for k in props if k.lower() == collection.lower() and isinstance(props[k], list)), None)
    if key is None:
        raise NotFound(f"The resource type '{collection}' could not be found under '{parent_type}'.",
                       code="InvalidResourceType")
    ctype = canonical_type(f"{parent_type}/{key}") or f"{parent_type}/{key}"
    out = []
    for item in props[key]:
        if isinstance(item, dict):
            name = str(item.get("name", ""))
            out.append({"id": item.get("id") or f"{parent['id']}/{key}/{name}", "name": name, "type": ctype,
                        **{k: v for k, v in item.items() if k not in ("id", "name", "type")}})
    return key, out


def inline_items_or_empty(parent: dict[str, Any], collection: str) -> tuple[str, list[dict[str, Any]]]:
    """`collection`'s items in the parent, none when it has no such array."""
    try:
        return _inline_items(parent, parent["type"], collection)
    except NotFound:
        return collection, []


def _group_exists(tx: Tx, sub: str, rg: str) -> bool:
    if tx.resources.get(ids.resource_group_id(sub, rg)) is not None:
        return True
    return bool(tx.resources.query(sub, model=ids.CLASSIC, resource_group=rg, limit=1))


def resource_in(tx: Tx, addr: ResourceAddress) -> dict[str, Any]:
    """A single resource, a classic view, or an item held inline by its parent, read in the caller's
    transaction (a PATCH starts from it)."""
    row = row_of(tx, addr.resource_id())
    if row is not None:
        return arm_json(tx, row)
    parent = row_of(tx, addr.parent().resource_id()) if len(addr.names) > 1 else None
    if parent is not None:
        pview = arm_json(tx, parent)
        _, items = inline_items_or_empty(pview, addr.types[-1])
        for item in items:
            if item["name"].lower() == addr.names[-1].lower():
                return item
    if not addr.is_classic and not _group_exists(tx, addr.subscription, addr.resource_group):
        raise group_missing(addr.resource_group)
    raise not_found(addr)


def get_resource(ctx: AppContext, addr: ResourceAddress) -> dict[str, Any]:
    """The one get of a resource in ARM's shape (the ARM API's GET, the CLI's `arm show`)."""
    check_type(addr)
    with ctx.store.read() as tx:
        return resource_in(tx, addr)


def show(ctx: AppContext, arm_id: str) -> dict[str, Any]:
    """A resource or resource group by its ARM id as a user types it."""
    target = parse_id(arm_id)
    if isinstance(target, ResourceAddress):
        return get_resource(ctx, target)
    return get_group(ctx, *target)


# --------------------------------------------------------------------------- resource groups


def group_missing(rg: str) -> NotFound:
    return NotFound(f"Resource group '{rg}' could not be found.", code="ResourceGroupNotFound")


def _classic_groups(tx: Tx, sub: str) -> dict[str, dict[str, Any]]:
    """Resource groups that hold classic resources only as ARM shows them (Default-Networking, cs…)."""
    found: dict[str, dict[str, Any]] = {}
    for r in tx.resources.project(sub, list(_CLASSIC_VIEW_TYPES), []):
        if not r["arm_key"]:
            continue
        rg_lc = r["arm_key"].split("/")[4]
        if rg_lc in found:
            continue
        row = tx.resources.get(r["key"])
        if row is None:
            continue
        view = arm_view(tx, row)
        name = view.id.split("/")[4]
        found[rg_lc] = armt.resource_group(sub, name, view.location or "").to_json()
    return found


def list_groups(ctx: AppContext, sub: str) -> list[dict[str, Any]]:
    with ctx.store.read() as tx:
        rows = tx.resources.query(sub, model=ids.ARM, types=[armt.RESOURCE_GROUP])
        out = {r.key.split("/")[-1]: arm_json(tx, r) for r in rows}
        for key, doc in _classic_groups(tx, sub).items():
            out.setdefault(key, doc)
    return [out[k] for k in sorted(out)]


def group_in(tx: Tx, sub: str, rg: str) -> dict[str, Any]:
    """A resource group as `get_group` answers it, read in the caller's transaction."""
    check_group_name(rg)
    row = tx.resources.get(ids.resource_group_id(sub, rg))
    if row is not None:
        return arm_json(tx, row)
    classic = _classic_groups(tx, sub).get(rg.lower())
    if classic is None:
        raise group_missing(rg)
    return classic


def get_group(ctx: AppContext, sub: str, rg: str) -> dict[str, Any]:
    with ctx.store.read() as tx:
        return group_in(tx, sub, rg)


# --------------------------------------------------------------------------- subscription and Resource Graph


def subscription_json(ctx: AppContext, sub: str) -> dict[str, Any]:
    with ctx.store.read() as tx:
        doc = tx.subscriptions.get(sub)
    if doc is None:
        raise NotFound(f"The subscription '{sub}' could not be found.", code="SubscriptionNotFound")
    model = c.Subscription.model_validate(doc)
    return {"id": f"/subscriptions/{model.id}", "subscriptionId": model.id, "displayName": model.name or model.id,
            "state": "Enabled", "tenantId": ids.tenant_id(model.id),
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                     "spendingLimit": "Off"}}


def _graph_row(view: dict[str, Any], sub: str) -> dict[str, Any]:
    parts = view["id"].split("/")
    rg = parts[4].lower() if len(parts) > 4 and parts[3].lower() == "resourcegroups" else ""
    return {"id": view["id"], "name": view["name"], "type": view["type"].lower(), "tenantId": ids.tenant_id(sub),
            "kind": view.get("kind") or "", "location": view.get("location") or "", "resourceGroup": rg,
            "subscriptionId": sub, "managedBy": view.get("managedBy") or "", "sku": view.get("sku"),
            "plan": None, "properties": view.get("properties") or {}, "tags": view.get("tags") or {},
            "identity": None, "zones": None, "extendedLocation": None}


def graph_tables(ctx: AppContext, sub: str) -> dict[str, list[dict[str, Any]]]:
    """The `resources` and `resourcecontainers` tables of Resource Graph for one subscription."""
    with ctx.store.read() as tx:
        rows = [r for r in tx.resources.query(sub) if has_view(r)]
        views = [arm_json(tx, r) for r in rows]
    resources_rows = [_graph_row(v, sub) for v in views]
    containers = [_graph_row({**g, "type": "microsoft.resources/subscriptions/resourcegroups"}, sub)
                  | {"resourceGroup": g["name"].lower()} for g in list_groups(ctx, sub)]
    sub_doc = subscription_json(ctx, sub)
    containers.append(_graph_row({"id": sub_doc["id"], "name": sub_doc["displayName"],
                                  "type": "microsoft.resources/subscriptions", "properties": {
                                      "state": "Enabled"}}, sub))
    return {"resources": resources_rows, "resourcecontainers": containers}
