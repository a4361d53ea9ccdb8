"""Disk and storage-reference rules (spec §4.2 R25–R28).

R25/R26 follow the doc texts, which speak of *data* disks: the size check reads the page blob behind
each data disk in `snap.storage_accounts[account].blobs["container/blob"]`; a missing account or blob
is the "storage exception" of R26. R27 (blob name with '/') applies to OS and data disks alike.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import catalogue as t
from .. import classic as c
from ..media import GIB, parse, vhd_blob_size
from ..units import Message, UnitKind, UnitSnapshot
from ._common import DISK, ERROR, VIRTUAL_MACHINE, WARNING, msg
from .registry import rule

DEP_AND_VNET = {UnitKind.DEPLOYMENT, UnitKind.VNET}


@rule(id="R25", scopes=DEP_AND_VNET, category=WARNING)
def data_disk_size(snap: UnitSnapshot) -> Iterator[Message]:
    """Data disk whose blob size doesn't match its logical size: migrates without a size (Warning)."""
    for cs in snap.services:
        for vm in cs.vms:
            for disk in vm.data_disks:
                blob = snap.blob(disk.media_link)
                if blob is not None and blob.size_bytes != vhd_blob_size(disk.logical_size_gb):
                    yield msg(t.R25_DISK_SIZE_MISMATCH, WARNING, DISK, disk.disk_name, vm=vm.name,
                              dep=cs.deployment.name, hs=cs.name, disk=disk.disk_name, blob_size=blob.size_bytes,
                              logical_size=disk.logical_size_gb * GIB)


@rule(id="R26", scopes=DEP_AND_VNET)
def data_disk_inaccessible(snap: UnitSnapshot) -> Iterator[Message]:
    """The VHD behind a data disk can't be read (account or blob missing)."""
    for cs in snap.services:
        for vm in cs.vms:
            for disk in vm.data_disks:
                if snap.blob(disk.media_link) is None:
                    yield msg(t.R26_VHD_INACCESSIBLE, ERROR, DISK, disk.disk_name, vm=vm.name, disk=disk.disk_name,
                              uri=disk.media_link, cs=cs.name)


@rule(id="R27", scopes=DEP_AND_VNET)
def blob_name_with_slash(snap: UnitSnapshot) -> Iterator[Message]:
    """The compute provider doesn't accept '/' inside a VHD blob name (virtual directories)."""
    for cs in snap.services:
        for vm in cs.vms:
            disks: list[c.OSDisk | c.DataDisk] = [vm.os_disk] if vm.os_disk is not None else []
            disks.extend(vm.data_disks)
            for disk in disks:
                name = parse(disk.media_link).blob
                if "/" in name:
                    yield msg(t.R27_BLOB_NAME_SLASH, ERROR, DISK, disk.disk_name, vm=vm.name, hs=cs.name,
                              uri=disk.media_link, blob=name)


@rule(id="R28", scopes=DEP_AND_VNET)
def premium_boot_diagnostics(snap: UnitSnapshot) -> Iterator[Message]:
    """Boot diagnostics written to a Premium account is unsupported (only known when the account is loaded)."""
    for cs in snap.services:
        for vm in cs.vms:
            diag = vm.boot_diagnostics
            if diag is None or not diag.enabled or not diag.storage_uri:
                continue
            sa = snap.storage_accounts.get(parse(diag.storage_uri).account)
            if sa is not None and sa.is_premium:
                yield msg(t.R28_PREMIUM_BOOT_DIAGNOSTICS, ERROR, VIRTUAL_MACHINE, vm.name, vm=vm.name, hs=cs.name,
                          account=sa.name)
