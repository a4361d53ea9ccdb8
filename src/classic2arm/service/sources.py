"""Where a unit's snapshot is read from: the database one query at a time (`DbSource`, for a single unit),
or an index of every classic resource of the subscription loaded in a few queries (`IndexSource`, for
validating or migrating many units at once without N+1 queries). Both parse each document once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol, TypeVar

import orjson
from pydantic import BaseModel

from ..domain import arm as armt
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import media
from ..domain.units import VmVhd
from ..store import Row, TextRow, Tx

M = TypeVar("M", bound=BaseModel)


class Source(Protocol):
    def subscription(self) -> c.Subscription: ...
    def get(self, key: str) -> Row | None: ...
    def get_many(self, keys: set[str]) -> dict[str, Row]: ...
    def children(self, parent_keys: list[str], rtype: str) -> list[Row]: ...
    def by_names(self, rtype: str, names: set[str]) -> list[Row]: ...
    def of_type(self, rtype: str) -> list[Row]: ...
    def deployments_in_vnet(self, vnet: str) -> list[Row]: ...
    def disks_in_account(self, account: str) -> list[Row]: ...
    def vhds_in_account(self, account: str) -> list[VmVhd]: ...
    def vms_using_nsg(self, nsg: str) -> list[Row]: ...
    def usage(self, region: str) -> dict[str, int]: ...
    def model(self, cls: type[M], row: Row) -> M: ...


class DbSource:
    def __init__(self, tx: Tx, sub: str) -> None:
        self.tx, self.sub = tx, sub
        self._models: dict[tuple[str, int], Any] = {}

    def subscription(self) -> c.Subscription:
        doc = self.tx.subscriptions.get(self.sub)
        return c.Subscription.model_validate(doc) if doc else c.Subscription(id=self.sub)

    def get(self, key: str) -> Row | None:
        return self.tx.resources.get(key)

    def get_many(self, keys: set[str]) -> dict[str, Row]:
        return self.tx.resources.get_many(keys)

    def children(self, parent_keys: list[str], rtype: str) -> list[Row]:
        return self.tx.resources.query(self.sub, types=[rtype], parent_keys=parent_keys) if parent_keys else []

    def by_names(self, rtype: str, names: set[str]) -> list[Row]:
        return self.tx.resources.query(self.sub, types=[rtype], names=sorted(names)) if names else []

    def of_type(self, rtype: str) -> list[Row]:
        return self.tx.resources.query(self.sub, types=[rtype])

    def deployments_in_vnet(self, vnet: str) -> list[Row]:
        keys = [d["key"] for d in self.tx.resources.project(self.sub, [ids.T_DEPLOYMENT], ["virtual_network_name"])
                if (d["doc_virtual_network_name"] or "").lower() == vnet.lower()]
        return sorted(self.tx.resources.get_many(keys).values(), key=lambda r: r.key)

    def disks_in_account(self, account: str) -> list[Row]:
        """The classic disks whose VHD is in storage account `account`, in key order."""
        keys = disk_accounts(self.tx, self.sub).get(account.lower(), ())
        return sorted(self.tx.resources.get_many(keys).values(), key=lambda r: r.key)

    def vhds_in_account(self, account: str) -> list[VmVhd]:
        """The OS and data disks of classic VMs whose VHD is in storage account `account`, in VM key order."""
        return list(vm_vhds(self.tx, self.sub).get(account.lower(), ()))

    def vms_using_nsg(self, nsg: str) -> list[Row]:
        """The classic VMs whose NIC (primary or secondary) names NSG `nsg`, in key order."""
        keys = nsg_users(self.tx, self.sub).get(nsg.lower(), [])
        return sorted(self.tx.resources.get_many(keys).values(), key=lambda r: r.key)

    def usage(self, region: str) -> dict[str, int]:
        return self.tx.usage.in_location(self.sub, region)

    def model(self, cls: type[M], row: Row) -> M:
        found = self._models.get((row.key, row.version))
        if found is None:
            found = self._parse(cls, row)
        assert isinstance(found, cls)
        return found

    def _parse(self, cls: type[M], row: Row) -> M:
        """The row's model, parsed now and cached for `model`."""
        text = row.text if isinstance(row, TextRow) else None  # (straight from the stored JSON: no dict)
        found = cls.model_validate_json(text) if text is not None else cls.model_validate(row.doc)
        self._models[(row.key, row.version)] = found
        return found


