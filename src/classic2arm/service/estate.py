"""Bringing an estate into the store (one transaction, all or nothing) and reading it back out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..domain import arm as armt
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import retirement
from ..domain.estate import Estate
from ..domain.locations import UnknownLocation, display_name
from ..gcpause import gc_paused
from ..store import Row, Tx
from . import clock, codec, locks
from .context import DEFAULT_SUBSCRIPTION, AppContext
from .errors import BadInput, Locked


@dataclass
class ImportReport:
    subscription_id: str
    created: int = 0
    updated: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    deallocated_for_retirement: int = 0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"subscription": self.subscription_id, "created": self.created, "updated": self.updated,
                "counts": self.counts, "deallocatedForRetirement": self.deallocated_for_retirement,
                "notes": self.notes}


class _Resolver:
    """Locations of everything in the estate, from its own affinity groups, the store's and overrides."""

    def __init__(self, tx: Tx, sub: str, source: str, estate: Estate, extra_ags: dict[str, str]) -> None:
        self.tx, self.sub, self.source = tx, sub, source
        self.ags: dict[str, str] = {}
        for row in tx.query(sub, types=[ids.T_AFFINITY_GROUP]):
            self.ags[row.name.lower()] = str(row.doc["location"])
        for ag in estate.affinity_groups:
            self.ags[ag.name.lower()] = self.location(ag.location, f"AffinityGroup '{ag.name}'")
        for name, loc in extra_ags.items():
            self.ags[name.lower()] = self.location(loc, f"--affinity-group {name}")

    def location(self, value: str, where: str) -> str:
        try:
            return display_name(value)
        except UnknownLocation:
            raise BadInput(self.source, where, f"unknown location '{value}'") from None

    def place(self, location: str | None, affinity_group: str | None, where: str) -> str:
        if location:
            return self.location(location, where)
        if affinity_group:
            found = self.ags.get(affinity_group.lower())
            if found is None:
                raise BadInput(self.source, where,
                               f"affinity group '{affinity_group}' is not defined in subscription {self.sub}; "
                               f"define it in an estate document or with --affinity-group "
                               f"'{affinity_group}=<location>'")
            return found
        raise BadInput(self.source, where, "has neither a location nor an affinity group")


def _subscription_for(tx: Tx, ctx: AppContext, estate: Estate) -> c.Subscription:
    if ctx.subscription:
        sub_id = ctx.subscription
    elif estate.subscription is not None:
        sub_id = estate.subscription.id
    elif not tx.list_subscriptions():
        sub_id = DEFAULT_SUBSCRIPTION
    else:
        sub_id = ctx.subscription_id(tx)  # the only one, or an error asking for --subscription
    doc = tx.get_subscription(sub_id)
    if estate.subscription is not None:
        sub = estate.subscription.model_copy(update={"id": sub_id})
    elif doc is not None:
        sub = c.Subscription.model_validate(doc)
    else:
        sub = c.Subscription(id=sub_id)
    return sub


def _retire(role: c.Role, now: datetime) -> bool:
    """From the retirement date, allocated classic VMs are stopped and deallocated (spec §8)."""
    if role.is_vm and role.allocated and retirement.classic_vms_must_be_deallocated(now):
        role.instance_status = c.InstanceStatus.STOPPED_DEALLOCATED
        role.power_state = c.PowerState.STOPPED
        role.ip_address = None
        return True
    return False


