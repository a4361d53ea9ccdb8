"""Network rules (spec §4.2 R29–R39, R41, R52), including the standalone NSG / route table / reserved-IP units.

Prepare-only rules (R34–R39) are the checks the spec says only ARM can answer; validate doesn't run them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from .. import catalogue as t
from .. import classic as c
from ..units import Message, Phase, UnitKind, UnitSnapshot
from ._common import (
    DEPLOYMENT,
    ERROR,
    HOSTED_SERVICE,
    NETWORK_SECURITY_GROUP,
    RESERVED_IP,
    ROUTE_TABLE,
    VIRTUAL_MACHINE,
    VIRTUAL_NETWORK,
    WARNING,
    join,
    msg,
    reserved_vips,
    used_vips,
)
from .registry import rule

DEP_AND_VNET = {UnitKind.DEPLOYMENT, UnitKind.VNET}


def _vnet_name(snap: UnitSnapshot) -> str:
    return snap.vnet.name if snap.vnet is not None else snap.ref.name


# --------------------------------------------------------------------------- validate


@rule(id="R29", scopes=DEP_AND_VNET)
def endpoint_acl(snap: UnitSnapshot) -> Iterator[Message]:
    """Endpoint ACLs have no ARM equivalent; one message per endpoint that has rules."""
    for cs in snap.services:
        for vm in cs.vms:
            for ep in vm.input_endpoints:
                if ep.acl:
                    yield msg(t.R29_ENDPOINT_ACL, ERROR, VIRTUAL_MACHINE, vm.name, vm=vm.name, hs=cs.name,
                              endpoint=ep.name)


@rule(id="R30", scopes={UnitKind.VNET})
def vnet_peered(snap: UnitSnapshot) -> Iterator[Message]:
    """A peered VNet can't migrate: remove the peering, migrate, re-peer."""
    if snap.vnet is not None and snap.vnet.peerings:
        yield msg(t.R30_VNET_PEERED, ERROR, VIRTUAL_NETWORK, snap.vnet.name, vnet=snap.vnet.name,
                  peers=join(snap.vnet.peerings))


@rule(id="R32", scopes=DEP_AND_VNET)
def reserved_ip_shape(snap: UnitSnapshot) -> Iterator[Message]:
    """A reserved VIP needs an endpoint on it (a VIP only migrates with one) and a reserved-IP name."""
    for cs in snap.services:
        dep = cs.deployment
        reserved = reserved_vips(dep)
        if not reserved:
            continue
        primary = dep.virtual_ips[0].name.lower() if dep.virtual_ips else None
        used = used_vips(cs.vms, primary)
        unnamed = False
        idle: list[str] = []
        for name, vip in reserved:
            if name is None:
                unnamed = True
            elif vip is None or (vip.name.lower() not in used and vip.address.lower() not in used):
                idle.append(name)
        if idle:
            yield msg(t.R32_RESERVED_IP_NO_ENDPOINT, ERROR, DEPLOYMENT, dep.name, dep=dep.name, hs=cs.name,
                      rip=join(idle))
        if unnamed:
            yield msg(t.R32_RESERVED_IP_NO_NAME, ERROR, DEPLOYMENT, dep.name, dep=dep.name, hs=cs.name)


@rule(id="R33", scopes={UnitKind.RESERVED_IP, UnitKind.NSG, UnitKind.ROUTE_TABLE})
def standalone_in_use(snap: UnitSnapshot) -> Iterator[Message]:
    """A standalone reserved IP / NSG / route table must not be associated with anything outside the unit.

    The spec's R33 covers reserved IPs; NSGs and route tables follow the same logic ([P] texts): while in
    use they migrate with the VNet/VMs that use them, not on their own.
    """
    kind = snap.ref.kind
    if kind == UnitKind.RESERVED_IP:
        ip = snap.reserved_ip
        name = ip.name if ip is not None else snap.ref.name
        users = [ip.service_name] if ip is not None and ip.service_name else list(snap.used_by)
        if users:
            yield msg(t.R33_RESERVED_IP_IN_USE, ERROR, RESERVED_IP, name, name=name, hs=join(users))
    elif kind == UnitKind.NSG and snap.used_by:
        name = snap.nsg.name if snap.nsg is not None else snap.ref.name
        yield msg(t.R33_NSG_IN_USE, ERROR, NETWORK_SECURITY_GROUP, name, name=name, users=join(snap.used_by))
    elif kind == UnitKind.ROUTE_TABLE and snap.used_by:
        name = snap.route_table.name if snap.route_table is not None else snap.ref.name
        yield msg(t.R33_ROUTE_TABLE_IN_USE, ERROR, ROUTE_TABLE, name, name=name, users=join(snap.used_by))