def disk_accounts(tx: Tx, sub: str) -> dict[str, list[str]]:
    """The keys of the subscription's classic disks by the storage account of their VHD (one query of two
    columns: no document parsed)."""
    out: dict[str, list[str]] = {}
    for d in tx.resources.project(sub, [ids.T_DISK], ["media_link"]):
        out.setdefault(media.account_of(d["doc_media_link"] or ""), []).append(d["key"])
    return out


def vm_vhds(tx: Tx, sub: str) -> dict[str, list[VmVhd]]:
    """The OS and data disks of the subscription's classic VMs (in VM key order) by the lower-case storage
    account of their media link: two document fields extracted by the database, no VM document parsed. A VM's
    attached disks are read from the VM itself, so a disk no classic Disk object names still counts."""
    out: dict[str, list[VmVhd]] = {}
    for d in tx.resources.project(sub, [ids.T_VM], ["os_disk", "data_disks"]):
        disks = [orjson.loads(d["doc_os_disk"])] if d["doc_os_disk"] else []
        if d["doc_data_disks"]:
            disks += orjson.loads(d["doc_data_disks"])
        for disk in disks:
            link = str(disk.get("media_link") or "")
            out.setdefault(media.account_of(link), []).append(VmVhd(d["key"], str(disk.get("disk_name") or ""), link))
    return out


def arm_vm_vhds(tx: Tx, sub: str) -> list[tuple[str, str]]:
    """(VM name, VHD URI) of every OS and data disk of the subscription's ARM VMs (unmanaged disks: the VHDs a
    migrated VM keeps using where they were)."""
    out: list[tuple[str, str]] = []
    for d in tx.resources.project(sub, [armt.VM], ["properties"]):
        profile = orjson.loads(d["doc_properties"] or "{}").get("storageProfile") or {}
        for disk in [profile.get("osDisk") or {}, *(profile.get("dataDisks") or [])]:
            uri = (disk.get("vhd") or {}).get("uri")
            if uri:
                out.append((d["name"], str(uri)))
    return out


def nsg_users(tx: Tx, sub: str) -> dict[str, list[str]]:
    """The keys of the subscription's classic VMs (in key order) by the lower-case names of the NSGs their
    NICs name: two fields extracted by the database, no VM document parsed."""
    out: dict[str, list[str]] = {}
    for d in tx.resources.project(sub, [ids.T_VM], ["network_security_group", "secondary_nics"]):
        names = {d["doc_network_security_group"] or ""}
        if d["doc_secondary_nics"]:
            names |= {n.get("network_security_group") or "" for n in orjson.loads(d["doc_secondary_nics"])}
        for name in names - {""}:
            out.setdefault(name.lower(), []).append(d["key"])
    return out


# Disks are as many as VMs again, and no VM or VNet unit reads them (a VM's disks are references inside its
# document; they hold their VM's lock, see locks.py): left out of the index, read from the database
# by the storage units that do read them (`of_type`).
_NOT_INDEXED = frozenset({ids.T_DISK})
_INDEXED = frozenset(ids.CLASSIC_TYPES) - _NOT_INDEXED
# The types units look up by name (the resources a VM or deployment refers to by name); the others (VMs,
# deployments, services: most of the rows) are reached by key, parent or type, and not indexed by name.
_BY_NAME = frozenset({ids.T_STORAGE, ids.T_RESERVED_IP, ids.T_NSG, ids.T_ROUTE_TABLE, ids.T_LOCAL_SITE})


