"""Cloud-service package files: .cscfg (ServiceConfiguration) and .csdef (ServiceDefinition).

These describe PaaS web/worker roles. Migration later refuses such roles, but importing them must
work so the refusal can be reported against real resources.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from lxml import etree

from classic2arm.domain import classic as c
from classic2arm.domain.estate import Estate

from .errors import InputError
from .safe_xml import check_namespace, local_name, parse_xml
from .xml_node import Node, build

CSCFG_NAMESPACE = "http://schemas.microsoft.com/ServiceHosting/2008/10/ServiceConfiguration"
CSDEF_NAMESPACE = "http://schemas.microsoft.com/ServiceHosting/2008/10/ServiceDefinition"

_NOT_NAME = re.compile(r"[^A-Za-z0-9-]+")


def _names(src: str, context: dict[str, str]) -> tuple[str, str]:
    """Hosted service and deployment names: from context, else from the file stem (sanitised)."""
    derived = _NOT_NAME.sub("-", PurePath(src).stem).strip("-")[:63] or "cloudservice"
    service = context.get("service_name") or derived
    return service, context.get("deployment_name") or service


def _holders(src: str, service: str, deployment: str, reserved_ip: str | None = None,
             vnet: str | None = None) -> Estate:
    estate = Estate()
    estate.hosted_services.append(c.HostedService(name=service, location=None))
    estate.deployments.append(c.Deployment(name=deployment, service_name=service, slot=c.DeploymentSlot.PRODUCTION,
                                           reserved_ip_name=reserved_ip, virtual_network_name=vnet))
    estate.notes.append(f"{src}: hosted service '{service}' and deployment '{deployment}' made up to hold the "
                        "package's roles; the file gives no location")
    return estate


def _public_ip(n: Node) -> c.InstancePublicIP:
    timeout = n.attr("idleTimeoutInMinutes") or n.text("IdleTimeoutInMinutes")
    if timeout is not None and not timeout.isdecimal():
        raise n.attr_error("idleTimeoutInMinutes", f"'{timeout}' is not an integer")
    return build(c.InstancePublicIP, n, name=n.req_attr("name"),
                 idle_timeout_in_minutes=int(timeout) if timeout else None,
                 domain_name_label=n.attr("domainNameLabel") or n.text("DomainNameLabel"))


def parse_configuration(root: Node, context: dict[str, str], role_types: dict[str, c.RoleType] | None = None) -> Estate:
    service, deployment = _names(root.src, context)
    net = root.child("NetworkConfiguration")
    reserved = [r.req_attr("name") for r in net.items("AddressAssignments", "ReservedIPs", "ReservedIP")] if net else []
    vnet_node = net.child("VirtualNetworkSite") if net else None
    estate = _holders(root.src, service, deployment, reserved[0] if reserved else None,
                      vnet_node.req_attr("name") if vnet_node else None)
    addresses = {a.req_attr("roleName"): a for a in net.items("AddressAssignments", "InstanceAddress")} if net else {}
    for role in root.children("Role"):
        name = role.req_attr("name")
        instances = role.child("Instances")
        if instances is None:
            raise role.error("Instances", f"Role '{name}' has no <Instances count=...>")
        count_raw = instances.req_attr("count")
        if not count_raw.isdecimal():
            raise instances.attr_error("count", f"'{count_raw}' is not an instance count")
        address = addresses.get(name)
        role_type = (role_types or {}).get(name, c.RoleType.WEB)
        estate.roles.append(build(
            c.Role, role, name=name, service_name=service, deployment_name=deployment, role_type=role_type,
            size=None, instance_count=int(count_raw),
            public_ips=[_public_ip(p) for p in address.items("PublicIPs", "PublicIP")] if address else [],
            subnet_names=[s.req_attr("name") for s in address.items("Subnets", "Subnet")] if address else [],
        ))
    if role_types is None:
        estate.notes.append(f"{root.src}: a .cscfg does not say web or worker; roles imported as WebRole")
    return estate


def _definition_roles(root: Node) -> list[tuple[Node, c.RoleType]]:
    return [(r, c.RoleType.WEB) for r in root.children("WebRole")] + \
        [(r, c.RoleType.WORKER) for r in root.children("WorkerRole")]


def _endpoint(n: Node) -> c.InputEndpoint:
    port, local = n.req_attr("port"), n.attr("localPort") or n.req_attr("port")
    if not (port.isdecimal() and local.isdecimal()):
        raise n.attr_error("port", f"ports '{port}'/'{local}' are not integers")
    return build(c.InputEndpoint, n, name=n.req_attr("name"), protocol=(n.attr("protocol") or "tcp").lower(),
                 port=int(port), local_port=int(local))


def parse_definition(root: Node, context: dict[str, str]) -> Estate:
    service, deployment = _names(root.src, context)
    estate = _holders(root.src, service, deployment)
    for role, role_type in _definition_roles(root):
        estate.roles.append(build(
            c.Role, role, name=role.req_attr("name"), service_name=service, deployment_name=deployment,
            role_type=role_type, size=None, instance_count=1,
            input_endpoints=[_endpoint(e) for e in role.items("Endpoints", "InputEndpoint")],
        ))
    estate.notes.append(f"{root.src}: a .csdef has no instance counts; each role imported with 1 instance")
    return estate


def _expect_root(root: etree._Element, tag: str, ns: str, name: str) -> None:
    if local_name(root) != tag:
        raise InputError(name, local_name(root), f"expected a <{tag}> document, found <{local_name(root)}>")
    check_namespace(root, ns, name)


def load_package(cscfg: bytes, csdef: bytes | None, name: str, context: dict[str, str] | None = None) -> Estate:
    """A .cscfg with its optional .csdef: the definition says which roles are web and which worker."""
    cfg_root = parse_xml(cscfg, name)
    _expect_root(cfg_root, "ServiceConfiguration", CSCFG_NAMESPACE, name)
    role_types: dict[str, c.RoleType] | None = None
    if csdef is not None:
        def_name = f"{name} (definition)"
        def_root = parse_xml(csdef, def_name)
        _expect_root(def_root, "ServiceDefinition", CSDEF_NAMESPACE, def_name)
        role_types = {r.req_attr("name"): t for r, t in _definition_roles(Node.root(def_root, def_name))}
    return parse_configuration(Node.root(cfg_root, name), context or {}, role_types)
