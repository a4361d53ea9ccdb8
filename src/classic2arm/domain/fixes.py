"""The mechanical remediations `classic2arm fix` can apply, and which validation messages each one clears.

One home for "can the tool fix this blocker?": `plan` marks fixable blockers with `fix_for`, `fix --list` counts the
units each fix unblocks, `fix NAME` runs the service use case of that name (`service/fix.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .units import Message


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
