"""ASM networking bodies: List Virtual Network Sites, Reserved IPs, NSGs (detail Full), route tables."""

from __future__ import annotations

from classic2arm.domain import classic as c
from classic2arm.domain.estate import Estate

from .xml_node import Node, build, present


def _prefixes(n: Node, container: str) -> list[str]:
    return [p.cidr() for p in n.items(container, "AddressPrefixes", "AddressPrefix")]


def _site_and_connection(n: Node) -> tuple[c.LocalNetworkSite, c.LocalSiteConnection]:
    name = n.req("Name")
    site = build(c.LocalNetworkSite, n, name=name, address_space=_prefixes(n, "AddressSpace"),
                 vpn_gateway_address=n.ip("VpnGatewayAddress"))
    kinds = [k for conn in n.items("Connections", "Connection") if (k := conn.text("Type"))]
    connection = build(c.LocalSiteConnection, n, local_network_site=name, **present(type=kinds[0] if kinds else None))
    return site, connection


def _gateway(n: Node, estate: Estate) -> c.Gateway:
    connections = []
    for site_node in n.items("Sites", "LocalNetworkSite"):
        site, connection = _site_and_connection(site_node)
        estate.local_network_sites.append(site)
        connections.append(connection)
    return build(
        c.Gateway,
        n,
        connections=connections,
        vpn_client_address_pool=_prefixes(n, "VPNClientAddressPool"),
        **present(profile=n.text("Profile"), vip=n.ip("VIPAddress")),
    )


def _vnet(n: Node, estate: Estate) -> c.VirtualNetworkSite:
    name = n.req("Name")
    if n.child("AddressSpace") is None:
        raise n.error("AddressSpace", f"VirtualNetworkSite '{name}' has no <AddressSpace>")
    prefixes = _prefixes(n, "AddressSpace")
    if not prefixes:
        raise n.error("AddressSpace/AddressPrefixes",
                      f"VirtualNetworkSite '{name}' needs at least one <AddressPrefix>")
    subnets = [
        build(c.Subnet, s, name=s.req("Name"), address_prefix=s.cidr("AddressPrefix"),
              network_security_group=s.text("NetworkSecurityGroup"), route_table=s.text("RouteTable"))
        for s in n.items("Subnets", "Subnet")
    ]
    gateway = n.child("Gateway")
    vnet = build(
        c.VirtualNetworkSite,
        n,
        name=name,
        id=n.text("Id") or "",
        location=n.text("Location"),
        affinity_group=n.text("AffinityGroup"),
        label=n.label(),
        address_space=prefixes,
        subnets=subnets,
        dns_servers=[build(c.DnsServer, d, name=d.req("Name"), address=d.req("Address"))
                     for d in n.items("Dns", "DnsServers", "DnsServer")],
        gateway=_gateway(gateway, estate) if gateway else None,
        **present(state=n.text("State")),
    )
    if state := n.text("MigrationState"):
        estate.notes.append(f"{n.src}: virtual network '{name}' has MigrationState {state}")
    return vnet


def parse_virtual_network_sites(root: Node) -> Estate:
    estate = Estate()
    estate.virtual_networks = [_vnet(v, estate) for v in root.children("VirtualNetworkSite")]
    # The same local site is listed under every gateway that connects to it; keep one.
    unique = {s.name.lower(): s for s in estate.local_network_sites}
    estate.local_network_sites = list(unique.values())
    return estate


def _reserved_ip(n: Node) -> c.ReservedIP:
    return build(
        c.ReservedIP,
        n,
        name=n.req("Name"),
        address=n.ip("Address") or n.req("Address"),
        id=n.text("Id") or "",
        label=n.label(),
        location=n.req("Location"),
        service_name=n.text("ServiceName"),
        deployment_name=n.text("DeploymentName"),
        virtual_ip_name=n.text("VirtualIPName"),
        **present(state=n.text("State")),
    )


def parse_reserved_ips(root: Node) -> Estate:
    if root.tag == "ReservedIP":
        return Estate(reserved_ips=[_reserved_ip(root)])
    return Estate(reserved_ips=[_reserved_ip(r) for r in root.children("ReservedIP")])


def _nsg_rule(n: Node) -> c.NsgRule:
    return build(
        c.NsgRule,
        n,
        name=n.req("Name"),
        priority=n.req_integer("Priority"),
        is_default=n.boolean("IsDefault", False),
        **present(
            type=n.choice("Type", ("Inbound", "Outbound")),
            action=n.choice("Action", ("Allow", "Deny")),
            source_address_prefix=n.text("SourceAddressPrefix"),
            source_port_range=n.text("SourcePortRange"),
            destination_address_prefix=n.text("DestinationAddressPrefix"),
            destination_port_range=n.text("DestinationPortRange"),
            protocol=n.text("Protocol"),
            state=n.text("State"),
        ),
    )


def _nsg(n: Node) -> c.NetworkSecurityGroup:
    return build(c.NetworkSecurityGroup, n, name=n.req("Name"), label=n.label(), location=n.req("Location"),
                 rules=[_nsg_rule(r) for r in n.items("Rules", "Rule")])


def parse_network_security_groups(root: Node) -> Estate:
    if root.tag == "NetworkSecurityGroup":
        return Estate(network_security_groups=[_nsg(root)])
    return Estate(network_security_groups=[_nsg(g) for g in root.children("NetworkSecurityGroup")])


def _route(n: Node) -> c.Route:
    hop = n.child("NextHopType")
    # Get Route Table nests {Type, IpAddress} under NextHopType; other captures flatten them.
    nested = hop is not None and hop.child("Type") is not None
    kind = hop.req("Type") if hop and nested else n.req("NextHopType")
    address = hop.ip("IpAddress") if hop and nested else n.ip("NextHopIpAddress")
    return build(c.Route, n, name=n.req("Name"), address_prefix=n.cidr("AddressPrefix"),
                 next_hop_type=kind, next_hop_ip_address=address)


def _route_table(n: Node) -> c.RouteTable:
    return build(c.RouteTable, n, name=n.req("Name"), label=n.label(), location=n.req("Location"),
                 routes=[_route(r) for r in n.items("RouteList", "Route")])


def parse_route_tables(root: Node) -> Estate:
    if root.tag == "RouteTable":
        return Estate(route_tables=[_route_table(root)])
    return Estate(route_tables=[_route_table(t) for t in root.children("RouteTable")])
