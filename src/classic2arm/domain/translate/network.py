"""Network translation of a cloud service: public IPs, the load balancer, NICs (rows 1, 8–12, 14–17, 19–21)
and the NSG / route-table clones (rows 16, 18) that subnets and NICs point at."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from .. import arm
from .. import classic as c
from .. import identity as ids
from ..units import CloudService
from . import names
from .context import Ctx, Json, child, ref, succeeded

T = TypeVar("T", c.NetworkSecurityGroup, c.RouteTable)

# Classic NSG address tags -> ARM default tags (row 16).
_ADDRESS_TAGS: Final = {"VIRTUAL_NETWORK": "VirtualNetwork", "INTERNET": "Internet",
                        "AZURE_LOADBALANCER": "AzureLoadBalancer"}
_PROTOCOLS: Final = {"tcp": "Tcp", "udp": "Udp", "*": "*"}
# Classic next-hop types -> ARM nextHopType (row 18); ARM's VPN gateway hop is VirtualNetworkGateway.
_NEXT_HOPS: Final = {"virtualappliance": "VirtualAppliance", "vpngateway": "VirtualNetworkGateway",
                     "internet": "Internet", "null": "None", "vnetlocal": "VnetLocal"}
# Classic LoadBalancerDistribution -> ARM loadDistribution; absent/"none" is the 5-tuple hash ("Default").
_DISTRIBUTION: Final = {"sourceip": "SourceIP", "sourceipprotocol": "SourceIPProtocol", "none": "Default"}
# ARM's LB idle timeout when the classic endpoint set none (both default to 4 minutes).
DEFAULT_IDLE_MINUTES: Final = 4
# ARM adds these six rules to every NSG and returns them in GETs beside the user's rules.
_DEFAULT_RULES: Final[tuple[tuple[str, str, int, str, str, str], ...]] = (
    ("AllowVnetInBound", "Inbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", "Inbound", 65500, "Deny", "*", "*"),
    ("AllowVnetOutBound", "Outbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", "Outbound", 65001, "Allow", "*", "Internet"),
    ("DenyAllOutBound", "Outbound", 65500, "Deny", "*", "*"),
)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one cloud service's NICs (and internal LB frontends) attach."""

    # VNet scope keeps private IPs and VIPs; non-VNet VMs are deallocated and get new ones (§3.2).
    keeps_addresses: bool
    vnet_id: str
    # Non-VNet deployments: every NIC joins this one subnet (platform VNet or Existing destination).
    fixed_subnet: str | None = None
    # VNet VMs without a recorded subnet join the VNet's first subnet.
    fallback_subnet: str = ""

    def subnet_id(self, classic_subnet: str | None) -> str:
        if self.fixed_subnet is not None:
            return child(self.vnet_id, "subnets", self.fixed_subnet)
        return child(self.vnet_id, "subnets", classic_subnet or self.fallback_subnet)


@dataclass(slots=True)
class Backend:
    """What each VM's primary ip configuration joins on the load balancer, by lower VM name."""

    pools: dict[str, list[str]] = field(default_factory=dict)
    nat_rules: dict[str, list[str]] = field(default_factory=dict)


def protocol(value: str) -> str:
    return _PROTOCOLS.get(value.strip().lower(), value)


# --------------------------------------------------------------------------- NSGs and route tables (16, 18)


def _address(prefix: str) -> str:
    return _ADDRESS_TAGS.get(prefix.strip().upper(), prefix)


def _rule(nsg_id: str, name: str, props: Json) -> Json:
    return {"id": child(nsg_id, "securityRules", name), "name": name, "properties": succeeded(props)}


def add_nsg(ctx: Ctx, nsg: c.NetworkSecurityGroup, rg: str) -> str:
    nsg_id = ctx.arm_id(rg, arm.NSG, nsg.name)
    rules = [
        _rule(nsg_id, r.name, {
            "protocol": protocol(r.protocol), "sourcePortRange": r.source_port_range,
            "destinationPortRange": r.destination_port_range,
            "sourceAddressPrefix": _address(r.source_address_prefix),
            "destinationAddressPrefix": _address(r.destination_address_prefix),
            "access": r.action, "priority": r.priority, "direction": r.type,
        })
        for r in nsg.rules if not r.is_default  # classic defaults are ARM's defaultSecurityRules below
    ]
    defaults = [
        {"id": child(nsg_id, "defaultSecurityRules", name), "name": name, "properties": succeeded({
            "protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*", "sourceAddressPrefix": src,
            "destinationAddressPrefix": dst, "access": access, "priority": prio, "direction": direction})}
        for name, direction, prio, access, src, dst in _DEFAULT_RULES
    ]
    res = ctx.resource(rg, arm.NSG, nsg.name, {"securityRules": rules, "defaultSecurityRules": defaults})
    return ctx.out.add(res, ids.nsg_id(ctx.sub, nsg.name))


