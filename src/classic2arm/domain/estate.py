"""An estate: a bag of classic (and optionally ARM) resources for one subscription.

Importers and the generator produce estates; the service writes them to the store in one
transaction; export reads one back. Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import classic as c
from .arm import ArmResource


@dataclass
class Estate:
    subscription: c.Subscription | None = None
    affinity_groups: list[c.AffinityGroup] = field(default_factory=list)
    hosted_services: list[c.HostedService] = field(default_factory=list)
    deployments: list[c.Deployment] = field(default_factory=list)
    roles: list[c.Role] = field(default_factory=list)
    virtual_networks: list[c.VirtualNetworkSite] = field(default_factory=list)
    local_network_sites: list[c.LocalNetworkSite] = field(default_factory=list)
    storage_accounts: list[c.StorageAccount] = field(default_factory=list)
    disks: list[c.Disk] = field(default_factory=list)
    os_images: list[c.OSImage] = field(default_factory=list)
    vm_images: list[c.VMImage] = field(default_factory=list)
    reserved_ips: list[c.ReservedIP] = field(default_factory=list)
    network_security_groups: list[c.NetworkSecurityGroup] = field(default_factory=list)
    route_tables: list[c.RouteTable] = field(default_factory=list)
    express_route_circuits: list[c.ExpressRouteCircuit] = field(default_factory=list)
    role_assignments: list[c.RoleAssignment] = field(default_factory=list)
    arm_resources: list[ArmResource] = field(default_factory=list)
    # Facts an importer learnt that are not resources (e.g. an operation status it saw).
    notes: list[str] = field(default_factory=list)
    # The file each object came from (by object identity), when several files were merged: errors name it.
    origins: dict[int, str] = field(default_factory=dict)

    CLASSIC_LISTS = (
        "affinity_groups", "hosted_services", "deployments", "roles", "virtual_networks", "local_network_sites",
        "storage_accounts", "disks", "os_images", "vm_images", "reserved_ips", "network_security_groups",
        "route_tables", "express_route_circuits", "role_assignments",
    )

    def classic_objects(self) -> list[c.Model]:
        out: list[c.Model] = []
        for name in self.CLASSIC_LISTS:
            out.extend(getattr(self, name))
        return out

    def merge(self, other: Estate, source: str | None = None) -> None:
        """Add another estate's resources (later ones win on identical identities at store time); `source`
        names the file they came from."""
        if other.subscription is not None:
            self.subscription = other.subscription
        self.origins.update(other.origins)
        if source is not None:
            self.origins.update((id(obj), source) for obj in other.classic_objects() if id(obj) not in other.origins)
        for name in (*self.CLASSIC_LISTS, "arm_resources", "notes"):
            getattr(self, name).extend(getattr(other, name))

    def origin(self, obj: object, default: str) -> str:
        """The file `obj` came from, else `default`."""
        return self.origins.get(id(obj), default)

    def counts(self) -> dict[str, int]:
        out = {name: len(getattr(self, name)) for name in self.CLASSIC_LISTS}
        out["arm_resources"] = len(self.arm_resources)
        return {k: v for k, v in out.items() if v}

    @property
    def vms(self) -> list[c.Role]:
        return [r for r in self.roles if r.is_vm]

    def summary(self) -> dict[str, Any]:
        return {"counts": self.counts(), "vms": len(self.vms)}
