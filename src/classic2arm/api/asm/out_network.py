"""Network bodies: virtual network sites, the netcfg document, reserved IPs, NSGs, route tables.

Element order follows real captures (VirtualNetworkSite: Location after Gateway; ReservedIP: Location
before InUse; RouteTable: NextHopType nested).
"""

from __future__ import annotations

from lxml import etree

from ...domain import classic as c
from ...importers.netcfg import NAMESPACE as NETCFG_NS
from ...service.classic_reads import VNetView
from .xml_out import add, listing, opt, root, single, texts, to_bytes


def _site(el: etree._Element, v: VNetView) -> None:
    vnet = v.vnet
    add(el, "Name", vnet.name)
    opt(el, "Label", vnet.label)
    add(el, "Id", vnet.id or "00000000-0000-0000-0000-000000000000")
    opt(el, "AffinityGroup", vnet.affinity_group)
    add(el, "State", vnet.state)
    add(el, "InUse", v.in_use)
    space = add(el, "AddressSpace")
    texts(space, "AddressPrefixes", "AddressPrefix", vnet.address_space)
    subnets = add(el, "Subnets")
    for sn in vnet.subnets:
        se = add(subnets, "Subnet")
        add(se, "Name", sn.name)
        add(se, "AddressPrefix", sn.address_prefix)
        opt(se, "NetworkSecurityGroup", sn.network_security_group)
    if vnet.dns_servers:
        servers = add(add(el, "Dns"), "DnsServers")
        for d in vnet.dns_servers:
            ds = add(servers, "DnsServer")
            add(ds, "Name", d.name)
            add(ds, "Address", d.address)
    if vnet.gateway is not None:
        gw = add(el, "Gateway")
        add(gw, "Profile", vnet.gateway.profile)
        sites = add(gw, "Sites")
        for conn in vnet.gateway.connections:
            local = v.local_sites.get(conn.local_network_site.lower())
            se = add(sites, "LocalNetworkSite")
            add(se, "Name", conn.local_network_site)
            texts(add(se, "AddressSpace"), "AddressPrefixes", "AddressPrefix", local.address_space if local else [])
            opt(se, "VpnGatewayAddress", local.vpn_gateway_address if local else None)
            add(add(add(se, "Connections"), "Connection"), "Type", conn.type)
        if vnet.gateway.vpn_client_address_pool:
            texts(add(gw, "VPNClientAddressPool"), "AddressPrefixes", "AddressPrefix",
                  vnet.gateway.vpn_client_address_pool)
    add(el, "Location", vnet.location)
    opt(el, "MigrationState", v.migration_state)


def virtual_network_sites(views: list[VNetView]) -> bytes:
    return listing("VirtualNetworkSites", "VirtualNetworkSite", views, _site)


def network_configuration(vnets: list[c.VirtualNetworkSite], local_sites: list[c.LocalNetworkSite]) -> bytes:
    """The netcfg document (GET /services/networking/media); names live in attributes here."""
    el = root("NetworkConfiguration", ns=NETCFG_NS)
    cfg = add(el, "VirtualNetworkConfiguration")
    servers: dict[str, c.DnsServer] = {}
    for v in vnets:
        for d in v.dns_servers:
            servers.setdefault(d.name.lower(), d)
    dns = add(add(cfg, "Dns"), "DnsServers")
    for d in servers.values():
        add(dns, "DnsServer").attrib.update({"name": d.name, "IPAddress": d.address})
    if local_sites:
        sites = add(cfg, "LocalNetworkSites")
        for ls in local_sites:
            se = add(sites, "LocalNetworkSite")
            se.set("name", ls.name)
            space = add(se, "AddressSpace")
            for p in ls.address_space:
                add(space, "AddressPrefix", p)
            opt(se, "VPNGatewayAddress", ls.vpn_gateway_address)
    box = add(cfg, "VirtualNetworkSites")
    for v in vnets:
        ve = add(box, "VirtualNetworkSite")
        ve.set("name", v.name)
        if v.affinity_group:
            ve.set("AffinityGroup", v.affinity_group)
        elif v.location:
            ve.set("Location", v.location)
        space = add(ve, "AddressSpace")
        for p in v.address_space:
            add(space, "AddressPrefix", p)
        subnets = add(ve, "Subnets")
        for sn in v.subnets:
            se = add(subnets, "Subnet")
            se.set("name", sn.name)
            add(se, "AddressPrefix", sn.address_prefix)
            opt(se, "NetworkSecurityGroup", sn.network_security_group)
        refs = add(ve, "DnsServersRef")
        for d in v.dns_servers:
            add(refs, "DnsServerRef").set("name", d.name)
        if v.gateway is not None:
            gw = add(ve, "Gateway")
            gw.set("profile", v.gateway.profile)
            if v.gateway.vpn_client_address_pool:
                pool = add(gw, "VPNClientAddressPool")
                for p in v.gateway.vpn_client_address_pool:
                    add(pool, "AddressPrefix", p)
            conns = add(gw, "ConnectionsToLocalNetwork")
            for conn in v.gateway.connections:
                ref = add(conns, "LocalNetworkSiteRef")
                ref.set("name", conn.local_network_site)
                add(ref, "Connection").set("type", conn.type)
    return to_bytes(el)