def add_route_table(ctx: Ctx, table: c.RouteTable, rg: str) -> str:
    rt_id = ctx.arm_id(rg, arm.ROUTE_TABLE, table.name)
    routes: list[Json] = []
    for r in table.routes:
        hop = _NEXT_HOPS.get(r.next_hop_type.strip().lower(), r.next_hop_type)
        props: Json = {"addressPrefix": r.address_prefix, "nextHopType": hop}
        if hop == "VirtualAppliance" and r.next_hop_ip_address:
            props["nextHopIpAddress"] = r.next_hop_ip_address
        routes.append({"id": child(rt_id, "routes", r.name), "name": r.name, "properties": succeeded(props)})
    res = ctx.resource(rg, arm.ROUTE_TABLE, table.name, {"routes": routes})
    return ctx.out.add(res, ids.route_table_id(ctx.sub, table.name))


def _clone(ctx: Ctx, name: str, clones: dict[str, str | None], context: Mapping[str, T], standalone: T | None,
           add: Callable[[Ctx, T, str], str], what: str) -> str | None:
    """ARM id of the clone of the classic object `name` (from the snapshot's context, or the unit's own
    standalone object) in the unit's network RG, cloning it on first use; None when it isn't in the snapshot."""
    key = name.lower()
    if key not in clones:
        found = context.get(key)
        if found is None and standalone is not None and standalone.name.lower() == key:
            found = standalone
        if found is None:
            ctx.out.drop(f"{what} {name}: not in the snapshot, so not cloned or associated")
        clones[key] = add(ctx, found, ctx.network_rg) if found is not None else None
    return clones[key]


def nsg_clone(ctx: Ctx, name: str) -> str | None:
    return _clone(ctx, name, ctx.nsg_clones, ctx.snap.nsgs, ctx.snap.nsg, add_nsg, "network security group")


def route_table_clone(ctx: Ctx, name: str) -> str | None:
    return _clone(ctx, name, ctx.rt_clones, ctx.snap.route_tables, ctx.snap.route_table, add_route_table,
                  "route table")


# --------------------------------------------------------------------------- public IPs (1, 12, 14, 15)


def add_public_ip(ctx: Ctx, rg: str, name: str, *origins: str, static: bool, address: str | None,
                  dns_label: str | None = None, classic_vip: str | None = None,
                  idle_minutes: int | None = None, basic_sku: bool = False, fqdn: str | None = None) -> str:
    props: Json = {"publicIPAllocationMethod": "Static" if static else "Dynamic", "publicIPAddressVersion": "IPv4"}
    if address:
        props["ipAddress"] = address
    if idle_minutes is not None:
        props["idleTimeoutInMinutes"] = idle_minutes
    if dns_label:
        # ARM requires lower-case labels; the fqdn stays the classic cloudapp.net name (row 1).
        props["dnsSettings"] = {"domainNameLabel": dns_label.lower(), "fqdn": fqdn or names.cloudapp_fqdn(dns_label)}
    tags = {"classicVip": classic_vip} if classic_vip else {}
    # Reserved IPs become Basic-SKU static IPs (row 14); 2016-03-30 has no public IP sku, so others carry none.
    sku = {"name": "Basic"} if basic_sku else None
    return ctx.out.add(ctx.resource(rg, arm.PUBLIC_IP, name, props, tags=tags, sku=sku), *origins)


def _vip_ip_name(svc: str, dep: c.Deployment, vip: c.VirtualIP, primary: bool) -> str:
    if vip.is_reserved:
        reserved = vip.reserved_ip_name or (dep.reserved_ip_name if primary else None)
        if reserved:
            return reserved
    return vip.name or names.default_vip(svc)


# --------------------------------------------------------------------------- load balancer (10–12, 14, 20)


@dataclass(slots=True)
class _Frontends:
    """Resolves an endpoint to the VIP or internal LB it is exposed on."""

    vips: list[c.VirtualIP]
    ilbs: list[c.InternalLoadBalancer]

    def key(self, ep: c.InputEndpoint) -> tuple[str, int]:
        if ep.load_balancer_name:
            wanted = ep.load_balancer_name.lower()
            for i, ilb in enumerate(self.ilbs):
                if ilb.name.lower() == wanted:
                    return ("ilb", i)
            self.ilbs.append(c.InternalLoadBalancer(name=ep.load_balancer_name))
            return ("ilb", len(self.ilbs) - 1)
        for i, vip in enumerate(self.vips):
            if ep.virtual_ip_name and vip.name.lower() == ep.virtual_ip_name.lower():
                return ("vip", i)
            if not ep.virtual_ip_name and ep.vip and vip.address == ep.vip:
                return ("vip", i)
        return ("vip", 0)  # no VIP named: the deployment's default (first) VIP


