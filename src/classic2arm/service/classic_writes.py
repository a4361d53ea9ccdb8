"""Classic (ASM) writes: building and changing a classic estate through the Service Management API.

Every use case runs in one transaction: checks (locks with the R50/R51 texts, retirement policy, names,
references), the change, and a Succeeded operation record whose id the API hands back as
`x-ms-request-id` (so Get Operation Status works for every accepted write).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import catalogue as msg
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import media, retirement, sizes
from ..domain.fixes import MAX_DISK_GB
from ..domain.locations import UnknownLocation, display_name
from ..domain.units import UnitKind
from ..store import OperationRecord, Row, Tx
from . import addressing, clock, codec, locks, operations, power, sources, subscriptions
from .context import AppContext
from .errors import Locked, NotFound, ServiceError

_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]|[A-Za-z0-9]")
_STORAGE_NAME = re.compile(r"[a-z0-9]{3,24}")
_RESOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,62}")
ROLE_FIELDS = frozenset({"size", "input_endpoints", "subnet_names", "static_ip", "public_ips", "availability_set",
                         "data_disks", "extensions", "provision_guest_agent", "network_security_group",
                         "ip_forwarding", "secondary_nics", "license_type", "os_disk", "boot_diagnostics"})


@dataclass
class _W:
    """One write's transaction and what every check needs."""

    tx: Tx
    sub: str
    subscription: c.Subscription
    now: datetime

    def record(self, kind: str, target: str) -> str:
        op_id = operations.new_id()
        self.tx.operations.insert(OperationRecord(op_id, self.sub, kind[:32], target, operations.SUCCEEDED,
                                                  http_status=200, request={"describe": target}))
        return op_id

    def audited(self, kind: str, target: str, fix: str | None) -> str:
        """Record the write before making it, so that its event-log entries carry its operation id (the audit
        trail of `classic2arm fix`: which fix changed which resource, in `request.fix`)."""
        op_id = operations.new_id()
        request: dict[str, Any] = {"describe": target, **({"fix": fix} if fix else {})}
        self.tx.operations.insert(OperationRecord(op_id, self.sub, kind[:32], target, operations.SUCCEEDED,
                                                  http_status=200, request=request))
        self.tx.operation_id = op_id
        return op_id


def _begin(ctx: AppContext, tx: Tx) -> _W:
    sub = ctx.subscription_id(tx)
    now = clock.now(tx)
    tx.now = now
    return _W(tx, sub, subscriptions.load(tx, sub), now)


def _bad(message: str) -> ServiceError:
    return ServiceError("BadRequest", message, 400)


def _conflict(message: str) -> ServiceError:
    return ServiceError("ConflictError", message, 409)


def _locked(row: Row) -> bool:
    return bool(row.lock_holder or row.migration_state)


def _check_name(name: str, pattern: re.Pattern[str], what: str) -> None:
    if not pattern.fullmatch(name):
        raise _bad(f"The {what} name '{name[:80]}' is invalid.")


def _role_size(size: str | None) -> str | None:
    """The canonical spelling of a write's role size; an unknown size is refused before anything is stored."""
    if size is None:
        return None
    known = sizes.role_size(size)
    if known is None:
        raise ServiceError(*msg.ASM_UNKNOWN_ROLE_SIZE.render(size=size[:60], sizes=", ".join(sizes.VM_SIZES)), 400)
    return known


def valid_storage_name(name: str) -> bool:
    """Storage account names: 3 to 24 lower-case letters and digits (they are DNS labels of the blob host)."""
    return _STORAGE_NAME.fullmatch(name) is not None


def _location(value: str, what: str) -> str:
    try:
        return display_name(value)
    except UnknownLocation:
        raise _bad(f"The location '{value[:80]}' of the {what} is not valid.") from None


def _place(w: _W, location: str | None, affinity_group: str | None, what: str) -> str:
    if location and affinity_group:
        raise _bad(f"Specify either a location or an affinity group for the {what}, not both.")
    if location:
        return _location(location, what)
    if affinity_group:
        row = w.tx.resources.get(ids.affinity_group_id(w.sub, affinity_group))
        if row is None:
            raise _bad(f"The affinity group '{affinity_group[:80]}' of the {what} does not exist.")
        if not row.doc.get("location"):
            raise _bad(msg.AFFINITY_GROUP_LOCATION_UNKNOWN.text(ag=row.name))
        return str(row.doc["location"])
    raise _bad(f"A location or an affinity group is required for the {what}.")


# --------------------------------------------------------------------------- lookups with lock checks


def _service(w: _W, svc: str) -> tuple[Row, c.HostedService]:
    row = w.tx.resources.get(ids.hosted_service_id(w.sub, svc))
    if row is None:
        raise NotFound(f"The hosted service '{svc}' does not exist.")
    return row, c.HostedService.model_validate(row.doc)


def _deployment(w: _W, svc: str, dep: str) -> tuple[Row, c.Deployment]:
    row = w.tx.resources.get(ids.deployment_id(w.sub, svc, dep))
    if row is None:
        raise NotFound(msg.R02_DEPLOYMENT_NOT_FOUND.text(dep=dep))
    if _locked(row):
        raise Locked(msg.R50_DEPLOYMENT_LOCKED.text(dep=dep, hs=svc))
    return row, c.Deployment.model_validate(row.doc)


