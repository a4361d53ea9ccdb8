"""The mechanical remediations `classic2arm fix` can apply, and which validation messages each one clears.

One home for "can the tool fix this blocker?": `plan` marks fixable blockers with `fix_for`, `fix --list` counts the
units each fix unblocks, `fix NAME` runs the service use case of that name (`service/fix.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import classic as c
from .media import GIB, VHD_FOOTER_BYTES, parse, vhd_blob_size
from .units import Message, UnitSnapshot

MAX_DISK_GB = 4095  # the largest VHD a page blob holds (4 TiB less the footer), as Update Disk allows


@dataclass(frozen=True, slots=True)
class Fix:
    name: str  # the CLI word: `classic2arm fix NAME`
    rules: frozenset[str]  # rule ids of the messages it clears
    summary: str  # one line for `fix --list` and the plan
    applies: Callable[[Message], bool] = lambda _m: True  # narrower than the rule id where the rule is broader

    def clears(self, message: Message) -> bool:
        return message.rule in self.rules and self.applies(message)


FIXES: tuple[Fix, ...] = (
    Fix("xml-extensions", frozenset({"R19"}), "uninstall XML (legacy) extensions from the VMs"),
    Fix("vmsnapshot-extension", frozenset({"R20"}), "uninstall the VMSnapshot/VMSnapshotLinux backup extension"),
    Fix("endpoint-acls", frozenset({"R29"}),
        "delete endpoint ACLs (the equivalent NSG rules are written to the report to re-create after migration)"),
    Fix("premium-boot-diagnostics", frozenset({"R28"}), "disable boot diagnostics on Premium storage"),
    Fix("unattached-disks-images", frozenset({"R56"}),
        "delete unattached classic disks and OS/VM images (their VHD blobs are kept)"),
    Fix("disk-size", frozenset({"R25"}), "set each data disk's logical size to its blob size (Update-AzureDisk)"),
    Fix("restart-unknown-vms", frozenset({"R14"}), "restart VMs in RoleStateUnknown",
        applies=lambda m: "RoleStateUnknown" in m.message),
)

BY_NAME: dict[str, Fix] = {f.name: f for f in FIXES}


def fix_for(message: Message) -> Fix | None:
    """The fix that clears this message, or None when only the user can (the plan then shows the mitigation)."""
    for f in FIXES:
        if f.clears(message):
            return f
    return None


# --------------------------------------------------------------------------- what each fix changes in a unit
# Pure functions of a unit's snapshot, mirroring the conditions of the rules they clear (domain/rules/), so that
# after the writes the unit's validation no longer shows those messages (tests/service/test_fix.py checks it).

# The classic writes a target stands for (service/fix.py maps each to its use case in classic_writes.py).
REMOVE_EXTENSIONS, CLEAR_ACLS, DISABLE_BOOT_DIAGNOSTICS = "remove-extensions", "clear-endpoint-acls", \
    "disable-boot-diagnostics"
DELETE_DISK, DELETE_OS_IMAGE, DELETE_VM_IMAGE = "delete-disk", "delete-os-image", "delete-vm-image"
RESIZE_DISK, RESTART_VM = "resize-disk", "restart-vm"
NSG_FIRST_PRIORITY, NSG_PRIORITY_STEP = 100, 10


@dataclass(frozen=True, slots=True)
class Target:
    """One classic write a fix makes: on a VM (service/deployment/vm), a disk or an image (name)."""

    fix: str
    write: str
    name: str  # the resource written: VM, disk or image name
    describe: str
    service: str | None = None
    deployment: str | None = None
    items: tuple[str, ...] = ()  # extensions to remove, endpoints whose ACLs go
    size_gb: int | None = None  # resize-disk: the new logical size
    nsg_rules: tuple[dict[str, Any], ...] = ()  # clear-endpoint-acls: the equivalent rules to re-create

    @property
    def key(self) -> tuple[str, ...]:
        return (self.write, (self.service or "").lower(), (self.deployment or "").lower(), self.name.lower())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fix": self.fix, "write": self.write, "resource": self.name,
                               "describe": self.describe}
        if self.service is not None:
            out.update(service=self.service, deployment=self.deployment)
        if self.items:
            out["items"] = list(self.items)
        if self.size_gb is not None:
            out["sizeGb"] = self.size_gb
        if self.nsg_rules:
            out["nsgRules"] = list(self.nsg_rules)
        return out


def _vm_target(fix: str, write: str, vm: c.Role, describe: str, **more: Any) -> Target:
    return Target(fix, write, vm.name, describe, vm.service_name, vm.deployment_name, **more)


def _allocated_with_extensions(snap: UnitSnapshot) -> Iterator[c.Role]:
    """The VMs R19/R20 look at: allocated ones with extensions."""
    return (vm for vm in snap.vms if vm.extensions and vm.instance_status != c.InstanceStatus.STOPPED_DEALLOCATED)


def _extensions(fix: str, snap: UnitSnapshot, pick: Callable[[c.ExtensionReference], bool]) -> Iterator[Target]:
    for vm in _allocated_with_extensions(snap):
        names = tuple(e.reference_name for e in vm.extensions if pick(e))
        if names:
            shown = ", ".join(e.name for e in vm.extensions if pick(e))
            yield _vm_target(fix, REMOVE_EXTENSIONS, vm, f"uninstall {shown} from VM {vm.name}", items=names)


def acl_nsg_rules(vm: str, endpoints: Sequence[c.InputEndpoint]) -> list[dict[str, Any]]:
    """NSG security rules (ARM's JSON shape) that do what the endpoints' ACLs did, to put on the migrated VM's
    NIC: an ACL filters the public endpoint's traffic by source, in `order`; with any permit rule everything
    else is denied, with only deny rules everything else is allowed. An NSG sees the traffic at the NIC, after
    the load balancer, so the rules match the endpoint's local port."""
    rules: list[dict[str, Any]] = []
    priority = NSG_FIRST_PRIORITY

    def add(name: str, access: str, source: str, ep: c.InputEndpoint, description: str) -> None:
        nonlocal priority
        rules.append({"name": name, "properties": {
            "priority": priority, "direction": "Inbound", "access": access, "protocol": ep.protocol.capitalize(),
            "sourceAddressPrefix": source, "sourcePortRange": "*", "destinationAddressPrefix": "*",
            "destinationPortRange": str(ep.local_port), "description": description[:140]}})
        priority += NSG_PRIORITY_STEP

    for ep in endpoints:
        ordered = sorted(ep.acl, key=lambda r: r.order)
        for r in ordered:
            add(f"{ep.name}-acl-{r.order}", "Allow" if r.action == "permit" else "Deny", r.remote_subnet, ep,
                r.description or f"endpoint {ep.name} ACL rule {r.order} of VM {vm}")
        if any(r.action == "permit" for r in ordered):
            add(f"{ep.name}-acl-deny-others", "Deny", "Internet", ep,
                f"endpoint {ep.name} of VM {vm}: its ACL permitted only the sources above")
    return rules


def _acls(fix: str, snap: UnitSnapshot) -> Iterator[Target]:
    for vm in snap.vms:
        eps = [ep for ep in vm.input_endpoints if ep.acl]
        if eps:
            yield _vm_target(fix, CLEAR_ACLS, vm, f"delete the ACLs of endpoint(s) {', '.join(e.name for e in eps)} "
                             f"of VM {vm.name}", items=tuple(e.name for e in eps),
                             nsg_rules=tuple(acl_nsg_rules(vm.name, eps)))


def _premium_diagnostics(fix: str, snap: UnitSnapshot) -> Iterator[Target]:
    for vm in snap.vms:
        diag = vm.boot_diagnostics
        if diag is None or not diag.enabled or not diag.storage_uri:
            continue
        sa = snap.storage_accounts.get(parse(diag.storage_uri).account)
        if sa is not None and sa.is_premium:
            yield _vm_target(fix, DISABLE_BOOT_DIAGNOSTICS, vm, f"disable boot diagnostics of VM {vm.name} "
                             f"(written to Premium account {sa.name})")


def blob_gb(size_bytes: int) -> int:
    """The logical size (GiB, rounded up) a page blob of this many bytes holds, its 512-byte VHD footer aside."""
    return max(1, -(-(size_bytes - VHD_FOOTER_BYTES) // GIB))


def _disk_sizes(fix: str, snap: UnitSnapshot) -> Iterator[Target]:
    """Only a blob larger than the disk can be fixed this way: a disk grows, never shrinks (Update Disk)."""
    for vm in snap.vms:
        for disk in vm.data_disks:
            blob = snap.blob(disk.media_link)
            if blob is None or blob.size_bytes == vhd_blob_size(disk.logical_size_gb):
                continue
            size = blob_gb(blob.size_bytes)
            if disk.logical_size_gb < size <= MAX_DISK_GB:
                yield Target(fix, RESIZE_DISK, disk.disk_name, f"set the logical size of data disk {disk.disk_name} "
                             f"of VM {vm.name} from {disk.logical_size_gb} to {size} GB (its blob's size)",
                             size_gb=size)


def _unattached(fix: str, snap: UnitSnapshot) -> Iterator[Target]:
    for disk in snap.disks:
        if not disk.attached:
            yield Target(fix, DELETE_DISK, disk.name, f"delete unattached disk {disk.name} (its VHD blob is kept)")
    for image in snap.os_images:
        yield Target(fix, DELETE_OS_IMAGE, image.name, f"delete OS image {image.name} (its VHD blob is kept)")
    for vm_image in snap.vm_images:
        yield Target(fix, DELETE_VM_IMAGE, vm_image.name, f"delete VM image {vm_image.name} (its VHD blobs are kept)")


def _unknown_state(fix: str, snap: UnitSnapshot) -> Iterator[Target]:
    for vm in snap.vms:
        if vm.instance_status == c.InstanceStatus.ROLE_STATE_UNKNOWN:
            yield _vm_target(fix, RESTART_VM, vm, f"restart VM {vm.name} (in RoleStateUnknown)")


FINDERS: dict[str, Callable[[str, UnitSnapshot], Iterator[Target]]] = {
    "xml-extensions": lambda f, s: _extensions(f, s, lambda e: e.is_xml_extension),
    "vmsnapshot-extension": lambda f, s: _extensions(f, s, lambda e: e.is_backup),
    "endpoint-acls": _acls,
    "premium-boot-diagnostics": _premium_diagnostics,
    "unattached-disks-images": _unattached,
    "disk-size": _disk_sizes,
    "restart-unknown-vms": _unknown_state,
}
assert set(FINDERS) == set(BY_NAME)


def targets(fix: Fix, snap: UnitSnapshot) -> list[Target]:
    """The writes `fix` makes in this unit (none when nothing in it needs the fix)."""
    return list(FINDERS[fix.name](fix.name, snap))
