"""Classic → ARM translation (spec §3.1): `translate(snapshot)` gives the ARM resources prepare creates.

One module per family: `groups` (resource groups), `compute` (VMs, extensions, availability sets, sizes,
disks, key vault), `network` (public IPs, load balancer, NICs, NSG/route-table clones), `vnet` (VNets,
subnets, gateways, local network gateways, connections), `storage`. `names` holds every naming rule.
"""

from __future__ import annotations

from .context import Translation
from .translator import TranslationError, translate

__all__ = ["Translation", "TranslationError", "translate"]
