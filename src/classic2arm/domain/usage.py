"""What an ARM resource counts against the regional quotas (cores, NICs, public IPs…; spec §7.3, R40).

The store keeps running totals per subscription and region through this function, so the prepare-only quota
rule reads current usage without scanning every ARM resource.
"""

from __future__ import annotations

from typing import Any

from . import arm as armt
from .sizes import cores_of

_COUNTED = {armt.NIC: "networkInterfaces", armt.LOAD_BALANCER: "loadBalancers", armt.NSG: "networkSecurityGroups",
            armt.ROUTE_TABLE: "routeTables", armt.VNET: "virtualNetworks"}


def usage_of(rtype: str, doc: dict[str, Any]) -> dict[str, int]:
    """Quota kinds (the names `Get-AzVMUsage`/`az network list-usages` use) this resource consumes."""
    kind = _COUNTED.get(rtype)
    if kind is not None:
        return {kind: 1}
    props = doc.get("properties") or {}
    if rtype == armt.PUBLIC_IP:
        static = props.get("publicIPAllocationMethod") == "Static"
        return {"staticPublicIPAddresses" if static else "publicIPAddresses": 1}
    if rtype == armt.VM:
        return {"cores": cores_of((props.get("hardwareProfile") or {}).get("vmSize")), "virtualMachines": 1}
    return {}