def _vm(w: _W, svc: str, dep: str, name: str) -> tuple[Row, c.Role]:
    row = w.tx.resources.get(ids.role_id(w.sub, svc, dep, name))
    if row is None or row.type != ids.T_VM:
        raise NotFound(f"The virtual machine '{name}' does not exist in deployment '{dep}' of hosted service "
                       f"'{svc}'.")
    if _locked(row):
        raise Locked(msg.R51_VM_LOCKED.text())
    return row, c.Role.model_validate(row.doc)


def _unlocked(row: Row, kind: str) -> None:
    if _locked(row):
        raise Locked(msg.R50_LOCKED.text(kind=kind, name=row.name))


# --------------------------------------------------------------------------- addresses


def _hash_octets(text: str) -> bytes:
    return hashlib.sha1(text.lower().encode()).digest()


def _public_address(w: _W, seed: str, taken: set[str]) -> str:
    for attempt in range(1000):
        h = _hash_octets(f"{seed}/{attempt}")
        address = f"40.{112 + h[0] % 16}.{h[1]}.{1 + h[2] % 254}"
        if address not in taken:
            return address
    raise ServiceError("InternalError", "no public address left", 500)


def _public_taken(w: _W) -> set[str]:
    out = {str(r.doc.get("address")) for r in w.tx.resources.query(w.sub, types=[ids.T_RESERVED_IP])}
    for r in w.tx.resources.query(w.sub, types=[ids.T_DEPLOYMENT]):
        out.update(str(v.get("address")) for v in r.doc.get("virtual_ips", []))
    return out


def _place_role(w: _W, role: c.Role, dep: c.Deployment, taken: set[str]) -> None:
    """Runtime facts of a new VM: running, with a DIP from its subnet (or the fabric range outside VNets) that
    no other VM there holds (`taken`, which gets it added)."""
    role.instance_status, role.power_state = c.InstanceStatus.READY, c.PowerState.STARTED
    role.host_name = role.computer_name or role.name
    if role.guest_agent is None and role.provision_guest_agent:
        role.guest_agent = c.GuestAgentStatus()
    if not dep.virtual_network_name:
        role.ip_address = addressing.platform_dip(f"{dep.service_name}/{dep.name}/{role.name}", taken)
        taken.add(role.ip_address)
        return
    row = w.tx.resources.get(ids.vnet_id(w.sub, dep.virtual_network_name))
    if row is None:
        raise _bad(f"The virtual network name '{dep.virtual_network_name}' is not valid.")
    vnet = c.VirtualNetworkSite.model_validate(row.doc)
    subnets = {s.name.lower(): s for s in vnet.subnets}
    if not role.subnet_names:
        raise _bad(f"The virtual machine '{role.name}' must name a subnet of virtual network '{vnet.name}'.")
    subnet = subnets.get(role.subnet_names[0].lower())
    if subnet is None:
        raise _bad(f"The subnet '{role.subnet_names[0]}' does not exist in virtual network '{vnet.name}'.")
    if role.static_ip:
        if role.static_ip in taken:
            raise _conflict(f"The static address '{role.static_ip}' is already in use.")
        role.ip_address = role.static_ip
    else:
        free = addressing.first_free(subnet.address_prefix, taken)
        if free is None:
            raise _bad(f"The subnet '{subnet.name}' has no free address.")
        role.ip_address = free
    taken.add(role.ip_address)


def _disk_rows(w: _W, role: c.Role, hs: c.HostedService) -> list[Row]:
    """Classic disks for the disks a new role brings; an existing unattached disk of that name is attached."""
    rows: list[Row] = []
    wanted: list[tuple[str, str, int, str | None, str | None]] = []
    if role.os_disk is not None:
        o = role.os_disk
        wanted.append((o.disk_name, o.media_link, o.logical_size_gb or media.os_disk_gb(o.os), o.os,
                       o.source_image_name))
    wanted.extend((d.disk_name, d.media_link, d.logical_size_gb, None, None) for d in role.data_disks)
    for name, link, size, os_, image in wanted:
        existing = w.tx.resources.get(ids.disk_id(w.sub, name))
        if existing is not None and existing.doc.get("role_name"):
            raise _conflict(f"The disk '{name}' is already attached to virtual machine "
                            f"'{existing.doc.get('role_name')}'.")
        disk = c.Disk(name=name, media_link=link, os=os_, location=hs.location, logical_size_gb=size,
                      source_image_name=image, hosted_service_name=role.service_name,
                      deployment_name=role.deployment_name, role_name=role.name)
        rows.append(codec.classic_row(w.sub, disk, hs.location))
    return rows


def _role_row(w: _W, role: c.Role, hs: c.HostedService) -> Row:
    return codec.classic_row(w.sub, role, hs.location, ids.cloud_service_rg(hs))


# --------------------------------------------------------------------------- hosted services


def create_hosted_service(ctx: AppContext, hs: c.HostedService) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        _check_name(hs.name, _SERVICE_NAME, "hosted service")
        if tx.resources.query(types=[ids.T_HOSTED_SERVICE], name=hs.name):
            raise _conflict(f"The specified DNS name '{hs.name}' is already taken.")
        hs.location = _place(w, hs.location, hs.affinity_group, "hosted service")
        hs.created = hs.last_modified = w.now
        hs.status = "Created"
        tx.resources.insert([codec.classic_row(w.sub, hs)])
        return w.record("CreateHostedService", ids.hosted_service_id(w.sub, hs.name))


def delete_hosted_service(ctx: AppContext, svc: str, complete: bool) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        row, _hs = _service(w, svc)
        _unlocked(row, "HostedService")
        deps = tx.resources.query(w.sub, types=[ids.T_DEPLOYMENT], parent_key=row.key)
        if deps and not complete:
            raise _conflict(f"The hosted service '{svc}' has deployments; delete them first (or delete with "
                            f"comp=media).")
        for d in deps:
            _delete_deployment(w, svc, d.name, delete_media=True)
        tx.resources.delete([row.key])
        return w.record("DeleteHostedService", row.id)