def _frontend_name(svc: str, dep: c.Deployment, fe: _Frontends, key: tuple[str, int]) -> str:
    kind, i = key
    return fe.ilbs[i].name if kind == "ilb" else _vip_ip_name(svc, dep, fe.vips[i], i == 0)


def load_balancer(ctx: Ctx, cs: CloudService, rg: str, place: Placement) -> Backend:
    """`<svc>-LB` with one frontend per used VIP, and one internal load balancer per classic internal LB (named as
    the user named it): an ARM load balancer is public or internal, never both, so the platform made the
    classic ILB an internal load balancer of its own. LB sets become rules and plain endpoints NAT rules on the
    LB of the frontend they use; VIP public IPs are created first. Returns what each VM's NIC must join."""
    svc, dep = cs.name, cs.deployment
    dep_origin = ids.deployment_id(ctx.sub, svc, dep.name)
    # A deployment always has a VIP; if the snapshot lists none, endpoints still need the default one.
    fe = _Frontends(list(dep.virtual_ips) or [c.VirtualIP(name=names.default_vip(svc), address="")],
                    list(dep.internal_load_balancers))
    backend = Backend()
    public_name = names.load_balancer(svc)
    sets: dict[str, tuple[str, c.InputEndpoint, tuple[str, int]]] = {}  # lower set name -> first use
    members: dict[str, list[Json]] = {}
    nat_rules: dict[str, list[Json]] = {}  # LB name -> its NAT rules
    used: set[tuple[str, int]] = set()

    def lb_name(key: tuple[str, int]) -> str:
        return fe.ilbs[key[1]].name if key[0] == "ilb" else public_name

    def lb_id(key: tuple[str, int]) -> str:
        return ctx.arm_id(rg, arm.LOAD_BALANCER, lb_name(key))

    def fe_id(key: tuple[str, int]) -> str:
        return child(lb_id(key), "frontendIPConfigurations", _frontend_name(svc, dep, fe, key))

    for vm in cs.vms:
        vm_key = vm.name.lower()
        nic_cfg = child(ctx.arm_id(rg, arm.NIC, names.primary_nic(vm.name)), "ipConfigurations", names.IP_CONFIG)
        for ep in vm.input_endpoints:
            key = fe.key(ep)
            used.add(key)
            if ep.acl:
                ctx.out.drop(f"endpoint ACL on {svc}/{vm.name}/{ep.name} ({len(ep.acl)} rules): "
                             "ARM load balancers have no endpoint ACLs; use an NSG")
            if ep.load_balanced_endpoint_set_name:
                set_key = ep.load_balanced_endpoint_set_name.lower()
                sets.setdefault(set_key, (ep.load_balanced_endpoint_set_name, ep, key))
                members.setdefault(set_key, []).append(ref(nic_cfg))
                set_name, _, set_fe = sets[set_key]
                pool = child(lb_id(set_fe), "backendAddressPools", set_name)
                if pool not in backend.pools.get(vm_key, []):
                    backend.pools.setdefault(vm_key, []).append(pool)
                continue
            name = names.nat_rule(vm.name, ep.name)
            rule_id = child(lb_id(key), "inboundNatRules", name)
            nat_rules.setdefault(lb_name(key), []).append({"id": rule_id, "name": name, "properties": succeeded({
                "frontendIPConfiguration": ref(fe_id(key)), "backendIPConfiguration": ref(nic_cfg),
                "protocol": protocol(ep.protocol), "frontendPort": ep.port, "backendPort": ep.local_port,
                "enableFloatingIP": ep.enable_direct_server_return,
                "idleTimeoutInMinutes": ep.idle_timeout_in_minutes or DEFAULT_IDLE_MINUTES})})
            backend.nat_rules.setdefault(vm_key, []).append(rule_id)

    vip_frontends = _vip_frontends(ctx, cs, rg, place, fe, used, ctx.arm_id(rg, arm.LOAD_BALANCER, public_name))
    if not used:
        return backend  # no input endpoint anywhere: no load balancer (row 10)
    frontends: dict[str, list[Json]] = {public_name: vip_frontends} if vip_frontends else {}
    for i, ilb in enumerate(fe.ilbs):
        if ("ilb", i) not in used:
            continue
        keep = place.keeps_addresses and ilb.static_ip
        props: Json = {"privateIPAllocationMethod": "Static" if keep else "Dynamic",
                       "subnet": ref(place.subnet_id(ilb.subnet_name))}
        if keep:
            props["privateIPAddress"] = ilb.static_ip
        frontends.setdefault(ilb.name, []).append({"id": fe_id(("ilb", i)), "name": ilb.name,
                                                   "properties": succeeded(props)})

    pools: dict[str, list[Json]] = {}
    rules: dict[str, list[Json]] = {}
    probes: dict[str, list[Json]] = {}
    for set_key, (set_name, ep, key) in sets.items():
        owner = lb_name(key)
        pool_id = child(lb_id(key), "backendAddressPools", set_name)
        pools.setdefault(owner, []).append({"id": pool_id, "name": set_name,
                                            "properties": succeeded({"backendIPConfigurations": members[set_key]})})
        rule: Json = {"frontendIPConfiguration": ref(fe_id(key)), "backendAddressPool": ref(pool_id),
                      "protocol": protocol(ep.protocol), "frontendPort": ep.port, "backendPort": ep.local_port,
                      "enableFloatingIP": ep.enable_direct_server_return,
                      "idleTimeoutInMinutes": ep.idle_timeout_in_minutes or DEFAULT_IDLE_MINUTES,
                      "loadDistribution": _DISTRIBUTION.get((ep.load_balancer_distribution or "none").lower(),
                                                            "Default")}
        if ep.probe is not None:
            probe_id = child(lb_id(key), "probes", names.probe(set_name))
            probes.setdefault(owner, []).append({"id": probe_id, "name": names.probe(set_name),
                                                 "properties": succeeded(_probe(ep.probe))})
            rule["probe"] = ref(probe_id)
        rules.setdefault(owner, []).append({"id": child(lb_id(key), "loadBalancingRules", set_name),
                                            "name": set_name, "properties": succeeded(rule)})

    for name, fronts in frontends.items():
        ctx.out.add(ctx.resource(rg, arm.LOAD_BALANCER, name, {
            "frontendIPConfigurations": fronts, "backendAddressPools": pools.get(name, []),
            "loadBalancingRules": rules.get(name, []), "probes": probes.get(name, []),
            "inboundNatRules": nat_rules.get(name, [])}), dep_origin)
    return backend


