"""Bringing an estate into the store (one transaction, all or nothing) and reading it back out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ..domain import arm as armt
from ..domain import catalogue as t
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import retirement
from ..domain.estate import Estate
from ..domain.locations import UnknownLocation, arm_name, display_name, is_known, most_used
from ..gcpause import gc_paused
from ..store import Row, Tx
from . import clock, codec, dangling, locks, world_clock
from .context import DEFAULT_SUBSCRIPTION, AppContext
from .errors import BadInputs, Locked, NotFound


@dataclass
class ImportReport:
    subscription_id: str
    created: int = 0
    updated: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    deallocated_for_retirement: int = 0
    notes: list[str] = field(default_factory=list)
    # When VMs were stored deallocated: why, and how to rehearse as of an earlier date.
    retirement_note: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"subscription": self.subscription_id, "created": self.created, "updated": self.updated,
                "counts": self.counts, "deallocatedForRetirement": self.deallocated_for_retirement,
                "retirementNote": self.retirement_note, "notes": self.notes}


class _Resolver:
    """Locations of everything in the estate, from its own affinity groups, the store's and overrides.

    Problems are collected, each naming the file it came from, so that one run reports them all."""

    def __init__(self, tx: Tx, sub: str, source: str, estate: Estate, extra_ags: dict[str, str]) -> None:
        self.tx, self.sub, self.source, self.estate = tx, sub, source, estate
        self.problems: list[str] = []
        self.ags: dict[str, str | None] = {}
        self.stored_ags: dict[str, c.AffinityGroup] = {}
        for row in tx.resources.query(sub, types=[ids.T_AFFINITY_GROUP]):
            self.stored_ags[row.name.lower()] = c.AffinityGroup.model_validate(row.doc)
            self.ags[row.name.lower()] = row.doc.get("location")
        for ag in estate.affinity_groups:
            ag.location = self.location(ag.location, f"AffinityGroup '{ag.name}'", ag)
            self.ags[ag.name.lower()] = ag.location
        for name, loc in extra_ags.items():
            self.ags[name.lower()] = self.location(loc, f"--affinity-group {name}", None)

    def fail(self, obj: object, where: str, message: str) -> None:
        origin = self.estate.origin(obj, self.source) if obj is not None else self.source
        self.problems.append(f"{origin}: {where}: {message}")

    def location(self, value: str | None, where: str, obj: object) -> str | None:
        if not value:
            return None
        try:
            return display_name(value)
        except UnknownLocation:
            self.fail(obj, where, f"unknown location '{value}'")
            return None

    def place(self, obj: object, location: str | None, affinity_group: str | None, where: str) -> str | None:
        if location:
            return self.location(location, where, obj)
        if affinity_group:
            return self.ags.get(affinity_group.lower())
        self.fail(obj, where, "has neither a location nor an affinity group")
        return None

    def define_missing_groups(self, extra_ags: dict[str, str]) -> None:
        """An affinity group the files bind resources to without defining it is created from what they say:
        its name, and its location wherever a file gives one beside the group (a hosted service or storage
        account body names both); else its location stays unknown and one note names every such group."""
        bound: list[c.VirtualNetworkSite | c.StorageAccount | c.HostedService] = [
            *self.estate.virtual_networks, *self.estate.storage_accounts, *self.estate.hosted_services]
        hints: dict[str, tuple[str, str]] = {}  # group -> (location, file that gives it)
        for obj in bound:
            if obj.affinity_group and obj.location and obj.affinity_group.lower() not in hints:
                loc = self.location(obj.location, f"{type(obj).__name__} '{obj.name}'", obj)
                if loc:
                    hints[obj.affinity_group.lower()] = (loc, self.estate.origin(obj, self.source))
        created: dict[str, c.AffinityGroup] = {}
        for obj in bound:
            name = obj.affinity_group
            if not name or name.lower() in created:
                continue
            key = name.lower()
            if key in self.ags and (self.ags[key] or key not in hints):
                continue
            if key in extra_ags or any(a.name.lower() == key for a in self.estate.affinity_groups):
                continue
            hint = hints.get(key)
            ag = self.stored_ags.get(key) or c.AffinityGroup(name=name)
            ag.location = hint[0] if hint else None
            created[key] = ag
            self.ags[key] = ag.location
            self.estate.affinity_groups.append(ag)
            if hint:
                self.estate.notes.append(f"affinity group '{ag.name}' was not defined in the input: created in "
                                         f"{hint[0]}, the location {hint[1]} gives it")
        unknown = sorted((ag.name for ag in created.values() if ag.location is None), key=str.lower)
        if unknown:
            commands = "; ".join(f"classic2arm affinity-group set {n} --location LOCATION" for n in unknown)
            self.estate.notes.append(
                f"affinity group{'s' if len(unknown) > 1 else ''} {', '.join(repr(n) for n in unknown)} "
                f"{'are' if len(unknown) > 1 else 'is'} not defined in the input and no file gives "
                f"{'their locations' if len(unknown) > 1 else 'its location'}: created with an unknown location, "
                f"so what is bound to {'them' if len(unknown) > 1 else 'it'} can't be validated until you run: "
                f"{commands}")


def _subscription_for(tx: Tx, ctx: AppContext, estate: Estate) -> c.Subscription:
    if ctx.subscription:
        sub_id = ctx.subscription
    elif estate.subscription is not None:
        sub_id = estate.subscription.id
    elif not tx.subscriptions.all():
        sub_id = DEFAULT_SUBSCRIPTION
    else:
        sub_id = ctx.subscription_id(tx)  # the only one, or an error asking for --subscription
    doc = tx.subscriptions.get(sub_id)
    if estate.subscription is not None:
        sub = estate.subscription.model_copy(update={"id": sub_id})
    elif doc is not None:
        sub = c.Subscription.model_validate(doc)
    else:
        sub = c.Subscription(id=sub_id)
    return sub


def retirement_note(count: int, setting: clock.ClockSetting, now: datetime) -> str:
    """Why VMs were stored deallocated, and the two ways to rehearse the estate as it was before."""
    before = (retirement.CLASSIC_VM_RETIREMENT - timedelta(days=92)).date().isoformat()
    which = "real time" if setting.mode == "real" else f"{setting.mode}"
    return (f"{count} classic VM{'s' if count != 1 else ''} stored stopped and deallocated: the world clock "
            f"({which}, {now.date().isoformat()}) is past the classic VM retirement date "
            f"({retirement.CLASSIC_VM_RETIREMENT.date().isoformat()}). To rehearse the estate as it was before, "
            f"import it as of an earlier date: 'classic2arm import FILE... --as-of {before}', or set the clock "
            f"first with 'classic2arm clock set {before}' and import again")


def _retire(role: c.Role, now: datetime) -> bool:
    """From the retirement date, allocated classic VMs are stopped and deallocated (spec §8)."""
    if role.is_vm and role.allocated and retirement.classic_vms_must_be_deallocated(now):
        role.instance_status = c.InstanceStatus.STOPPED_DEALLOCATED
        role.power_state = c.PowerState.STOPPED
        role.ip_address = None
        return True
    return False


def build_rows(tx: Tx, sub: str, estate: Estate, source: str, extra_ags: dict[str, str],
               now: datetime, default_location: str | None = None, strict: bool = False) -> tuple[list[Row], int]:
    """Resolve every reference and location, and turn the estate into rows. Raises BadInputs with every
    problem found, each naming its file."""
    res = _Resolver(tx, sub, source, estate, extra_ags)
    default = res.location(default_location, "--location", None) if default_location else None
    res.define_missing_groups(extra_ags)
    rows: list[Row] = []
    for ag in estate.affinity_groups:
        rows.append(codec.classic_row(sub, ag))

    _add_implicit_parents(tx, sub, estate)
    vnet_locations: dict[str, str | None] = {}
    for row in tx.resources.query(sub, types=[ids.T_VNET]):
        vnet_locations[row.name.lower()] = row.doc.get("location")
    for vnet in estate.virtual_networks:
        vnet.location = res.place(vnet, vnet.location, vnet.affinity_group, f"VirtualNetworkSite '{vnet.name}'")
        vnet_locations[vnet.name.lower()] = vnet.location
        rows.append(codec.classic_row(sub, vnet))
    _replace_assumptions(tx, sub, estate, default, {v.name.lower() for v in estate.virtual_networks if v.location})
    for sa in estate.storage_accounts:
        sa.location = res.place(sa, sa.location, sa.affinity_group, f"StorageService '{sa.name}'")
        rows.append(codec.classic_row(sub, sa))
    located: list[c.ReservedIP | c.NetworkSecurityGroup | c.RouteTable | c.ExpressRouteCircuit] = [
        *estate.reserved_ips, *estate.network_security_groups, *estate.route_tables, *estate.express_route_circuits]
    for obj in located:
        where = res.location(obj.location, f"{type(obj).__name__} '{obj.name}'", obj)
        if where is None:
            continue  # (a problem is recorded: nothing is written)
        obj.location = where
        rows.append(codec.classic_row(sub, obj))
    services: dict[str, tuple[str | None, str]] = {}  # name -> (location, resource group)
    assumed: set[str] = set()  # services whose location is inferred
    for row in tx.resources.query(sub, types=[ids.T_HOSTED_SERVICE]):
        services[row.name.lower()] = (row.doc.get("location"), row.resource_group or row.name)
        if row.doc.get("location_inferred"):
            assumed.add(row.name.lower())
    unplaced: list[c.HostedService] = []
    for hs in estate.hosted_services:
        if hs.location_inferred:  # an earlier import's assumption: made again, unless something says better now
            hs.location, hs.location_inferred = None, False
        if hs.location or hs.affinity_group:  # (a group of unknown location: its note says how to set it)
            hs.location = res.place(hs, hs.location, hs.affinity_group, f"HostedService '{hs.name}'")
        else:  # a Get Deployment/Role body or a .cscfg doesn't say; a deployment in a VNet shares its region
            vnet_name = next((d.virtual_network_name for d in estate.deployments
                              if d.service_name.lower() == hs.name.lower() and d.virtual_network_name), None)
            hs.location = (vnet_locations.get(vnet_name.lower()) if vnet_name else None) or default
            if hs.location is None and not (vnet_name and vnet_name.lower() in vnet_locations):
                unplaced.append(hs)  # (in a VNet of unknown location, it waits for the VNet's: its R57 says how)
    if unplaced and strict:
        for hs in unplaced:
            res.fail(hs, f"HostedService '{hs.name}'", t.IMPORT_LOCATION_STRICT.text())
    elif unplaced:
        _infer_location(tx, sub, estate, unplaced)
    for hs in estate.hosted_services:
        services[hs.name.lower()] = (hs.location, ids.cloud_service_rg(hs))
        assumed.discard(hs.name.lower())
        if hs.location_inferred:
            assumed.add(hs.name.lower())
        rows.append(codec.classic_row(sub, hs))

    for dep in estate.deployments:
        loc, rg = services[dep.service_name.lower()]
        rows.append(codec.classic_row(sub, dep, loc, rg))

    retired = 0
    for role in estate.roles:
        loc, rg = services[role.service_name.lower()]
        retired += _retire(role, now)
        rows.append(codec.classic_row(sub, role, loc, rg))

    images: list[c.Disk | c.OSImage | c.VMImage] = [*estate.disks, *estate.os_images, *estate.vm_images]
    for img in images:
        if img.location:
            img.location = res.location(img.location, f"{type(img).__name__} '{img.name}'", img)
        rows.append(codec.classic_row(sub, img))
    for other in (*estate.local_network_sites, *estate.role_assignments):
        rows.append(codec.classic_row(sub, other))
    rows.extend(dangling.resolve(tx, sub, estate, services, assumed, vnet_locations, strict, res.fail))
    if res.problems:
        raise BadInputs(res.problems)
    for arm_res in estate.arm_resources:
        rows.append(codec.arm_row(arm_res))
    return _last_wins(rows), retired


def _replace_assumptions(tx: Tx, sub: str, estate: Estate, default: str | None, vnets: set[str]) -> None:
    """Stored hosted services an earlier import could not place, or placed by an assumption (`location_inferred`),
    that this import places better: with --location, those this estate's deployments belong to; those with a
    deployment in a VNet this estate places. They join the estate with their stored deployments and roles (what
    the files don't give again), so that all of them move to the new location."""
    if not default and not vnets:
        return
    named = {h.name.lower() for h in estate.hosted_services}
    wanted = {d.service_name.lower() for d in estate.deployments} - named if default else set()
    in_vnet = {d.service_name.lower() for d in estate.deployments
               if d.virtual_network_name and d.virtual_network_name.lower() in vnets}
    have_deps = {(d.service_name.lower(), d.name.lower()) for d in estate.deployments}
    have_roles = {(r.service_name.lower(), r.deployment_name.lower(), r.name.lower()) for r in estate.roles}
    for row in tx.resources.query(sub, types=[ids.T_HOSTED_SERVICE]):
        key = row.name.lower()
        if key in named or row.doc.get("affinity_group"):
            continue
        if row.doc.get("location") and not row.doc.get("location_inferred"):
            continue
        deps = [(d, c.Deployment.model_validate(d.doc))
                for d in tx.resources.query(sub, types=[ids.T_DEPLOYMENT], parent_key=row.key)]
        moved_by_vnet = any(d.virtual_network_name and d.virtual_network_name.lower() in vnets for _, d in deps)
        if key not in wanted and key not in in_vnet and not moved_by_vnet:
            continue
        estate.hosted_services.append(c.HostedService.model_validate(row.doc))
        named.add(key)
        for dep_row, dep in deps:
            if (key, dep.name.lower()) in have_deps:
                continue
            estate.deployments.append(dep)
            for role_row in tx.resources.query(sub, types=[ids.T_VM, ids.T_PAAS_ROLE], parent_key=dep_row.key):
                role = codec.classic_object(role_row)
                if isinstance(role, c.Role) and (key, dep.name.lower(), role.name.lower()) not in have_roles:
                    estate.roles.append(role)


def _estate_locations(tx: Tx, sub: str, estate: Estate) -> list[str]:
    """The location of every resource of the estate a file (or --location, or `affinity-group set`) placed: this
    import's and what the store holds, each resource once; nothing placed by an assumption (inferred storage
    accounts, inferred service locations)."""
    mine: list[tuple[str, list[c.Model]]] = [
        (ids.T_AFFINITY_GROUP, [*estate.affinity_groups]), (ids.T_VNET, [*estate.virtual_networks]),
        (ids.T_HOSTED_SERVICE, [*estate.hosted_services]), (ids.T_STORAGE, [*estate.storage_accounts]),
        (ids.T_RESERVED_IP, [*estate.reserved_ips]), (ids.T_NSG, [*estate.network_security_groups]),
        (ids.T_ROUTE_TABLE, [*estate.route_tables]), (ids.T_ER_CIRCUIT, [*estate.express_route_circuits])]
    by_key: dict[tuple[str, str], str | None] = {}
    for row in tx.resources.query(sub, types=[rtype for rtype, _ in mine]):
        assumed = row.doc.get("inferred") or row.doc.get("location_inferred")
        by_key[(row.type, row.name.lower())] = None if assumed else row.doc.get("location")
    for rtype, obj in ((rtype, obj) for rtype, objs in mine for obj in objs):
        loc = getattr(obj, "location", None)
        if getattr(obj, "inferred", False) or getattr(obj, "location_inferred", False) or not loc:
            loc = None
        elif not is_known(loc):
            loc = None  # (a problem is recorded for it)
        by_key[(rtype, str(getattr(obj, "name", "")).lower())] = display_name(loc) if loc else None
    return [loc for loc in by_key.values() if loc]


def _infer_location(tx: Tx, sub: str, estate: Estate, unplaced: list[c.HostedService]) -> None:
    """Place the hosted services nothing places (a Get Deployment or Get Role body alone) where the rest of the
    estate is: its one location, else the one most of it uses, else the default (`locations.DEFAULT_LOCATION`).
    Each is marked `location_inferred`, and one note names them all with the location and how to set the real
    one. (Inferred storage accounts of their disks take the same location: `dangling.resolve`.)"""
    known = _estate_locations(tx, sub, estate)
    where, count = most_used(known)
    if not count:
        why = t.LOCATION_WHY_DEFAULT
    elif count == len(known):
        why = t.LOCATION_WHY_ONLY
    else:
        why = t.LOCATION_WHY_COMMON.format(count=count, total=len(known))
    for hs in unplaced:
        hs.location, hs.location_inferred = where, True
    many = len(unplaced) > 1
    names = ", ".join(repr(hs.name) for hs in unplaced)
    estate.notes.append(t.IMPORT_LOCATION_INFERRED.text(
        services=f"hosted service{'s' if many else ''} {names}", location=where, why=why,
        deployments="their deployments" if many else "its deployment", its="their" if many else "its"))


def _add_implicit_parents(tx: Tx, sub: str, estate: Estate) -> None:
    """A Get Deployment or Get Role body (or a .cscfg) names its hosted service and deployment without
    describing them: when the store doesn't have them either, they are added with what the body tells, and a
    note says so (where no VNet tells their location, `_infer_location` assumes one)."""
    known_hs = {h.name.lower() for h in estate.hosted_services}
    known_hs |= {r.name.lower() for r in tx.resources.query(sub, types=[ids.T_HOSTED_SERVICE])}
    known_dep = {(d.service_name.lower(), d.name.lower()) for d in estate.deployments}
    known_dep |= {(r.doc["service_name"].lower(), r.name.lower())
                  for r in tx.resources.query(sub, types=[ids.T_DEPLOYMENT])}
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
        return EstateCounts(classic_vms=tx.resources.count(model=ids.CLASSIC, types=[ids.T_VM]),
                            classic_vnets=tx.resources.count(model=ids.CLASSIC, types=[ids.T_VNET]),
                            classic_storage_accounts=tx.resources.count(model=ids.CLASSIC, types=[ids.T_STORAGE]),
                            arm_resource_groups=tx.resources.count(model=ids.ARM, types=[armt.RESOURCE_GROUP]),
                            arm_vms=tx.resources.count(model=ids.ARM, types=[armt.VM]),
                            arm_resources=tx.resources.count(model=ids.ARM))


def clear(ctx: AppContext) -> None:
    """Remove every resource of every subscription (and their usage totals): a demo starts from nothing."""
    with ctx.store.tx() as tx:
        tx.resources.delete_all()


@gc_paused()
def import_estate(ctx: AppContext, estate: Estate, source: str = "<estate>",
                  affinity_groups: dict[str, str] | None = None, location: str | None = None,
                  strict: bool = False, as_of: datetime | None = None) -> ImportReport:
    """Write an estate into the store in one transaction; any error leaves the store unchanged.

    `location` places what no file places (a hosted service known only from a Get Deployment body); `strict`
    refuses references to resources no file describes instead of noting them (and inferring storage); `as_of`
    first sets the world clock to that date (a rehearsal of the estate as it was then)."""
    with ctx.store.tx() as tx:
        if as_of is not None:
            clock.write(tx, clock.fixed(as_of))
        setting = clock.read(tx)
        now = setting.now()
        tx.now = now
        if as_of is not None:
            world_clock.enforce_retirement(tx, now)
        sub = _subscription_for(tx, ctx, estate)
        tx.subscriptions.put(sub.model_dump(mode="json"))
        rows, retired = build_rows(tx, sub.id, estate, source, affinity_groups or {}, now, location, strict)
        existing = tx.resources.get_many(r.key for r in rows)
        states = locks.lock_states(tx, list(existing.values()))
        locked = [e for e in existing.values() if states[e.key].locked]
        if locked:
            raise Locked(f"{source}: {locked[0].id} is in the process of being migrated and hence cannot be "
                         f"changed")
        fresh = [r for r in rows if r.key not in existing]
        stale = [r for r in rows if r.key in existing]
        tx.resources.insert(fresh)
        tx.resources.upsert(stale)
        if len(rows) > 1000:
            tx.resources.analyze()
        report = ImportReport(sub.id, created=len(fresh), updated=len(stale), deallocated_for_retirement=retired,
                              notes=list(estate.notes))
        if retired:
            report.retirement_note = retirement_note(retired, setting, now)
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
        sub_doc = tx.subscriptions.get(sub_id)
        estate = Estate(subscription=c.Subscription.model_validate(sub_doc) if sub_doc else None)
        for row in tx.resources.query(sub_id):
            if row.model == ids.ARM:
                estate.arm_resources.append(codec.arm_object(row))
            else:
                getattr(estate, by_type[row.type]).append(codec.classic_object(row))
    return estate


def _in_placed_vnets(tx: Tx, sub: str, vnets: set[str], where: str) -> list[tuple[Row, Row]]:
    """Hosted services with no location whose deployments are in VNets that just got one (an import leaves them
    waiting for their VNet's location): they take it, with their deployments and roles and the inferred storage
    accounts of their disks that have no location either."""
    if not vnets:
        return []
    changes: list[tuple[Row, Row]] = []
    roles: list[c.Role] = []
    for row in tx.resources.query(sub, types=[ids.T_HOSTED_SERVICE]):
        if row.doc.get("location") or row.doc.get("affinity_group"):
            continue
        deps = tx.resources.query(sub, types=[ids.T_DEPLOYMENT], parent_key=row.key)
        if not any(str(d.doc.get("virtual_network_name") or "").lower() in vnets for d in deps):
            continue
        hs = c.HostedService.model_validate(row.doc)
        hs.location, hs.location_inferred = where, False
        changes.append((row, codec.classic_row(sub, hs, rg=row.resource_group)))
        for dep in deps:  # (the column holds the ARM name, as `codec.classic_row` writes it)
            changes.append((dep, replace(dep, location=arm_name(where))))
            for role in tx.resources.query(sub, types=[ids.T_VM, ids.T_PAAS_ROLE], parent_key=dep.key):
                changes.append((role, replace(role, location=arm_name(where))))
                roles.append(c.Role.model_validate(role.doc))
    accounts = dangling.accounts_of(roles)
    for row in tx.resources.query(sub, types=[ids.T_STORAGE]):
        if row.doc.get("inferred") and not row.doc.get("location") and row.name.lower() in accounts:
            sa = c.StorageAccount.model_validate(row.doc)
            sa.location = where
            changes.append((row, codec.classic_row(sub, sa, rg=row.resource_group)))
    return changes


@dataclass(frozen=True, slots=True)
class AffinityGroupPlaced:
    name: str
    location: str
    placed: list[str]  # ids of what took the group's location


def set_affinity_group_location(ctx: AppContext, name: str, location: str) -> AffinityGroupPlaced:
    """Give an affinity group its location (an import that could not know it), and with it every VNet, storage
    account and hosted service bound to the group whose own location is still unknown (with the hosted
    services' deployments and roles), and the hosted services of unknown location in those VNets
    (`_in_placed_vnets`). One transaction; refused while any of them is being migrated."""
    try:
        where = display_name(location)
    except UnknownLocation:
        raise BadInputs([f"--location: unknown location '{location}'"]) from None
    with ctx.store.tx() as tx:
        sub = ctx.subscription_id(tx)
        ag_row = tx.resources.get(ids.affinity_group_id(sub, name))
        if ag_row is None:
            raise NotFound(f"The affinity group '{name}' does not exist in subscription {sub}.")
        ag = c.AffinityGroup.model_validate(ag_row.doc)
        if ag.location and ag.location != where:
            raise BadInputs([f"affinity group '{ag.name}' is already in {ag.location}; an affinity group's location "
                             "can't change"])
        ag.location = where
        changes: list[tuple[Row, Row]] = [(ag_row, codec.classic_row(sub, ag))]
        key = ag.name.lower()
        for rtype in (ids.T_VNET, ids.T_STORAGE, ids.T_HOSTED_SERVICE):
            for row in tx.resources.query(sub, types=[rtype]):
                if str(row.doc.get("affinity_group") or "").lower() != key or row.doc.get("location"):
                    continue
                obj = codec.classic_object(row)
                obj.location = where  # type: ignore[attr-defined]
                changes.append((row, codec.classic_row(sub, obj, rg=row.resource_group)))
                if rtype == ids.T_HOSTED_SERVICE:
                    for dep in tx.resources.query(sub, types=[ids.T_DEPLOYMENT], parent_key=row.key):
                        changes.append((dep, replace(dep, location=arm_name(where))))
                        for role in tx.resources.query(sub, types=[ids.T_VM, ids.T_PAAS_ROLE], parent_key=dep.key):
                            changes.append((role, replace(role, location=arm_name(where))))
        changes.extend(_in_placed_vnets(tx, sub, {new.name.lower() for old, new in changes if old.type == ids.T_VNET},
                                        where))
        states = locks.lock_states(tx, [old for old, _ in changes])
        locked = [old for old, _ in changes if states[old.key].locked]
        if locked:
            raise Locked(f"{locked[0].id} is in the process of being migrated and hence cannot be changed")
        for old, new in changes:
            tx.resources.update(replace(new, version=old.version, migration_state=old.migration_state,
                                        lock_holder=old.lock_holder))
        return AffinityGroupPlaced(ag.name, where, [new.id for _, new in changes[1:]])