# --------------------------------------------------------------------------- deployments and roles


def create_deployment(ctx: AppContext, dep: c.Deployment, roles: list[c.Role]) -> str:
    """Create VM Deployment: a deployment with its first role(s), their disks and a VIP."""
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        hs_row, hs = _service(w, dep.service_name)
        _unlocked(hs_row, "HostedService")
        _check_name(dep.name, _RESOURCE_NAME, "deployment")
        if any(r.is_vm for r in roles):
            subscriptions.refuse(retirement.may_create_classic_vm(w.subscription, w.now))
        for other in tx.resources.query(w.sub, types=[ids.T_DEPLOYMENT], parent_key=hs_row.key):
            if other.name.lower() == dep.name.lower():
                raise _conflict(f"A deployment named '{dep.name}' already exists in hosted service "
                                f"'{hs.name}'.")
            if str(other.doc.get("slot")) == dep.slot.value:
                raise _conflict(f"The {dep.slot.value} slot of hosted service '{hs.name}' is already occupied "
                                f"by deployment '{other.name}'.")
        if dep.virtual_network_name:
            vnet_row = tx.resources.get(ids.vnet_id(w.sub, dep.virtual_network_name))
            if vnet_row is None:
                raise _bad(f"The virtual network name '{dep.virtual_network_name}' is not valid.")
            _unlocked(vnet_row, UnitKind.VNET.word)
            dep.virtual_network_name = vnet_row.name
        dep.created = dep.last_modified = w.now
        dep.status, dep.private_id = "Running", uuid.uuid4().hex
        dep.internal_dns_suffix = dep.internal_dns_suffix or f"{hs.name}.a1.internal.cloudapp.net"
        changed: list[Row] = []
        if dep.reserved_ip_name:
            _rip_row, rip = _free_reserved_ip(w, dep.reserved_ip_name)
            rip.service_name, rip.deployment_name = hs.name, dep.name
            changed.append(codec.classic_row(w.sub, rip))
            dep.virtual_ips = [c.VirtualIP(name=f"{dep.name}ContractContract", address=rip.address,
                                           is_reserved=True, reserved_ip_name=rip.name)]
        else:
            dep.virtual_ips = [c.VirtualIP(name=f"{dep.name}ContractContract",
                                           address=_public_address(w, hs.name, _public_taken(w)))]
        taken = power.taken(tx, w.sub, ids.deployment_id(w.sub, hs.name, dep.name), dep.virtual_network_name)
        rows = [codec.classic_row(w.sub, dep, hs.location, ids.cloud_service_rg(hs))]
        seen: set[str] = set()
        for role in roles:
            if role.name.lower() in seen:
                raise _conflict(f"The role name '{role.name}' appears twice in the deployment.")
            seen.add(role.name.lower())
            _check_name(role.name, _RESOURCE_NAME, "role")
            role.size = _role_size(role.size)
            role.service_name, role.deployment_name = hs.name, dep.name
            _place_role(w, role, dep, taken)
            rows.append(_role_row(w, role, hs))
            rows.extend(_disk_rows(w, role, hs))
        tx.resources.upsert(rows)
        tx.resources.upsert(changed)
        return w.record("CreateDeployment", ids.deployment_id(w.sub, hs.name, dep.name))


def add_role(ctx: AppContext, svc: str, dep_name: str, role: c.Role) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        subscriptions.refuse(retirement.may_create_classic_vm(w.subscription, w.now))
        _hs_row, hs = _service(w, svc)
        _dep_row, dep = _deployment(w, svc, dep_name)
        _check_name(role.name, _RESOURCE_NAME, "role")
        role.size = _role_size(role.size)
        if tx.resources.get(ids.role_id(w.sub, svc, dep.name, role.name)) is not None:
            raise _conflict(f"A role named '{role.name}' already exists in deployment '{dep.name}'.")
        role.service_name, role.deployment_name = hs.name, dep.name
        _place_role(w, role, dep, power.taken(tx, w.sub, _dep_row.key, dep.virtual_network_name))
        tx.resources.upsert([_role_row(w, role, hs), *_disk_rows(w, role, hs)])
        return w.record("AddRole", ids.role_id(w.sub, svc, dep.name, role.name))


def update_role(ctx: AppContext, svc: str, dep_name: str, name: str, changes: dict[str, Any]) -> str:
    """Update Role: replace the configuration the body gave; runtime state is kept."""
    return _edit_role(ctx, svc, dep_name, name, lambda _old: changes, "UpdateRole")


def _edit_role(ctx: AppContext, svc: str, dep_name: str, name: str, edit: Callable[[c.Role], dict[str, Any]],
               kind: str, fix: str | None = None, skip_unchanged: bool = False) -> str:
    """The one Update Role: `edit` gives the changes from the role as it is in this transaction. With
    `skip_unchanged`, a change that alters nothing writes nothing and returns ''."""
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        _hs_row, hs = _service(w, svc)
        row, old = _vm(w, svc, dep_name, name)
        changes = edit(old)
        unknown = set(changes) - ROLE_FIELDS
        if unknown:
            raise _bad(f"Update Role cannot change {', '.join(sorted(unknown))}.")
        if changes.get("size") is not None:
            changes = {**changes, "size": _role_size(changes["size"])}
        if "os_disk" in changes and changes["os_disk"] is None:
            changes.pop("os_disk")
        new = c.Role.model_validate({**old.model_dump(mode="json"), **_jsonable(changes)})
        if skip_unchanged and new == old:
            return ""
        op_id = w.audited(kind, row.id, fix)
        old_disks = {d.disk_name.lower() for d in old.data_disks}
        new_disks = {d.disk_name.lower() for d in new.data_disks}
        _sync_data_disks(w, new, hs, added=new_disks - old_disks, removed=old_disks - new_disks)
        row.doc = new.model_dump(mode="json")
        tx.resources.update(row)
        return op_id


