"""Units of migration (spec §1.1) and the snapshot of everything a unit's rules and translation read.

The service builds a `UnitSnapshot` from the store; the domain's `validate(snapshot)` and
`translate(snapshot)` are pure functions of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from . import catalogue as t
from . import classic as c
from . import identity as ids
from . import media
from .arm import ArmResource


class UnitKind(StrEnum):
    """A kind of unit, by its CLI name, with the words every surface names it by (`_WORDS`)."""

    DEPLOYMENT = "deployment"
    VNET = "vnet"
    STORAGE = "storage"
    RESERVED_IP = "reserved-ip"
    NSG = "nsg"
    ROUTE_TABLE = "route-table"

    @property
    def word(self) -> str:
        """How messages name the kind: R50's "{kind} {name} is in the process of being migrated…", the state
        machine's refusals."""
        return _WORDS[self].word

    @property
    def resource_type(self) -> str:
        """ResourceType of messages about the unit's root object (R02, R50, unit-wide findings such as quota)."""
        return _WORDS[self].resource_type

    @property
    def cmdlet(self) -> str:
        """The Azure PowerShell cmdlet that migrates the kind."""
        return _WORDS[self].cmdlet

    @property
    def help_title(self) -> str:
        """What a unit of the kind is, for help texts: "Migrate {help_title}"."""
        return _WORDS[self].help_title

    @property
    def not_found(self) -> t.Text:
        """R02 for a unit of the kind that isn't there; render with `name=` (and `dep=`, for a deployment)."""
        return _WORDS[self].not_found


@dataclass(frozen=True, slots=True)
class _KindWords:
    word: str
    resource_type: str
    cmdlet: str
    help_title: str
    not_found: t.Text


# R50's words: the spec gives "Storage account/HostedService/Virtual Network"; the three network objects use the
# words the classic tools use for them. ResourceTypes as seen on the wire (spec §4.1) or the spec's [P] list.
_WORDS: dict[UnitKind, _KindWords] = {
    UnitKind.DEPLOYMENT: _KindWords("Deployment", "Deployment", "Move-AzureService",
                                    "a cloud-service deployment whose VMs are not in a VNet",
                                    t.R02_DEPLOYMENT_NOT_FOUND),
    UnitKind.VNET: _KindWords("Virtual Network", "VirtualNetwork", "Move-AzureVirtualNetwork",
                              "a classic virtual network with every deployment in it", t.R02_VNET_NOT_FOUND),
    UnitKind.STORAGE: _KindWords("Storage account", "Storage", "Move-AzureStorageAccount",
                                 "a classic storage account", t.R02_STORAGE_NOT_FOUND),
    UnitKind.RESERVED_IP: _KindWords("Reserved IP", "ReservedIP", "Move-AzureReservedIP",
                                     "an unassociated reserved IP", t.R02_RESERVED_IP_NOT_FOUND),
    UnitKind.NSG: _KindWords("Network Security Group", "NetworkSecurityGroup", "Move-AzureNetworkSecurityGroup",
                             "an unassociated network security group", t.R02_NSG_NOT_FOUND),
    UnitKind.ROUTE_TABLE: _KindWords("Route Table", "RouteTable", "Move-AzureRouteTable",
                                     "an unassociated route table", t.R02_ROUTE_TABLE_NOT_FOUND),
}


class Category(StrEnum):
    ERROR = "Error"
    WARNING = "Warning"
    INFORMATION = "Information"


class Phase(StrEnum):
    VALIDATE = "validate"  # checked by validate and again by prepare
    PREPARE = "prepare"  # checked by prepare only


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a non-VNet deployment's VMs land (DeploymentNetworkResource). `kind` is as the caller sent it."""

    kind: str = "New"
    resource_group: str = ""
    vnet: str = ""
    subnet: str = ""

    @property
    def normalized(self) -> str:
        return self.kind.strip().lower()


@dataclass(frozen=True, slots=True)
class UnitRef:
    kind: UnitKind
    name: str  # deployment / VNet / storage account / reserved IP / NSG / route table name
    service: str | None = None  # hosted service of a deployment unit
    destination: Destination | None = None

    def root_id(self, sub: str) -> str:
        """Id of the classic resource the unit is named by (its lock and operation key)."""
        if self.kind == UnitKind.DEPLOYMENT:
            return ids.deployment_id(sub, self.service or "", self.name)
        return {
            UnitKind.VNET: ids.vnet_id, UnitKind.STORAGE: ids.storage_id, UnitKind.RESERVED_IP: ids.reserved_ip_id,
            UnitKind.NSG: ids.nsg_id, UnitKind.ROUTE_TABLE: ids.route_table_id,
        }[self.kind](sub, self.name)

    def describe(self) -> str:
        if self.kind == UnitKind.DEPLOYMENT:
            return f"deployment {self.name} of cloud service {self.service}"
        return f"{self.kind.value} {self.name}"