def _is_express_route(gw: c.Gateway) -> bool:
    return gw.type == c.GatewayType.EXPRESS_ROUTE or bool(gw.express_route_circuit)


@rule(id="R41", scopes={UnitKind.VNET}, category=WARNING)
def er_local_connections(snap: UnitSnapshot) -> Iterator[Message]:
    """ExpressRoute-linked VNet still listing ConnectionsToLocalNetwork: guidance before migration (Warning)."""
    v = snap.vnet
    if v is None or v.gateway is None or not _is_express_route(v.gateway) or not v.gateway.connections:
        return
    sites = [conn.local_network_site for conn in v.gateway.connections]
    yield msg(t.R41_ER_LOCAL_CONNECTIONS, WARNING, VIRTUAL_NETWORK, v.name, vnet=v.name, sites=join(sites))


@rule(id="R52", scopes=DEP_AND_VNET)
def traffic_manager(snap: UnitSnapshot) -> Iterator[Message]:
    """A cloud service that is a Traffic Manager endpoint; one message per profile."""
    for cs in snap.services:
        for profile in cs.hosted_service.traffic_manager_profiles:
            yield msg(t.R52_TRAFFIC_MANAGER, ERROR, HOSTED_SERVICE, cs.name, hs=cs.name, profile=profile)


# --------------------------------------------------------------------------- prepare only


def _bad_cidr(prefix: str) -> bool:
    try:
        ipaddress.ip_network(prefix.strip(), strict=True)
    except ValueError:
        return True
    return False


@rule(id="R34", scopes={UnitKind.VNET}, phase=Phase.PREPARE)
def invalid_cidr(snap: UnitSnapshot) -> Iterator[Message]:
    """ARM refuses prefixes with host bits set (classic accepted them): VNet space, subnets, local sites."""
    v = snap.vnet
    if v is None:
        return
    vnet = f"Virtual Network {v.name}"
    for prefix in v.address_space:
        if _bad_cidr(prefix):
            yield msg(t.R34_INVALID_CIDR, ERROR, VIRTUAL_NETWORK, v.name, prefix=prefix, owner=vnet)
    for subnet in v.subnets:
        if _bad_cidr(subnet.address_prefix):
            yield msg(t.R34_INVALID_CIDR, ERROR, VIRTUAL_NETWORK, v.name, prefix=subnet.address_prefix,
                      owner=f"subnet {subnet.name} of {vnet}")
    for key in sorted(snap.local_sites):
        site = snap.local_sites[key]
        for prefix in site.address_space:
            if _bad_cidr(prefix):
                yield msg(t.R34_INVALID_CIDR, ERROR, VIRTUAL_NETWORK, v.name, prefix=prefix,
                          owner=f"local network site {site.name}")


@rule(id="R35", scopes={UnitKind.VNET}, phase=Phase.PREPARE)
def er_and_vpn(snap: UnitSnapshot) -> Iterator[Message]:
    """ExpressRoute and VPN on one VNet gateway.

    Condition: the gateway is ExpressRoute (type ExpressRoute or a linked circuit) AND it also carries VPN —
    an IPsec (site-to-site) connection or a point-to-site client address pool.
    """
    v = snap.vnet
    if v is None or v.gateway is None or not _is_express_route(v.gateway):
        return
    gw = v.gateway
    vpn = [conn.local_network_site for conn in gw.connections if conn.type.lower() == "ipsec"]
    if gw.vpn_client_address_pool:
        vpn.append("point-to-site")
    if vpn:
        yield msg(t.R35_ER_AND_VPN, ERROR, VIRTUAL_NETWORK, v.name, vnet=v.name, vpn=join(vpn))