def _matches(ext: c.ExtensionReference, wanted: str) -> bool:
    return wanted.lower() in (ext.name.lower(), ext.reference_name.lower())


def remove_extensions(ctx: AppContext, svc: str, dep: str, name: str, extensions: Sequence[str],
                      fix: str | None = None) -> str:
    """Uninstall extensions (by name or reference name) from a VM: Update Role without them."""
    def edit(role: c.Role) -> dict[str, Any]:
        for wanted in extensions:
            if not any(_matches(e, wanted) for e in role.extensions):
                known = ", ".join(e.name for e in role.extensions) or "none"
                raise NotFound(msg.ASM_NO_SUCH_EXTENSION.text(vm=role.name, ext=wanted[:80], known=known))
        return {"extensions": [e for e in role.extensions if not any(_matches(e, x) for x in extensions)]}

    return _edit_role(ctx, svc, dep, name, edit, "RemoveExtension", fix, skip_unchanged=True)


def clear_endpoint_acls(ctx: AppContext, svc: str, dep: str, name: str, endpoint: str | None = None,
                        fix: str | None = None) -> tuple[str, list[c.InputEndpoint]]:
    """Delete the ACLs of a VM's input endpoints (of one, with `endpoint`): the request id ('' when there were
    none) and the endpoints as they were, ACLs included (what `fix` turns into NSG rules)."""
    cleared: list[c.InputEndpoint] = []

    def edit(role: c.Role) -> dict[str, Any]:
        if endpoint is not None and not any(ep.name.lower() == endpoint.lower() for ep in role.input_endpoints):
            known = ", ".join(ep.name for ep in role.input_endpoints) or "none"
            raise NotFound(msg.ASM_NO_SUCH_ENDPOINT.text(vm=role.name, endpoint=endpoint[:80], known=known))
        eps = []
        for ep in role.input_endpoints:
            if ep.acl and (endpoint is None or ep.name.lower() == endpoint.lower()):
                cleared.append(ep)
                ep = ep.model_copy(update={"acl": []})
            eps.append(ep)
        return {"input_endpoints": eps}

    return _edit_role(ctx, svc, dep, name, edit, "ClearEndpointAcl", fix, skip_unchanged=True), cleared


def disable_boot_diagnostics(ctx: AppContext, svc: str, dep: str, name: str, fix: str | None = None) -> str:
    """DebugSettings BootDiagnosticsEnabled=false ('' when it was not enabled)."""
    def edit(role: c.Role) -> dict[str, Any]:
        diag = role.boot_diagnostics
        return {} if diag is None or not diag.enabled else {"boot_diagnostics": diag.model_copy(
            update={"enabled": False})}

    return _edit_role(ctx, svc, dep, name, edit, "DisableBootDiagnostics", fix, skip_unchanged=True)


def restart_vm(ctx: AppContext, svc: str, dep: str, name: str, fix: str | None = None) -> tuple[c.Role, str]:
    """Restart Role: the VM comes back running (from RoleStateUnknown, say); refused after the retirement.
    The VM as it now is and the request id."""
    return _power(ctx, svc, dep, name, start=True, deallocate=False, kind="RestartRole", fix=fix)


def restart_role(ctx: AppContext, svc: str, dep: str, name: str) -> str:
    """Restart Role (RestartRoleOperation): the request id."""
    return restart_vm(ctx, svc, dep, name)[1]


# --------------------------------------------------------------------------- disks and images


def _disk(w: _W, name: str) -> tuple[Row, c.Disk]:
    row = w.tx.resources.get(ids.disk_id(w.sub, name))
    if row is None or row.type != ids.T_DISK:
        raise NotFound(f"The disk '{name[:80]}' does not exist.")
    if locks.lock_state(w.tx, row).locked:
        raise Locked(msg.R51_VM_LOCKED.text() if row.doc.get("role_name")
                     else msg.R50_LOCKED.text(kind="Disk", name=row.name))
    return row, c.Disk.model_validate(row.doc)


def _image(w: _W, key: str, rtype: str, what: str, name: str) -> Row:
    row = w.tx.resources.get(key)
    if row is None or row.type != rtype:
        raise NotFound(f"The {what} '{name[:80]}' does not exist.")
    _unlocked(row, "OSImage" if rtype == ids.T_OS_IMAGE else "VMImage")
    return row


def _delete_blobs(w: _W, links: Iterable[str]) -> None:
    """comp=media: the VHD blobs go too (from the storage accounts' blob lists; an account the store does not
    hold has no blobs to lose)."""
    by_account: dict[str, list[str]] = {}
    for link in links:
        where = media.parse(link)
        by_account.setdefault(where.account, []).append(where.path)
    for account, paths in by_account.items():
        row = w.tx.resources.get(ids.storage_id(w.sub, account))
        if row is None:
            continue
        _unlocked(row, UnitKind.STORAGE.word)
        sa = c.StorageAccount.model_validate(row.doc)
        if not any(p in sa.blobs for p in paths):
            continue
        sa.blobs = {k: v for k, v in sa.blobs.items() if k not in paths}
        row.doc = sa.model_dump(mode="json")
        w.tx.resources.update(row)


