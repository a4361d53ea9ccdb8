"""Deterministic synthetic classic estates: `generate(vms=..., seed=...)` → `Estate`.

Pure: no I/O, no clock, no global randomness. Every random choice comes from one `random.Random(seed)`,
so the same arguments always give the same estate (names, GUIDs, keys and timestamps included).

Shape of what is produced (spec §1, §3.1):
- one `Subscription`, registered for migration, with generous ARM quotas for every region used;
- classic VNets (`10.x.0.0/16`, 2–4 subnets, some NSGs / route tables / gateways / DNS servers);
- cloud services with one Production deployment of 1–8 IaaS VMs each, ~70 % of them inside a VNet;
- storage accounts holding every VHD as a blob, plus `Disk` objects, a few unattached disks and images.

With `blockers > 0` that fraction of deployments receives exactly one configuration that the spec
(§4.2) says can't migrate; each injection is recorded in `Estate.notes` as
`"blocker <rule> <resource-kind> <resource-name>"` (see `BLOCKER_RULES`).

Every blob backing a disk has the size `media.vhd_blob_size` gives, the value the R25 check (data-disk size
mismatch) compares against; links are built and read through `media` too.
"""

from __future__ import annotations

import base64
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from ..gcpause import gc_paused
from . import classic as c
from . import media, sizes
from .estate import Estate
from .identity import default_storage_rg
from .locations import DEFAULT_LOCATION, arm_name, display_name

OsName = Literal["Windows", "Linux"]


# Everything the generator dates is spread after this instant: classic VMs created before the
# February 2020 deprecation (spec §8), so the subscription is an "existing customer".
EPOCH = datetime(2019, 6, 1, tzinfo=UTC)
SUBSCRIPTION_CREATED = datetime(2015, 3, 1, tzinfo=UTC)

# A handful of real regions (classic display names); the first ones carry most of an estate.
REGION_POOL: tuple[str, ...] = (DEFAULT_LOCATION, "East US", "North Europe", "West Europe", "Southeast Asia")
REGION_WEIGHTS: tuple[float, ...] = (0.5, 0.25, 0.12, 0.08, 0.05)

# (classic size, max NICs, relative frequency). NIC limits decide which sizes multi-NIC VMs use; cores are
# `sizes.cores_of`.
SIZES: tuple[tuple[str, int, int], ...] = (
    ("Small", 1, 20), ("Medium", 1, 18), ("Large", 2, 10), ("ExtraLarge", 4, 4),
    ("A5", 1, 4), ("A6", 2, 4), ("A7", 4, 2), ("Basic_A1", 1, 8),
    ("Standard_D1", 1, 8), ("Standard_D2", 2, 8), ("Standard_D3", 4, 5), ("Standard_D4", 8, 2),
    ("Standard_DS2", 2, 7),
)
MAX_NICS: dict[str, int] = {name: nics for name, nics, _ in SIZES}
_SIZE_NAMES = [s[0] for s in SIZES]
_SIZE_WEIGHTS = [s[2] for s in SIZES]
_MULTI_NIC_SIZES = [s[0] for s in SIZES if s[1] >= 2]
_MULTI_NIC_WEIGHTS = [s[2] for s in SIZES if s[1] >= 2]

SUBNET_NAMES: tuple[str, ...] = ("FrontEnd", "BackEnd", "Data", "Management")

# Platform images the OS disks claim to come from (real classic image-name pattern).
SOURCE_IMAGES: dict[OsName, str] = {
    "Windows": "a699494373c04fc0bc8f2bb1389d6106__Windows-Server-2012-R2-20190610-en.us-127GB.vhd",
    "Linux": "b39f27a8b8c64d52b05eac6a62ebad85__Ubuntu-16_04-LTS-amd64-server-20190605-en-us-30GB",
}
DATA_DISK_GB: tuple[int, ...] = (32, 64, 128, 256, 512, 1023)

# (reference name, publisher, name, version, probability) per OS: all of these migrate (JSON extensions).
EXTENSIONS: dict[OsName, tuple[tuple[str, str, str, str, float], ...]] = {
    "Windows": (
        ("BGInfo", "Microsoft.Compute", "BGInfo", "2.1", 0.7),
        ("VMAccessAgent", "Microsoft.Compute", "VMAccessAgent", "2.*", 0.4),
        ("CustomScriptExtension", "Microsoft.Compute", "CustomScriptExtension", "1.*", 0.2),
        ("MicrosoftMonitoringAgent", "Microsoft.EnterpriseCloud.Monitoring", "MicrosoftMonitoringAgent", "1.*", 0.25),
    ),
    "Linux": (
        ("VMAccessForLinux", "Microsoft.OSTCExtensions", "VMAccessForLinux", "1.*", 0.4),
        ("CustomScriptForLinux", "Microsoft.OSTCExtensions", "CustomScriptForLinux", "1.*", 0.2),
        ("OmsAgentForLinux", "Microsoft.EnterpriseCloud.Monitoring", "OmsAgentForLinux", "1.*", 0.25),
    ),
}
GUEST_AGENT_VERSION = "2.7.41491.949"

# Azure-owned public ranges VIPs are drawn from, and "customer premises" ranges for VPN devices.
AZURE_PUBLIC_BLOCKS: tuple[str, ...] = ("13.64.0.0/11", "40.112.0.0/13", "104.40.0.0/13", "23.96.0.0/13")
ONPREM_PUBLIC_BLOCKS: tuple[str, ...] = ("81.2.0.0/16", "86.12.0.0/16", "62.30.0.0/16")

# Floors for the ARM quotas; the generator grants max(floor, 2 × what migration would need).
QUOTA_FLOORS: dict[str, int] = {
    "cores": 200, "networkInterfaces": 1000, "loadBalancers": 100, "publicIPAddresses": 200,
    "staticPublicIPAddresses": 50, "networkSecurityGroups": 100, "routeTables": 100, "virtualNetworks": 50,
}

