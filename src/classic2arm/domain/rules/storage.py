"""Storage-account rules (spec §4.2 R42, R56). The success listing (R43) is in `information.py`.

Validate doesn't check the account's disks (spec R42, [C S16]) beyond warning about the unattached
ones and images (R56); prepare refuses while any classic disk or image still points into the account, and
while any classic VM (its deployment or VNet not committed yet) has an OS or data disk there: VMs go first.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import catalogue as t
from ..units import Message, Phase, UnitKind, UnitSnapshot
from ._common import ERROR, STORAGE, WARNING, msg
from .registry import rule


def _account(snap: UnitSnapshot) -> str:
    return snap.storage_account.name if snap.storage_account is not None else snap.ref.name


@rule(id="R42", scopes={UnitKind.STORAGE}, phase=Phase.PREPARE)
def account_in_use(snap: UnitSnapshot) -> Iterator[Message]:
    """Prepare fails while classic disks (attached or not), classic VMs' disks or images still have their VHDs
    in the account."""
    if snap.disks or snap.os_images or snap.vm_images or snap.vm_vhds:
        name = _account(snap)
        yield msg(t.R42_ACCOUNT_IN_USE, ERROR, STORAGE, name, name=name)


@rule(id="R56", scopes={UnitKind.STORAGE}, category=WARNING, validate_only=True)
def unattached_disks_and_images(snap: UnitSnapshot) -> Iterator[Message]:
    """Unattached disks and OS/VM images are not migrated (Warning at validate; prepare reports R42 instead)."""
    name = _account(snap)
    for disk in snap.disks:
        if not disk.attached:
            yield msg(t.R56_UNATTACHED, WARNING, STORAGE, name, name=name, kind="disk", item=disk.name)
    for os_image in snap.os_images:
        yield msg(t.R56_UNATTACHED, WARNING, STORAGE, name, name=name, kind="OS image", item=os_image.name)
    for vm_image in snap.vm_images:
        yield msg(t.R56_UNATTACHED, WARNING, STORAGE, name, name=name, kind="VM image", item=vm_image.name)