def _probe(p: c.LoadBalancerProbe) -> Json:
    http = p.protocol.strip().lower() == "http"
    props: Json = {"protocol": "Http" if http else "Tcp", "port": p.port,
                   "intervalInSeconds": p.interval_in_seconds,
                   # Classic gives a timeout; ARM counts failed probes: timeout/interval, at least ARM's 2.
                   "numberOfProbes": max(2, p.timeout_in_seconds // max(1, p.interval_in_seconds))}
    if http:
        props["requestPath"] = p.path or "/"
    return props


def _vip_frontends(ctx: Ctx, cs: CloudService, rg: str, place: Placement, fe: _Frontends,
                   used: set[tuple[str, int]], lb_id: str) -> list[Json]:
    """Public IPs for the VIPs (rows 1, 12, 14, 20) and the LB frontends that carry them."""
    svc, dep = cs.name, cs.deployment
    dep_origin = ids.deployment_id(ctx.sub, svc, dep.name)
    frontends: list[Json] = []
    for i, vip in enumerate(fe.vips):
        name = _vip_ip_name(svc, dep, vip, i == 0)
        in_use = ("vip", i) in used
        if not in_use and not vip.is_reserved:
            if vip.address:
                ctx.out.drop(f"VIP {vip.name} ({vip.address}) of cloud service {svc}: no input endpoint uses it, "
                             "so it is not migrated")
            continue
        origins = [dep_origin]
        if vip.is_reserved:
            origins.append(ids.reserved_ip_id(ctx.sub, name))
        # Reserved IPs keep their address everywhere (row 14); dynamic VIPs only in VNet scope (§3.2).
        keep = vip.is_reserved or place.keeps_addresses
        pip_id = add_public_ip(ctx, rg, name, *origins, static=vip.is_reserved,
                               address=vip.address if keep else None,
                               # The cloud-service DNS name resolves to the default VIP only (row 1).
                               dns_label=svc if i == 0 else None, classic_vip=vip.address or None,
                               basic_sku=vip.is_reserved)
        if in_use:
            frontends.append({"id": child(lb_id, "frontendIPConfigurations", name), "name": name,
                              "properties": succeeded({"privateIPAllocationMethod": "Dynamic",
                                                       "publicIPAddress": ref(pip_id)})})
    return frontends


# --------------------------------------------------------------------------- NICs (8, 9, 15–17, 19, 21)


def _dns(dep: c.Deployment) -> Json | None:
    dns: Json = {}
    if dep.dns_servers:
        dns["dnsServers"] = [d.address for d in dep.dns_servers]
    if dep.internal_dns_suffix:
        dns["internalDomainNameSuffix"] = dep.internal_dns_suffix
    return dns or None


def _ip_config(nic_id: str, index: int, subnet_id: str, address: str | None, *, pools: Sequence[str] = (),
               nat_rules: Sequence[str] = (), public_ip: str | None = None) -> Json:
    props: Json = {"privateIPAllocationMethod": "Static" if address else "Dynamic", "subnet": ref(subnet_id),
                   "primary": index == 0, "privateIPAddressVersion": "IPv4"}
    if address:
        props["privateIPAddress"] = address
    if pools:
        props["loadBalancerBackendAddressPools"] = [ref(p) for p in pools]
    if nat_rules:
        props["loadBalancerInboundNatRules"] = [ref(r) for r in nat_rules]
    if public_ip:
        props["publicIPAddress"] = ref(public_ip)
    name = names.IP_CONFIG if index == 0 else f"ipconfig{index + 1}"
    return {"id": child(nic_id, "ipConfigurations", name), "name": name, "properties": succeeded(props)}


def _nic(ctx: Ctx, rg: str, name: str, origin: str, configs_of: list[Json], *, primary: bool, forwarding: bool,
         nsg: str | None, dns: Json | None) -> str:
    props: Json = {"ipConfigurations": configs_of, "enableIPForwarding": forwarding, "primary": primary}
    if dns:
        props["dnsSettings"] = dns
    if nsg:
        clone = nsg_clone(ctx, nsg)
        if clone:
            props["networkSecurityGroup"] = ref(clone)
    return ctx.out.add(ctx.resource(rg, arm.NIC, name, props), origin)


def vm_nics(ctx: Ctx, cs: CloudService, vm: c.Role, rg: str, place: Placement, backend: Backend) -> list[str]:
    """Primary NIC `<vm>-PrimaryNic` (+ its instance public IP) and one NIC per secondary classic NIC."""
    origin = ids.role_id(ctx.sub, cs.name, cs.deployment.name, vm.name)
    dns = _dns(cs.deployment)
    pip_id = None
    for extra in vm.public_ips[1:]:
        ctx.out.drop(f"instance public IP {extra.name} of {cs.name}/{vm.name}: ARM allows one per ip configuration")
    if vm.public_ips:
        pip = vm.public_ips[0]
        # Row 15: Dynamic allocation; its DNS label is kept, with the classic instance-level name
        # `<label>.<svc>.cloudapp.net` as the fqdn (as row 1 keeps the cloud service's).
        label = pip.domain_name_label
        pip_id = add_public_ip(ctx, rg, names.instance_public_ip(vm.name, pip.name), origin, static=False,
                               address=pip.address if place.keeps_addresses else None,
                               idle_minutes=pip.idle_timeout_in_minutes, dns_label=label,
                               fqdn=names.instance_fqdn(label, cs.name) if label else None)
    primary_id = ctx.arm_id(rg, arm.NIC, names.primary_nic(vm.name))
    address = (vm.static_ip or vm.ip_address) if place.keeps_addresses else None
    subnet = vm.subnet_names[0] if vm.subnet_names else None
    key = vm.name.lower()
    config = _ip_config(primary_id, 0, place.subnet_id(subnet), address, pools=backend.pools.get(key, ()),
                        nat_rules=backend.nat_rules.get(key, ()), public_ip=pip_id)
    nic_ids = [_nic(ctx, rg, names.primary_nic(vm.name), origin, [config], primary=True,
                    forwarding=vm.ip_forwarding, nsg=vm.network_security_group, dns=dns)]
    for sec in vm.secondary_nics:
        nic_id = ctx.arm_id(rg, arm.NIC, names.secondary_nic(vm.name, sec.name))
        cfgs = sec.ip_configurations or [c.IPConfiguration(subnet_name=subnet or place.fallback_subnet)]
        configs = [
            _ip_config(nic_id, i, place.subnet_id(cfg.subnet_name),
                       (cfg.static_ip or (sec.ip_address if i == 0 else None)) if place.keeps_addresses else None)
            for i, cfg in enumerate(cfgs)
        ]
        nic_ids.append(_nic(ctx, rg, names.secondary_nic(vm.name, sec.name), origin, configs, primary=False,
                            forwarding=sec.ip_forwarding, nsg=sec.network_security_group, dns=dns))
    return nic_ids