# Injected blocker kinds, cycled in this order (spec §4.2 rule ids). R32 = reserved IP without endpoint.
BLOCKER_RULES: tuple[str, ...] = (
    "R07", "R09", "R10", "R11", "R13", "R14", "R16", "R18", "R19", "R20",
    "R21", "R22", "R23", "R25", "R27", "R28", "R29", "R30", "R08", "R32",
)


# VNets laid out in 10.0.0.0/8, a /24 at least each (see _plan_vnets).
MAX_VNETS = 65536


def generate(
    vms: int,
    vnets: int | None = None,
    seed: int = 0,
    blockers: float = 0.0,
    subscription_id: str = "00000000-0000-0000-0000-000000000001",
    location: str | None = None,
) -> Estate:
    """A synthetic classic estate with exactly `vms` IaaS VMs; same arguments → identical estate."""
    if vms < 0:
        raise ValueError("vms must be >= 0")
    if vnets is not None and vnets < 0:
        raise ValueError("vnets must be >= 0")
    if not 0.0 <= blockers <= 1.0:
        raise ValueError("blockers must be between 0 and 1")
    regions = [display_name(location)] if location else list(REGION_POOL)
    weights = [1.0] if location else list(REGION_WEIGHTS)
    builder = _Builder(random.Random(seed), subscription_id, regions, weights)
    with gc_paused():
        return builder.build(vms, max(1, vms // 200) if vnets is None else vnets, blockers)


# --------------------------------------------------------------------------- small pure helpers


def _ip(n: int) -> str:
    # Hand-rolled instead of ipaddress.IPv4Address: tens of thousands of calls per large estate.
    return f"{n >> 24}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _parse_cidr(cidr: str) -> tuple[int, int]:
    """(first address as int, number of addresses)."""
    addr, bits = cidr.split("/")
    a, b, c_, d = (int(x) for x in addr.split("."))
    return (a << 24) | (b << 16) | (c_ << 8) | d, 1 << (32 - int(bits))


def _cidr(first: int, size: int) -> str:
    return f"{_ip(first)}/{32 - size.bit_length() + 1}"


def _next_pow2(n: int) -> int:
    return 1 << max(0, n - 1).bit_length()


# --------------------------------------------------------------------------- allocators


@dataclass
class _AddressPool:
    """Unique public IPv4 addresses: walks forward through the blocks with small random strides, so
    addresses look scattered yet can never repeat (no bookkeeping set needed)."""

    rng: random.Random
    blocks: list[tuple[int, int]]
    block: int = 0
    offset: int = 0

    def take(self) -> str:
        while True:
            self.offset += self.rng.randint(1, 6)
            first, size = self.blocks[self.block]
            if self.offset >= size:
                self.block += 1
                if self.block == len(self.blocks):
                    raise RuntimeError("public address pool exhausted")
                self.offset = 0
                continue
            n = first + self.offset
            if n & 255 not in (0, 255):  # skip network/broadcast-looking addresses: purely cosmetic
                return _ip(n)


@dataclass(eq=False)
class _SubnetSpace:
    """Sequential private-IP allocation inside one subnet. Azure keeps the first four addresses and the
    last one of every subnet, so the first DIP handed out is .4."""

    subnet: c.Subnet
    first: int
    size: int
    next: int = 4

    def free(self) -> int:
        return self.size - 1 - self.next

    def take(self) -> str:
        if self.free() <= 0:
            raise RuntimeError(f"subnet {self.subnet.name} is full")
        self.next += 1
        return _ip(self.first + self.next - 1)


@dataclass(eq=False)
class _VNetPlan:
    site: c.VirtualNetworkSite
    spaces: list[_SubnetSpace]  # workload subnets only (never the GatewaySubnet)


@dataclass(eq=False)
class _Service:
    """One cloud service as built, with what blocker injection needs to find again."""

    hs: c.HostedService
    dep: c.Deployment
    roles: list[c.Role]
    region: str
    vnet: _VNetPlan | None
    space: _SubnetSpace | None
    os: OsName


# --------------------------------------------------------------------------- the builder


class _Builder:
    def __init__(self, rng: random.Random, sub: str, regions: list[str], weights: list[float]) -> None:
        self.rng = rng
        self.sub = sub
        self.regions = regions
        self.weights = weights
        self.estate = Estate()
        self.vnets: list[_VNetPlan] = []
        self.services: list[_Service] = []
        self.azure_ips = _AddressPool(rng, [_parse_cidr(b) for b in AZURE_PUBLIC_BLOCKS], 0, rng.randrange(4096))
        self.onprem_ips = _AddressPool(rng, [_parse_cidr(b) for b in ONPREM_PUBLIC_BLOCKS])
        # Non-VNet VMs get platform DIPs; a private 100.64/10 counter keeps them unique and obviously
        # outside every customer VNet.
        self.platform_dip = (100 << 24) | (64 << 16) | 4
        self.onprem_prefixes = 0  # /24s handed out of 172.16.0.0/12 to local network sites
        # Storage: the account currently being filled per region, and how many VMs it still takes.
        self.account_fill: dict[str, tuple[c.StorageAccount, int]] = {}
        self.premium: dict[str, c.StorageAccount] = {}
        self.disks: dict[str, c.Disk] = {}
        self.accounts: dict[str, c.StorageAccount] = {}
        self.vnet_rules: set[tuple[str, str]] = set()  # (rule, vnet) already injected at VNet level

    # ----------------------------------------------------------------- top level

    def build(self, vms: int, vnets: int, blockers: float) -> Estate:
        self._plan_vnets(vnets, vms)
        for index, size in enumerate(self._service_sizes(vms), start=1):
            self.services.append(self._build_service(index, size))
        self._spare_reserved_ips()
        self._unattached_disks_and_images()
        self._inject_blockers(blockers)
        self.estate.subscription = self._subscription()
        return self.estate

    def _region(self) -> str:
        return self.rng.choices(self.regions, self.weights)[0]

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _when(self, max_days: int = 240) -> datetime:
        return EPOCH + timedelta(seconds=self.rng.randrange(max_days * 86400))

    def _service_sizes(self, vms: int) -> list[int]:
        """Split `vms` into cloud services of 1–8 VMs; small services dominate, as in real estates."""
        sizes: list[int] = []
        left = vms
        while left > 0:
            n = min(left, self.rng.choices(range(1, 9), (30, 22, 16, 10, 8, 6, 4, 4))[0])
            sizes.append(n)
            left -= n
        return sizes

    # ----------------------------------------------------------------- virtual networks

    def _plan_vnets(self, count: int, vms: int) -> None:
        """Lay out `count` non-overlapping VNets in 10.0.0.0/8: one /16 each while they fit, smaller
        blocks for very many VNets."""
        if count > MAX_VNETS:
            raise ValueError(f"at most {MAX_VNETS} VNets fit in 10.0.0.0/8")
        block = 1 << 16 if count <= 256 else 1 << 12 if count <= 4096 else 1 << 8
        # Subnets sized for twice the expected VNet VMs (incl. secondary NICs) over at least two
        # subnets; /24 minimum for realism, a quarter of the VNet at most.
        expected = int(vms * 0.7 * 1.15 / max(1, count)) + 8
        subnet_size = min(block // 4, max(256, _next_pow2(expected)))
        for i in range(count):
            self.vnets.append(self._build_vnet(i + 1, (10 << 24) + i * block, block, subnet_size))

    def _build_vnet(self, index: int, first: int, block: int, subnet_size: int) -> _VNetPlan:
        name = f"vnet{index:03d}"
        region = self._region()
        # Only while 172.16/12 still has room for the on-premises side of the VPN.
        has_gateway = self.rng.random() < 0.25 and self.onprem_prefixes < 4000
        count = self.rng.randint(2, 3 if has_gateway else 4)
        subnets: list[c.Subnet] = []
        spaces: list[_SubnetSpace] = []
        for j in range(count):
            subnet = c.Subnet(name=SUBNET_NAMES[j], address_prefix=_cidr(first + j * subnet_size, subnet_size),
                              network_security_group=self._maybe_nsg(name, SUBNET_NAMES[j], region),
                              route_table=self._maybe_route_table(name, SUBNET_NAMES[j], region))
            subnets.append(subnet)
            spaces.append(_SubnetSpace(subnet, first + j * subnet_size, subnet_size))
        gateway = None
        if has_gateway:
            # Classic gateways need a subnet literally named GatewaySubnet; a /29 is the minimum, /27 usual.
            subnets.append(c.Subnet(name="GatewaySubnet", address_prefix=_cidr(first + count * subnet_size, 32)))
            gateway = self._gateway(name)
        site = c.VirtualNetworkSite(
            name=name, id=self.guid(), location=region, label=name, address_space=[_cidr(first, block)],
            subnets=subnets, dns_servers=self._vnet_dns(gateway, spaces[0]), gateway=gateway,
        )
        self.estate.virtual_networks.append(site)
        return _VNetPlan(site, spaces)

    def _maybe_nsg(self, vnet: str, subnet: str, region: str) -> str | None:
        if self.rng.random() >= 0.3:
            return None
        nsg = c.NetworkSecurityGroup(name=f"{vnet}-{subnet}-nsg", label=f"{subnet} tier", location=region,
                                     rules=_nsg_rules())
        self.estate.network_security_groups.append(nsg)
        return nsg.name

    def _maybe_route_table(self, vnet: str, subnet: str, region: str) -> str | None:
        if self.rng.random() >= 0.15:
            return None
        table = c.RouteTable(name=f"{vnet}-{subnet}-rt", label=f"{subnet} routes", location=region, routes=[
            c.Route(name="default-internet", address_prefix="0.0.0.0/0", next_hop_type="Internet"),
            c.Route(name="blackhole-partner", address_prefix="198.51.100.0/24", next_hop_type="Null"),
        ])
        self.estate.route_tables.append(table)
        return table.name

    def _gateway(self, vnet: str) -> c.Gateway:
        connections = []
        for j in range(1, self.rng.randint(1, 2) + 1):
            n = self.onprem_prefixes
            self.onprem_prefixes += 1
            site = c.LocalNetworkSite(name=f"{vnet}-onprem{j}", address_space=[f"172.{16 + n // 256}.{n % 256}.0/24"],
                                      vpn_gateway_address=self.onprem_ips.take())
            self.estate.local_network_sites.append(site)
            connections.append(c.LocalSiteConnection(local_network_site=site.name))
        return c.Gateway(type=c.GatewayType.DYNAMIC_ROUTING, profile="Small", vip=self.azure_ips.take(),
                         connections=connections)

    def _vnet_dns(self, gateway: c.Gateway | None, first_subnet: _SubnetSpace) -> list[c.DnsServer]:
        if self.rng.random() >= 0.4:
            return []
        if gateway is not None:
            # VPN-connected VNets typically resolve through on-premises DNS (the .10 of the first site).
            site = next(s for s in self.estate.local_network_sites
                        if s.name == gateway.connections[0].local_network_site)
            return [c.DnsServer(name="onprem-dns1", address=site.address_space[0].replace(".0/24", ".10"))]
        # Otherwise a domain controller VM: the first DIP of the first subnet.
        return [c.DnsServer(name="dc1", address=_ip(first_subnet.first + 4))]

    # ----------------------------------------------------------------- cloud services

    def _build_service(self, index: int, n: int) -> _Service:
        svc = f"cs{index:05d}"
        plan, space = self._place(n)
        multi_nic = space is not None and self.rng.random() < 0.1  # _place left room for two NICs per VM
        region = plan.site.location if plan is not None and plan.site.location else self._region()
        os: OsName = "Windows" if self.rng.random() < 0.6 else "Linux"
        size = (self.rng.choices(_MULTI_NIC_SIZES, _MULTI_NIC_WEIGHTS) if multi_nic
                else self.rng.choices(_SIZE_NAMES, _SIZE_WEIGHTS))[0]
        created = self._when()
        hs = c.HostedService(name=svc, location=region, label=svc, description=f"synthetic cloud service {index}",
                             created=created, last_modified=created + timedelta(days=self.rng.randint(0, 90)),
                             certificates=self._certificates())
        vip = c.VirtualIP(name=f"{svc}ContractContract", address=self.azure_ips.take())
        dep = c.Deployment(
            name=svc, service_name=svc, private_id=uuid.UUID(int=self.rng.getrandbits(128)).hex, label=svc,
            virtual_network_name=plan.site.name if plan is not None else None, virtual_ips=[vip],
            internal_dns_suffix=f"{self._token(26)}.{self._token(2)}.internal.cloudapp.net",
            created=created + timedelta(minutes=5), last_modified=hs.last_modified,
        )
        service = _Service(hs, dep, [], region, plan, space, os)
        if self.rng.random() < 0.15:
            self._reserve(service, vip)
        avset = f"as-{svc}" if self.rng.random() < (0.6 if n > 1 else 0.1) else None
        load_balanced = n > 1 and self.rng.random() < 0.6
        port = self.rng.randint(49152, 60000)  # public NAT ports: consecutive, hence unique per VIP
        for i in range(1, n + 1):
            vm = self._build_vm(service, i, size, avset, multi_nic, load_balanced, port)
            port += len(vm.input_endpoints)
            service.roles.append(vm)
        if all(r.instance_status == c.InstanceStatus.STOPPED_DEALLOCATED for r in service.roles):
            dep.status = "Suspended"  # what ASM reports when every VM of a deployment is deallocated
        self.estate.hosted_services.append(hs)
        self.estate.deployments.append(dep)
        self.estate.roles.extend(service.roles)
        return service

    def _place(self, n: int) -> tuple[_VNetPlan | None, _SubnetSpace | None]:
        """~70 % of deployments go into a VNet subnet with room for all their NICs (×2 for multi-NIC)."""
        if not self.vnets or self.rng.random() >= 0.7:
            return None, None
        plan = self.vnets[self.rng.randrange(len(self.vnets))]
        roomy = [s for s in plan.spaces if s.free() >= 2 * n]
        if not roomy:
            return None, None  # VNet full: the service simply stays outside any VNet
        return plan, roomy[self.rng.randrange(len(roomy))]

    def _certificates(self) -> list[c.Certificate]:
        if self.rng.random() >= 0.1:
            return []
        thumb = f"{self.rng.getrandbits(160):040X}"
        return [c.Certificate(thumbprint=thumb, data=base64.b64encode(self.rng.randbytes(48)).decode())]

    def _token(self, length: int) -> str:
        return "".join(self.rng.choices(string.ascii_lowercase + string.digits, k=length))

    def _reserve(self, service: _Service, vip: c.VirtualIP) -> None:
        """Turn the deployment's VIP into a reserved IP (same address, linked both ways)."""
        rip = c.ReservedIP(name=f"rip-{service.hs.name}", address=vip.address, id=self.guid(),
                           label=f"reserved for {service.hs.name}", location=service.region,
                           service_name=service.hs.name, deployment_name=service.dep.name, virtual_ip_name=vip.name)
        vip.is_reserved = True
        vip.reserved_ip_name = rip.name
        service.dep.reserved_ip_name = rip.name
        self.estate.reserved_ips.append(rip)

    # ----------------------------------------------------------------- virtual machines

    def _build_vm(self, s: _Service, i: int, size: str, avset: str | None, multi_nic: bool,
                  load_balanced: bool, port: int) -> c.Role:
        name = f"vm{s.hs.name[2:]}-{i}"
        status, power = self._vm_state()
        allocated = status != c.InstanceStatus.STOPPED_DEALLOCATED
        account = self._account(s.region)
        role = c.Role(
            name=name, service_name=s.hs.name, deployment_name=s.dep.name, size=size,
            input_endpoints=self._endpoints(s, port, load_balanced),
            extensions=self._extensions(s.os, allocated), availability_set=avset,
            os_disk=self._os_disk(s, name, account),
            data_disks=self._data_disks(s, name, account),
            boot_diagnostics=(c.BootDiagnostics(enabled=True, storage_uri=media.link(account.name, ""))
                              if self.rng.random() < 0.2 else None),
            computer_name=name, admin_username="azureuser",
            winrm_listeners=[{"Protocol": "Https"}] if s.os == "Windows" else [],
            instance_status=status, power_state=power, host_name=name if allocated else None,
            # A deallocated instance reports no runtime data at all (spec §5.4): no agent, no statuses.
            guest_agent=c.GuestAgentStatus(version=GUEST_AGENT_VERSION) if allocated else None,
            instance_fault_domain=(i - 1) % 2, instance_upgrade_domain=(i - 1) % 5,
            public_ips=([c.InstancePublicIP(name="PIP1", idle_timeout_in_minutes=4, address=self.azure_ips.take())]
                        if allocated and self.rng.random() < 0.02 else []),
        )
        self._network(s, role, allocated, multi_nic)
        return role

    def _vm_state(self) -> tuple[c.InstanceStatus, c.PowerState]:
        r = self.rng.random()
        if r < 0.85:
            return c.InstanceStatus.READY, c.PowerState.STARTED
        if r < 0.95:
            return c.InstanceStatus.STOPPED_DEALLOCATED, c.PowerState.STOPPED
        return c.InstanceStatus.STOPPED_VM, c.PowerState.STOPPED

    def _network(self, s: _Service, role: c.Role, allocated: bool, multi_nic: bool) -> None:
        """Subnet and DIPs. In a VNet a deallocated VM keeps its address only as a static IP (a dynamic
        DIP is released on deallocation), so every VNet NIC has exactly one private address either way."""
        if s.space is None:
            if allocated:
                role.ip_address = _ip(self.platform_dip)
                self.platform_dip += 1
            return
        role.subnet_names = [s.space.subnet.name]
        dip = s.space.take()
        if not allocated or self.rng.random() < 0.15:
            role.static_ip = dip
        role.ip_address = dip if allocated else None
        if multi_nic:
            role.secondary_nics = [self.secondary_nic(role.name, s.space, allocated)]

    def secondary_nic(self, vm: str, space: _SubnetSpace, allocated: bool) -> c.SecondaryNic:
        # Same subnet as the primary NIC: NICs in different subnets would be blocker R12.
        dip = space.take()
        return c.SecondaryNic(name=f"{vm}-nic2", ip_address=dip if allocated else None, ip_configurations=[
            c.IPConfiguration(subnet_name=space.subnet.name, static_ip=None if allocated else dip)])

    def _endpoints(self, s: _Service, port: int, load_balanced: bool) -> list[c.InputEndpoint]:
        vip = s.dep.virtual_ips[0].address
        nat = [("RemoteDesktop", 3389), ("PowerShell", 5986)] if s.os == "Windows" else [("SSH", 22)]
        out = [c.InputEndpoint(name=n, port=port + k, local_port=local, vip=vip) for k, (n, local) in enumerate(nat)]
        if load_balanced:
            out.append(c.InputEndpoint(name="HTTP", port=80, local_port=80, vip=vip,
                                       load_balanced_endpoint_set_name="HTTP",
                                       probe=c.LoadBalancerProbe(protocol="http", port=80, path="/")))
        return out

    def _extensions(self, os: OsName, allocated: bool) -> list[c.ExtensionReference]:
        out = []
        for ref, publisher, name, version, p in EXTENSIONS[os]:
            if self.rng.random() < p:
                out.append(c.ExtensionReference(reference_name=ref, publisher=publisher, name=name,
                                                version=version, private_config_present=ref.startswith("VMAccess"),
                                                handler_status="Ready" if allocated else None))
        return out

    # ----------------------------------------------------------------- storage and disks

    def _account(self, region: str) -> c.StorageAccount:
        """The region's account being filled; a new one after ~100 VMs (so ~one account per 100 VMs)."""
        account, room = self.account_fill.get(region, (None, 0))
        if account is None or room <= 0:
            account, room = self._new_account(region, "storage", "Standard_LRS"), self.rng.randint(80, 120)
        self.account_fill[region] = (account, room - 1)
        return account

    def _new_account(self, region: str, prefix: str, sku: str) -> c.StorageAccount:
        # Account names are global in Azure: a seeded suffix keeps two seeds' estates apart.
        name = f"{prefix}{len(self.estate.storage_accounts) + 1:04d}{self._token(6)}"
        account = c.StorageAccount(
            name=name, location=region, account_type=sku, label=name, created=self._when(30) - timedelta(days=60),
            primary_key=base64.b64encode(self.rng.randbytes(64)).decode(),
            secondary_key=base64.b64encode(self.rng.randbytes(64)).decode(),
            extended_properties={"ResourceGroup": default_storage_rg(region), "ResourceLocation": region},
        )
        self.estate.storage_accounts.append(account)
        self.accounts[name] = account
        return account

    def _vhd(self, account: c.StorageAccount, blob: str, size_gb: int, os: OsName | None,
             role: tuple[str, str, str] | None, disk_name: str, image: str | None = None) -> str:
        """Register a VHD: the blob in the account and the classic `Disk` object; returns the media link."""
        link = media.link(account.name, "vhds", blob)
        account.blobs[f"vhds/{blob}"] = c.Blob(size_bytes=media.vhd_blob_size(size_gb), lease="leased")
        svc, dep, vm = role if role is not None else (None, None, None)
        disk = c.Disk(name=disk_name, media_link=link, os=os, location=account.location, logical_size_gb=size_gb,
                      label=disk_name, source_image_name=image, hosted_service_name=svc, deployment_name=dep,
                      role_name=vm)
        self.estate.disks.append(disk)
        self.disks[disk_name] = disk
        return link

    def _os_disk(self, s: _Service, vm: str, account: c.StorageAccount) -> c.OSDisk:
        name = f"{s.hs.name}-{vm}-os"
        size = media.os_disk_gb(s.os)
        link = self._vhd(account, f"{name}.vhd", size, s.os, (s.hs.name, s.dep.name, vm), name, SOURCE_IMAGES[s.os])
        return c.OSDisk(disk_name=name, media_link=link, os=s.os, source_image_name=SOURCE_IMAGES[s.os],
                        logical_size_gb=size)

    def _data_disks(self, s: _Service, vm: str, account: c.StorageAccount) -> list[c.DataDisk]:
        count = self.rng.choices((0, 1, 2, 3), (40, 30, 20, 10))[0]
        return [self._data_disk(s, vm, account, lun) for lun in range(count)]

    def _data_disk(self, s: _Service, vm: str, account: c.StorageAccount, lun: int) -> c.DataDisk:
        name = f"{s.hs.name}-{vm}-data{lun}"
        size = self.rng.choice(DATA_DISK_GB)
        link = self._vhd(account, f"{name}.vhd", size, None, (s.hs.name, s.dep.name, vm), name)
        return c.DataDisk(disk_name=name, media_link=link, lun=lun, logical_size_gb=size,
                          host_caching=self.rng.choice(("None", "ReadOnly")))

    def _unattached_disks_and_images(self) -> None:
        """Leftovers every real estate has: a couple of orphaned disks and a golden image in some accounts."""
        accounts = [a for a in self.estate.storage_accounts if a.account_type == "Standard_LRS"]
        if not accounts:
            return
        for j in range(1, 3 + len(self.estate.roles) // 2500):
            account = self.rng.choice(accounts)
            os: OsName | None = "Windows" if self.rng.random() < 0.5 else None  # a leftover OS or data disk
            size = media.os_disk_gb("Windows") if os else self.rng.choice(DATA_DISK_GB)
            self._vhd(account, f"orphan-disk{j:03d}.vhd", size, os, None, f"orphan-disk{j:03d}")
        for account in accounts:
            if self.rng.random() < 0.3:
                os_: OsName = "Windows" if self.rng.random() < 0.5 else "Linux"
                blob = f"golden-{os_.lower()}-{account.name}.vhd"
                size = media.os_disk_gb(os_)
                account.blobs[f"vhds/{blob}"] = c.Blob(size_bytes=media.vhd_blob_size(size), lease="leased")
                self.estate.os_images.append(c.OSImage(
                    name=f"golden-{os_.lower()}-{account.name}", os=os_, location=account.location,
                    media_link=media.link(account.name, "vhds", blob), label=f"Golden {os_} image"))

    # ----------------------------------------------------------------- reserved IPs, subscription

    def _spare_reserved_ips(self) -> None:
        """A few reserved IPs not associated with any deployment (migrated on their own, unit D)."""
        for j in range(1, 2 + len(self.services) // 100):
            self.estate.reserved_ips.append(c.ReservedIP(
                name=f"rip-spare{j:03d}", address=self.azure_ips.take(), id=self.guid(), label="spare",
                location=self._region()))

    def _subscription(self) -> c.Subscription:
        return c.Subscription(
            id=self.sub, name="Synthetic classic estate", registered_for_migration=True,
            had_classic_vms_feb_2020=True, created=SUBSCRIPTION_CREATED, arm_quotas=self._quotas(),
            co_administrators=["admin@contoso.onmicrosoft.com"],
        )

    def _quotas(self) -> dict[str, dict[str, int]]:
        """Per ARM region: max(floor, 2 × what migrating everything there would create)."""
        need: dict[str, dict[str, int]] = {}

        def add(region: str | None, kind: str, n: int = 1) -> None:
            if region:
                per = need.setdefault(arm_name(region), dict.fromkeys(QUOTA_FLOORS, 0))
                per[kind] += n

        for s in self.services:
            add(s.region, "loadBalancers")
            add(s.region, "publicIPAddresses", len(s.dep.virtual_ips))
            if s.vnet is None:
                add(s.region, "virtualNetworks")  # prepare with "New" creates one VNet per deployment
            for r in s.roles:
                add(s.region, "cores", sizes.cores_of(r.size))
                add(s.region, "networkInterfaces", 1 + len(r.secondary_nics))
                add(s.region, "publicIPAddresses", len(r.public_ips))
        for v in self.estate.virtual_networks:
            add(v.location, "virtualNetworks")
            add(v.location, "publicIPAddresses", 1 if v.gateway else 0)
        for rip in self.estate.reserved_ips:
            add(rip.location, "staticPublicIPAddresses")
        for nsg in self.estate.network_security_groups:
            add(nsg.location, "networkSecurityGroups")
        for rt in self.estate.route_tables:
            add(rt.location, "routeTables")
        for a in self.estate.storage_accounts:
            add(a.location, "cores", 0)  # a region holding only storage still gets its floors
        return {region: {k: max(QUOTA_FLOORS[k], 2 * v) for k, v in per.items()} for region, per in need.items()}

    # ----------------------------------------------------------------- blockers

    def _inject_blockers(self, fraction: float) -> None:
        """Give round(fraction × deployments) deployments, chosen by the rng, one blocker each. Kinds are
        cycled in BLOCKER_RULES order; a deployment the next kind doesn't fit (say a one-VM service for
        R09) gets the next kind that fits one of the remaining chosen deployments."""
        k = int(fraction * len(self.services) + 0.5)
        pool = [self.services[i] for i in sorted(self.rng.sample(range(len(self.services)), k))]
        exhausted: set[str] = set()  # kinds that fit none of the pool: the pool only shrinks, so skip them
        cursor = 0
        while pool:
            for step in range(len(BLOCKER_KINDS)):
                kind = BLOCKER_KINDS[(cursor + step) % len(BLOCKER_KINDS)]
                if kind.rule in exhausted:
                    continue
                target = next((s for s in pool if kind.fits(self, s)), None)
                if target is not None:
                    break
                exhausted.add(kind.rule)
            else:  # pragma: no cover - R18 fits every deployment
                raise AssertionError("no blocker kind fits")
            cursor = (cursor + step + 1) % len(BLOCKER_KINDS)
            pool.remove(target)
            self.estate.notes.append(f"blocker {kind.rule} {kind.inject(self, target)}")

    def premium_account(self, region: str) -> c.StorageAccount:
        if region not in self.premium:
            self.premium[region] = self._new_account(region, "premium", "Premium_LRS")
        return self.premium[region]

    def add_vhd_for_blocker(self, s: _Service, vm: c.Role) -> c.DataDisk:
        assert vm.os_disk is not None
        account = self.accounts[media.account_of(vm.os_disk.media_link)]
        disk = self._data_disk(s, vm.name, account, len(vm.data_disks))
        vm.data_disks.append(disk)
        return disk


# --------------------------------------------------------------------------- blocker kinds
#
# Each kind: does it fit a deployment, and how to inject it (returns "<kind> <name>" for the note).
# Injections change exactly one thing and keep the rest of the estate consistent (blobs, disks, IPs).


@dataclass(frozen=True)
class _Kind:
    rule: str
    fits: Callable[[_Builder, _Service], bool]
    inject: Callable[[_Builder, _Service], str]


def _vms(s: _Service) -> list[c.Role]:
    return [r for r in s.roles if r.is_vm]


def _running(s: _Service) -> list[c.Role]:
    # Extension and agent rules only concern running VMs (spec §4.2 "Extensions / agent").
    return [r for r in s.roles if r.is_vm and r.instance_status == c.InstanceStatus.READY]


def _vm_note(vm: c.Role) -> str:
    return f"vm {vm.service_name}/{vm.name}"


def _pick(b: _Builder, roles: list[c.Role]) -> c.Role:
    return roles[b.rng.randrange(len(roles))]


def _in_vnet(_: _Builder, s: _Service) -> bool:
    return s.vnet is not None


def _any(_: _Builder, s: _Service) -> bool:
    return True


def _has_running(_: _Builder, s: _Service) -> bool:
    return bool(_running(s))


def _several_vms(_: _Builder, s: _Service) -> bool:
    return len(_vms(s)) >= 2


def _vnet_free_for(rule: str) -> Callable[[_Builder, _Service], bool]:
    """VNet-level blockers hit each VNet at most once, so every note names a distinct resource."""
    def fits(b: _Builder, s: _Service) -> bool:
        return s.vnet is not None and (rule, s.vnet.site.name) not in b.vnet_rules
    return fits


def _web_role(b: _Builder, s: _Service) -> str:
    """R07: a web role next to the VMs makes it a PaaS deployment."""
    vip = s.dep.virtual_ips[0]
    role = c.Role(name="WebRole1", service_name=s.hs.name, deployment_name=s.dep.name, role_type=c.RoleType.WEB,
                  size=None, ip_address=_ip(b.platform_dip), host_name="WebRole1_IN_0",
                  input_endpoints=[c.InputEndpoint(name="Endpoint1", port=8080, local_port=8080, vip=vip.address,
                                                   virtual_ip_name=vip.name)])
    b.platform_dip += 1
    s.roles.append(role)
    b.estate.roles.append(role)
    return f"hosted-service {s.hs.name}"


def _two_sets(b: _Builder, s: _Service) -> str:
    """R09: one VM in a second availability set."""
    vms = _vms(s)
    name = vms[0].availability_set or f"as-{s.hs.name}"
    for vm in vms:
        vm.availability_set = name
    vms[0].availability_set = f"{name}-2"
    return f"hosted-service {s.hs.name}"


def _mixed_set(b: _Builder, s: _Service) -> str:
    """R10: the service has an availability set but one VM is outside it."""
    vms = _vms(s)
    name = vms[0].availability_set or f"as-{s.hs.name}"
    for vm in vms:
        vm.availability_set = name
    vms[-1].availability_set = None
    return f"hosted-service {s.hs.name}"


def _multi_nic_fits(b: _Builder, s: _Service) -> bool:
    return s.space is not None and len(_vms(s)) >= 2 and s.space.free() >= 1


def _mixed_nics(b: _Builder, s: _Service) -> str:
    """R11: single- and multi-NIC VMs in one cloud service."""
    vms = _vms(s)
    if vms[0].secondary_nics:
        vms[-1].secondary_nics = []
    else:
        assert s.space is not None
        vm = vms[0]
        if MAX_NICS.get(vm.size or "", 1) < 2:
            vm.size = "Standard_D2"  # keep the size valid for two NICs: only the mix is the blocker
        vm.secondary_nics = [b.secondary_nic(vm.name, s.space, vm.allocated)]
    return f"hosted-service {s.hs.name}"


def _no_subnet(b: _Builder, s: _Service) -> str:
    """R13: a VNet VM with no subnet (it keeps its DIP, which stays unique in the VNet)."""
    vm = _pick(b, _vms(s))
    vm.subnet_names = []
    return _vm_note(vm)


def _state(status: c.InstanceStatus, power: c.PowerState) -> Callable[[_Builder, _Service], str]:
    """R14 / R16: a running VM whose instance is in a state migration refuses."""
    def inject(b: _Builder, s: _Service) -> str:
        vm = _pick(b, _running(s))
        vm.instance_status = status
        vm.power_state = power
        return _vm_note(vm)
    return inject


def _not_regional(b: _Builder, s: _Service) -> str:
    """R18."""
    s.dep.regional_scope = False
    return f"hosted-service {s.hs.name}"


def _running_windows(_: _Builder, s: _Service) -> bool:
    return s.os == "Windows" and bool(_running(s))


def _xml_extension(b: _Builder, s: _Service) -> str:
    """R19: BGInfo 1.x is an XML extension (replaces BGInfo 2.1 when the VM already has it)."""
    vm = _pick(b, _running(s))
    vm.extensions = [e for e in vm.extensions if e.name != "BGInfo"]
    vm.extensions.append(c.ExtensionReference(reference_name="BGInfo", publisher="Microsoft.Compute",
                                              name="BGInfo", version="1.1"))
    return _vm_note(vm)


def _backup_extension(b: _Builder, s: _Service) -> str:
    """R20."""
    vm = _pick(b, _running(s))
    name = "VMSnapshot" if s.os == "Windows" else "VMSnapshotLinux"
    vm.extensions.append(c.ExtensionReference(reference_name=name, publisher="Microsoft.Azure.RecoveryServices",
                                              name=name, version="1.0"))
    return _vm_note(vm)


def _ensure_extension(vm: c.Role, os: OsName) -> c.ExtensionReference:
    if not vm.extensions:
        ref, publisher, name, version, _ = EXTENSIONS[os][0]
        vm.extensions.append(c.ExtensionReference(reference_name=ref, publisher=publisher, name=name,
                                                  version=version))
    return vm.extensions[0]


def _handler(status: str | None) -> Callable[[_Builder, _Service], str]:
    """R21 (status None: not reported) / R22 (a handler reporting something other than Ready)."""
    def inject(b: _Builder, s: _Service) -> str:
        vm = _pick(b, _running(s))
        _ensure_extension(vm, s.os).handler_status = status
        return _vm_note(vm)
    return inject


def _agent_not_ready(b: _Builder, s: _Service) -> str:
    """R23: agent NotReady on a VM with a (migratable) extension, which makes it an error."""
    vm = _pick(b, _running(s))
    _ensure_extension(vm, s.os)
    vm.guest_agent = c.GuestAgentStatus(status="NotReady", version=GUEST_AGENT_VERSION,
                                        message="VM Agent is unresponsive.")
    return _vm_note(vm)


def _size_mismatch(b: _Builder, s: _Service) -> str:
    """R25 (warning): the data disk's blob is a GiB larger than its logical size (resized blob)."""
    vm = _pick(b, _vms(s))
    disk = vm.data_disks[0] if vm.data_disks else b.add_vhd_for_blocker(s, vm)
    account = b.accounts[media.account_of(disk.media_link)]
    account.blobs[media.parse(disk.media_link).path].size_bytes = media.vhd_blob_size(disk.logical_size_gb + 1)
    return _vm_note(vm)


def _slash_blob(b: _Builder, s: _Service) -> str:
    """R27: the OS VHD lives under a virtual directory, i.e. its blob name contains '/'."""
    vm = _pick(b, _vms(s))
    assert vm.os_disk is not None
    old = vm.os_disk.media_link
    account = b.accounts[media.account_of(old)]
    new = media.link(account.name, "vhds", f"{s.hs.name}/{vm.name}-os.vhd")
    account.blobs[media.parse(new).path] = account.blobs.pop(media.parse(old).path)
    vm.os_disk.media_link = new
    b.disks[vm.os_disk.disk_name].media_link = new
    return _vm_note(vm)


def _premium_diagnostics(b: _Builder, s: _Service) -> str:
    """R28: boot diagnostics written to a Premium account (created on demand in the region)."""
    vm = _pick(b, _vms(s))
    vm.boot_diagnostics = c.BootDiagnostics(enabled=True, storage_uri=media.link(b.premium_account(s.region).name, ""))
    return _vm_note(vm)


def _has_endpoint(_: _Builder, s: _Service) -> bool:
    return any(r.input_endpoints for r in _vms(s))


def _endpoint_acl(b: _Builder, s: _Service) -> str:
    """R29."""
    vm = _pick(b, [r for r in _vms(s) if r.input_endpoints])
    vm.input_endpoints[0].acl = [c.AclRule(order=100, action="permit", remote_subnet="203.0.113.0/24",
                                           description="office only")]
    return _vm_note(vm)


def _peered(b: _Builder, s: _Service) -> str:
    """R30: peered with an ARM hub VNet."""
    assert s.vnet is not None
    site = s.vnet.site
    site.peerings.append(f"/subscriptions/{b.sub}/resourceGroups/hub-rg/providers/Microsoft.Network/"
                         f"virtualNetworks/hub-vnet")
    b.vnet_rules.add(("R30", site.name))
    return f"virtual-network {site.name}"


def _app_service_environment(b: _Builder, s: _Service) -> str:
    """R08: a non-gateway PaaS deployment (an App Service Environment) shares the VNet."""
    assert s.vnet is not None
    site = s.vnet.site
    site.contains_app_service_environment = True
    b.vnet_rules.add(("R08", site.name))
    return f"virtual-network {site.name}"


def _reserved_without_endpoint(b: _Builder, s: _Service) -> str:
    """R32: a second, reserved VIP that no input endpoint uses."""
    vip = c.VirtualIP(name="Vip2", address=b.azure_ips.take(), is_reserved=True,
                      reserved_ip_name=f"rip-{s.hs.name}-vip2")
    s.dep.virtual_ips.append(vip)
    b.estate.reserved_ips.append(c.ReservedIP(
        name=f"rip-{s.hs.name}-vip2", address=vip.address, id=b.guid(), label="second VIP",
        location=s.region, service_name=s.hs.name, deployment_name=s.dep.name, virtual_ip_name=vip.name))
    return f"reserved-ip rip-{s.hs.name}-vip2"


def _non_vnet(_: _Builder, s: _Service) -> bool:
    return s.vnet is None


BLOCKER_KINDS: tuple[_Kind, ...] = (
    _Kind("R07", _non_vnet, _web_role),
    _Kind("R09", _several_vms, _two_sets),
    _Kind("R10", _several_vms, _mixed_set),
    _Kind("R11", _multi_nic_fits, _mixed_nics),
    _Kind("R13", _in_vnet, _no_subnet),
    _Kind("R14", _has_running, _state(c.InstanceStatus.ROLE_STATE_UNKNOWN, c.PowerState.UNKNOWN)),
    _Kind("R16", _has_running, _state(c.InstanceStatus.PROVISIONING_TIMEOUT, c.PowerState.STARTED)),
    _Kind("R18", _any, _not_regional),
    _Kind("R19", _running_windows, _xml_extension),
    _Kind("R20", _has_running, _backup_extension),
    _Kind("R21", _has_running, _handler(None)),
    _Kind("R22", _has_running, _handler("NotReady")),
    _Kind("R23", _has_running, _agent_not_ready),
    _Kind("R25", _any, _size_mismatch),
    _Kind("R27", _any, _slash_blob),
    _Kind("R28", _any, _premium_diagnostics),
    _Kind("R29", _has_endpoint, _endpoint_acl),
    _Kind("R30", _vnet_free_for("R30"), _peered),
    _Kind("R08", _vnet_free_for("R08"), _app_service_environment),
    _Kind("R32", _any, _reserved_without_endpoint),
)
assert tuple(k.rule for k in BLOCKER_KINDS) == BLOCKER_RULES


def _nsg_rules() -> list[c.NsgRule]:
    """Two custom rules plus the classic defaults every NSG carries."""
    custom = [
        c.NsgRule(name="allow-rdp-office", priority=100, source_address_prefix="203.0.113.0/24",
                  destination_port_range="3389", protocol="TCP"),
        c.NsgRule(name="allow-http", priority=110, destination_port_range="80", protocol="TCP"),
    ]
    defaults = [
        c.NsgRule(name=name, type=direction, priority=priority, action=action, source_address_prefix=src,
                  destination_address_prefix=dst, is_default=True)
        for name, direction, priority, action, src, dst in _DEFAULT_NSG_RULES
    ]
    return custom + defaults


_DEFAULT_NSG_RULES: tuple[tuple[str, Literal["Inbound", "Outbound"], int, Literal["Allow", "Deny"], str, str], ...] = (
    ("ALLOW VNET INBOUND", "Inbound", 65000, "Allow", "VIRTUAL_NETWORK", "VIRTUAL_NETWORK"),
    ("ALLOW AZURE LOAD BALANCER INBOUND", "Inbound", 65001, "Allow", "AZURE_LOADBALANCER", "*"),
    ("DENY ALL INBOUND", "Inbound", 65500, "Deny", "*", "*"),
    ("ALLOW VNET OUTBOUND", "Outbound", 65000, "Allow", "VIRTUAL_NETWORK", "VIRTUAL_NETWORK"),
    ("ALLOW INTERNET OUTBOUND", "Outbound", 65001, "Allow", "*", "INTERNET"),
    ("DENY ALL OUTBOUND", "Outbound", 65500, "Deny", "*", "*"),
)