class IndexSource(DbSource):
    """Every classic row of the subscription but disks, indexed by key, parent, type and name.

    It can be kept and brought up to date in a later transaction (`refresh`) from the event log, which every
    write appends to: rows created are read, rows deleted dropped, rows updated marked stale and read again
    when next used. Only on SQLite, whose writers commit one at a time, is "every event after the last one
    seen" exactly what changed; a PostgreSQL sequence can commit out of order, so there a kept index must be
    rebuilt (`exact_refresh`)."""

    def __init__(self, tx: Tx, sub: str) -> None:
        super().__init__(tx, sub)
        self.seq = tx.events.last_seq()  # read before the rows: a write in between is seen again, not missed
        self._sub = super().subscription()
        self.rows: dict[str, Row] = {}
        self._children: dict[tuple[str, str], dict[str, Row]] = {}
        self._types: dict[str, dict[str, Row]] = {}
        self._names: dict[tuple[str, str], dict[str, Row]] = {}
        self._vnet_deps: dict[str, dict[str, Row]] = {}
        self._stale: set[str] = set()
        # Disk rows by storage account, read when a storage unit first asks and dropped whenever a disk is
        # written (disks are not indexed otherwise).
        self._disks: dict[str, list[Row]] | None = None
        # VM keys by the NSGs they name (for NSG units), built when first asked and dropped on any change;
        # likewise the VMs' disks by storage account (for storage units).
        self._nsg_users: dict[str, list[str]] | None = None
        self._vm_vhds: dict[str, list[VmVhd]] | None = None
        self._usage: dict[str, dict[str, int]] | None = None  # see `prepare_usage`
        for row in tx.resources.query(sub, model=ids.CLASSIC, types=sorted(_INDEXED), text_docs=True, ordered=False):
            self._add(row)

    @property
    def exact_refresh(self) -> bool:
        return self.tx.conn.dialect.name == "sqlite"

    def _changed(self) -> None:
        """Something indexed changed: drop what is derived from many rows."""
        self._nsg_users = None
        self._vm_vhds = None

    def _add(self, row: Row) -> None:
        self._changed()
        self.rows[row.key] = row
        self._types.setdefault(row.type, {})[row.key] = row
        if row.type in _BY_NAME:
            self._names.setdefault((row.type, row.name.lower()), {})[row.key] = row
        if row.parent_key:
            self._children.setdefault((row.parent_key, row.type), {})[row.key] = row
        if row.type == ids.T_DEPLOYMENT and row.doc.get("virtual_network_name"):
            self._vnet_deps.setdefault(str(row.doc["virtual_network_name"]).lower(), {})[row.key] = row

    def _drop(self, key: str) -> None:
        self._changed()
        row = self.rows.pop(key, None)
        self._stale.discard(key)
        if row is None:
            return
        self._models.pop((row.key, row.version), None)
        self._types.get(row.type, {}).pop(key, None)
        if row.type in _BY_NAME:
            self._names.get((row.type, row.name.lower()), {}).pop(key, None)
        if row.parent_key:
            self._children.get((row.parent_key, row.type), {}).pop(key, None)
        if row.type == ids.T_DEPLOYMENT and row.doc.get("virtual_network_name"):
            self._vnet_deps.get(str(row.doc["virtual_network_name"]).lower(), {}).pop(key, None)

    def _put(self, row: Row) -> None:
        self._drop(row.key)
        self._add(row)

    def refresh(self, tx: Tx) -> None:
        """Bring the index up to what `tx` sees (SQLite; see the class notes)."""
        self.tx = tx
        self._sub = super().subscription()
        fetch: set[str] = set()
        for seq, key, rtype, action in tx.events.after(self.sub, self.seq):
            self.seq = max(self.seq, seq)
            if rtype == ids.T_DISK:
                self._disks = None
            if rtype not in _INDEXED:
                continue
            if action == "delete":
                self._drop(key)
                fetch.discard(key)
            elif action == "create" or rtype == ids.T_DEPLOYMENT:  # (a deployment's VNet is indexed)
                fetch.add(key)
            else:
                self._stale.add(key)
                self._changed()
        self._reload(fetch)

    def written(self, keys: Iterable[str], seq: int) -> None:
        """The caller has written these rows and nothing else of the subscription's classic rows, up to event
        `seq`, in a transaction nobody else wrote in (a SQLite writer's): mark them stale, skip those events."""
        self._stale.update(k for k in keys if k in self.rows)
        self._disks = None  # (the events skipped may include disks')
        self._changed()
        self.seq = max(self.seq, seq)

    def _reload(self, keys: set[str]) -> None:
        if not keys:
            return
        found = self.tx.resources.get_many(keys)
        for key in keys:
            row = found.get(key)
            if row is None:
                self._drop(key)
            else:
                self._put(row)
        self._stale -= keys

    def _fresh(self, rows: Iterable[Row]) -> list[Row]:
        out = list(rows)
        stale = {r.key for r in out} & self._stale
        if stale:
            self._reload(stale)
            out = [self.rows[r.key] for r in out if r.key in self.rows]
        return out

    def subscription(self) -> c.Subscription:
        return self._sub

    def prepare_usage(self, regions: Iterable[str] | None) -> None:
        """Read the ARM usage of these regions now and answer `usage` from it until called with None: for a
        caller that must not query the database for a while (the plan's worker process)."""
        self._usage = None if regions is None else {r: self.tx.usage.in_location(self.sub, r) for r in regions}

    def usage(self, region: str) -> dict[str, int]:
        if self._usage is not None and region in self._usage:
            return dict(self._usage[region])
        return super().usage(region)

    def fresh_all(self) -> None:
        """Read again every row marked stale now, so that what is indexed is served without the database."""
        self._reload(set(self._stale))

    def get(self, key: str) -> Row | None:
        row = self.rows.get(key.lower())
        return self._fresh([row])[0] if row is not None else None

    def get_many(self, keys: set[str]) -> dict[str, Row]:
        return {r.key: r for r in self._fresh(self.rows[k.lower()] for k in keys if k.lower() in self.rows)}

    def children(self, parent_keys: list[str], rtype: str) -> list[Row]:
        if rtype in _NOT_INDEXED:
            return super().children(parent_keys, rtype)
        return self._fresh(r for p in parent_keys for r in self._children.get((p.lower(), rtype), {}).values())

    def by_names(self, rtype: str, names: set[str]) -> list[Row]:
        if rtype not in _BY_NAME:
            return super().by_names(rtype, names)
        return self._fresh(r for n in sorted(names) for r in self._names.get((rtype, n.lower()), {}).values())

    def of_type(self, rtype: str) -> list[Row]:
        if rtype in _NOT_INDEXED:
            return super().of_type(rtype)
        return self._fresh(sorted(self._types.get(rtype, {}).values(), key=lambda r: r.key))

    def deployments_in_vnet(self, vnet: str) -> list[Row]:
        return self._fresh(sorted(self._vnet_deps.get(vnet.lower(), {}).values(), key=lambda r: r.key))

    def disks_in_account(self, account: str) -> list[Row]:
        if self._disks is None:
            # Grouped by the account of each disk's parsed model (every storage unit parses its disks anyway):
            # no second query for the media links.
            found = self.tx.resources.query(self.sub, types=[ids.T_DISK], text_docs=True, ordered=False)
            disks: dict[str, list[Row]] = {}
            for r in sorted(found, key=lambda r: r.key):  # (parsed again: disks are not indexed, so a disk
                # deleted and created again with the same key and version must not get its old model)
                disks.setdefault(media.account_of(self._parse(c.Disk, r).media_link), []).append(r)
            self._disks = disks
        return list(self._disks.get(account.lower(), []))

    def _vm_disks_and_nsgs(self) -> Iterator[tuple[Row, list[tuple[str, str]], set[str]]]:
        """Each indexed classic VM in key order with its disks (name, media link) and the NSGs its NICs name:
        what `vm_vhds` and `nsg_users` read from the database, here from the VM's model where it is parsed
        already (the units that load VMs parse them), else from its document (a JSON parse, no validation)."""
        for row in self.of_type(ids.T_VM):
            role = self._models.get((row.key, row.version))
            if isinstance(role, c.Role):
                disks = [(d.disk_name, d.media_link) for d in ([role.os_disk] if role.os_disk else [])]
                disks += [(d.disk_name, d.media_link) for d in role.data_disks]
                nsgs = {role.network_security_group or ""} | {n.network_security_group or ""
                                                              for n in role.secondary_nics}
            else:
                doc = row.doc
                raw = ([doc["os_disk"]] if doc.get("os_disk") else []) + list(doc.get("data_disks") or [])
                disks = [(str(d.get("disk_name") or ""), str(d.get("media_link") or "")) for d in raw]
                nsgs = {doc.get("network_security_group") or ""} | {n.get("network_security_group") or ""
                                                                    for n in doc.get("secondary_nics") or []}
            yield row, disks, nsgs - {""}

    def vhds_in_account(self, account: str) -> list[VmVhd]:
        if self._vm_vhds is None:
            vhds: dict[str, list[VmVhd]] = {}
            for row, disks, _ in self._vm_disks_and_nsgs():
                for name, link in disks:
                    vhds.setdefault(media.account_of(link), []).append(VmVhd(row.key, name, link))
            self._vm_vhds = vhds
        return list(self._vm_vhds.get(account.lower(), ()))

    def vms_using_nsg(self, nsg: str) -> list[Row]:
        if self._nsg_users is None:
            users: dict[str, list[str]] = {}
            for row, _, names in self._vm_disks_and_nsgs():
                for name in names:
                    users.setdefault(name.lower(), []).append(row.key)
            self._nsg_users = users
        return self._fresh(self.rows[k] for k in self._nsg_users.get(nsg.lower(), []) if k in self.rows)
