"""Governance and management-plane rules from the seed documents (spec §4.2 R53–R55; all Warnings, [P] texts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final
from urllib.parse import unquote

from .. import catalogue as t
from .. import classic as c
from .. import identity as ids
from ..units import Message, UnitKind, UnitSnapshot
from ._common import WARNING, msg, vm_msg
from .registry import ALL_KINDS, rule

DEP_AND_VNET = {UnitKind.DEPLOYMENT, UnitKind.VNET}

# Extensions that mean "Security Center is provisioning this VM": anything Microsoft.Azure.Security
# publishes (IaaSAntimalware, the ASC agents), and the monitoring agents Security Center auto-provisions.
SECURITY_PUBLISHER_PREFIX: Final = "microsoft.azure.security"
SECURITY_CENTER_AGENTS: Final = frozenset({"microsoftmonitoringagent", "omsagentforlinux"})

_ARM_TYPES: Final[dict[str, str]] = {
    "virtualnetwork": "Microsoft.Network/virtualNetworks",
    "reservedips": "Microsoft.Network/publicIPAddresses",
    "networksecuritygroups": "Microsoft.Network/networkSecurityGroups",
    "routetables": "Microsoft.Network/routeTables",
}


def _after(parts: list[str], marker: str) -> str | None:
    lowered = [p.lower() for p in parts]
    if marker in lowered and lowered.index(marker) + 1 < len(parts):
        return parts[lowered.index(marker) + 1]
    return None


def arm_id_for(snap: UnitSnapshot, classic_scope: str) -> str | None:
    """Best-effort ARM id a classic resource gets (RG naming of spec §3.1: `<cloud service|VNet|name>-Migrated`).

    None for storage accounts: their role assignments are kept by the migration (spec §3.1 row 26).
    """
    parts = [unquote(p) for p in classic_scope.strip("/").split("/")]
    sub = snap.subscription.id
    if _after(parts, "storageservices") is not None:
        return None
    svc = _after(parts, "hostedservices")
    if svc is not None:
        vm = _after(parts, "roles")
        if vm is not None:
            return ids.arm_resource_id(sub, f"{svc}-Migrated", "Microsoft.Compute/virtualMachines", vm)
        return ids.resource_group_id(sub, f"{svc}-Migrated")
    # network objects cloned with a VNet land in the VNet's group; standalone ones in their own
    group_owner = snap.vnet.name if snap.ref.kind == UnitKind.VNET and snap.vnet is not None else None
    for marker, arm_type in _ARM_TYPES.items():
        name = _after(parts, marker)
        if name is not None:
            return ids.arm_resource_id(sub, f"{group_owner or name}-Migrated", arm_type, name)
    return f"the Azure Resource Manager resource that replaces {classic_scope}"


@rule(id="R53", scopes=ALL_KINDS, category=WARNING)
def role_assignments(snap: UnitSnapshot) -> Iterator[Message]:
    """RBAC assignments on classic resources don't follow them: their ids change (storage keeps them)."""
    for ra in snap.role_assignments:
        arm_id = arm_id_for(snap, ra.scope)
        if arm_id is not None:
            yield msg(t.R53_ROLE_ASSIGNMENT, WARNING, snap.ref.kind.resource_type, snap.ref.name, assignment=ra.name,
                      classic_id=ra.scope, arm_id=arm_id)


@rule(id="R54", scopes=DEP_AND_VNET, category=WARNING)
def alerts_and_autoscale(snap: UnitSnapshot) -> Iterator[Message]:
    """Classic alert rules and autoscale settings are dropped."""
    for cs in snap.services:
        for vm in cs.vms:
            if vm.has_alerts or vm.has_autoscale:
                what = " and ".join(w for w, on in (("alerts", vm.has_alerts),
                                                    ("autoscale settings", vm.has_autoscale)) if on)
                yield vm_msg(t.R54_ALERTS_AUTOSCALE, WARNING, vm, what=what)


def has_security_center(vm: c.Role) -> bool:
    return any(ext.publisher.lower().startswith(SECURITY_PUBLISHER_PREFIX)
               or ext.name.lower() in SECURITY_CENTER_AGENTS for ext in vm.extensions)


@rule(id="R55", scopes={UnitKind.VNET}, category=WARNING)
def security_center_behind_gateway(snap: UnitSnapshot) -> Iterator[Message]:
    """Security Center agent on a running VM in a VNet whose gateway leads to custom (on-premises) DNS.

    Condition: the VNet has a gateway (type other than None) and DNS servers of its own, and an allocated VM
    has a Security Center extension (see `has_security_center`); the agent's status write can fail while
    prepare swaps the gateway.
    """
    v = snap.vnet
    if v is None or v.gateway is None or v.gateway.type == c.GatewayType.NONE or not v.dns_servers:
        return
    for cs in snap.services:
        for vm in cs.vms:
            if vm.allocated and vm.extensions and has_security_center(vm):
                yield vm_msg(t.R55_SECURITY_CENTER, WARNING, vm, vnet=v.name)