def delete_disk(ctx: AppContext, name: str, delete_vhd: bool = False, fix: str | None = None) -> str:
    """Delete Disk: refused while the disk is attached to a VM; with `delete_vhd` (comp=media) its blob goes too."""
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        row, disk = _disk(w, name)
        if disk.attached:
            raise _bad(msg.ASM_DISK_IN_USE.text(disk=disk.name, vm=disk.role_name, hs=disk.hosted_service_name,
                                                dep=disk.deployment_name))
        subscriptions.refuse(retirement.may_manage_classic_storage(w.now))
        op_id = w.audited("DeleteDisk", row.id, fix)
        if delete_vhd:
            _delete_blobs(w, [disk.media_link])
        tx.resources.delete([row.key])
        return op_id


def update_disk(ctx: AppContext, name: str, resized_size_gb: int | None = None, label: str | None = None,
                fix: str | None = None) -> tuple[str, c.Disk]:
    """Update Disk (Update-AzureDisk): the label, and with `resized_size_gb` a larger logical size — the page
    blob grows to it, and an attached data disk's size in its VM's DataVirtualHardDisks with it. (request id,
    the disk as it now is: what the API answers with)."""
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        row, disk = _disk(w, name)
        subscriptions.refuse(retirement.may_manage_classic_storage(w.now))
        op_id = w.audited("UpdateDisk", row.id, fix)
        if label is not None:
            disk.label = label
        if resized_size_gb is not None:
            if not disk.logical_size_gb < resized_size_gb <= MAX_DISK_GB:
                raise _bad(msg.ASM_DISK_SHRINK.text(disk=disk.name, size=disk.logical_size_gb,
                                                    resized=resized_size_gb, limit=MAX_DISK_GB))
            disk.logical_size_gb = resized_size_gb
            _grow_blob(w, disk.media_link, media.vhd_blob_size(resized_size_gb))
            if disk.attached:
                _resize_in_role(w, disk, resized_size_gb)
        row.doc = disk.model_dump(mode="json")
        tx.resources.update(row)
        return op_id, disk


def _grow_blob(w: _W, link: str, size: int) -> None:
    where = media.parse(link)
    row = w.tx.resources.get(ids.storage_id(w.sub, where.account))
    if row is None:
        return
    sa = c.StorageAccount.model_validate(row.doc)
    blob = sa.blobs.get(where.path)
    if blob is None or blob.size_bytes >= size:
        return
    _unlocked(row, UnitKind.STORAGE.word)
    sa.blobs[where.path] = blob.model_copy(update={"size_bytes": size})
    row.doc = sa.model_dump(mode="json")
    w.tx.resources.update(row)


def _resize_in_role(w: _W, disk: c.Disk, size: int) -> None:
    """The VM's document holds its data disks' sizes (what Get Role and validation read)."""
    role_row = w.tx.resources.get(ids.role_id(w.sub, disk.hosted_service_name or "", disk.deployment_name or "",
                                              disk.role_name or ""))
    if role_row is None:
        return
    role = c.Role.model_validate(role_row.doc)
    if role.os_disk is not None and role.os_disk.disk_name.lower() == disk.name.lower():
        role.os_disk.logical_size_gb = size
    for d in role.data_disks:
        if d.disk_name.lower() == disk.name.lower():
            d.logical_size_gb = size
    role_row.doc = role.model_dump(mode="json")
    w.tx.resources.update(role_row)


def delete_os_image(ctx: AppContext, name: str, delete_vhd: bool = False, fix: str | None = None) -> str:
    """Delete OS Image; with `delete_vhd` (comp=media) its VHD blob too."""
    return _delete_image(ctx, name, delete_vhd, fix, ids.os_image_id, ids.T_OS_IMAGE, "image", "DeleteOSImage",
                         lambda doc: [m] if (m := c.OSImage.model_validate(doc).media_link) else [])


def delete_vm_image(ctx: AppContext, name: str, delete_vhd: bool = False, fix: str | None = None) -> str:
    """Delete VM Image; with `delete_vhd` (comp=media) the VHD blobs of its disks too."""
    return _delete_image(ctx, name, delete_vhd, fix, ids.vm_image_id, ids.T_VM_IMAGE, "VM image", "DeleteVMImage",
                         lambda doc: list(c.VMImage.model_validate(doc).media_links))


def _delete_image(ctx: AppContext, name: str, delete_vhd: bool, fix: str | None, id_of: Callable[[str, str], str],
                  rtype: str, word: str, action: str, links_of: Callable[[dict[str, Any]], list[str]]) -> str:
    """The one Delete OS Image / Delete VM Image: checks, audit, the blobs with comp=media, the row."""
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        row = _image(w, id_of(w.sub, name), rtype, word, name)
        subscriptions.refuse(retirement.may_manage_classic_storage(w.now))
        op_id = w.audited(action, row.id, fix)
        if delete_vhd:
            _delete_blobs(w, links_of(row.doc))
        tx.resources.delete([row.key])
        return op_id


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in changes.items():
        if isinstance(v, c.Model):
            out[k] = v.model_dump(mode="json")
        elif isinstance(v, list):
            out[k] = [x.model_dump(mode="json") if isinstance(x, c.Model) else x for x in v]
        else:
            out[k] = v
    return out