def build_rows(tx: Tx, sub: str, estate: Estate, source: str, extra_ags: dict[str, str],
               now: datetime) -> tuple[list[Row], int]:
    """Resolve every reference and location, and turn the estate into rows. Raises BadInput."""
    res = _Resolver(tx, sub, source, estate, extra_ags)
    rows: list[Row] = []
    for ag in estate.affinity_groups:
        ag.location = res.location(ag.location, f"AffinityGroup '{ag.name}'")
        rows.append(codec.classic_row(sub, ag))

    _add_implicit_parents(tx, sub, estate)
    vnet_locations = {v.name.lower(): v.location for v in estate.virtual_networks}
    for row in tx.query(sub, types=[ids.T_VNET]):
        vnet_locations.setdefault(row.name.lower(), row.doc.get("location"))
    services: dict[str, tuple[str | None, str]] = {}  # name -> (location, resource group)
    for row in tx.query(sub, types=[ids.T_HOSTED_SERVICE]):
        services[row.name.lower()] = (row.doc.get("location"), row.resource_group or row.name)
    for hs in estate.hosted_services:
        if hs.location or hs.affinity_group:
            hs.location = res.place(hs.location, hs.affinity_group, f"HostedService '{hs.name}'")
        else:  # a Get Deployment/Role body or a .cscfg doesn't say; a deployment in a VNet shares its region
            vnet_name = next((d.virtual_network_name for d in estate.deployments
                              if d.service_name.lower() == hs.name.lower() and d.virtual_network_name), None)
            found = vnet_locations.get(vnet_name.lower()) if vnet_name else None
            hs.location = res.location(found, f"HostedService '{hs.name}'") if found else None
        services[hs.name.lower()] = (hs.location, ids.cloud_service_rg(hs))
        rows.append(codec.classic_row(sub, hs))

    for dep in estate.deployments:
        loc, rg = services[dep.service_name.lower()]
        rows.append(codec.classic_row(sub, dep, loc, rg))

    retired = 0
    for role in estate.roles:
        loc, rg = services[role.service_name.lower()]
        retired += _retire(role, now)
        rows.append(codec.classic_row(sub, role, loc, rg))

    for vnet in estate.virtual_networks:
        vnet.location = res.place(vnet.location, vnet.affinity_group, f"VirtualNetworkSite '{vnet.name}'")
        rows.append(codec.classic_row(sub, vnet))
    for sa in estate.storage_accounts:
        sa.location = res.place(sa.location, sa.affinity_group, f"StorageService '{sa.name}'")
        rows.append(codec.classic_row(sub, sa))
    located: list[c.ReservedIP | c.NetworkSecurityGroup | c.RouteTable | c.ExpressRouteCircuit] = [
        *estate.reserved_ips, *estate.network_security_groups, *estate.route_tables, *estate.express_route_circuits]
    for obj in located:
        obj.location = res.location(obj.location, f"{type(obj).__name__} '{obj.name}'")
        rows.append(codec.classic_row(sub, obj))
    images: list[c.Disk | c.OSImage | c.VMImage] = [*estate.disks, *estate.os_images, *estate.vm_images]
    for img in images:
        if img.location:
            img.location = res.location(img.location, f"{type(img).__name__} '{img.name}'")
        rows.append(codec.classic_row(sub, img))
    for other in (*estate.local_network_sites, *estate.role_assignments):
        rows.append(codec.classic_row(sub, other))
    for arm_res in estate.arm_resources:
        rows.append(codec.arm_row(arm_res))
    return _last_wins(rows), retired


def _add_implicit_parents(tx: Tx, sub: str, estate: Estate) -> None:
    """A Get Deployment or Get Role body (or a .cscfg) names its hosted service and deployment without
    describing them: when the store doesn't have them either, they are added with what the body tells, and a
    note says so (their location stays unknown unless a VNet tells it)."""
    known_hs = {h.name.lower() for h in estate.hosted_services}
    known_hs |= {r.name.lower() for r in tx.query(sub, types=[ids.T_HOSTED_SERVICE])}
    known_dep = {(d.service_name.lower(), d.name.lower()) for d in estate.deployments}
    known_dep |= {(r.doc["service_name"].lower(), r.name.lower()) for r in tx.query(sub, types=[ids.T_DEPLOYMENT])}
    for role in estate.roles:
        if (role.service_name.lower(), role.deployment_name.lower()) not in known_dep:
            estate.deployments.append(c.Deployment(name=role.deployment_name, service_name=role.service_name))
            known_dep.add((role.service_name.lower(), role.deployment_name.lower()))
            estate.notes.append(f"deployment '{role.deployment_name}' of hosted service '{role.service_name}' was "
                                "not in the input: added with what the role body tells")
    for dep in estate.deployments:
        if dep.service_name.lower() not in known_hs:
            estate.hosted_services.append(c.HostedService(name=dep.service_name))
            known_hs.add(dep.service_name.lower())
            estate.notes.append(f"hosted service '{dep.service_name}' was not in the input: added with what the "
                                "deployment body tells")


