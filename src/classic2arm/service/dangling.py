"""References to resources no imported file describes (issue 14): a deployment in a VNet nobody imported, disks
in storage accounts nobody imported, a reserved IP bound to an unknown cloud service; and, among `plan`'s findings,
the hosted services an import placed by an assumption (`location_inferred`: no file gave their location).

At import each is a note (or, with `--strict`, a refusal); disks whose account is unknown get an *inferred*
classic storage account, its blobs sized from the disks, so that their deployment can be rehearsed. `plan`
reports the same findings from the store (`findings`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..domain import catalogue as t
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import media
from ..domain.estate import Estate
from ..store import Row, Tx
from . import codec

Fail = Callable[[object, str, str], None]


@dataclass(frozen=True, slots=True)
class Finding:
    """One dangling reference: what refers, to what, and what that means for the migration."""

    kind: str  # "vnet" | "storage" | "reserved-ip" | "location" (a hosted service placed by an assumption)
    subject: str
    text: str


def _vnet_missing(dep: c.Deployment) -> str:
    return (f"deployment '{dep.name}' of hosted service '{dep.service_name}' is in virtual network "
            f"'{dep.virtual_network_name}', which no imported file describes: it belongs to no migration unit "
            "until that VNet is imported (its netcfg or List Virtual Network Sites body)")


def _service_missing(rip: c.ReservedIP) -> str:
    return (f"reserved IP '{rip.name}' is associated with hosted service '{rip.service_name}', which no imported "
            "file describes: it can't migrate until that service is imported (or the IP is disassociated)")


def _inferred_note(sa: c.StorageAccount) -> str:
    return (f"storage account '{sa.name}' holds disks but no imported file describes it: inferred as a classic "
            f"storage account (marked inferred, {len(sa.blobs)} VHD blob{'s' if len(sa.blobs) != 1 else ''} sized "
            "from the disks) so their deployment can be rehearsed; import its Get Storage Account body to replace it")


def _disk_blobs(roles: Iterable[c.Role], disks: Iterable[c.Disk]) -> dict[str, dict[str, tuple[int, object]]]:
    """account -> blob path -> (size in bytes, the object that names it)."""
    out: dict[str, dict[str, tuple[int, object]]] = {}
    for role in roles:
        if role.os_disk is not None:
            gb = role.os_disk.logical_size_gb or media.os_disk_gb(role.os_disk.os)
            where = media.parse(role.os_disk.media_link)
            out.setdefault(where.account, {}).setdefault(where.path, (media.vhd_blob_size(gb), role))
        for dd in role.data_disks:
            where = media.parse(dd.media_link)
            out.setdefault(where.account, {}).setdefault(where.path, (media.vhd_blob_size(dd.logical_size_gb), role))
    for disk in disks:
        where = media.parse(disk.media_link)
        gb = disk.logical_size_gb or media.os_disk_gb(disk.os)
        out.setdefault(where.account, {}).setdefault(where.path, (media.vhd_blob_size(gb), disk))
    return out


def accounts_of(roles: Iterable[c.Role]) -> set[str]:
    """The storage accounts (lower-case) that hold the roles' disks."""
    return {account for account in _disk_blobs(roles, ()) if account}


