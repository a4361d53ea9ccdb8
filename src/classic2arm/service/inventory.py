"""The retirement inventory: classic resources, like the Resource Graph query
`resources | where type == "microsoft.classiccompute/virtualmachines"`.

Reads index columns and raw documents only (no model parsing), so a 10,000-VM estate lists in
a fraction of a second.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..domain import identity as ids
from .context import AppContext
from .errors import ServiceError

DEFAULT_TYPE = ids.T_VM.lower()
_CLASSIC_LC = {t.lower(): t for t in ids.CLASSIC_TYPES}


@dataclass(frozen=True, slots=True)
class InventoryItem:
    type: str
    name: str
    location: str | None
    subscriptionId: str
    cloudService: str | None
    virtualNetwork: str | None
    powerState: str | None
    migrationState: str | None
    id: str

    def to_json(self) -> dict[str, str | None]:
        return asdict(self)


def resolve_types(type_filter: str | None) -> list[str]:
    if type_filter is None:
        return [ids.T_VM]
    if type_filter.lower() == "all":
        return list(ids.CLASSIC_TYPES)
    found = _CLASSIC_LC.get(type_filter.lower())
    if found is None:
        raise ServiceError("InvalidType", f"unknown classic type '{type_filter}'; known: "
                                          + ", ".join(sorted(_CLASSIC_LC)) + ", or 'all'")
    return [found]


def inventory(ctx: AppContext, type_filter: str | None = None) -> list[InventoryItem]:
    types = resolve_types(type_filter)
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        rows = tx.resources.project(sub, types, ["service_name", "power_state"])
        vnet_of: dict[str, str | None] = {}
        if any(r["type"] in (ids.T_VM, ids.T_PAAS_ROLE, ids.T_DEPLOYMENT) for r in rows):
            for d in tx.resources.project(sub, [ids.T_DEPLOYMENT], ["virtual_network_name"]):
                vnet_of[d["key"]] = d["doc_virtual_network_name"]
    return [_item(r, vnet_of) for r in rows]


def _power_state(status: str | None, power: str | None) -> str | None:
    if status == "StoppedDeallocated":
        return "StoppedDeallocated"
    if status == "StoppedVM":
        return "Stopped"
    return power


def _item(r: dict[str, Any], vnet_of: dict[str, str | None]) -> InventoryItem:
    rtype = r["type"]
    cloud_service = r["name"] if rtype == ids.T_HOSTED_SERVICE else r["doc_service_name"]
    vnet: str | None = None
    if rtype in (ids.T_VM, ids.T_PAAS_ROLE):
        vnet = vnet_of.get(r["parent_key"] or "")
    elif rtype == ids.T_DEPLOYMENT:
        vnet = vnet_of.get(r["key"])
    elif rtype == ids.T_VNET:
        vnet = r["name"]
    power = _power_state(r["status"], r["doc_power_state"]) if rtype in (ids.T_VM, ids.T_PAAS_ROLE) else None
    return InventoryItem(type=rtype.lower(), name=r["name"], location=r["location"],
                         subscriptionId=r["subscription_id"], cloudService=cloud_service, virtualNetwork=vnet,
                         powerState=power, migrationState=r["migration_state"], id=r["arm_key"] or r["id"])
