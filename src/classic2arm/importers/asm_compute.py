"""ASM compute bodies: List/Get Hosted Service(s), Get Deployment, Get Role."""

from __future__ import annotations

import re
from pathlib import PurePath
from urllib.parse import urlsplit

from classic2arm.domain import classic as c
from classic2arm.domain.estate import Estate

from .asm_roles import Where, add_role
from .errors import InputError
from .xml_node import Node, build, present

_CLOUDAPP = re.compile(r"^([a-z0-9][a-z0-9-]*)\.cloudapp\.net$", re.IGNORECASE)
_ROLE_FILE = re.compile(r"VirtualMachine-(.+)$")


def extended_properties(n: Node | None) -> dict[str, str]:
    if n is None:
        return {}
    return {p.req("Name"): p.text("Value") or "" for p in n.items("ExtendedProperties", "ExtendedProperty")}


def _virtual_ip(n: Node) -> c.VirtualIP:
    return build(
        c.VirtualIP,
        n,
        name=n.req("Name"),
        address=n.ip("Address") or n.req("Address"),
        is_dns_programmed=n.boolean("IsDnsProgrammed", True),
        is_reserved=n.boolean("IsReserved", False),
        reserved_ip_name=n.text("ReservedIPName"),
    )


def _load_balancer(n: Node) -> c.InternalLoadBalancer:
    front = n.child("FrontendIpConfiguration")
    return build(
        c.InternalLoadBalancer,
        n,
        name=n.req("Name"),
        **present(
            type=front.text("Type") if front else None,
            subnet_name=front.text("SubnetName") if front else None,
            static_ip=front.ip("StaticVirtualNetworkIPAddress") if front else None,
        ),
    )


def add_deployment(estate: Estate, n: Node, service_name: str, location: str | None) -> c.Deployment:
    name = n.req("Name")
    by_role: dict[str, list[Node]] = {}
    for inst in n.items("RoleInstanceList", "RoleInstance"):
        by_role.setdefault(inst.req("RoleName"), []).append(inst)
    where = Where(service_name, name, location)
    for role in n.items("RoleList", "Role"):
        add_role(estate, role, where, by_role.get(role.req("RoleName"), []))
    vips = [_virtual_ip(v) for v in n.items("VirtualIPs", "VirtualIP")]
    reserved = n.text("ReservedIPName") or next((v.reserved_ip_name for v in vips if v.reserved_ip_name), None)
    deployment = build(
        c.Deployment,
        n,
        name=name,
        service_name=service_name,
        private_id=n.text("PrivateID") or "",
        label=n.label(),
        virtual_network_name=n.text("VirtualNetworkName"),
        virtual_ips=vips,
        reserved_ip_name=reserved,
        dns_servers=[build(c.DnsServer, d, name=d.req("Name"), address=d.req("Address"))
                     for d in n.items("Dns", "DnsServers", "DnsServer")],
        internal_dns_suffix=n.text("InternalDnsSuffix"),
        internal_load_balancers=[_load_balancer(lb) for lb in n.items("LoadBalancers", "LoadBalancer")],
        upgrade_in_progress=n.child("UpgradeStatus") is not None,
        sdk_version=n.text("SdkVersion") or "",
        created=n.timestamp("CreatedTime"),
        last_modified=n.timestamp("LastModifiedTime"),
        configuration=n.text("Configuration"),
        **present(slot=n.enum("DeploymentSlot", c.DeploymentSlot), status=n.text("Status")),
    )
    estate.deployments.append(deployment)
    return deployment


def add_hosted_service(estate: Estate, n: Node) -> c.HostedService:
    name = n.req("ServiceName")
    props = n.child("HostedServiceProperties")
    location = props.text("Location") if props else None
    service = build(
        c.HostedService,
        n,
        name=name,
        location=location,
        affinity_group=props.text("AffinityGroup") if props else None,
        label=props.label() if props else "",
        description=(props.text("Description") if props else None) or "",
        created=props.timestamp("DateCreated") if props else None,
        last_modified=props.timestamp("DateLastModified") if props else None,
        extended_properties=extended_properties(props),
        **present(status=props.text("Status") if props else None),
    )
    estate.hosted_services.append(service)
    for dep in n.items("Deployments", "Deployment"):
        add_deployment(estate, dep, name, location)
    return service


def parse_hosted_services(root: Node) -> Estate:
    estate = Estate()
    for hs in root.children("HostedService"):
        add_hosted_service(estate, hs)
    return estate


def parse_hosted_service(root: Node) -> Estate:
    estate = Estate()
    add_hosted_service(estate, root)
    return estate


def parse_deployment(root: Node, context: dict[str, str]) -> Estate:
    """Get Deployment: the body never names its hosted service, but its Url host does."""
    estate = Estate()
    service = context.get("service_name")
    if not service:
        host = urlsplit(root.text("Url") or "").hostname or ""
        m = _CLOUDAPP.match(host)
        if not m:
            raise root.error("Url", "Get Deployment bodies do not name their hosted service and the Url is "
                                    "not {service}.cloudapp.net; pass context service_name")
        service = m.group(1)
    add_deployment(estate, root, service, context.get("location"))
    estate.notes.append(f"{root.src}: deployment of hosted service '{service}', which this file does not describe")
    return estate


def _names_from_file(src: str, role: str) -> tuple[str, str] | None:
    """migAz names Get Role captures `...VirtualMachine-{svc}-{dep}-{role}.xml`."""
    m = _ROLE_FILE.search(PurePath(src).stem)
    if not m or not m.group(1).endswith(f"-{role}"):
        return None
    head = m.group(1)[: -len(role) - 1]
    parts = head.split("-")
    if len(parts) == 2:
        return parts[0], parts[1]
    # Hyphenated names are ambiguous unless service and deployment share the name (the VM default).
    half, rest = divmod(len(parts), 2)
    if not rest and parts[:half] == parts[half:]:
        joined = "-".join(parts[:half])
        return joined, joined
    return None


def parse_role(root: Node, context: dict[str, str]) -> Estate:
    name = root.req("RoleName")
    service, deployment = context.get("service_name"), context.get("deployment_name")
    if not (service and deployment):
        found = _names_from_file(root.src, name)
        if found is None:
            raise InputError(root.src, root.path, "a Get Role body does not name its hosted service and "
                             "deployment; pass context service_name and deployment_name (or name the file "
                             "...VirtualMachine-{service}-{deployment}-{role}.xml)")
        service, deployment = found
    estate = Estate()
    add_role(estate, root, Where(service, deployment, context.get("location")))
    estate.notes.append(f"{root.src}: role of deployment '{service}/{deployment}', which this file does not describe")
    return estate