def resolve(tx: Tx, sub: str, estate: Estate, services: dict[str, tuple[str | None, str]], assumed: set[str],
            vnet_locations: dict[str, str | None], strict: bool, fail: Fail) -> list[Row]:
    """Notes (or, strict, problems) for what the estate refers to and nobody describes; rows of the inferred
    storage accounts. An inferred account is where the service of its first disk is; `assumed` names the services
    whose location is itself inferred: an account an earlier import placed keeps its location unless its service's
    real location is known now."""
    def dangling(item: object, label: str, text: str) -> None:
        if strict:
            fail(item, label, text + " (--strict)")
        else:
            estate.notes.append(text)

    for dep in estate.deployments:
        if dep.virtual_network_name and dep.virtual_network_name.lower() not in vnet_locations:
            dangling(dep, f"Deployment '{dep.name}'", _vnet_missing(dep))
    for rip in estate.reserved_ips:
        if rip.service_name and rip.service_name.lower() not in services:
            dangling(rip, f"ReservedIP '{rip.name}'", _service_missing(rip))
    known = {sa.name.lower() for sa in estate.storage_accounts}
    inferred: dict[str, c.StorageAccount] = {}  # inferred by an earlier import: may learn blobs and a location
    for r in tx.resources.query(sub, types=[ids.T_STORAGE]):
        if r.doc.get("inferred"):
            inferred[r.name.lower()] = c.StorageAccount.model_validate(r.doc)
        else:
            known.add(r.name.lower())
    rows: list[Row] = []
    by_account = _disk_blobs(estate.roles, estate.disks)
    for account, blobs in sorted(by_account.items()):
        if not account or account in known:
            continue
        earlier = inferred.get(account)
        first = next(iter(blobs.values()))[1]
        if strict:
            fail(first, f"storage account '{account}'", "holds disks of this estate but no imported file describes "
                                                         "it (--strict)")
            continue
        hs = first.service_name if isinstance(first, c.Role) else None
        location = services.get(hs.lower(), (None, ""))[0] if hs else None
        sizes = {path: c.Blob(size_bytes=size) for path, (size, _) in sorted(blobs.items())}
        if earlier is not None:
            if not location or (hs and hs.lower() in assumed):
                location = earlier.location or location
            if location == earlier.location and set(sizes) <= set(earlier.blobs):
                continue  # nothing new to learn
            sizes = {**sizes, **earlier.blobs}
        sa = c.StorageAccount(name=account, location=location, inferred=True,
                              label="inferred from the disks that live in it", blobs=dict(sorted(sizes.items())))
        estate.notes.append(_inferred_note(sa))
        rows.append(codec.classic_row(sub, sa))
    return rows


def findings(tx: Tx, sub: str) -> list[Finding]:
    """The dangling references of what the store holds now (what `plan` reports)."""
    vnets = {r.name.lower() for r in tx.resources.query(sub, types=[ids.T_VNET])}
    services = {r.name.lower() for r in tx.resources.query(sub, types=[ids.T_HOSTED_SERVICE])}
    out: list[Finding] = []
    for row in tx.resources.query(sub, types=[ids.T_DEPLOYMENT]):
        dep = c.Deployment.model_validate(row.doc)
        if dep.virtual_network_name and dep.virtual_network_name.lower() not in vnets:
            out.append(Finding("vnet", f"{dep.service_name}/{dep.name}", _vnet_missing(dep)))
    for row in tx.resources.query(sub, types=[ids.T_RESERVED_IP]):
        rip = c.ReservedIP.model_validate(row.doc)
        if rip.service_name and rip.service_name.lower() not in services:
            out.append(Finding("reserved-ip", rip.name, _service_missing(rip)))
    for row in tx.resources.query(sub, types=[ids.T_STORAGE]):
        if row.doc.get("inferred"):
            sa = c.StorageAccount.model_validate(row.doc)
            out.append(Finding("storage", sa.name, _inferred_note(sa)))
    assumed: dict[str, list[str]] = {}  # location -> the services placed there by an assumption of the import
    for row in tx.resources.query(sub, types=[ids.T_HOSTED_SERVICE]):
        if row.doc.get("location_inferred") and row.doc.get("location"):
            assumed.setdefault(row.doc["location"], []).append(row.name)
    for where, names in sorted(assumed.items()):
        many = len(names) > 1
        listed = ", ".join(repr(n) for n in sorted(names, key=str.lower))
        out.append(Finding("location", listed, t.PLAN_LOCATION_INFERRED.text(
            services=f"hosted service{'s' if many else ''} {listed}", are="are" if many else "is", location=where)))
    return out