def _last_wins(rows: list[Row]) -> list[Row]:
    """The same resource may appear twice in one input (e.g. a session record GETs it twice)."""
    by_key: dict[str, Row] = {}
    for r in rows:
        by_key[r.key] = r
    return list(by_key.values())


@dataclass(frozen=True, slots=True)
class EstateCounts:
    """How big the estate is on either side of the migration (the whole store, every subscription)."""

    classic_vms: int
    classic_vnets: int
    classic_storage_accounts: int
    arm_resource_groups: int
    arm_vms: int
    arm_resources: int


def counts(ctx: AppContext) -> EstateCounts:
    with ctx.store.read() as tx:
        return EstateCounts(classic_vms=tx.count(model=ids.CLASSIC, types=[ids.T_VM]),
                            classic_vnets=tx.count(model=ids.CLASSIC, types=[ids.T_VNET]),
                            classic_storage_accounts=tx.count(model=ids.CLASSIC, types=[ids.T_STORAGE]),
                            arm_resource_groups=tx.count(model=ids.ARM, types=[armt.RESOURCE_GROUP]),
                            arm_vms=tx.count(model=ids.ARM, types=[armt.VM]),
                            arm_resources=tx.count(model=ids.ARM))


def clear(ctx: AppContext) -> None:
    """Remove every resource of every subscription (and their usage totals): a demo starts from nothing."""
    with ctx.store.tx() as tx:
        tx.delete_all()


@gc_paused()
def import_estate(ctx: AppContext, estate: Estate, source: str = "<estate>",
                  affinity_groups: dict[str, str] | None = None) -> ImportReport:
    """Write an estate into the store in one transaction; any error leaves the store unchanged."""
    with ctx.store.tx() as tx:
        now = clock.now(tx)
        tx.now = now
        sub = _subscription_for(tx, ctx, estate)
        tx.put_subscription(sub.model_dump(mode="json"))
        rows, retired = build_rows(tx, sub.id, estate, source, affinity_groups or {}, now)
        existing = tx.get_many(r.key for r in rows)
        states = locks.lock_states(tx, list(existing.values()))
        locked = [e for e in existing.values() if states[e.key].locked]
        if locked:
            raise Locked(f"{source}: {locked[0].id} is in the process of being migrated and hence cannot be "
                         f"changed")
        fresh = [r for r in rows if r.key not in existing]
        stale = [r for r in rows if r.key in existing]
        tx.insert(fresh)
        tx.upsert(stale)
        if len(rows) > 1000:
            tx.analyze()
        report = ImportReport(sub.id, created=len(fresh), updated=len(stale), deallocated_for_retirement=retired,
                              notes=list(estate.notes))
        for r in rows:
            report.counts[r.type] = report.counts.get(r.type, 0) + 1
        return report


@gc_paused()
def export_estate(ctx: AppContext) -> Estate:
    """Everything of one subscription, as an estate (the inverse of `import_estate`)."""
    by_type: dict[str, str] = {
        ids.T_AFFINITY_GROUP: "affinity_groups", ids.T_HOSTED_SERVICE: "hosted_services",
        ids.T_DEPLOYMENT: "deployments", ids.T_VM: "roles", ids.T_PAAS_ROLE: "roles",
        ids.T_VNET: "virtual_networks", ids.T_LOCAL_SITE: "local_network_sites",
        ids.T_STORAGE: "storage_accounts", ids.T_DISK: "disks", ids.T_OS_IMAGE: "os_images",
        ids.T_VM_IMAGE: "vm_images", ids.T_RESERVED_IP: "reserved_ips", ids.T_NSG: "network_security_groups",
        ids.T_ROUTE_TABLE: "route_tables", ids.T_ER_CIRCUIT: "express_route_circuits",
        ids.T_ROLE_ASSIGNMENT: "role_assignments",
    }
    with ctx.store.read() as tx:
        sub_id = ctx.subscription_id(tx)
        sub_doc = tx.get_subscription(sub_id)
        estate = Estate(subscription=c.Subscription.model_validate(sub_doc) if sub_doc else None)
        for row in tx.query(sub_id):
            if row.model == ids.ARM:
                estate.arm_resources.append(codec.arm_object(row))
            else:
                getattr(estate, by_type[row.type]).append(codec.classic_object(row))
    return estate
