"""Identities of stored resources: canonical ids, ARM-style types, parents and ARM ids.

Classic resources are keyed by their ASM REST path (`/{sub}/services/hostedservices/{svc}`), which is
unique and what the ASM API addresses; their ARM view (`Microsoft.ClassicCompute/...`) is derived.
ARM resources are keyed by their ARM id. Keys are compared lower-case, as both APIs are
case-insensitive on names.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from . import classic as c
from .locations import REGIONS, display_name

CLASSIC: Final = "classic"
ARM: Final = "arm"

T_AFFINITY_GROUP: Final = "Microsoft.ClassicCompute/affinityGroups"
T_HOSTED_SERVICE: Final = "Microsoft.ClassicCompute/domainNames"
T_DEPLOYMENT: Final = "Microsoft.ClassicCompute/domainNames/slots"
T_VM: Final = "Microsoft.ClassicCompute/virtualMachines"
T_PAAS_ROLE: Final = "Microsoft.ClassicCompute/domainNames/slots/roles"
T_VNET: Final = "Microsoft.ClassicNetwork/virtualNetworks"
T_LOCAL_SITE: Final = "Microsoft.ClassicNetwork/localNetworkSites"
T_RESERVED_IP: Final = "Microsoft.ClassicNetwork/reservedIps"
T_NSG: Final = "Microsoft.ClassicNetwork/networkSecurityGroups"
T_ROUTE_TABLE: Final = "Microsoft.ClassicNetwork/routeTables"
T_ER_CIRCUIT: Final = "Microsoft.ClassicNetwork/expressRouteCrossConnections"
T_STORAGE: Final = "Microsoft.ClassicStorage/storageAccounts"
T_DISK: Final = "Microsoft.ClassicStorage/disks"
T_OS_IMAGE: Final = "Microsoft.ClassicStorage/osImages"
T_VM_IMAGE: Final = "Microsoft.ClassicStorage/vmImages"
T_ROLE_ASSIGNMENT: Final = "Microsoft.Authorization/classicRoleAssignments"

CLASSIC_TYPES: Final[tuple[str, ...]] = (
    T_AFFINITY_GROUP, T_HOSTED_SERVICE, T_DEPLOYMENT, T_VM, T_PAAS_ROLE, T_VNET, T_LOCAL_SITE,
    T_RESERVED_IP, T_NSG, T_ROUTE_TABLE, T_ER_CIRCUIT, T_STORAGE, T_DISK, T_OS_IMAGE, T_VM_IMAGE,
    T_ROLE_ASSIGNMENT,
)

DEFAULT_NETWORKING_RG: Final = "Default-Networking"


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")


def seg(name: str) -> str:
    """URL-encode one path segment (VNet names may contain spaces: 'Group rg vnet')."""
    if _PLAIN.issuperset(name):  # the common case, without quote()'s per-byte work
        return name
    return quote(name, safe="")


def key_of(resource_id: str) -> str:
    return resource_id.lower()


# Each subscription lives in an Entra ID tenant of its own: its id is derived from the subscription's, so that
# the ARM API (`tenantId`, `/tenants`) and the Entra ID stand-in (`service/entra.py`) always agree on it.
_TENANTS: Final = uuid.UUID("6c1a55e2-7f0b-4b8e-9a51-3a2d0c2a4d15")


def tenant_id(sub: str) -> str:
    return str(uuid.uuid5(_TENANTS, sub.lower()))


def hosted_service_id(sub: str, svc: str) -> str:
    return f"/{sub}/services/hostedservices/{seg(svc)}"


def deployment_id(sub: str, svc: str, dep: str) -> str:
    return f"{hosted_service_id(sub, svc)}/deployments/{seg(dep)}"


def role_id(sub: str, svc: str, dep: str, role: str) -> str:
    return f"{deployment_id(sub, svc, dep)}/roles/{seg(role)}"


def vnet_id(sub: str, name: str) -> str:
    return f"/{sub}/services/networking/virtualnetwork/{seg(name)}"


def local_site_id(sub: str, name: str) -> str:
    return f"/{sub}/services/networking/localnetworksites/{seg(name)}"


def reserved_ip_id(sub: str, name: str) -> str:
    return f"/{sub}/services/networking/reservedips/{seg(name)}"


def nsg_id(sub: str, name: str) -> str:
    return f"/{sub}/services/networking/networksecuritygroups/{seg(name)}"


def route_table_id(sub: str, name: str) -> str:
    return f"/{sub}/services/networking/routetables/{seg(name)}"


def er_circuit_id(sub: str, service_key: str) -> str:
    return f"/{sub}/services/networking/dedicatedcircuits/{seg(service_key)}"


def storage_id(sub: str, name: str) -> str:
    return f"/{sub}/services/storageservices/{seg(name)}"


def disk_id(sub: str, name: str) -> str:
    return f"/{sub}/services/disks/{seg(name)}"


def os_image_id(sub: str, name: str) -> str:
    return f"/{sub}/services/images/{seg(name)}"


def vm_image_id(sub: str, name: str) -> str:
    return f"/{sub}/services/vmimages/{seg(name)}"


def affinity_group_id(sub: str, name: str) -> str:
    return f"/{sub}/affinitygroups/{seg(name)}"


def role_assignment_id(sub: str, name: str) -> str:
    return f"/{sub}/roleassignments/{seg(name)}"


# --------------------------------------------------------------------------- ARM names

RESOURCE_GROUP_MAX = 90
_GROUP_PUNCTUATION = frozenset("-_.()")
_ASCII_GROUP = re.compile(r"[A-Za-z0-9\-_.()]+")  # the common case of the rule below, without a look-up per char


def _upper_char(ch: str) -> str:
    # .NET's ordinal ignore-case maps one char to one char; where Python's upper() expands ('ß' -> 'SS') the
    # char stays as it is.
    up = ch.upper()
    return up if len(up) == 1 else ch


def same_name(a: str, b: str) -> bool:
    """Names compared as ARM compares them: ordinal, ignoring case char by char (no NFKC: the Kelvin sign is
    not 'K')."""
    return len(a) == len(b) and all(_upper_char(x) == _upper_char(y) for x, y in zip(a, b, strict=True))


def _key_faithful(ch: str) -> bool:
    """Whether lower-casing `ch` (how stored keys are compared) keeps exactly ARM's case equivalence for it:
    false for the Kelvin sign (lowers to 'k'), 'ẞ', 'İ', final sigma and the like."""
    low = ch.lower()
    return len(low) == 1 and _upper_char(low) == _upper_char(ch) and _upper_char(ch).lower() == low


def _name_chars_problem(name: str) -> str | None:
    if name.isascii() and name.isprintable():
        return None  # every printable ASCII char is allowed and lower-cases faithfully (checked on every request)
    for ch in name:
        category = unicodedata.category(ch)
        if category[0] == "C" or category in ("Zl", "Zp"):
            return f"character U+{ord(ch):04X} ({unicodedata.name(ch, category)}) is not allowed"
        if not _key_faithful(ch):
            twin = ch.lower() if ch.lower() != ch else _upper_char(ch).lower()
            return (f"character U+{ord(ch):04X} ({unicodedata.name(ch, category)}) is not allowed: ignoring "
                    f"case it would match '{twin}'")
    return None


def resource_group_name_problem(rg: str) -> str | None:
    """Why `rg` is not a resource group name ARM accepts (1-90 letters, digits, '-', '_', '.', '(', ')', not
    ending in '.'), or None."""
    if not rg or len(rg) > RESOURCE_GROUP_MAX:
        return f"it must be 1 to {RESOURCE_GROUP_MAX} characters long"
    chars = _name_chars_problem(rg)
    if chars:
        return chars
    if _ASCII_GROUP.fullmatch(rg):
        bad = []
    else:
        bad = sorted({ch for ch in rg if ch not in _GROUP_PUNCTUATION
                     and unicodedata.category(ch)[0] != "L" and unicodedata.category(ch) != "Nd"})
    if bad:
        return "it may hold only letters, digits, '-', '_', '.', '(' and ')'; found " + \
            ", ".join(f"'{ch}' (U+{ord(ch):04X})" for ch in bad[:5])
    if rg.endswith("."):
        return "it must not end in '.'"
    return None


def resource_name_problem(name: str) -> str | None:
    """Characters no ARM resource name may hold (controls, format characters such as U+202E and U+200B,
    unassigned code points, line separators, and those whose case is ambiguous), or None."""
    return _name_chars_problem(name)


# --------------------------------------------------------------------------- ARM ids


def resource_group_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def arm_resource_id(sub: str, rg: str, rtype: str, name: str, *children: tuple[str, str]) -> str:
    """`/subscriptions/s/resourceGroups/rg/providers/Ns/type/name[/childType/childName...]`."""
    base = f"{resource_group_id(sub, rg)}/providers/{rtype}/{name}"
    return base + "".join(f"/{t}/{n}" for t, n in children)


def default_storage_rg(location: str) -> str:
    return "Default-Storage-" + display_name(location).replace(" ", "")


@dataclass(frozen=True, slots=True)
class Identity:
    """Index columns that the store keeps beside a resource document."""

    id: str
    type: str
    name: str
    parent_id: str | None
    location: str | None  # ARM short name (westus), for filtering
    resource_group: str | None
    arm_id: str | None  # the ARM view of a classic resource
    status: str | None

    @property
    def key(self) -> str:
        return key_of(self.id)


def _loc(location: str | None) -> str | None:
    return REGIONS[display_name(location)] if location else None


def cloud_service_rg(hs: c.HostedService) -> str:
    return hs.extended_properties.get("ResourceGroup") or hs.name


def classic_identity(sub: str, obj: object, location: str | None = None, rg: str | None = None) -> Identity:
    """Identity of a classic model object. `location`/`rg` supply what a child inherits (deployment, role)."""
    if isinstance(obj, c.Role):
        rid = role_id(sub, obj.service_name, obj.deployment_name, obj.name)
        rtype = T_VM if obj.is_vm else T_PAAS_ROLE
        group = rg or obj.service_name
        if obj.is_vm:
            arm = arm_resource_id(sub, group, T_VM, obj.name)
        else:
            arm = arm_resource_id(sub, group, T_HOSTED_SERVICE, obj.service_name,
                                  ("slots", obj.deployment_name), ("roles", obj.name))
        return Identity(rid, rtype, obj.name, deployment_id(sub, obj.service_name, obj.deployment_name),
                        _loc(location), group, arm, obj.instance_status.value)
    if isinstance(obj, c.Deployment):
        group = rg or obj.service_name
        return Identity(deployment_id(sub, obj.service_name, obj.name), T_DEPLOYMENT, obj.name,
                        hosted_service_id(sub, obj.service_name), _loc(location), group,
                        arm_resource_id(sub, group, T_HOSTED_SERVICE, obj.service_name, ("slots", obj.slot.value)),
                        obj.status)
    if isinstance(obj, c.HostedService):
        group = cloud_service_rg(obj)
        return Identity(hosted_service_id(sub, obj.name), T_HOSTED_SERVICE, obj.name, None,
                        _loc(location or obj.location), group,
                        arm_resource_id(sub, group, T_HOSTED_SERVICE, obj.name), obj.status)
    if isinstance(obj, c.VirtualNetworkSite):
        return Identity(vnet_id(sub, obj.name), T_VNET, obj.name, None, _loc(location or obj.location),
                        DEFAULT_NETWORKING_RG, arm_resource_id(sub, DEFAULT_NETWORKING_RG, T_VNET, obj.name),
                        obj.state)
    if isinstance(obj, c.StorageAccount):
        loc = location or obj.location
        group = obj.extended_properties.get("ResourceGroup") or (default_storage_rg(loc) if loc else "Default-Storage")
        return Identity(storage_id(sub, obj.name), T_STORAGE, obj.name, None, _loc(loc), group,
                        arm_resource_id(sub, group, T_STORAGE, obj.name), obj.status)
    if isinstance(obj, c.ReservedIP):
        return Identity(reserved_ip_id(sub, obj.name), T_RESERVED_IP, obj.name, None, _loc(obj.location),
                        DEFAULT_NETWORKING_RG, arm_resource_id(sub, DEFAULT_NETWORKING_RG, T_RESERVED_IP, obj.name),
                        obj.state)
    if isinstance(obj, c.NetworkSecurityGroup):
        return Identity(nsg_id(sub, obj.name), T_NSG, obj.name, None, _loc(obj.location), DEFAULT_NETWORKING_RG,
                        arm_resource_id(sub, DEFAULT_NETWORKING_RG, T_NSG, obj.name), None)
    if isinstance(obj, c.RouteTable):
        return Identity(route_table_id(sub, obj.name), T_ROUTE_TABLE, obj.name, None, _loc(obj.location),
                        DEFAULT_NETWORKING_RG, arm_resource_id(sub, DEFAULT_NETWORKING_RG, T_ROUTE_TABLE, obj.name),
                        None)
    if isinstance(obj, c.LocalNetworkSite):
        return Identity(local_site_id(sub, obj.name), T_LOCAL_SITE, obj.name, None, None, DEFAULT_NETWORKING_RG,
                        None, None)
    if isinstance(obj, c.ExpressRouteCircuit):
        return Identity(er_circuit_id(sub, obj.service_key), T_ER_CIRCUIT, obj.name, None, _loc(obj.location),
                        DEFAULT_NETWORKING_RG,
                        arm_resource_id(sub, DEFAULT_NETWORKING_RG, T_ER_CIRCUIT, obj.service_key), None)
    if isinstance(obj, c.Disk):
        parent = (role_id(sub, obj.hosted_service_name, obj.deployment_name, obj.role_name)
                  if obj.role_name and obj.hosted_service_name and obj.deployment_name else None)
        return Identity(disk_id(sub, obj.name), T_DISK, obj.name, parent, _loc(location or obj.location),
                        None, None, "Attached" if obj.attached else "Unattached")
    if isinstance(obj, c.OSImage):
        return Identity(os_image_id(sub, obj.name), T_OS_IMAGE, obj.name, None, _loc(obj.location), None, None,
                        None)
    if isinstance(obj, c.VMImage):
        return Identity(vm_image_id(sub, obj.name), T_VM_IMAGE, obj.name, None, _loc(obj.location), None, None,
                        None)
    if isinstance(obj, c.AffinityGroup):
        return Identity(affinity_group_id(sub, obj.name), T_AFFINITY_GROUP, obj.name, None, _loc(obj.location),
                        None, None, None)
    if isinstance(obj, c.RoleAssignment):
        return Identity(role_assignment_id(sub, obj.name), T_ROLE_ASSIGNMENT, obj.name, None, None, None, None,
                        None)
    raise TypeError(f"not a classic resource: {type(obj).__name__}")


MODEL_BY_TYPE: Final[dict[str, type[c.Model]]] = {
    T_AFFINITY_GROUP: c.AffinityGroup,
    T_HOSTED_SERVICE: c.HostedService,
    T_DEPLOYMENT: c.Deployment,
    T_VM: c.Role,
    T_PAAS_ROLE: c.Role,
    T_VNET: c.VirtualNetworkSite,
    T_LOCAL_SITE: c.LocalNetworkSite,
    T_RESERVED_IP: c.ReservedIP,
    T_NSG: c.NetworkSecurityGroup,
    T_ROUTE_TABLE: c.RouteTable,
    T_ER_CIRCUIT: c.ExpressRouteCircuit,
    T_STORAGE: c.StorageAccount,
    T_DISK: c.Disk,
    T_OS_IMAGE: c.OSImage,
    T_VM_IMAGE: c.VMImage,
    T_ROLE_ASSIGNMENT: c.RoleAssignment,
}
