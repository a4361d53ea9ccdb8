"""ASM REST response bodies (namespace `http://schemas.microsoft.com/windowsazure`) -> Estate.

One entry per root element the Service Management API returns for the GETs the migration reads
(spec §5.4); the parsers themselves live in asm_compute, asm_network and asm_storage.
"""

from __future__ import annotations

from collections.abc import Callable

from classic2arm.domain.estate import Estate

from . import asm_compute, asm_network, asm_storage
from .xml_node import Node

NAMESPACE = "http://schemas.microsoft.com/windowsazure"

Parser = Callable[[Node, dict[str, str]], Estate]


def _operation(root: Node, context: dict[str, str]) -> Estate:
    status = root.text("Status") or "unknown"
    code = root.text("HttpStatusCode")
    suffix = f" (HTTP {code})" if code else ""
    return Estate(notes=[f"{root.src}: operation {root.text('ID') or '?'} status {status}{suffix}; no resources"])


def _validation_messages(root: Node, context: dict[str, str]) -> Estate:
    messages = [f"{m.text('Category') or '?'}: {m.text('Message') or ''}".strip()
                for m in root.children("ValidationMessage")]
    detail = "; ".join(messages) if messages else "no messages"
    return Estate(notes=[f"{root.src}: migration validation result ({detail}); no resources"])


def _error(root: Node, context: dict[str, str]) -> Estate:
    return Estate(notes=[f"{root.src}: ASM error response {root.text('Code') or '?'}: "
                         f"{root.text('Message') or ''}; no resources"])


def _gateway(root: Node, context: dict[str, str]) -> Estate:
    """Get Virtual Network Gateway (GET /services/networking/{vnet}/gateway): the body never names its VNet, and
    the VNet's own body (List Virtual Network Sites, netcfg) already says which gateway it has; what only this
    body tells (provisioning state, VIP, size) is kept as a note."""
    vnet = context.get("virtual_network")
    whose = f"virtual network '{vnet}'" if vnet else "a virtual network the body does not name"
    facts = ", ".join(f"{label} {value}" for label, value in (
        ("state", root.text("State")), ("type", root.text("GatewayType")), ("size", root.text("GatewaySize")),
        ("VIP", root.text("VIPAddress"))) if value)
    return Estate(notes=[f"{root.src}: gateway of {whose} ({facts or 'no details'}); no resources (the VNet's own "
                         "body gives its gateway)"])


def _deployments(root: Node, context: dict[str, str]) -> Estate:
    """A list of a hosted service's deployments (`<Deployments>`, as some SDKs record the service's slots): each
    one as a Get Deployment body."""
    estate = Estate()
    for dep in root.children("Deployment"):
        estate.merge(asm_compute.parse_deployment(dep, context))
    return estate


def _no_context(parse: Callable[[Node], Estate]) -> Parser:
    return lambda root, context: parse(root)


ROOTS: dict[str, Parser] = {
    "HostedServices": _no_context(asm_compute.parse_hosted_services),
    "HostedService": _no_context(asm_compute.parse_hosted_service),
    "Deployment": asm_compute.parse_deployment,
    "Deployments": _deployments,
    "Gateway": _gateway,
    "PersistentVMRole": asm_compute.parse_role,
    "Role": asm_compute.parse_role,
    "VirtualNetworkSites": _no_context(asm_network.parse_virtual_network_sites),
    "ReservedIPs": _no_context(asm_network.parse_reserved_ips),
    "ReservedIP": _no_context(asm_network.parse_reserved_ips),
    "NetworkSecurityGroups": _no_context(asm_network.parse_network_security_groups),
    "NetworkSecurityGroup": _no_context(asm_network.parse_network_security_groups),
    "RouteTables": _no_context(asm_network.parse_route_tables),
    "RouteTable": _no_context(asm_network.parse_route_tables),
    "StorageServices": _no_context(asm_storage.parse_storage_services),
    "StorageService": _no_context(asm_storage.parse_storage_services),
    "CreateStorageServiceInput": _no_context(asm_storage.parse_storage_services),
    "Disks": _no_context(asm_storage.parse_disks),
    "Disk": _no_context(asm_storage.parse_disks),
    "Images": _no_context(asm_storage.parse_os_images),
    "OSImage": _no_context(asm_storage.parse_os_images),
    "VMImages": _no_context(asm_storage.parse_vm_images),
    "VMImage": _no_context(asm_storage.parse_vm_images),
    "AffinityGroups": _no_context(asm_storage.parse_affinity_groups),
    "AffinityGroup": _no_context(asm_storage.parse_affinity_groups),
    # Bodies that describe no resources: imported as notes so a capture folder loads whole.
    "Operation": _operation,
    "ValidationMessages": _validation_messages,
    "Error": _error,
}

# Roots that carry no classic resources; session records skip them silently.
RESOURCELESS = frozenset({"Operation", "ValidationMessages", "Error", "Gateway"})


def parse(root: Node, context: dict[str, str] | None = None) -> Estate:
    return ROOTS[root.tag](root, context or {})
