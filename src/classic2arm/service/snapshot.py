"""Loading a unit of migration from the store: the snapshot its rules and translation read, and the
classic rows that belong to it (what prepare locks and commit removes)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from ..domain import arm as armt
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import media
from ..domain.locations import arm_name, display_name
from ..domain.units import CloudService, UnitKind, UnitRef, UnitSnapshot
from ..store import Row, Tx
from . import codec
from .sources import DbSource, Source


def unit_id(sub: str, ref: UnitRef) -> str:
    return hashlib.sha1(ref.root_id(sub).lower().encode()).hexdigest()[:32]


@dataclass
class LoadedUnit:
    snapshot: UnitSnapshot
    root: Row | None
    members: list[Row] = field(default_factory=list)  # classic rows locked by the unit and removed at commit
    # (with the disks attached to its VMs, which hold their VM's lock rather than one of their own)
    kept: list[Row] = field(default_factory=list)  # classic rows locked but kept at commit (cloned NSGs/UDRs)


def _load_services(src: Source, deployments: list[Row], lu: LoadedUnit) -> None:
    snap = lu.snapshot
    hosted = src.get_many({d.parent_key for d in deployments if d.parent_key})
    roles = src.children([d.key for d in deployments], ids.T_VM) + src.children([d.key for d in deployments],
                                                                                ids.T_PAAS_ROLE)
    roles_by_dep: dict[str, list[Row]] = {}
    for r in roles:
        roles_by_dep.setdefault(r.parent_key or "", []).append(r)
    for d in deployments:
        hs_row = hosted.get(d.parent_key or "")
        if hs_row is None:
            continue
        dep_roles = sorted(roles_by_dep.get(d.key, []), key=lambda r: r.key)
        cs = CloudService(src.model(c.HostedService, hs_row), src.model(c.Deployment, d),
                          [src.model(c.Role, r) for r in dep_roles])
        snap.services.append(cs)
        lu.members += [hs_row, d, *dep_roles]
    # The disks attached to the roles are not members: a disk is a reference inside its VM's document (spec
    # §3.1 row 3), locked through its VM (`locks.py`) and removed with it at commit. The storage accounts their
    # VHDs live in are read.
    accounts: set[str] = set()
    for cs in snap.services:
        for role in cs.roles:
            for link in ([role.os_disk.media_link] if role.os_disk else []) + [d.media_link for d in role.data_disks]:
                accounts.add(media.account_of(link))
            if role.boot_diagnostics and role.boot_diagnostics.storage_uri:
                accounts.add(media.account_of(role.boot_diagnostics.storage_uri))
    for row in src.by_names(ids.T_STORAGE, accounts):
        snap.storage_accounts[row.name.lower()] = src.model(c.StorageAccount, row)
    # reserved IPs of the deployments move with them (mapping row 14)
    rip_names = {cs.deployment.reserved_ip_name.lower() for cs in snap.services if cs.deployment.reserved_ip_name}
    rip_names |= {v.reserved_ip_name.lower() for cs in snap.services for v in cs.deployment.virtual_ips
                  if v.reserved_ip_name}
    for row in src.by_names(ids.T_RESERVED_IP, rip_names):
        snap.reserved_ips[row.name.lower()] = src.model(c.ReservedIP, row)
        lu.members.append(row)
    # NSGs on VMs/NICs are cloned; the classic ones stay, locked
    nsg_names = {r.network_security_group.lower() for cs in snap.services for r in cs.roles
                 if r.network_security_group}
    nsg_names |= {n.network_security_group.lower() for cs in snap.services for r in cs.roles
                  for n in r.secondary_nics if n.network_security_group}
    _load_nsgs_and_route_tables(src, lu, nsg_names, set())


def _load_nsgs_and_route_tables(src: Source, lu: LoadedUnit, nsgs: set[str], rts: set[str]) -> None:
    for row in src.by_names(ids.T_NSG, nsgs - set(lu.snapshot.nsgs)):
        lu.snapshot.nsgs[row.name.lower()] = src.model(c.NetworkSecurityGroup, row)
        lu.kept.append(row)
    for row in src.by_names(ids.T_ROUTE_TABLE, rts - set(lu.snapshot.route_tables)):
        lu.snapshot.route_tables[row.name.lower()] = src.model(c.RouteTable, row)
        lu.kept.append(row)


def _portal_vnet(tx: Tx, sub: str, name: str) -> str | None:
    """The real name `Group <rg> <name>` of a portal-created classic VNet the portal shows as `name`."""
    wanted = name.strip().lower()
    for row in tx.resources.query(sub, types=[ids.T_VNET]):
        parts = row.name.split(" ")
        if len(parts) >= 3 and parts[0].lower() == "group" and " ".join(parts[2:]).lower() == wanted:
            return row.name
    return None


def load_unit(tx: Tx, sub: str, ref: UnitRef, now: datetime, src: Source | None = None) -> LoadedUnit:
    """The unit's snapshot and rows, read through `src` (default: straight from the database)."""
    src = src or DbSource(tx, sub)
    root = src.get(ref.root_id(sub).lower())
    snap = UnitSnapshot(subscription=src.subscription(), ref=ref, now=now, exists=root is not None,
                        migration_state=root.migration_state if root else None)
    lu = LoadedUnit(snap, root)
    if root is None:
        if ref.kind == UnitKind.VNET:
            snap.portal_vnet = _portal_vnet(tx, sub, ref.name)
        return lu
    snap.location = display_name(root.location) if root.location else None
    if ref.kind == UnitKind.DEPLOYMENT:
        _load_services(src, [root], lu)
        dest = ref.destination
        if dest is not None and dest.normalized == "existing" and dest.vnet:
            vnet_id = ids.arm_resource_id(sub, dest.resource_group, armt.VNET, dest.vnet)
            row = tx.resources.get(vnet_id)
            rg_id = ids.resource_group_id(sub, dest.resource_group)
            snap.arm.resource_group_exists = tx.resources.get(rg_id) is not None
            if row is not None and row.model == ids.ARM:
                snap.arm.existing_vnet = codec.arm_object(row)
                snap.arm.existing_vnet_location = row.location
    elif ref.kind == UnitKind.VNET:
        vnet = src.model(c.VirtualNetworkSite, root)
        snap.vnet = vnet
        lu.members.append(root)
        _load_services(src, src.deployments_in_vnet(vnet.name), lu)
        sites = {conn.local_network_site.lower() for conn in (vnet.gateway.connections if vnet.gateway else [])}
        shared: set[str] = set()  # sites another classic VNet's gateway also connects to
        if sites:
            for other in src.of_type(ids.T_VNET):
                if other.key != root.key:
                    gw = other.doc.get("gateway") or {}
                    shared |= {str(conn.get("local_network_site", "")).lower() for conn in gw.get("connections", [])}
        for row in src.by_names(ids.T_LOCAL_SITE, sites):
            snap.local_sites[row.name.lower()] = src.model(c.LocalNetworkSite, row)
            if row.name.lower() not in shared:
                # It becomes the unit's local network gateway (row 23): gone from classic at commit, like the
                # VNet; a site other VNets still use stays until the last of them migrates.
                lu.members.append(row)
        _load_nsgs_and_route_tables(
            src, lu, {s.network_security_group.lower() for s in vnet.subnets if s.network_security_group},
            {s.route_table.lower() for s in vnet.subnets if s.route_table})
        if vnet.gateway and vnet.gateway.express_route_circuit:
            for row in src.of_type(ids.T_ER_CIRCUIT):
                snap.er_circuits[row.doc["service_key"].lower()] = src.model(c.ExpressRouteCircuit, row)
    elif ref.kind == UnitKind.STORAGE:
        account = src.model(c.StorageAccount, root)
        snap.storage_account = account
        snap.storage_accounts[account.name.lower()] = account
        lu.members.append(root)
        name = account.name.lower()
        snap.disks = [src.model(c.Disk, r) for r in src.disks_in_account(name)]
        snap.vm_vhds = src.vhds_in_account(name)  # (committed VMs are no longer classic: not among them)
        snap.os_images = [src.model(c.OSImage, r) for r in src.of_type(ids.T_OS_IMAGE)
                          if r.doc.get("media_link") and media.account_of(r.doc["media_link"]) == name]
        snap.vm_images = [src.model(c.VMImage, r) for r in src.of_type(ids.T_VM_IMAGE)
                          if any(media.account_of(m) == name for m in r.doc.get("media_links", []))]
    elif ref.kind == UnitKind.RESERVED_IP:
        rip = src.model(c.ReservedIP, root)
        snap.reserved_ip = rip
        snap.reserved_ips[rip.name.lower()] = rip
        lu.members.append(root)
        if rip.service_name:
            snap.used_by.append(f"HostedService {rip.service_name}")
    else:
        _load_standalone_network(src, ref, root, lu)
    keys = {r.key for r in lu.members} | {r.key for r in lu.kept}
    snap.role_assignments = [src.model(c.RoleAssignment, r) for r in src.of_type(ids.T_ROLE_ASSIGNMENT)
                             if r.doc["scope"].lower() in keys]
    if snap.location:
        region = arm_name(snap.location)
        snap.arm.quota = dict(snap.subscription.arm_quotas.get(region, {}))
        if snap.arm.quota:
            snap.arm.usage = src.usage(region)
    return lu


def _load_standalone_network(src: Source, ref: UnitRef, root: Row, lu: LoadedUnit) -> None:
    snap = lu.snapshot
    lu.members.append(root)
    name = ref.name.lower()
    field_name = "network_security_group" if ref.kind == UnitKind.NSG else "route_table"
    if ref.kind == UnitKind.NSG:
        snap.nsg = src.model(c.NetworkSecurityGroup, root)
        snap.nsgs[name] = snap.nsg
    else:
        snap.route_table = src.model(c.RouteTable, root)
        snap.route_tables[name] = snap.route_table
    for row in src.of_type(ids.T_VNET):
        for subnet in row.doc.get("subnets", []):
            if (subnet.get(field_name) or "").lower() == name:
                snap.used_by.append(f"Subnet {subnet['name']} of Virtual Network {row.name}")
    if ref.kind == UnitKind.NSG:
        snap.used_by.extend(f"VM {row.name}" for row in src.vms_using_nsg(name))
