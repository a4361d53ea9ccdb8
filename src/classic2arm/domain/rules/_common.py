"""Helpers the rule modules share: ResourceType values and message construction (media links: `..media`).

Message convention (spec §4.1): ResourceType names the kind of object the finding is about and
ResourceName that object's name; findings about a VM, its extensions or its disks also carry the VM
name in VirtualMachine.
"""

from __future__ import annotations

from typing import Final

from .. import classic as c
from ..catalogue import Text
from ..units import Category, Message, UnitKind

# ResourceType values: Deployment, Storage and VirtualNetwork are seen on the wire (spec §4.1), the rest are the
# spec's [P] list. The unit kinds' own come from `UnitKind.resource_type`.
DEPLOYMENT: Final = UnitKind.DEPLOYMENT.resource_type
STORAGE: Final = UnitKind.STORAGE.resource_type
VIRTUAL_NETWORK: Final = UnitKind.VNET.resource_type
VIRTUAL_MACHINE: Final = "VirtualMachine"
HOSTED_SERVICE: Final = "HostedService"
NETWORK_SECURITY_GROUP: Final = UnitKind.NSG.resource_type
RESERVED_IP: Final = UnitKind.RESERVED_IP.resource_type
ROUTE_TABLE: Final = UnitKind.ROUTE_TABLE.resource_type
AVAILABILITY_SET: Final = "AvailabilitySet"
EXTENSION: Final = "Extension"
DISK: Final = "Disk"

ERROR: Final = Category.ERROR
WARNING: Final = Category.WARNING
INFORMATION: Final = Category.INFORMATION


def msg(text: Text, category: Category, resource_type: str, resource_name: str, *args: object,
        vm: str | None = None, **values: object) -> Message:
    """A message whose rule id comes from the catalogue entry, so a rule can't mislabel its own messages.

    `vm` is both the VirtualMachine field and the `{vm}` placeholder (unused placeholders are ignored).
    """
    return Message(text.rule, resource_type, resource_name, category, text.text(*args, vm=vm, **values), vm)


def vm_msg(text: Text, category: Category, vm: c.Role, **values: object) -> Message:
    """A finding about the VM itself; `vm` and `hs` are filled from the role."""
    return Message(text.rule, VIRTUAL_MACHINE, vm.name, category,
                   text.text(vm=vm.name, hs=vm.service_name, **values), vm.name)


def all_subnets(vm: c.Role) -> list[str]:
    """Subnets of every NIC of a VM, primary first, without duplicates (compared case-insensitively)."""
    seen: dict[str, str] = {}
    for name in vm.subnet_names:
        seen.setdefault(name.lower(), name)
    for nic in vm.secondary_nics:
        for ipc in nic.ip_configurations:
            seen.setdefault(ipc.subnet_name.lower(), ipc.subnet_name)
    return list(seen.values())


def reserved_vips(dep: c.Deployment) -> list[tuple[str | None, c.VirtualIP | None]]:
    """(reserved IP name, VIP) per reserved VIP of a deployment.

    `Deployment.reserved_ip_name` is the single-VIP form of the same fact: it names the primary VIP.
    """
    out: list[tuple[str | None, c.VirtualIP | None]] = []
    for i, vip in enumerate(dep.virtual_ips):
        if vip.is_reserved:
            out.append((vip.reserved_ip_name or (dep.reserved_ip_name if i == 0 else None), vip))
    if not out and dep.reserved_ip_name:
        primary = dep.virtual_ips[0] if dep.virtual_ips else None
        out.append((dep.reserved_ip_name, primary))
    return out


def used_vips(cs_roles: list[c.Role], primary: str | None) -> set[str]:
    """VIP names and addresses (lower-case) that at least one input endpoint is on; no VIP name = primary."""
    used: set[str] = set()
    for vm in cs_roles:
        for ep in vm.input_endpoints:
            if ep.virtual_ip_name:
                used.add(ep.virtual_ip_name.lower())
            elif primary is not None:
                used.add(primary)
            if ep.vip:
                used.add(ep.vip.lower())
    return used


def join(names: list[str]) -> str:
    return ", ".join(names)
