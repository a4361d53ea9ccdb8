"""The retirement inventory: classic resources, like the Resource Graph query
`resources | where type == "microsoft.classiccompute/virtualmachines"`.

Reads index columns and raw documents only (no model parsing), so a 10,000-VM estate lists in
a fraction of a second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
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


@dataclass(frozen=True, slots=True)
class InventoryFilter:
    """Which resources `inventory` lists; every field given must match (case-insensitively)."""

    location: str | None = None  # "West US" or "westus"
    vnet: str | None = None
    cloud_service: str | None = None
    power_state: str | None = None  # e.g. Started, Stopped, StoppedDeallocated
    migration_state: str | None = None  # e.g. Prepared; "NotPrepared" for none yet

    def matches(self, i: InventoryItem) -> bool:
        return ((self.location is None or same_location(i.location, self.location))
                and _same(i.virtualNetwork, self.vnet) and _same(i.cloudService, self.cloud_service)
                and _same(i.powerState, self.power_state)
                and _same(i.migrationState or NOT_PREPARED, self.migration_state))


NOT_PREPARED = "NotPrepared"  # what the CAT status script prints when MigrationState is absent


def _same(value: str | None, wanted: str | None) -> bool:
    return wanted is None or (value or "").lower() == wanted.lower()


def same_location(location: str | None, wanted: str) -> bool:
    """'West US' matches 'westus' and 'west us' (ARM and classic spell regions differently)."""
    return (location or "").replace(" ", "").lower() == wanted.replace(" ", "").lower()


def summary(items: list[InventoryItem]) -> dict[str, Any]:
    """Counts: in all, by type, by location, in a VNet or not, by power state and by migration state."""
    def counts(values: Iterable[str | None]) -> dict[str, int]:
        return dict(sorted(Counter(v or "" for v in values).items()))

    return {"total": len(items), "byType": counts(i.type for i in items),
            "byLocation": counts(i.location for i in items),
            "inVirtualNetwork": sum(1 for i in items if i.virtualNetwork),
            "byPowerState": counts(i.powerState for i in items if i.powerState is not None),
            "byMigrationState": counts(i.migrationState or NOT_PREPARED for i in items)}


def inventory(ctx: AppContext, type_filter: str | None = None,
              where: InventoryFilter | None = None) -> list[InventoryItem]:
    """The classic resources of the subscription (default: its VMs), those matching `where`, from index
    columns and two document fields: no document is parsed."""
    types = resolve_types(type_filter)
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        rows = tx.resources.project(sub, types, ["service_name", "power_state"])
        vnet_of: dict[str, str | None] = {}
        if any(r["type"] in (ids.T_VM, ids.T_PAAS_ROLE, ids.T_DEPLOYMENT) for r in rows):
            for d in tx.resources.project(sub, [ids.T_DEPLOYMENT], ["virtual_network_name"]):
                vnet_of[d["key"]] = d["doc_virtual_network_name"]
    items = (_item(r, vnet_of) for r in rows)
    return [i for i in items if where.matches(i)] if where is not None else list(items)


def vm_power_state(status: str | None, power: str | None) -> str | None:
    """A classic VM's power state as the inventory shows it, from its status column and document."""
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
    power = vm_power_state(r["status"], r["doc_power_state"]) if rtype in (ids.T_VM, ids.T_PAAS_ROLE) else None
    return InventoryItem(type=rtype.lower(), name=r["name"], location=r["location"],
                         subscriptionId=r["subscription_id"], cloudService=cloud_service, virtualNetwork=vnet,
                         powerState=power, migrationState=r["migration_state"], id=r["arm_key"] or r["id"])