def _reserved_ip(el: etree._Element, rip: c.ReservedIP) -> None:
    add(el, "Name", rip.name)
    add(el, "Address", rip.address)
    add(el, "Id", rip.id)
    opt(el, "Label", rip.label)
    add(el, "State", rip.state)
    add(el, "Location", rip.location)
    add(el, "InUse", rip.in_use)
    opt(el, "ServiceName", rip.service_name)
    opt(el, "DeploymentName", rip.deployment_name)
    opt(el, "VirtualIPName", rip.virtual_ip_name)


def reserved_ips(rips: list[c.ReservedIP]) -> bytes:
    return listing("ReservedIPs", "ReservedIP", rips, _reserved_ip)


def reserved_ip(rip: c.ReservedIP) -> bytes:
    return single("ReservedIP", rip, _reserved_ip)


def _nsg(el: etree._Element, nsg: c.NetworkSecurityGroup, full: bool) -> None:
    add(el, "Name", nsg.name)
    opt(el, "Label", nsg.label)
    add(el, "Location", nsg.location)
    add(el, "State", "Created")
    if not full:
        return
    rules = add(el, "Rules")
    for r in nsg.rules:
        re_ = add(rules, "Rule")
        add(re_, "Name", r.name)
        add(re_, "Type", r.type)
        add(re_, "Priority", r.priority)
        add(re_, "Action", r.action)
        add(re_, "SourceAddressPrefix", r.source_address_prefix)
        add(re_, "SourcePortRange", r.source_port_range)
        add(re_, "DestinationAddressPrefix", r.destination_address_prefix)
        add(re_, "DestinationPortRange", r.destination_port_range)
        add(re_, "Protocol", r.protocol)
        add(re_, "State", r.state)
        if r.is_default:
            add(re_, "IsDefault", True)


def network_security_groups(nsgs: list[c.NetworkSecurityGroup]) -> bytes:
    return listing("NetworkSecurityGroups", "NetworkSecurityGroup", nsgs, lambda el, g: _nsg(el, g, full=False))


def network_security_group(nsg: c.NetworkSecurityGroup, full: bool) -> bytes:
    return single("NetworkSecurityGroup", nsg, lambda el, g: _nsg(el, g, full))


def _route_table(el: etree._Element, rt: c.RouteTable, full: bool) -> None:
    add(el, "Name", rt.name)
    opt(el, "Label", rt.label)
    add(el, "Location", rt.location)
    if not full:
        return
    routes = add(el, "RouteList")
    for r in rt.routes:
        re_ = add(routes, "Route")
        add(re_, "Name", r.name)
        add(re_, "AddressPrefix", r.address_prefix)
        hop = add(re_, "NextHopType")
        add(hop, "Type", r.next_hop_type)
        opt(hop, "IpAddress", r.next_hop_ip_address)


def route_tables(rts: list[c.RouteTable]) -> bytes:
    return listing("RouteTables", "RouteTable", rts, lambda el, t: _route_table(el, t, full=False))


def route_table(rt: c.RouteTable, full: bool) -> bytes:
    return single("RouteTable", rt, lambda el, t: _route_table(el, t, full))
