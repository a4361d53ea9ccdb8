"""The read side of the classic control plane: every classic read the ASM API (and any other surface) answers.

Each use case opens its own read transaction and returns domain objects, or the views below (a domain object
plus what the store keeps beside it: migration state, what a VNet is used by). Adapters only render them; the
404 texts are ASM's own. Pure reads, except that a status poll counts against the admin pacing
(`pacing.observed_view`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa

from ..domain import catalogue as msg
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import sizes
from ..store import Row, Tx
from ..store.schema import credentials
from . import classic_writes, operations, pacing
from .context import AppContext
from .errors import NotFound

M = TypeVar("M", bound=c.Model)
ROLE_TYPES = (ids.T_VM, ids.T_PAAS_ROLE)
MANAGEMENT_URL = "https://management.core.windows.net"
DEFAULT_ADMIN = "admin@classic2arm.local"


# --------------------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class RoleView:
    role: c.Role
    migration_state: str | None = None


@dataclass(slots=True)
class DeploymentView:
    deployment: c.Deployment
    roles: list[RoleView] = field(default_factory=list)


@dataclass(slots=True)
class ServiceView:
    subscription_id: str
    service: c.HostedService
    deployments: list[DeploymentView] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.url_at(MANAGEMENT_URL)

    def url_at(self, base: str) -> str:
        """Its address under `base` (the server's own URL: a client follows it)."""
        return f"{base.rstrip('/')}/{self.subscription_id}/services/hostedservices/{self.service.name}"


@dataclass(frozen=True, slots=True)
class VNetView:
    vnet: c.VirtualNetworkSite
    local_sites: dict[str, c.LocalNetworkSite]  # by lower name
    in_use: bool
    migration_state: str | None = None


@dataclass(frozen=True, slots=True)
class StorageView:
    subscription_id: str
    account: c.StorageAccount
    migration_state: str | None = None

    @property
    def url(self) -> str:
        return self.url_at(MANAGEMENT_URL)

    def url_at(self, base: str) -> str:
        return f"{base.rstrip('/')}/{self.subscription_id}/services/storageservices/{self.account.name}"


@dataclass(frozen=True, slots=True)
class SubscriptionFacts:
    """The subscription with its usage and the limits this platform reports for it."""

    id: str
    name: str
    created: datetime | None
    admin: str
    cores: int
    hosted_services: int
    storage_accounts: int
    vnets: int
    max_cores: int
    max_hosted_services: int
    max_storage_accounts: int
    max_vnets: int


@dataclass(frozen=True, slots=True)
class NameAvailability:
    available: bool
    reason: str | None


# --------------------------------------------------------------------------- in-transaction helpers


def _models(tx: Tx, sub: str, rtype: str, model: type[M]) -> list[M]:
    return [model.model_validate(r.doc) for r in tx.resources.query(sub, types=[rtype])]


def _one(tx: Tx, key: str, rtype: str, model: type[M], missing: str) -> tuple[Row, M]:
    row = tx.resources.get(key)
    if row is None or row.type != rtype:
        raise NotFound(missing)
    return row, model.model_validate(row.doc)


def _listing(ctx: AppContext, sub: str, rtype: str, model: type[M]) -> list[M]:
    with ctx.store.read() as tx:
        return _models(tx, sub, rtype, model)


def _single(ctx: AppContext, key: str, rtype: str, model: type[M], missing: str) -> M:
    with ctx.store.read() as tx:
        return _one(tx, key, rtype, model, missing)[1]


def _deployment_view(tx: Tx, row: Row) -> DeploymentView:
    roles = [RoleView(c.Role.model_validate(r.doc), r.migration_state)
             for r in tx.resources.query(row.subscription_id, types=list(ROLE_TYPES), parent_key=row.key)]
    return DeploymentView(c.Deployment.model_validate(row.doc), roles)


def _service(tx: Tx, sub: str, svc: str, embed: bool) -> ServiceView:
    row, hs = _one(tx, ids.hosted_service_id(sub, svc), ids.T_HOSTED_SERVICE, c.HostedService,
                   f"The hosted service '{svc}' does not exist.")
    view = ServiceView(sub, hs)
    if embed:
        view.deployments = [_deployment_view(tx, d) for d in tx.resources.query(sub, types=[ids.T_DEPLOYMENT],
                                                                      parent_key=row.key)]
    return view


def _deployment(tx: Tx, sub: str, svc: str, name: str) -> DeploymentView:
    row = tx.resources.get(ids.deployment_id(sub, svc, name))
    if row is None or row.type != ids.T_DEPLOYMENT:
        raise NotFound(msg.R02_DEPLOYMENT_NOT_FOUND.text(dep=name))
    return _deployment_view(tx, row)


def _role(tx: Tx, sub: str, svc: str, dep: str, name: str) -> tuple[RoleView, c.Deployment]:
    dv = _deployment(tx, sub, svc, dep)
    row = tx.resources.get(ids.role_id(sub, svc, dep, name))
    if row is None or row.type not in ROLE_TYPES:
        raise NotFound(f"The role '{name}' does not exist in deployment '{dep}'.")
    return RoleView(c.Role.model_validate(row.doc), row.migration_state), dv.deployment


def _storage(tx: Tx, sub: str, name: str) -> StorageView:
    row, account = _one(tx, ids.storage_id(sub, name), ids.T_STORAGE, c.StorageAccount,
                        msg.R02_STORAGE_NOT_FOUND.text(name=name))
    return StorageView(sub, account, row.migration_state)


# --------------------------------------------------------------------------- subscription level


def subscription(ctx: AppContext, sub: str) -> SubscriptionFacts:
    """Get Subscription: usage counted from the store; cores of every VM not deallocated. The limits are
    generous and grow with the estate, so an imported estate is never over its own quota."""
    with ctx.store.read() as tx:
        model = c.Subscription.model_validate(tx.subscriptions.get(sub) or {"id": sub})
        cores = sum(sizes.cores_of(r.doc.get("size")) for r in tx.resources.query(sub, types=[ids.T_VM])
                    if r.status != "StoppedDeallocated")
        hosted = tx.resources.count(sub, types=[ids.T_HOSTED_SERVICE])
        storage = tx.resources.count(sub, types=[ids.T_STORAGE])
        vnets = tx.resources.count(sub, types=[ids.T_VNET])
    return SubscriptionFacts(
        id=model.id, name=model.name, created=model.created, admin=(model.co_administrators or [DEFAULT_ADMIN])[0],
        cores=cores, hosted_services=hosted, storage_accounts=storage, vnets=vnets, max_cores=max(20, 2 * cores),
        max_hosted_services=max(100, hosted), max_storage_accounts=max(100, storage), max_vnets=max(100, vnets))


def affinity_groups(ctx: AppContext, sub: str) -> list[c.AffinityGroup]:
    """The subscription's affinity groups: those stored, and any a VNet, storage account or hosted service is
    bound to without a stored group (an estate written before imports created them), in the location of what
    is bound to it."""
    with ctx.store.read() as tx:
        groups = {g.name.lower(): g for g in _models(tx, sub, ids.T_AFFINITY_GROUP, c.AffinityGroup)}
        for rtype in (ids.T_VNET, ids.T_STORAGE, ids.T_HOSTED_SERVICE):
            for row in tx.resources.query(sub, types=[rtype]):
                name = row.doc.get("affinity_group")
                if name and name.lower() not in groups:
                    groups[name.lower()] = c.AffinityGroup(name=name, location=row.doc.get("location"))
    return sorted(groups.values(), key=lambda g: g.name.lower())


def management_certificates(ctx: AppContext) -> list[tuple[str, datetime]]:
    """(thumbprint, registered at) of the context's subscription's management certificates."""
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        q = (sa.select(credentials.c.id, credentials.c.created_at)
             .where(credentials.c.subscription_id == sub, credentials.c.kind == "certificate")
             .order_by(credentials.c.created_at))
        return [(str(r.id), operations.utc(r.created_at) or datetime.min) for r in tx.conn.execute(q)]


def operation(ctx: AppContext, sub: str, op_id: str) -> operations.OperationView:
    """Get Operation Status, as the admin pacing lets this poll see it (it may hold a finished operation at
    InProgress for a few polls or seconds: tests, demos). Another subscription's operation is not found."""
    with ctx.store.read() as tx:
        op = operations.find(tx, op_id)
    if op.subscription_id.lower() != sub.lower():
        raise NotFound(f"The operation '{op_id[:64]}' was not found.")
    return pacing.observed_view(ctx, operations.view(op))


def operations_of(ctx: AppContext, sub: str) -> list[operations.OperationView]:
    with ctx.store.read() as tx:
        return [operations.view(op) for op in tx.operations.all(sub)]


# --------------------------------------------------------------------------- compute


def hosted_services(ctx: AppContext, sub: str) -> list[ServiceView]:
    return [ServiceView(sub, hs) for hs in _listing(ctx, sub, ids.T_HOSTED_SERVICE, c.HostedService)]


def hosted_service(ctx: AppContext, sub: str, svc: str, embed: bool = False) -> ServiceView:
    """A hosted service; with `embed`, its deployments and their roles too (embed-detail)."""
    with ctx.store.read() as tx:
        return _service(tx, sub, svc, embed)


def deployment(ctx: AppContext, sub: str, svc: str, name: str) -> DeploymentView:
    with ctx.store.read() as tx:
        return _deployment(tx, sub, svc, name)


def deployment_in_slot(ctx: AppContext, sub: str, svc: str, slot: str) -> DeploymentView:
    with ctx.store.read() as tx:
        _service(tx, sub, svc, embed=False)
        for row in tx.resources.query(sub, types=[ids.T_DEPLOYMENT], parent_key=ids.hosted_service_id(sub, svc)):
            if str(row.doc.get("slot", "")).lower() == slot.lower():
                return _deployment_view(tx, row)
    raise NotFound(f"No deployments were found in the {slot[:40]} slot of hosted service '{svc}'.")


def role(ctx: AppContext, sub: str, svc: str, dep: str, name: str) -> tuple[RoleView, c.Deployment]:
    """A role with its migration state, and the deployment it belongs to."""
    with ctx.store.read() as tx:
        return _role(tx, sub, svc, dep, name)


def data_disk(ctx: AppContext, sub: str, svc: str, dep: str, name: str, lun: str) -> c.DataDisk:
    with ctx.store.read() as tx:
        rv, _ = _role(tx, sub, svc, dep, name)
    for d in rv.role.data_disks:
        if str(d.lun) == lun.strip():
            return d
    raise NotFound(f"No data disk is attached to LUN {lun[:10]} of virtual machine '{name}'.")


# --------------------------------------------------------------------------- disks and images


def disks(ctx: AppContext, sub: str) -> list[c.Disk]:
    return _listing(ctx, sub, ids.T_DISK, c.Disk)


def disk(ctx: AppContext, sub: str, name: str) -> c.Disk:
    return _single(ctx, ids.disk_id(sub, name), ids.T_DISK, c.Disk, f"The disk '{name}' does not exist.")


def os_images(ctx: AppContext, sub: str) -> list[c.OSImage]:
    return _listing(ctx, sub, ids.T_OS_IMAGE, c.OSImage)


def os_image(ctx: AppContext, sub: str, name: str) -> c.OSImage:
    return _single(ctx, ids.os_image_id(sub, name), ids.T_OS_IMAGE, c.OSImage, f"The image '{name}' does not exist.")


def vm_images(ctx: AppContext, sub: str, location: str | None = None, category: str | None = None) -> list[c.VMImage]:
    """VM images, optionally only those of one location and/or category (both matched case-insensitively)."""
    return [i for i in _listing(ctx, sub, ids.T_VM_IMAGE, c.VMImage)
            if (not location or (i.location or "").lower() == location.lower())
            and (not category or i.category.lower() == category.lower())]


# --------------------------------------------------------------------------- network


def vnet_sites(ctx: AppContext, sub: str) -> list[VNetView]:
    """The VNets with their local network sites and whether a deployment uses them."""
    with ctx.store.read() as tx:
        used = {str(d["doc_virtual_network_name"] or "").lower()
                for d in tx.resources.project(sub, [ids.T_DEPLOYMENT], ["virtual_network_name"])}
        sites = {s.name.lower(): s for s in _models(tx, sub, ids.T_LOCAL_SITE, c.LocalNetworkSite)}
        return [VNetView(c.VirtualNetworkSite.model_validate(r.doc), sites, r.name.lower() in used,
                         r.migration_state) for r in tx.resources.query(sub, types=[ids.T_VNET])]


def network_configuration(ctx: AppContext, sub: str) -> tuple[list[c.VirtualNetworkSite], list[c.LocalNetworkSite]]:
    """What the subscription's network configuration (netcfg) holds; NotFound when it holds nothing."""
    with ctx.store.read() as tx:
        vnets = _models(tx, sub, ids.T_VNET, c.VirtualNetworkSite)
        sites = _models(tx, sub, ids.T_LOCAL_SITE, c.LocalNetworkSite)
    if not vnets and not sites:
        raise NotFound("Network configuration does not exist.")
    return vnets, sites


def reserved_ips(ctx: AppContext, sub: str) -> list[c.ReservedIP]:
    return _listing(ctx, sub, ids.T_RESERVED_IP, c.ReservedIP)


def reserved_ip(ctx: AppContext, sub: str, name: str) -> c.ReservedIP:
    return _single(ctx, ids.reserved_ip_id(sub, name), ids.T_RESERVED_IP, c.ReservedIP,
                   f"The reserved IP '{name}' does not exist.")


def nsgs(ctx: AppContext, sub: str) -> list[c.NetworkSecurityGroup]:
    return _listing(ctx, sub, ids.T_NSG, c.NetworkSecurityGroup)


def nsg(ctx: AppContext, sub: str, name: str) -> c.NetworkSecurityGroup:
    return _single(ctx, ids.nsg_id(sub, name), ids.T_NSG, c.NetworkSecurityGroup,
                   f"The network security group '{name}' does not exist.")


def route_tables(ctx: AppContext, sub: str) -> list[c.RouteTable]:
    return _listing(ctx, sub, ids.T_ROUTE_TABLE, c.RouteTable)


def route_table(ctx: AppContext, sub: str, name: str) -> c.RouteTable:
    return _single(ctx, ids.route_table_id(sub, name), ids.T_ROUTE_TABLE, c.RouteTable,
                   f"The route table '{name}' does not exist.")


# --------------------------------------------------------------------------- storage


def storage_accounts(ctx: AppContext, sub: str) -> list[StorageView]:
    with ctx.store.read() as tx:
        return [StorageView(sub, c.StorageAccount.model_validate(r.doc), r.migration_state)
                for r in tx.resources.query(sub, types=[ids.T_STORAGE])]


def storage_account(ctx: AppContext, sub: str, name: str) -> StorageView:
    with ctx.store.read() as tx:
        return _storage(tx, sub, name)


def storage_name_availability(ctx: AppContext, name: str) -> NameAvailability:
    """Check Storage Account Name Availability: storage names are global, so any subscription's account takes
    the name; the name rule is the one Create Storage Account applies."""
    with ctx.store.read() as tx:
        taken = bool(tx.resources.query(types=[ids.T_STORAGE], name=name))
    valid = classic_writes.valid_storage_name(name)
    reason = None if valid and not taken else (
        "The storage account name is already taken." if taken else
        "Storage account names must be 3 to 24 lower-case letters and digits.")
    return NameAvailability(valid and not taken, reason)
