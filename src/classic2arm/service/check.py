"""The check step: capture a unit's classic configuration before prepare (`snapshot`), then compare it with
the prepared ARM resources (`check`) and say, per resource, what was kept and what changed — and whether
the docs say it should change (spec §3.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..domain import arm as armt
from ..domain import identity as ids
from ..domain.classic import MigrationState as S
from ..domain.units import UnitKind, UnitRef, UnitSnapshot
from . import clock, codec
from .context import AppContext
from .errors import ServiceError
from .snapshot import load_unit, unit_id

FORMAT = "classic2arm-snapshot/v1"
SEEN_KEY = "seen"  # the unit record's doc: what prepare saw (`comparable` of the unit when prepare locked it)


def snapshot(ctx: AppContext, ref: UnitRef) -> dict[str, Any]:
    """What a user would download before prepare (Get Deployment, Get VNet…), in a comparable form."""
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        lu = load_unit(tx, sub, ref, clock.now(tx))
    if not lu.snapshot.exists:
        raise ServiceError("ResourceNotFound", f"{ref.describe()} was not found", 404)
    return comparable(lu.snapshot)


def comparable(snap: UnitSnapshot) -> dict[str, Any]:
    """A unit's classic configuration in the form `check` compares; prepare keeps it in the unit record
    (`SEEN_KEY`) so that a prepared unit can be checked without a snapshot taken beforehand."""
    ref = snap.ref
    vms = []
    for cs in snap.services:
        in_vnet = bool(cs.deployment.virtual_network_name)
        for vm in cs.vms:
            vms.append({
                "name": vm.name, "cloudService": cs.name, "inVirtualNetwork": in_vnet,
                "privateIp": vm.static_ip or vm.ip_address, "size": vm.size, "availabilitySet": vm.availability_set,
                "subnets": vm.subnet_names, "dnsName": f"{cs.name}.cloudapp.net",
                "vips": [v.address for v in cs.deployment.virtual_ips],
                "reservedVip": any(v.is_reserved for v in cs.deployment.virtual_ips),
                "endpoints": [{"name": e.name, "port": e.port, "localPort": e.local_port, "protocol": e.protocol,
                               "loadBalancedSet": e.load_balanced_endpoint_set_name} for e in vm.input_endpoints],
                "disks": [d for d in ([vm.os_disk.media_link] if vm.os_disk else [])]
                + [d.media_link for d in vm.data_disks],
            })
    out: dict[str, Any] = {"format": FORMAT, "unit": {"kind": ref.kind.value, "name": ref.name,
                                                       "service": ref.service}, "virtualMachines": vms}
    if snap.vnet is not None:
        out["virtualNetwork"] = {"name": snap.vnet.name, "addressSpace": snap.vnet.address_space,
                                 "subnets": {s.name: s.address_prefix for s in snap.vnet.subnets},
                                 "dnsServers": [d.address for d in snap.vnet.dns_servers]}
    if snap.storage_account is not None:
        out["storageAccount"] = {"name": snap.storage_account.name, "accountType": snap.storage_account.account_type,
                                 "endpoints": snap.storage_account.endpoints()}
    if snap.reserved_ip is not None:
        out["reservedIp"] = {"name": snap.reserved_ip.name, "address": snap.reserved_ip.address}
    if snap.nsg is not None:
        out["networkSecurityGroup"] = {"name": snap.nsg.name, "rules": len([r for r in snap.nsg.rules
                                                                             if not r.is_default])}
    if ref.kind in (UnitKind.VNET, UnitKind.DEPLOYMENT):  # the NSGs and route tables it uses, cloned into ARM
        if snap.nsgs:
            out["clonedNsgs"] = {n.name: len([r for r in n.rules if not r.is_default]) for n in snap.nsgs.values()}
        if snap.route_tables:
            out["clonedRouteTables"] = {rt.name: {r.name: r.address_prefix for r in rt.routes}
                                        for rt in snap.route_tables.values()}
    if snap.route_table is not None:
        out["routeTable"] = {"name": snap.route_table.name, "routes": {r.name: r.address_prefix
                                                                       for r in snap.route_table.routes}}
    return out


class _Shape(BaseModel):
    """(Field names are the snapshot's own keys.)"""

    model_config = ConfigDict(extra="ignore", strict=True)


class _Endpoint(_Shape):
    name: str
    port: int
    localPort: int
    loadBalancedSet: str | None = None


class _Vm(_Shape):
    name: str
    cloudService: str
    inVirtualNetwork: bool
    privateIp: str | None
    availabilitySet: str | None
    disks: list[str | None]
    dnsName: str
    vips: list[str]
    reservedVip: bool
    endpoints: list[_Endpoint]


class _Vnet(_Shape):
    name: str
    addressSpace: list[str]
    subnets: dict[str, str | None]
    dnsServers: list[str]


class _Storage(_Shape):
    name: str
    endpoints: list[str] = Field(min_length=1)


class _ReservedIp(_Shape):
    name: str
    address: str | None


class _Snapshot(_Shape):
    """What `check` reads of a snapshot (what `snapshot` writes): a file edited or from elsewhere is refused
    by what is wrong in it, not by a KeyError halfway through the comparison."""

    format: Literal["classic2arm-snapshot/v1"]
    virtualMachines: list[_Vm] = []
    virtualNetwork: _Vnet | None = None
    storageAccount: _Storage | None = None
    reservedIp: _ReservedIp | None = None


def _check_shape(before: object) -> dict[str, Any]:
    if not isinstance(before, dict):
        raise ServiceError("BadRequest", f"not a classic2arm snapshot (a JSON {type(before).__name__}, not an "
                                         "object)")
    if before.get("format") != FORMAT:
        raise ServiceError("BadRequest", f"not a classic2arm snapshot (format {before.get('format')!r})")
    try:
        _Snapshot.model_validate(before)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ServiceError("BadRequest", f"not a classic2arm snapshot: {where}: {first['msg']}") from None
    return before


@dataclass(frozen=True, slots=True)
class Finding:
    resource: str
    aspect: str
    before: Any
    after: Any
    outcome: str  # kept | changed | missing
    expected: bool  # the docs say this is what migration does
    became: str = ""  # what the classic thing became in ARM, as the deep dive's mapping table names it
    arm_id: str | None = None  # the ARM resource the "after" was read from

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "aspect": self.aspect, "before": self.before, "after": self.after,
                "outcome": self.outcome, "asDocumented": self.expected}