def _sync_data_disks(w: _W, role: c.Role, hs: c.HostedService, added: set[str], removed: set[str]) -> None:
    luns = [d.lun for d in role.data_disks]
    if len(luns) != len(set(luns)):
        raise _bad(f"Two data disks of virtual machine '{role.name}' use the same LUN.")
    fresh = [d for d in role.data_disks if d.disk_name.lower() in added]
    w.tx.resources.upsert(_disk_rows(w, role.model_copy(update={"os_disk": None, "data_disks": fresh}), hs))
    _detach(w, [ids.disk_id(w.sub, n) for n in removed], delete=False)


def _detach(w: _W, disk_ids: Iterable[str], delete: bool) -> None:
    rows = list(w.tx.resources.get_many(disk_ids).values())
    if delete:
        w.tx.resources.delete([r.key for r in rows])
        return
    changed = []
    for r in rows:
        disk = c.Disk.model_validate(r.doc)
        disk.hosted_service_name = disk.deployment_name = disk.role_name = None
        changed.append(codec.classic_row(w.sub, disk, disk.location))
    w.tx.resources.upsert(changed)


def _role_disk_ids(w: _W, role: c.Role) -> list[str]:
    names = [d.disk_name for d in role.data_disks] + ([role.os_disk.disk_name] if role.os_disk else [])
    return [ids.disk_id(w.sub, n) for n in names]


def delete_role(ctx: AppContext, svc: str, dep_name: str, name: str, delete_media: bool) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        _deployment(w, svc, dep_name)
        row, role = _vm(w, svc, dep_name, name)
        tx.resources.delete([row.key])
        _detach(w, _role_disk_ids(w, role), delete=delete_media)
        return w.record("DeleteRole", row.id)


def add_data_disk(ctx: AppContext, svc: str, dep_name: str, name: str, disk: c.DataDisk) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        _hs_row, hs = _service(w, svc)
        row, role = _vm(w, svc, dep_name, name)
        if any(d.lun == disk.lun for d in role.data_disks):
            raise _conflict(f"A disk is already attached to LUN {disk.lun} of virtual machine '{name}'.")
        if not 0 <= disk.lun <= 63:
            raise _bad(f"The LUN {disk.lun} is out of range (0-63).")
        role.data_disks.append(disk)
        _sync_data_disks(w, role, hs, added={disk.disk_name.lower()}, removed=set())
        row.doc = role.model_dump(mode="json")
        tx.resources.update(row)
        return w.record("AddDataDisk", f"{row.id}/DataDisks/{disk.lun}")


def new_disk_name(svc: str, role: str, index: int, now: datetime) -> str:
    """The name ASM gives a disk the caller did not name."""
    return f"{svc}-{role}-{index}-{now.strftime('%Y%m%d%H%M%S')}{secrets.randbelow(10000):04d}"


def _power(ctx: AppContext, svc: str, dep_name: str, name: str, start: bool, deallocate: bool,
           kind: str | None = None, fix: str | None = None) -> tuple[c.Role, str]:
    """The one power change of a single VM (see `power.change` for its addresses): the VM as it now is and
    the request id of its operation record."""
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        if start:
            subscriptions.refuse(retirement.may_start_classic_vm(w.now))
        row, _role = _vm(w, svc, dep_name, name)
        op_id = w.audited(kind or ("StartRole" if start else "ShutdownRole"), row.id, fix)
        if start:
            status, state = c.InstanceStatus.READY, c.PowerState.STARTED
        else:
            status = c.InstanceStatus.STOPPED_DEALLOCATED if deallocate else c.InstanceStatus.STOPPED_VM
            state = c.PowerState.STOPPED
        written = power.change(tx, w.sub, [(row, status, state)])
        role = c.Role.model_validate((written[0] if written else row).doc)
        return role, op_id


def set_power(ctx: AppContext, svc: str, dep_name: str, name: str, start: bool, deallocate: bool = True) -> str:
    """Start Role / Shutdown Role (PostShutdownAction Stopped or StoppedDeallocated): the request id."""
    return _power(ctx, svc, dep_name, name, start, deallocate)[1]


def start_vm(ctx: AppContext, svc: str, dep: str, name: str) -> c.Role:
    """Start a VM (refused after the retirement date); it gets a valid address back if it had none."""
    return _power(ctx, svc, dep, name, start=True, deallocate=False)[0]


def stop_vm(ctx: AppContext, svc: str, dep: str, name: str, deallocate: bool = True) -> c.Role:
    """Stop a VM: deallocated (its dynamic addresses given back) unless `deallocate` is False."""
    return _power(ctx, svc, dep, name, start=False, deallocate=deallocate)[0]


def _delete_deployment(w: _W, svc: str, dep_name: str, delete_media: bool) -> Row:
    row, dep = _deployment(w, svc, dep_name)
    roles = w.tx.resources.query(w.sub, parent_key=row.key)
    for r in roles:
        if _locked(r):
            raise Locked(msg.R51_VM_LOCKED.text())
    disk_ids: list[str] = []
    for r in roles:
        if r.type in (ids.T_VM, ids.T_PAAS_ROLE):
            disk_ids.extend(_role_disk_ids(w, c.Role.model_validate(r.doc)))
    w.tx.resources.delete([r.key for r in roles] + [row.key])
    _detach(w, disk_ids, delete=delete_media)
    if dep.reserved_ip_name:
        rip_row = w.tx.resources.get(ids.reserved_ip_id(w.sub, dep.reserved_ip_name))
        if rip_row is not None:
            rip = c.ReservedIP.model_validate(rip_row.doc)
            rip.service_name = rip.deployment_name = rip.virtual_ip_name = None
            w.tx.resources.upsert([codec.classic_row(w.sub, rip)])
    return row


