"""What an ARM URL path addresses. One parser for the whole surface, matching case-insensitively as
ARM does (`/subscriptions/{s}/resourcegroups/...` == `/Subscriptions/{s}/resourceGroups/...`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...service.arm_reads import ResourceAddress


@dataclass(frozen=True, slots=True)
class Subscriptions:
    """`/subscriptions`"""


@dataclass(frozen=True, slots=True)
class Tenants:
    """`/tenants`"""


@dataclass(frozen=True, slots=True)
class Subscription:
    sub: str


@dataclass(frozen=True, slots=True)
class Groups:
    sub: str


@dataclass(frozen=True, slots=True)
class Group:
    sub: str
    rg: str


@dataclass(frozen=True, slots=True)
class GroupExport:
    """`/subscriptions/{s}/resourcegroups/{rg}/exportTemplate`"""

    sub: str
    rg: str


@dataclass(frozen=True, slots=True)
class Deployments:
    """`…/resourcegroups/{rg}/providers/Microsoft.Resources/deployments[/{name}[/{action}]]`: action one of
    validate, whatif, operations (lower-case)."""

    sub: str
    rg: str
    name: str | None
    action: str | None


@dataclass(frozen=True, slots=True)
class ResourceList:
    """`/subscriptions/{s}/resources` or `/subscriptions/{s}/resourceGroups/{rg}/resources`."""

    sub: str
    rg: str | None


@dataclass(frozen=True, slots=True)
class Providers:
    sub: str | None  # None: the tenant-level `/providers`


@dataclass(frozen=True, slots=True)
class Provider:
    sub: str | None
    namespace: str


@dataclass(frozen=True, slots=True)
class ProviderAction:
    sub: str
    namespace: str
    register: bool


@dataclass(frozen=True, slots=True)
class TypeList:
    """`/subscriptions/{s}/providers/{ns}/{type}`: a type across the subscription."""

    sub: str
    namespace: str
    type: str


@dataclass(frozen=True, slots=True)
class OperationStatus:
    """`/subscriptions/{s}/providers/{ns}/locations/{loc}/operations|operationResults/{id}`."""

    sub: str
    namespace: str
    location: str
    operation_id: str
    result: bool  # operationResults (Location polling) rather than operations (Azure-AsyncOperation)


@dataclass(frozen=True, slots=True)
class Resource:
    addr: ResourceAddress


@dataclass(frozen=True, slots=True)
class VmAction:
    """`…/Microsoft.Compute/virtualMachines/{vm}/{action}`: a power action (POST) or the instance view (GET)."""

    addr: ResourceAddress  # the VM's
    action: str  # lower-case: start, poweroff, deallocate, restart, instanceview


# What a VM answers beside its own resource (lower-case).
VM_ACTIONS = frozenset({"start", "poweroff", "deallocate", "restart", "instanceview"})


@dataclass(frozen=True, slots=True)
class GraphQuery:
    """`/providers/Microsoft.ResourceGraph/resources`"""


@dataclass(frozen=True, slots=True)
class Unknown:
    sub: str | None


Target = (Subscriptions | Tenants | Subscription | Groups | Group | GroupExport | Deployments | ResourceList
          | Providers | Provider | ProviderAction
          | TypeList | OperationStatus | Resource | VmAction | GraphQuery | Unknown)


def owns(path: str) -> bool:
    """Paths the ARM router answers (everything else belongs to the ASM API)."""
    low = path.lower()
    return (low in ("/subscriptions", "/providers", "/tenants") or low.startswith(("/subscriptions/", "/providers/"))
            or low == "/openapi/arm.json")


def parse(path: str) -> Target:
    segs = [s for s in path.split("/") if s != ""]
    low = [s.lower() for s in segs]
    if not segs:
        return Unknown(None)
    if low[0] == "providers":
        return _tenant_providers(segs, low)
    if low == ["tenants"]:
        return Tenants()
    if low[0] != "subscriptions":
        return Unknown(None)
    if len(segs) == 1:
        return Subscriptions()
    sub = segs[1]
    if len(segs) == 2:
        return Subscription(sub)
    head, rest, rest_low = low[2], segs[3:], low[3:]
    if head == "resourcegroups":
        return _in_groups(sub, rest, rest_low)
    if head == "resources" and not rest:
        return ResourceList(sub, None)
    if head == "providers":
        return _sub_providers(sub, rest, rest_low)
    return Unknown(sub)


def _tenant_providers(segs: list[str], low: list[str]) -> Target:
    if len(segs) == 1:
        return Providers(None)
    if len(segs) == 2:
        return Provider(None, segs[1])
    if low[1:] == ["microsoft.resourcegraph", "resources"]:
        return GraphQuery()
    return Unknown(None)


def _in_groups(sub: str, rest: list[str], low: list[str]) -> Target:
    if not rest:
        return Groups(sub)
    rg = rest[0]
    if len(rest) == 1:
        return Group(sub, rg)
    if low[1:] == ["resources"]:
        return ResourceList(sub, rg)
    if low[1:] == ["exporttemplate"]:
        return GroupExport(sub, rg)
    if low[1:4] == ["providers", "microsoft.resources", "deployments"] and len(rest) <= 6:
        return Deployments(sub, rg, rest[4] if len(rest) > 4 else None, low[5] if len(rest) > 5 else None)
    if low[1] == "deployments" and len(rest) <= 4:  # the short form the deployment operations' clients use
        return Deployments(sub, rg, rest[2] if len(rest) > 2 else None, low[3] if len(rest) > 3 else None)
    if low[1] == "providers" and len(rest) >= 4:
        ns, chain = rest[2], rest[3:]
        types, names = tuple(chain[0::2]), tuple(chain[1::2])
        if len(chain) == 3 and ns.lower() == "microsoft.compute" and types[0].lower() == "virtualmachines" \
                and types[1].lower() in VM_ACTIONS:
            return VmAction(ResourceAddress(sub, rg, ns, types[:1], names), types[1].lower())
        return Resource(ResourceAddress(sub, rg, ns, types, names))
    return Unknown(sub)


def _sub_providers(sub: str, rest: list[str], low: list[str]) -> Target:
    if not rest:
        return Providers(sub)
    ns = rest[0]
    if len(rest) == 1:
        return Provider(sub, ns)
    if len(rest) == 2 and low[1] in ("register", "unregister"):
        return ProviderAction(sub, ns, low[1] == "register")
    if len(rest) == 2:
        return TypeList(sub, ns, rest[1])
    if len(rest) == 5 and low[1] == "locations" and low[3] in ("operations", "operationresults"):
        return OperationStatus(sub, ns, rest[2], rest[4], low[3] == "operationresults")
    return Unknown(sub)


def on_subscription(target: Target, canonical: str) -> Target:
    """The target with its subscription id spelled as stored. ARM compares subscription ids case-insensitively;
    authorisation has matched them that way, and every read and write below then uses the one stored form."""
    if isinstance(target, Resource | VmAction):
        return replace(target, addr=replace(target.addr, subscription=canonical))
    if getattr(target, "sub", None) is not None:
        return replace(target, sub=canonical)  # type: ignore[arg-type]
    return target
