"""The ARM control plane: resources in ARM's own JSON shape, and the types classic2arm knows.

ARM resources are kept generic (id, name, type, location, properties, …) because that is how ARM
itself stores and serves them; the typed part is the set of known types and the builders in the
translation modules that fill `properties` with exactly the fields ARM defines.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from .classic import Blob
from .identity import arm_resource_id, resource_group_id

RESOURCE_GROUP: Final = "Microsoft.Resources/resourceGroups"
VM: Final = "Microsoft.Compute/virtualMachines"
VM_EXTENSION: Final = "Microsoft.Compute/virtualMachines/extensions"
AVAILABILITY_SET: Final = "Microsoft.Compute/availabilitySets"
VNET: Final = "Microsoft.Network/virtualNetworks"
SUBNET: Final = "Microsoft.Network/virtualNetworks/subnets"
NIC: Final = "Microsoft.Network/networkInterfaces"
PUBLIC_IP: Final = "Microsoft.Network/publicIPAddresses"
LOAD_BALANCER: Final = "Microsoft.Network/loadBalancers"
NSG: Final = "Microsoft.Network/networkSecurityGroups"
ROUTE_TABLE: Final = "Microsoft.Network/routeTables"
VNET_GATEWAY: Final = "Microsoft.Network/virtualNetworkGateways"
LOCAL_GATEWAY: Final = "Microsoft.Network/localNetworkGateways"
CONNECTION: Final = "Microsoft.Network/connections"
STORAGE_ACCOUNT: Final = "Microsoft.Storage/storageAccounts"
KEY_VAULT: Final = "Microsoft.KeyVault/vaults"
BLOB_CONTAINER: Final = "Microsoft.Storage/storageAccounts/blobServices/containers"  # (listed, not stored)
# The keys of the stored document's data-plane parts (`ArmResource.blobs`, `ArmResource.power`), which ARM never
# serves as such (a VM's power state shows through its instance view).
BLOBS_KEY: Final = "_blobs"
POWER_KEY: Final = "_power"
OPERATIONS_KEY: Final = "_operations"  # a template deployment's operations (served by their own GET)
_DATA_PLANE: Final = (BLOBS_KEY, POWER_KEY, OPERATIONS_KEY)
DEPLOYMENT: Final = "Microsoft.Resources/deployments"  # (a template deployment's record, never listed)

ARM_TYPES: Final[tuple[str, ...]] = (
    RESOURCE_GROUP, VM, VM_EXTENSION, AVAILABILITY_SET, VNET, SUBNET, NIC, PUBLIC_IP, LOAD_BALANCER, NSG,
    ROUTE_TABLE, VNET_GATEWAY, LOCAL_GATEWAY, CONNECTION, STORAGE_ACCOUNT, KEY_VAULT,
)

# api-version each type is written with (spec §7.1: 2016-era versions the migration used).
API_VERSIONS: Final[dict[str, str]] = {
    VM: "2016-03-30", VM_EXTENSION: "2016-03-30", AVAILABILITY_SET: "2016-03-30",
    VNET: "2016-03-30", SUBNET: "2016-03-30", NIC: "2016-03-30", PUBLIC_IP: "2016-03-30",
    LOAD_BALANCER: "2016-03-30", NSG: "2016-03-30", ROUTE_TABLE: "2016-03-30", VNET_GATEWAY: "2016-03-30",
    LOCAL_GATEWAY: "2016-03-30", CONNECTION: "2016-03-30", STORAGE_ACCOUNT: "2016-01-01",
    KEY_VAULT: "2015-06-01", RESOURCE_GROUP: "2025-04-01",
}


class ArmResource(BaseModel):
    """One ARM resource as ARM returns it from a GET."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    name: str
    type: str
    location: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    sku: dict[str, Any] | None = None
    kind: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    etag: str | None = None
    managed_by: str | None = Field(default=None, alias="managedBy")
    # A storage account's blobs ("container/blob" → size and lease), what a classic account's `blobs` were when
    # it migrated: data plane, kept beside the wire shape in the stored document (`stored`), never in `to_json`.
    blobs: dict[str, Blob] | None = Field(default=None, alias=BLOBS_KEY)
    # A VM's power state, ARM's `PowerState/{code}` code (`domain.vm_power`): data plane as well.
    power: str | None = Field(default=None, alias=POWER_KEY)
    operations: list[dict[str, Any]] | None = Field(default=None, alias=OPERATIONS_KEY)

    @property
    def subscription_id(self) -> str:
        return self.id.split("/", 3)[2]

    @property
    def resource_group(self) -> str | None:
        return resource_group_of(self.id)

    @property
    def parent_id(self) -> str | None:
        """Child resources (subnets, extensions) hang under their parent; top-level ones under their RG."""
        return None if self.type == RESOURCE_GROUP else _parent_id(self.id.split("/"))

    def to_json(self) -> dict[str, Any]:
        """ARM wire shape (camelCase keys, optional keys left out when empty)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.location is not None:
            out["location"] = self.location
        if self.tags:
            out["tags"] = self.tags
        if self.sku is not None:
            out["sku"] = self.sku
        if self.kind is not None:
            out["kind"] = self.kind
        if self.etag is not None:
            out["etag"] = self.etag
        if self.managed_by is not None:
            out["managedBy"] = self.managed_by
        out["properties"] = self.properties
        return out

    def stored(self) -> dict[str, Any]:
        """The document kept for the resource: the wire shape and, beside it, its blobs when it has any."""
        out = self.to_json()
        if self.blobs is not None:
            out[BLOBS_KEY] = {path: b.model_dump(mode="json") for path, b in self.blobs.items()}
        if self.power is not None:
            out[POWER_KEY] = self.power
        if self.operations is not None:
            out[OPERATIONS_KEY] = self.operations
        return out


def blob_container(account_id: str, name: str, last_modified: str | None) -> dict[str, Any]:
    """One item of a storage account's ListContainerItems (`…/blobServices/default/containers`), as the storage
    RP lists it: no public access, the container itself not leased (its VHD blobs are)."""
    props: dict[str, Any] = {"publicAccess": "None", "leaseStatus": "Unlocked", "leaseState": "Available"}
    if last_modified:
        props["lastModifiedTime"] = last_modified
    props |= {"hasImmutabilityPolicy": False, "hasLegalHold": False}
    return {"id": f"{account_id}/blobServices/default/containers/{name}", "name": name, "type": BLOB_CONTAINER,
            "properties": props}


def wire(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document as ARM serves it (without its data-plane parts)."""
    if BLOBS_KEY in doc or POWER_KEY in doc or OPERATIONS_KEY in doc:
        return {k: v for k, v in doc.items() if k not in _DATA_PLANE}
    return doc