def delete_deployment(ctx: AppContext, svc: str, dep_name: str, delete_media: bool) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        row = _delete_deployment(w, svc, dep_name, delete_media)
        return w.record("DeleteDeployment", row.id)


# --------------------------------------------------------------------------- storage


def create_storage_account(ctx: AppContext, account: c.StorageAccount) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        subscriptions.refuse(retirement.may_create_classic_storage(w.subscription, w.now))
        _check_name(account.name, _STORAGE_NAME, "storage account")
        if tx.resources.query(types=[ids.T_STORAGE], name=account.name):
            raise _conflict(f"The storage account named '{account.name}' is already taken.")
        account.location = _place(w, account.location, account.affinity_group, "storage account")
        account.created, account.status = w.now, "Created"
        account.primary_key = base64.b64encode(secrets.token_bytes(64)).decode()
        account.secondary_key = base64.b64encode(secrets.token_bytes(64)).decode()
        account.extended_properties = {**account.extended_properties,
                                       "ResourceGroup": ids.default_storage_rg(account.location),
                                       "ResourceLocation": account.location}
        tx.resources.insert([codec.classic_row(w.sub, account)])
        return w.record("CreateStorageService", ids.storage_id(w.sub, account.name))


def delete_storage_account(ctx: AppContext, name: str) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        row = tx.resources.get(ids.storage_id(w.sub, name))
        if row is None:
            raise NotFound(msg.R02_STORAGE_NOT_FOUND.text(name=name))
        _unlocked(row, UnitKind.STORAGE.word)
        subscriptions.refuse(retirement.may_manage_classic_storage(w.now))
        _refuse_in_use(w, row.name)
        tx.resources.delete([row.key])
        return w.record("DeleteStorageService", row.id)


def _refuse_in_use(w: _W, account: str) -> None:
    """Delete Storage Account is refused while the account holds VHDs in use: classic disks (attached or not)
    and images, the disks of classic VMs (a prepared VM's too), and the disks of VMs already in ARM."""
    links = [str(d["doc_media_link"] or "") for d in w.tx.resources.project(w.sub, [ids.T_DISK], ["media_link"])]
    links += [str(i.doc.get("media_link") or "") for i in w.tx.resources.query(w.sub, types=[ids.T_OS_IMAGE])]
    links += [m for i in w.tx.resources.query(w.sub, types=[ids.T_VM_IMAGE]) for m in i.doc.get("media_links", [])]
    links += [v.media_link for v in sources.vm_vhds(w.tx, w.sub).get(account.lower(), [])]
    containers = {media.parse(link).container for link in links if media.blob_in(link, account)}
    if containers:
        raise ServiceError(*msg.STORAGE_ACTIVE_ARTIFACTS.render(name=account, count=len(containers)), 400)
    arm_vms = sorted(name for name, link in sources.arm_vm_vhds(w.tx, w.sub) if media.blob_in(link, account))
    if arm_vms:
        code, text = msg.STORAGE_ARM_VM_DISKS.render(name=account, count=len(set(arm_vms)), vm=arm_vms[0])
        raise ServiceError(code, text, 409)


# --------------------------------------------------------------------------- reserved IPs


def _reserved_ip(w: _W, name: str) -> tuple[Row, c.ReservedIP]:
    row = w.tx.resources.get(ids.reserved_ip_id(w.sub, name))
    if row is None:
        raise NotFound(msg.R02_RESERVED_IP_NOT_FOUND.text(name=name))
    _unlocked(row, UnitKind.RESERVED_IP.word)
    return row, c.ReservedIP.model_validate(row.doc)


def _free_reserved_ip(w: _W, name: str) -> tuple[Row, c.ReservedIP]:
    row, rip = _reserved_ip(w, name)
    if rip.in_use:
        raise _conflict(f"The reserved IP '{name}' is already in use by deployment '{rip.deployment_name}' of "
                        f"hosted service '{rip.service_name}'.")
    return row, rip


def create_reserved_ip(ctx: AppContext, rip: c.ReservedIP) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        _check_name(rip.name, _RESOURCE_NAME, "reserved IP")
        if tx.resources.get(ids.reserved_ip_id(w.sub, rip.name)) is not None:
            raise _conflict(f"A reserved IP named '{rip.name}' already exists.")
        rip.location = _location(rip.location, "reserved IP")
        rip.address = _public_address(w, f"rip/{rip.name}", _public_taken(w))
        rip.id, rip.state = str(uuid.uuid4()), "Created"
        rip.service_name = rip.deployment_name = rip.virtual_ip_name = None
        tx.resources.insert([codec.classic_row(w.sub, rip)])
        return w.record("CreateReservedIP", ids.reserved_ip_id(w.sub, rip.name))


def delete_reserved_ip(ctx: AppContext, name: str) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        row, _rip = _free_reserved_ip(w, name)
        tx.resources.delete([row.key])
        return w.record("DeleteReservedIP", row.id)


def associate_reserved_ip(ctx: AppContext, name: str, svc: str, dep_name: str, vip_name: str | None) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        rip_row, rip = _free_reserved_ip(w, name)
        dep_row, dep = _deployment(w, svc, dep_name)
        if dep.reserved_ip_name:
            raise _conflict(f"Deployment '{dep.name}' already uses reserved IP '{dep.reserved_ip_name}'.")
        rip.service_name, rip.deployment_name, rip.virtual_ip_name = svc, dep.name, vip_name
        dep.reserved_ip_name = rip.name
        target = next((v for v in dep.virtual_ips if vip_name and v.name == vip_name), None)
        if target is None and dep.virtual_ips:
            target = dep.virtual_ips[0]
        if target is None:
            dep.virtual_ips.append(c.VirtualIP(name=vip_name or f"{dep.name}ContractContract", address=rip.address))
            target = dep.virtual_ips[-1]
        target.address, target.is_reserved, target.reserved_ip_name = rip.address, True, rip.name
        dep_row.doc = dep.model_dump(mode="json")
        tx.resources.update(dep_row)
        tx.resources.upsert([codec.classic_row(w.sub, rip)])
        return w.record("AssociateReservedIP", rip_row.id)