@dataclass(frozen=True, slots=True)
class Message:
    """One validation message, as ASM returns it (ResourceType, ResourceName, Category, Message, VirtualMachine)."""

    rule: str
    resource_type: str
    resource_name: str
    category: Category
    message: str
    virtual_machine: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"resourceType": self.resource_type, "resourceName": self.resource_name,
                "category": self.category.value, "message": self.message,
                "virtualMachineName": self.virtual_machine}


@dataclass(slots=True)
class CloudService:
    """A hosted service with one deployment and its roles: the part of a unit that holds VMs."""

    hosted_service: c.HostedService
    deployment: c.Deployment
    roles: list[c.Role] = field(default_factory=list)  # fixed once built (see `vms`)
    _vms: list[c.Role] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.hosted_service.name

    @property
    def vms(self) -> list[c.Role]:
        """The IaaS VMs among the roles, picked out once: rules and translation ask ~15 times per service."""
        if self._vms is None:
            self._vms = [r for r in self.roles if r.is_vm]
        return self._vms


@dataclass(slots=True)
class ArmFacts:
    """What the ARM side knows that prepare-only rules and Existing destinations need."""

    # usage and quota per kind in the unit's region (ARM names: cores, networkInterfaces, …)
    usage: dict[str, int] = field(default_factory=dict)
    quota: dict[str, int] = field(default_factory=dict)
    # Existing destination (deployment scope): the ARM VNet if found, and its subnet ids by lower name
    existing_vnet: ArmResource | None = None
    existing_vnet_location: str | None = None  # ARM short name
    resource_group_exists: bool = False


@dataclass(frozen=True, slots=True)
class VmVhd:
    """An OS or data disk of a classic VM, read from the VM's own document (its OSVirtualHardDisk and
    DataVirtualHardDisks media links), whether or not a classic Disk object names it."""

    vm: str  # the VM's key (its ASM path, lower case)
    disk_name: str
    media_link: str


@dataclass(slots=True)
class UnitSnapshot:
    """Everything one unit's validation and translation read, loaded in one go from the store."""

    subscription: c.Subscription
    ref: UnitRef
    now: datetime
    exists: bool  # the named root resource was found
    migration_state: str | None = None  # of the root
    location: str | None = None  # classic display name of the unit's region
    # VNet not found by the name asked, but a portal-created VNet `Group <rg> <name>` exists: its real name
    portal_vnet: str | None = None
    services: list[CloudService] = field(default_factory=list)  # deployment: one; VNet: all inside it
    vnet: c.VirtualNetworkSite | None = None
    local_sites: dict[str, c.LocalNetworkSite] = field(default_factory=dict)  # by lower name
    storage_account: c.StorageAccount | None = None  # storage unit
    reserved_ip: c.ReservedIP | None = None  # standalone reserved-IP unit
    nsg: c.NetworkSecurityGroup | None = None  # standalone NSG unit, or the one an NSG unit names
    route_table: c.RouteTable | None = None
    # context, by lower name
    nsgs: dict[str, c.NetworkSecurityGroup] = field(default_factory=dict)
    route_tables: dict[str, c.RouteTable] = field(default_factory=dict)
    reserved_ips: dict[str, c.ReservedIP] = field(default_factory=dict)
    storage_accounts: dict[str, c.StorageAccount] = field(default_factory=dict)  # accounts the VMs' disks use
    disks: list[c.Disk] = field(default_factory=list)  # storage unit: classic disks whose VHD is in the account
    os_images: list[c.OSImage] = field(default_factory=list)  # storage unit: images in the account
    vm_images: list[c.VMImage] = field(default_factory=list)
    # storage unit: the disks of classic VMs (not yet committed, prepared or not) whose VHD is in the account
    vm_vhds: list[VmVhd] = field(default_factory=list)
    er_circuits: dict[str, c.ExpressRouteCircuit] = field(default_factory=dict)  # by lower service key
    role_assignments: list[c.RoleAssignment] = field(default_factory=list)  # scoped to resources in the unit
    # standalone units: who still uses the object (e.g. NSG associated with a subnet outside the unit)
    used_by: list[str] = field(default_factory=list)
    arm: ArmFacts = field(default_factory=ArmFacts)

    @property
    def vms(self) -> list[c.Role]:
        return [r for s in self.services for r in s.vms]

    def blob(self, media_link: str) -> c.Blob | None:
        """The page blob behind a media link, if the snapshot holds its account: what rules and translation
        both read, so they can't disagree about a disk's VHD."""
        where = media.parse(media_link)
        account = self.storage_accounts.get(where.account)
        return None if account is None else account.blobs.get(where.path)
