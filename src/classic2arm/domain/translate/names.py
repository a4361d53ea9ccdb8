"""Deterministic ARM names for everything prepare creates (spec §3.1, §3.2).

Every name is a pure function of classic names, so a retried prepare computes the same ids and its ARM
writes are upserts. Names the user chose classically are kept; platform-created objects follow the patterns
the spec records (or the [I]/[P] choices documented here).
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

MIGRATED_SUFFIX: Final = "-Migrated"
# Classic names its default VIP `<svc>ContractContract` (spec row 12, S11 recordings; CSES does the same).
DEFAULT_VIP_SUFFIX: Final = "ContractContract"
KEY_VAULT_MAX: Final = 24
PLATFORM_VNET_PREFIX: Final = "10.0.0.0/16"
PLATFORM_SUBNET_PREFIX: Final = "10.0.0.0/24"
GATEWAY_SUBNET: Final = "GatewaySubnet"
IP_CONFIG: Final = "ipconfig1"

_PORTAL_VNET = re.compile(r"^Group (\S+) (.+)$")
_KV_BAD = re.compile(r"[^A-Za-z0-9-]+")
_KV_DASHES = re.compile(r"-{2,}")


def migrated_rg(name: str) -> str:
    """`<name>-Migrated`: the spelling the scripts and examples use (ARM RG names are case-insensitive)."""
    return name + MIGRATED_SUFFIX


def vnet_name(classic: str) -> str:
    """Portal-created classic VNets are really called `Group <rg> <vnet>`; ARM names cannot hold spaces, so
    they become `group-<rg>-<vnet>` as CSES does (row 13). Every other name is kept."""
    m = _PORTAL_VNET.match(classic)
    if m is None:
        return classic
    return f"group-{m.group(1)}-{m.group(2).replace(' ', '-')}"


def primary_nic(vm: str) -> str:
    return f"{vm}-PrimaryNic"


def secondary_nic(vm: str, nic: str) -> str:
    return f"{vm}-{nic}"


def load_balancer(svc: str) -> str:
    return f"{svc}-LB"


def default_vip(svc: str) -> str:
    return svc + DEFAULT_VIP_SUFFIX


def instance_public_ip(vm: str, pip: str) -> str:
    return f"{vm}-{pip}"


def nat_rule(vm: str, endpoint: str) -> str:
    return f"{vm}-{endpoint}"


def probe(lb_set: str) -> str:
    return f"{lb_set}-Probe"


def platform_vnet(svc: str) -> str:
    return f"{svc}-VirtualNetwork"


def platform_subnet(svc: str) -> str:
    return f"{svc}-Subnet"


def gateway(vnet: str) -> str:
    return f"{vnet}-Default-Gateway"


def gateway_ip(vnet: str) -> str:
    return f"{vnet}-Default-Gateway-IP"


def connection(vnet: str, site: str) -> str:
    return f"{vnet}-{site}-Connection"


def key_vault(svc: str) -> str:
    """`<svc>-KV`, valid as a vault name (3–24 chars, alnum and '-', starts with a letter, ends alnum, no '--').

    Vault names are global DNS names: plain truncation would give two long service names sharing a prefix the
    same vault, so a cut name carries 6 hex digits of the full name's hash to stay unique and deterministic.
    """
    base = _KV_DASHES.sub("-", _KV_BAD.sub("-", svc)).strip("-")
    if not base or not base[0].isalpha():
        base = "kv" + base
    full = f"{base}-KV"
    if len(full) <= KEY_VAULT_MAX:
        return full
    digest = hashlib.sha1(svc.lower().encode()).hexdigest()[:6]
    head = base[: KEY_VAULT_MAX - len(digest) - len("--KV")].rstrip("-")
    return f"{head}-{digest}-KV"


def key_vault_uri(vault: str) -> str:
    return f"https://{vault.lower()}.vault.azure.net/"


def cloudapp_fqdn(svc: str) -> str:
    """The classic cloud-service DNS name is kept (row 1), not ARM's `<label>.<region>.cloudapp.azure.com`."""
    return f"{svc.lower()}.cloudapp.net"


def instance_fqdn(label: str, svc: str) -> str:
    """The classic DNS name of an instance-level public IP: `<label>.<cloud service>.cloudapp.net`."""
    return f"{label.lower()}.{svc.lower()}.cloudapp.net"