def disassociate_reserved_ip(ctx: AppContext, name: str, svc: str, dep_name: str) -> str:
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        rip_row, rip = _reserved_ip(w, name)
        dep_row, dep = _deployment(w, svc, dep_name)
        if (rip.deployment_name or "").lower() != dep.name.lower():
            raise _bad(f"The reserved IP '{name}' is not associated with deployment '{dep.name}'.")
        rip.service_name = rip.deployment_name = rip.virtual_ip_name = None
        dep.reserved_ip_name = None
        taken = _public_taken(w)
        for v in dep.virtual_ips:
            if v.reserved_ip_name and v.reserved_ip_name.lower() == name.lower():
                v.address, v.is_reserved, v.reserved_ip_name = _public_address(w, f"{svc}/{v.name}", taken), False, None
        dep_row.doc = dep.model_dump(mode="json")
        tx.resources.update(dep_row)
        tx.resources.upsert([codec.classic_row(w.sub, rip)])
        return w.record("DisassociateReservedIP", rip_row.id)


# --------------------------------------------------------------------------- network configuration

def _netcfg_view(v: c.VirtualNetworkSite) -> tuple[Any, ...]:
    """What a netcfg document says about a VNet (the rest — route tables, gateway type and VIP — it can't)."""
    gw = v.gateway
    return (v.location, v.address_space, [(s.name.lower(), s.address_prefix, s.network_security_group)
                                          for s in v.subnets],
            [(d.name, d.address) for d in v.dns_servers],
            None if gw is None else (gw.profile, gw.vpn_client_address_pool,
                                     [(x.local_network_site.lower(), x.type) for x in gw.connections]))


def _keep_unexpressed(before: c.VirtualNetworkSite, vnet: c.VirtualNetworkSite) -> None:
    """Carry over what the netcfg document cannot express."""
    vnet.id, vnet.state, vnet.label = before.id, before.state, vnet.label or before.label
    vnet.peerings = before.peerings
    for flag in ("contains_app_service_environment", "contains_hdinsight", "contains_api_management",
                 "contains_batch", "contains_application_gateway"):
        setattr(vnet, flag, getattr(before, flag))
    tables = {s.name.lower(): s.route_table for s in before.subnets}
    for sn in vnet.subnets:
        sn.route_table = sn.route_table or tables.get(sn.name.lower())
    if vnet.gateway is not None and before.gateway is not None:
        vnet.gateway.type, vnet.gateway.vip = before.gateway.type, before.gateway.vip
        vnet.gateway.express_route_circuit = before.gateway.express_route_circuit


def set_network_configuration(ctx: AppContext, vnets: list[c.VirtualNetworkSite],
                              local_sites: list[c.LocalNetworkSite]) -> str:
    """Set Network Configuration: the document replaces every VNet and local network site. VNets being
    migrated may not change or disappear (R50)."""
    with ctx.store.tx() as tx:
        w = _begin(ctx, tx)
        names = [v.name.lower() for v in vnets]
        if len(names) != len(set(names)):
            raise _bad("The network configuration names a virtual network twice.")
        existing = {r.name.lower(): r for r in tx.resources.query(w.sub, types=[ids.T_VNET])}
        in_use = {str(d.doc.get("virtual_network_name") or "").lower(): d.name
                  for d in tx.resources.query(w.sub, types=[ids.T_DEPLOYMENT])}
        rows: list[Row] = []
        for vnet in vnets:
            _check_name(vnet.name, _RESOURCE_NAME, "virtual network")
            vnet.location = _place(w, vnet.location, vnet.affinity_group, f"virtual network {vnet.name}")
            old = existing.get(vnet.name.lower())
            if old is None:
                vnet.id, vnet.state = str(uuid.uuid4()), "Created"
                rows.append(codec.classic_row(w.sub, vnet))
                continue
            before = c.VirtualNetworkSite.model_validate(old.doc)
            if _netcfg_view(before) == _netcfg_view(vnet):
                continue
            _keep_unexpressed(before, vnet)
            _unlocked(old, UnitKind.VNET.word)
            rows.append(codec.classic_row(w.sub, vnet))
        gone = [r for n, r in existing.items() if n not in set(names)]
        for r in gone:
            _unlocked(r, UnitKind.VNET.word)
            if r.name.lower() in in_use:
                raise _bad(f"Virtual network {r.name} is in use by deployment '{in_use[r.name.lower()]}' and "
                           f"cannot be removed.")
        tx.resources.upsert(rows)
        tx.resources.delete([r.key for r in gone])
        old_sites = {r.name.lower(): r for r in tx.resources.query(w.sub, types=[ids.T_LOCAL_SITE])}
        new_sites = {s.name.lower() for s in local_sites}
        tx.resources.upsert([codec.classic_row(w.sub, s) for s in local_sites])
        tx.resources.delete([r.key for n, r in old_sites.items() if n not in new_sites])
        return w.record("SetNetworkConfiguration", f"/{w.sub}/services/networking/media")