def _cmp(out: list[Finding], resource: str, aspect: str, before: Any, after: Any, should_keep: bool = True,
         became: str = "", arm: armt.ArmResource | None = None) -> None:
    arm_id = arm.id if arm is not None else None
    if after is None:
        out.append(Finding(resource, aspect, before, None, "missing", False, became, arm_id))
        return
    kept = before == after
    out.append(Finding(resource, aspect, before, after, "kept" if kept else "changed", kept == should_keep, became,
                       arm_id))


def check(ctx: AppContext, ref: UnitRef, before: object = None) -> list[Finding]:
    """Compare a snapshot taken before prepare (by default: what prepare saw) with the prepared ARM resources
    (GETs only)."""
    given = _check_shape(before) if before is not None else None
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        unit = tx.units.get(unit_id(sub, ref))
        if unit is None or unit.state != S.PREPARED.value:
            raise ServiceError("BadRequest", f"{ref.describe()} is not Prepared; check compares the prepared ARM "
                                             "resources with the snapshot")
        if given is None:
            given = unit.doc.get(SEEN_KEY)
            if not isinstance(given, dict):
                raise ServiceError("BadRequest", f"{ref.describe()} was prepared by an older version that kept no "
                                                 "record of what it saw: give a snapshot (--before)")
        arm = [codec.arm_object(r) for r in tx.resources.query(sub, model=ids.ARM, lock_holder=unit.id)]
    return compare(ref, given, arm)


