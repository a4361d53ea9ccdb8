"""Virtual networks (row 13, 17), gateways (22, 25), local network gateways (23) and connections (24), plus
the platform VNet a non-VNet deployment lands in when its destination is `New`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from .. import arm
from .. import classic as c
from .. import identity as ids
from . import names
from .context import Ctx, Json, child, ref, succeeded
from .network import Placement, add_public_ip, nsg_clone, route_table_clone

# Classic gateway profiles -> ARM 2016 VPN gateway SKUs (Small was the Basic/"Default" gateway).
_GATEWAY_SKUS: Final = {"small": "Basic", "default": "Basic", "basic": "Basic", "medium": "Standard",
                        "standard": "Standard", "large": "HighPerformance", "extralarge": "HighPerformance",
                        "highperformance": "HighPerformance"}


def _subnet_props(ctx: Ctx, subnet: c.Subnet) -> Json:
    props: Json = {"addressPrefix": subnet.address_prefix}
    if subnet.network_security_group and (nsg := nsg_clone(ctx, subnet.network_security_group)):
        props["networkSecurityGroup"] = ref(nsg)
    if subnet.route_table and (rt := route_table_clone(ctx, subnet.route_table)):
        props["routeTable"] = ref(rt)
    return props


def add_vnet(ctx: Ctx, rg: str, name: str, address_space: Sequence[str], subnets: Sequence[tuple[str, Json]],
             dns_servers: Sequence[str], origin: str) -> str:
    """A VNet with its subnets both inline (as ARM returns them) and as child resources."""
    vnet_id = ctx.arm_id(rg, arm.VNET, name)
    inline = [{"id": child(vnet_id, "subnets", sn), "name": sn, "properties": succeeded(p)} for sn, p in subnets]
    props: Json = {"addressSpace": {"addressPrefixes": list(address_space)}, "subnets": inline}
    if dns_servers:
        props["dhcpOptions"] = {"dnsServers": list(dns_servers)}
    ctx.out.add(ctx.resource(rg, arm.VNET, name, props), origin)
    for sn, p in subnets:
        ctx.out.add(ctx.child_resource(vnet_id, arm.SUBNET, sn, p, located=False), origin)
    return vnet_id


def classic_vnet(ctx: Ctx, vnet: c.VirtualNetworkSite, rg: str,
                 peer_vnets: Mapping[str, Sequence[str]]) -> Placement:
    """Row 13 (+17): the VNet, its cloned NSGs/route tables, then its gateway side. Returns where its VMs go."""
    name = names.vnet_name(vnet.name)
    origin = ids.vnet_id(ctx.sub, vnet.name)
    subnets = [(s.name, _subnet_props(ctx, s)) for s in vnet.subnets]
    vnet_id = add_vnet(ctx, rg, name, vnet.address_space, subnets, [d.address for d in vnet.dns_servers], origin)
    if vnet.gateway is not None and vnet.gateway.type != c.GatewayType.NONE:
        _gateway(ctx, vnet, vnet.gateway, rg, name, vnet_id, peer_vnets)
    fallback = vnet.subnets[0].name if vnet.subnets else ""
    return Placement(keeps_addresses=True, vnet_id=vnet_id, fallback_subnet=fallback)


def platform_vnet(ctx: Ctx, svc: str, rg: str, origin: str) -> Placement:
    """Destination `New`: the platform creates `<svc>-VirtualNetwork` 10.0.0.0/16 with one /24 subnet.

    [P] The spec only says "a new platform-created" VNet (§1.1); the name follows the `<svc>-…` pattern of the
    other platform objects and the prefixes are ARM's portal defaults, which cannot clash with anything since
    the deployment had no VNet.
    """
    subnet = names.platform_subnet(svc)
    vnet_id = add_vnet(ctx, rg, names.platform_vnet(svc), [names.PLATFORM_VNET_PREFIX],
                       [(subnet, {"addressPrefix": names.PLATFORM_SUBNET_PREFIX})], [], origin)
    return Placement(keeps_addresses=False, vnet_id=vnet_id, fixed_subnet=subnet)


def _gateway(ctx: Ctx, vnet: c.VirtualNetworkSite, gw: c.Gateway, rg: str, name: str, vnet_id: str,
             peer_vnets: Mapping[str, Sequence[str]]) -> None:
    origin = ids.vnet_id(ctx.sub, vnet.name)
    express = gw.type == c.GatewayType.EXPRESS_ROUTE
    # The gateway VIP is kept (row 22); the tag lets check compare it like a deployment VIP.
    pip_id = add_public_ip(ctx, rg, names.gateway_ip(name), origin, static=False, address=gw.vip,
                           classic_vip=gw.vip)
    gw_name = names.gateway(name)
    gw_id = ctx.arm_id(rg, arm.VNET_GATEWAY, gw_name)
    sku = _GATEWAY_SKUS.get(gw.profile.strip().lower(), "Basic")
    props: Json = {
        "gatewayType": "ExpressRoute" if express else "Vpn",
        # Classic dynamic routing is ARM route-based, static routing policy-based; ER gateways are route-based.
        "vpnType": "PolicyBased" if gw.type == c.GatewayType.STATIC_ROUTING else "RouteBased",
        "enableBgp": False,
        "sku": {"name": sku, "tier": sku},
        "ipConfigurations": [{"id": child(gw_id, "ipConfigurations", "default"), "name": "default",
                              "properties": succeeded({
                                  "privateIPAllocationMethod": "Dynamic",
                                  "subnet": ref(child(vnet_id, "subnets", names.GATEWAY_SUBNET)),
                                  "publicIPAddress": ref(pip_id)})}],
    }
    if gw.vpn_client_address_pool:
        pool = {"addressPrefixes": list(gw.vpn_client_address_pool)}
        props["vpnClientConfiguration"] = {"vpnClientAddressPool": pool}
    ctx.out.add(ctx.resource(rg, arm.VNET_GATEWAY, gw_name, props), origin)
    if gw.express_route_circuit:
        ctx.out.drop(f"ExpressRoute link of {vnet.name} to circuit {gw.express_route_circuit}: the circuit's ARM id "
                     "is not in the snapshot, so the ExpressRoute connection is not created here")
    for link in gw.connections:
        _connection(ctx, vnet, link, rg, name, gw_id, peer_vnets)


def _connection(ctx: Ctx, vnet: c.VirtualNetworkSite, link: c.LocalSiteConnection, rg: str, name: str,
                gw_id: str, peer_vnets: Mapping[str, Sequence[str]]) -> None:
    site = ctx.snap.local_sites.get(link.local_network_site.lower())
    if site is None:
        ctx.out.drop(f"connection of {vnet.name} to local site {link.local_network_site}: site not in the snapshot")
        return
    origins = (ids.vnet_id(ctx.sub, vnet.name), ids.local_site_id(ctx.sub, site.name))
    props: Json = {"routingWeight": 0, "enableBgp": False,
                   "virtualNetworkGateway1": {"id": gw_id, "properties": {}}}
    peer = _peer_vnet(site, vnet, peer_vnets)
    if peer is not None:
        # Classic VNet-to-VNet: the local site stands for another VNet, so ARM links the two gateways (row 24).
        peer_name = names.vnet_name(peer)
        peer_gw = ctx.arm_id(names.migrated_rg(peer_name), arm.VNET_GATEWAY, names.gateway(peer_name))
        props.update(connectionType="Vnet2Vnet", virtualNetworkGateway2={"id": peer_gw, "properties": {}})
    else:
        lgw = ctx.out.add(ctx.resource(rg, arm.LOCAL_GATEWAY, site.name, {
            "localNetworkAddressSpace": {"addressPrefixes": list(site.address_space)},
            **({"gatewayIpAddress": site.vpn_gateway_address} if site.vpn_gateway_address else {})}), *origins)
        props.update(connectionType="IPsec", localNetworkGateway2={"id": lgw, "properties": {}})
    ctx.out.add(ctx.resource(rg, arm.CONNECTION, names.connection(name, site.name), props), *origins)


def _peer_vnet(site: c.LocalNetworkSite, vnet: c.VirtualNetworkSite,
               peer_vnets: Mapping[str, Sequence[str]]) -> str | None:
    """The other classic VNet a local site stands for: same address prefixes (order-insensitive)."""
    wanted = sorted(p.lower() for p in site.address_space)
    if not wanted:
        return None
    for other, space in sorted(peer_vnets.items()):
        if other.lower() != vnet.name.lower() and sorted(p.lower() for p in space) == wanted:
            return other
    return None
