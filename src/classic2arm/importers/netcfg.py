"""Network configuration files (.netcfg, `GET/PUT /services/networking/media`) -> VNets and local sites.

Names live in attributes here (`<VirtualNetworkSite name=".." Location="..">`), unlike the element
style of the List Virtual Network Sites response handled in asm_network.
"""

from __future__ import annotations

from classic2arm.domain import classic as c
from classic2arm.domain.estate import Estate

from . import values
from .xml_node import Node, build

NAMESPACE = "http://schemas.microsoft.com/ServiceHosting/2011/07/NetworkConfiguration"


def _prefixes(node: Node, container: str) -> list[str]:
    return [p.cidr() for p in node.items(container, "AddressPrefix")]


def _dns_servers(config: Node) -> dict[str, c.DnsServer]:
    servers: dict[str, c.DnsServer] = {}
    for server in config.items("Dns", "DnsServers", "DnsServer"):
        name = server.req_attr("name")
        address = server.req_attr("IPAddress")
        if problem := values.ip_problem(address):
            raise server.attr_error("IPAddress", problem)
        servers[name.lower()] = build(c.DnsServer, server, name=name, address=address)
    return servers


def _local_site(node: Node) -> c.LocalNetworkSite:
    return build(
        c.LocalNetworkSite,
        node,
        name=node.req_attr("name"),
        address_space=_prefixes(node, "AddressSpace"),
        vpn_gateway_address=node.ip("VPNGatewayAddress"),
    )


def _subnet(node: Node) -> c.Subnet:
    return build(
        c.Subnet,
        node,
        name=node.req_attr("name"),
        address_prefix=node.cidr("AddressPrefix"),
        network_security_group=node.text("NetworkSecurityGroup") or node.attr("NetworkSecurityGroup"),
        route_table=node.text("RouteTable") or node.attr("RouteTable"),
    )


def _gateway(node: Node, local_sites: set[str]) -> c.Gateway:
    connections = []
    for ref in node.items("ConnectionsToLocalNetwork", "LocalNetworkSiteRef"):
        site = ref.req_attr("name")
        if site.lower() not in local_sites:
            raise ref.error(None, f"LocalNetworkSiteRef '{site}' names no LocalNetworkSite in this file")
        conn = ref.child("Connection")
        kind = (conn.attr("type") if conn else None) or "IPsec"
        connections.append(build(c.LocalSiteConnection, ref, local_network_site=site, type=kind))
    fields: dict[str, object] = {
        "connections": connections,
        "vpn_client_address_pool": _prefixes(node, "VPNClientAddressPool"),
    }
    if profile := node.attr("profile"):
        fields["profile"] = profile
    return build(c.Gateway, node, **fields)


def _vnet(node: Node, dns: dict[str, c.DnsServer], local_sites: set[str]) -> c.VirtualNetworkSite:
    name = node.req_attr("name")
    space = node.child("AddressSpace")
    if space is None:
        raise node.error("AddressSpace", f"VirtualNetworkSite '{name}' has no <AddressSpace>")
    prefixes = _prefixes(node, "AddressSpace")
    if not prefixes:
        raise space.error("AddressPrefix", f"VirtualNetworkSite '{name}' needs at least one <AddressPrefix>")
    servers = []
    for ref in node.items("DnsServersRef", "DnsServerRef"):
        ref_name = ref.req_attr("name")
        if ref_name.lower() not in dns:
            raise ref.error(None, f"DnsServerRef '{ref_name}' names no DnsServer under Dns/DnsServers")
        servers.append(dns[ref_name.lower()])
    gateway = node.child("Gateway")
    return build(
        c.VirtualNetworkSite,
        node,
        name=name,
        location=node.attr("Location"),
        affinity_group=node.attr("AffinityGroup"),
        label=node.attr("Label") or "",
        address_space=prefixes,
        subnets=[_subnet(s) for s in node.items("Subnets", "Subnet")],
        dns_servers=servers,
        gateway=_gateway(gateway, local_sites) if gateway else None,
    )


def parse(root: Node) -> Estate:
    estate = Estate()
    config = root.child("VirtualNetworkConfiguration")
    if config is None:
        estate.notes.append(f"{root.src}: network configuration has no VirtualNetworkConfiguration")
        return estate
    dns = _dns_servers(config)
    estate.local_network_sites = [_local_site(s) for s in config.items("LocalNetworkSites", "LocalNetworkSite")]
    known_sites = {s.name.lower() for s in estate.local_network_sites}
    estate.virtual_networks = [
        _vnet(v, dns, known_sites) for v in config.items("VirtualNetworkSites", "VirtualNetworkSite")
    ]
    if not estate.virtual_networks and not estate.local_network_sites:
        estate.notes.append(f"{root.src}: network configuration defines no sites")
    return estate