def compare(ref: UnitRef, before: dict[str, Any], arm: list[armt.ArmResource]) -> list[Finding]:
    """The findings of `check`: `before` (a snapshot) against the unit's prepared ARM resources, each with what
    the classic thing became (the deep dive's mapping: cloud service → DNS label of the public IP, VIP → public
    IP, load-balanced set → load-balancing rule, endpoint → inbound NAT rule, reserved IP → static public IP…)."""
    if before.get("format") != FORMAT:
        raise ServiceError("BadRequest", f"not a classic2arm snapshot (format {before.get('format')!r})")
    by_type: dict[str, dict[str, armt.ArmResource]] = {}
    for res in arm:
        by_type.setdefault(res.type, {})[res.name.lower()] = res
    nics = {r.id.lower(): r for r in by_type.get(armt.NIC, {}).values()}
    pips = {r.id.lower(): r for r in by_type.get(armt.PUBLIC_IP, {}).values()}
    lbs = list(by_type.get(armt.LOAD_BALANCER, {}).values())
    frontend_ports: dict[tuple[int, int], armt.ArmResource] = {}  # (frontend, backend port) → its LB
    for lb in lbs:
        for rule in lb.properties.get("loadBalancingRules", []) + lb.properties.get("inboundNatRules", []):
            p = rule.get("properties", {})
            frontend_ports[(int(p.get("frontendPort", 0)), int(p.get("backendPort", 0)))] = lb
    fqdns = {str(p.properties.get("dnsSettings", {}).get("fqdn", "")).lower(): p for p in pips.values()}
    out: list[Finding] = []
    for vm in before.get("virtualMachines", []):
        name = vm["name"]
        label = f"VM {name}"
        arm_vm = by_type.get(armt.VM, {}).get(name.lower())
        _cmp(out, label, "name", name, arm_vm.name if arm_vm else None, became="virtual machine", arm=arm_vm)
        if arm_vm is None:
            continue
        props = arm_vm.properties
        if vm["availabilitySet"]:
            as_id = str((props.get("availabilitySet") or {}).get("id", ""))
            _cmp(out, label, "availability set", vm["availabilitySet"], as_id.rsplit("/", 1)[-1] or None,
                 became="availability set", arm=arm_vm)
        disks = [props.get("storageProfile", {}).get("osDisk", {}).get("vhd", {}).get("uri")]
        disks += [d.get("vhd", {}).get("uri") for d in props.get("storageProfile", {}).get("dataDisks", [])]
        _cmp(out, label, "disks (VHD URIs)", vm["disks"], [d for d in disks if d], became="unmanaged disks",
             arm=arm_vm)
        nic_refs = props.get("networkProfile", {}).get("networkInterfaces", [])
        nic = nics.get(str(nic_refs[0].get("id", "")).lower()) if nic_refs else None
        cfg = (nic.properties.get("ipConfigurations") or [{}])[0].get("properties", {}) if nic else {}
        _cmp(out, label, "private IP", vm["privateIp"], cfg.get("privateIPAddress"),
             should_keep=vm["inVirtualNetwork"], became="network interface", arm=nic)
        # endpoints → LB rules (load-balanced sets) and inbound NAT rules (the others)
        for ep in vm["endpoints"]:
            lb_of = frontend_ports.get((ep["port"], ep["localPort"]))
            kind = "load-balancing rule" if ep["loadBalancedSet"] else "inbound NAT rule"
            out.append(Finding(label, f"endpoint {ep['name']}", f"{ep['port']}->{ep['localPort']}", kind,
                               "kept" if lb_of else "missing", lb_of is not None,
                               f"{kind} of the load balancer", lb_of.id if lb_of else None))
    # DNS names and VIPs of the cloud services
    for vm in {v["cloudService"]: v for v in before.get("virtualMachines", [])}.values():
        pip = fqdns.get(vm["dnsName"].lower())
        label = f"cloud service {vm['cloudService']}"
        _cmp(out, label, "DNS name", vm["dnsName"], pip.properties["dnsSettings"]["fqdn"] if pip else None,
             became="DNS label of the public IP", arm=pip)
        if pip is not None and vm["vips"]:
            _cmp(out, label, "public IP (VIP)", vm["vips"][0], pip.properties.get("ipAddress"),
                 should_keep=vm["inVirtualNetwork"] or vm["reservedVip"], became="public IP address", arm=pip)
    if before.get("virtualNetwork") is not None:
        vn = before["virtualNetwork"]
        arm_vnet = next(iter(by_type.get(armt.VNET, {}).values()), None)
        p = arm_vnet.properties if arm_vnet else {}
        label = f"virtual network {vn['name']}"
        _cmp(out, label, "address space", vn["addressSpace"],
             p.get("addressSpace", {}).get("addressPrefixes") if arm_vnet else None, became="virtual network",
             arm=arm_vnet)
        _cmp(out, label, "subnets", vn["subnets"],
             {s["name"]: s.get("properties", {}).get("addressPrefix") for s in p.get("subnets", [])}
             if arm_vnet else None, became="subnets", arm=arm_vnet)
        _cmp(out, label, "DNS servers", vn["dnsServers"],
             p.get("dhcpOptions", {}).get("dnsServers", []) if arm_vnet else None, became="DHCP options",
             arm=arm_vnet)
    if before.get("storageAccount") is not None:
        sa = before["storageAccount"]
        acct = by_type.get(armt.STORAGE_ACCOUNT, {}).get(sa["name"].lower())
        label = f"storage account {sa['name']}"
        _cmp(out, label, "name", sa["name"], acct.name if acct else None, became="storage account", arm=acct)
        if acct is not None:
            eps = acct.properties.get("primaryEndpoints", {})
            _cmp(out, label, "blob endpoint", sa["endpoints"][0], eps.get("blob"), became="storage account",
                 arm=acct)
    if before.get("reservedIp") is not None:
        rip = before["reservedIp"]
        got = by_type.get(armt.PUBLIC_IP, {}).get(rip["name"].lower())
        _cmp(out, f"reserved IP {rip['name']}", "address", rip["address"],
             got.properties.get("ipAddress") if got else None, became="static public IP address", arm=got)
    for name, rules in sorted(before.get("clonedNsgs", {}).items()):
        got = by_type.get(armt.NSG, {}).get(name.lower())
        _cmp(out, f"network security group {name}", "rules", rules,
             len(got.properties.get("securityRules", [])) if got else None, became="cloned network security group",
             arm=got)
    for name, routes in sorted(before.get("clonedRouteTables", {}).items()):
        got = by_type.get(armt.ROUTE_TABLE, {}).get(name.lower())
        _cmp(out, f"route table {name}", "routes", routes,
             {r.get("name"): r.get("properties", {}).get("addressPrefix") for r in got.properties.get("routes", [])}
             if got else None, became="cloned route table", arm=got)
    if ref.kind in (UnitKind.NSG, UnitKind.ROUTE_TABLE):
        rtype = armt.NSG if ref.kind == UnitKind.NSG else armt.ROUTE_TABLE
        got_any = next(iter(by_type.get(rtype, {}).values()), None)
        _cmp(out, f"{ref.kind.value} {ref.name}", "name", ref.name, got_any.name if got_any else None,
             became="network security group" if ref.kind == UnitKind.NSG else "route table", arm=got_any)
    return out
