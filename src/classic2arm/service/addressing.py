"""Addresses ARM hands out when prepare restarts non-VNet VMs: their private IPs and dynamic VIPs change
(spec §3.2), so the new ones are allocated here, deterministically (a retried prepare gets the same)."""

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