@rule(id="R36", scopes={UnitKind.VNET}, phase=Phase.PREPARE)
def connection_down(snap: UnitSnapshot) -> Iterator[Message]:
    """Every gateway connection must be up; one message per disconnected local site."""
    v = snap.vnet
    if v is None or v.gateway is None:
        return
    for conn in v.gateway.connections:
        if not conn.connected:
            yield msg(t.R36_CONNECTION_DOWN, ERROR, VIRTUAL_NETWORK, v.name, vnet=v.name, site=conn.local_network_site)


@rule(id="R37", scopes={UnitKind.VNET}, phase=Phase.PREPARE)
def er_circuit(snap: UnitSnapshot) -> Iterator[Message]:
    """The linked ExpressRoute circuit must already be in ARM and have no cross-subscription authorizations.

    A circuit the snapshot doesn't know is reported as not moved: nothing shows it is in ARM.
    """
    v = snap.vnet
    if v is None or v.gateway is None or not v.gateway.express_route_circuit:
        return
    key = v.gateway.express_route_circuit
    circuit = snap.er_circuits.get(key.lower())
    name = circuit.name if circuit is not None else key
    if circuit is None or not circuit.in_arm:
        yield msg(t.R37_CIRCUIT_NOT_IN_ARM, ERROR, VIRTUAL_NETWORK, v.name, vnet=v.name, circuit=name)
    if circuit is not None and circuit.cross_subscription_authorizations:
        yield msg(t.R37_CROSS_SUBSCRIPTION, ERROR, VIRTUAL_NETWORK, v.name, vnet=v.name, circuit=name,
                  subscriptions=join(circuit.cross_subscription_authorizations))


def _endpoint_shape(ep: c.InputEndpoint) -> tuple[object, ...]:
    probe = ep.probe
    probe_key = None if probe is None else (probe.protocol.lower(), probe.port, probe.path or "")
    return ep.protocol.lower(), ep.port, probe_key


@rule(id="R38", scopes=DEP_AND_VNET, phase=Phase.PREPARE)
def lb_set_mismatch(snap: UnitSnapshot) -> Iterator[Message]:
    """Endpoints of one load-balanced set must agree (protocol, public port, probe) to become one LB rule."""
    for cs in snap.services:
        sets: dict[str, tuple[str, set[tuple[object, ...]], list[str]]] = {}
        for vm in cs.vms:
            for ep in vm.input_endpoints:
                if not ep.load_balanced_endpoint_set_name:
                    continue
                entry = sets.setdefault(ep.load_balanced_endpoint_set_name.lower(),
                                        (ep.load_balanced_endpoint_set_name, set(), []))
                entry[1].add(_endpoint_shape(ep))
                if vm.name not in entry[2]:
                    entry[2].append(vm.name)
        for key in sorted(sets):
            set_name, shapes, vms = sets[key]
            if len(shapes) > 1:
                yield msg(t.R38_LB_SET_MISMATCH, ERROR, DEPLOYMENT, cs.deployment.name, lbset=set_name,
                          dep=cs.deployment.name, hs=cs.name, vms=join(vms))


def _private_ips(vm: c.Role) -> list[str]:
    ips = [vm.static_ip] if vm.static_ip else []
    for nic in vm.secondary_nics:
        ips.extend(ipc.static_ip for ipc in nic.ip_configurations if ipc.static_ip)
    return ips


@rule(id="R39", scopes={UnitKind.VNET}, phase=Phase.PREPARE)
def private_ip_conflict(snap: UnitSnapshot) -> Iterator[Message]:
    """Two stopped-deallocated VMs of the VNet holding the same static IP: ARM can't create both NICs.

    Reported on each later VM, naming the first one that holds the address.
    """
    owner: dict[str, c.Role] = {}
    for cs in snap.services:
        for vm in cs.vms:
            if vm.instance_status != c.InstanceStatus.STOPPED_DEALLOCATED:
                continue
            for ip in _private_ips(vm):
                first = owner.setdefault(ip, vm)
                if first is not vm:
                    yield msg(t.R39_IP_CONFLICT, ERROR, VIRTUAL_MACHINE, vm.name, vm=vm.name, hs=cs.name,
                              other=first.name, other_hs=first.service_name, ip=ip, vnet=_vnet_name(snap))
