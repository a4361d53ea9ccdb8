"""Private and public addresses, deterministically (a retried step gets the same ones).

- ARM: what prepare hands out when it restarts non-VNet VMs on the ARM side: their private IPs and dynamic VIPs
  change (spec §3.2).
- Classic: which private address a classic VM may hold in its subnet, or outside a VNet in the fabric's range,
  and the next free one (`service/power.py` places VMs that start with these)."""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from ..domain import arm as armt
from ..domain.arm import ArmResource

# A public range standing in for the region's dynamic VIP pool.
_PUBLIC_POOL = ipaddress.ip_network("52.160.0.0/11")


def _public_address(resource_id: str) -> str:
    h = int.from_bytes(hashlib.sha256(resource_id.lower().encode()).digest()[:4], "big")
    return str(_PUBLIC_POOL.network_address + 4 + h % (_PUBLIC_POOL.num_addresses - 8))


def _subnet_prefix(resources: list[ArmResource], subnet_id: str, existing: dict[str, str]) -> str | None:
    for r in resources:
        if r.type == armt.SUBNET and r.id.lower() == subnet_id.lower():
            return str(r.properties.get("addressPrefix"))
    return existing.get(subnet_id.lower())


def allocate(resources: list[ArmResource], existing_subnets: dict[str, str],
             taken: dict[str, set[str]]) -> None:
    """Fill in private IPs of dynamic NIC configurations and addresses of public IPs that have none.

    `existing_subnets`: subnet id (lower) → prefix for subnets that already exist in ARM (Existing destination);
    `taken`: subnet id (lower) → addresses already used there.
    """
    for r in resources:
        if r.type == armt.PUBLIC_IP and not r.properties.get("ipAddress"):
            r.properties["ipAddress"] = _public_address(r.id)
        if r.type != armt.NIC:
            continue
        for cfg in r.properties.get("ipConfigurations", []):
            props: dict[str, Any] = cfg.setdefault("properties", {})
            if props.get("privateIPAddress"):
                continue
            subnet_id = str((props.get("subnet") or {}).get("id", ""))
            prefix = _subnet_prefix(resources, subnet_id, existing_subnets)
            if not prefix:
                continue
            used = taken.setdefault(subnet_id.lower(), set())
            net = ipaddress.ip_network(prefix, strict=False)
            # Azure reserves the first four addresses of every subnet.
            for candidate in net.hosts():
                if int(candidate) - int(net.network_address) < 4:
                    continue
                if str(candidate) not in used:
                    used.add(str(candidate))
                    props["privateIPAddress"] = str(candidate)
                    break


# --------------------------------------------------------------------------- classic VMs' private addresses

# The fabric's range for VMs outside a VNet (the generator hands these out too).
PLATFORM_DIPS = ipaddress.ip_network("100.64.0.0/10")
_RESERVED_AT_START = 4  # Azure keeps the first four addresses of every subnet (and the last one)


def in_subnet(address: str | None, prefix: str) -> bool:
    """Whether a VM may hold `address` in the subnet `prefix`: inside it, past the reserved first four, not the
    last one."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
        net = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return False
    offset = int(ip) - int(net.network_address)
    return ip in net and _RESERVED_AT_START <= offset < net.num_addresses - 1


def first_free(prefix: str, taken: set[str]) -> str | None:
    """The lowest address of the subnet a VM may hold that is not taken (None when the subnet is full)."""
    net = ipaddress.ip_network(prefix, strict=False)
    start, end = int(net.network_address) + _RESERVED_AT_START, int(net.broadcast_address)
    for n in range(start, end):
        candidate = str(ipaddress.ip_address(n))
        if candidate not in taken:
            return candidate
    return None


def platform_dip_valid(address: str | None) -> bool:
    """Whether `address` is one the fabric gives a VM outside a VNet (host part not .0 or .255)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip in PLATFORM_DIPS and 0 < int(ip) % 256 < 255


def platform_dip(seed: str, taken: set[str]) -> str:
    """A fabric address for a VM outside a VNet, derived from `seed` (so the same VM tends to get the same one),
    moved on past addresses `taken` in its deployment."""
    h = int.from_bytes(hashlib.sha256(seed.lower().encode()).digest()[:4], "big")
    size = PLATFORM_DIPS.num_addresses
    base = int(PLATFORM_DIPS.network_address)
    for step in range(size):
        n = base + (h + step) % size
        if 0 < n % 256 < 255:
            candidate = str(ipaddress.ip_address(n))
            if candidate not in taken:
                return candidate
    raise ValueError("no fabric address left")