def resource_group_of(arm_id: str) -> str | None:
    """The resource group an ARM id names, as the id spells it (None for an id above any group)."""
    return _resource_group(arm_id.split("/"))


def _resource_group(parts: list[str]) -> str | None:
    """The RG name in a split ARM id (`/subscriptions/s/resourceGroups/rg/...`: almost always at [4])."""
    if len(parts) > 4 and parts[3].lower() == "resourcegroups":
        return parts[4]
    for i, part in enumerate(parts):
        if part.lower() == "resourcegroups" and i + 1 < len(parts):
            return parts[i + 1]
    return None


def _parent_id(parts: list[str]) -> str | None:
    if "providers" in parts and len(parts) > parts.index("providers") + 4:
        return "/".join(parts[:-2])
    rg = _resource_group(parts)
    return resource_group_id(parts[2], rg) if rg else None


def placement(res: ArmResource) -> tuple[str, str | None, str | None]:
    """(subscription id, resource group, parent id) of a resource, from one split of its id."""
    parts = res.id.split("/")
    return parts[2], _resource_group(parts), None if res.type == RESOURCE_GROUP else _parent_id(parts)


def resource_group(sub: str, name: str, location: str, tags: dict[str, str] | None = None) -> ArmResource:
    return ArmResource(id=resource_group_id(sub, name), name=name, type=RESOURCE_GROUP, location=location,
                       tags=tags or {}, properties={"provisioningState": "Succeeded"})


def new_resource(sub: str, rg: str, rtype: str, name: str, location: str | None,
                 properties: dict[str, Any], **extra: Any) -> ArmResource:
    props = {"provisioningState": "Succeeded", **properties}
    return ArmResource(id=arm_resource_id(sub, rg, rtype, name), name=name, type=rtype, location=location,
                       properties=props, **extra)
