"""A VM's power state in both models: the classic instance status and power state (what `service/power.py`
changes) and ARM's `PowerState/{code}` (what an ARM VM's instance view shows), one mapping between them, the ARM
power actions as classic state changes, and the instance view an ARM VM serves.

Why one vocabulary: ARM VM power actions go through the same `power.change` as classic Start/Shutdown Role, the
retirement enforcement and the migration's data-plane steps, so the two models can never disagree about what a
state means.
"""

from __future__ import annotations

from typing import Any, Final

from . import classic as c
from .arm import POWER_KEY

RUNNING: Final = "running"
STOPPED: Final = "stopped"
DEALLOCATED: Final = "deallocated"

# ARM's display status of each power code (as `az vm show -d` prints them).
_DISPLAY: Final = {RUNNING: "VM running", STOPPED: "VM stopped", DEALLOCATED: "VM deallocated"}

# The POST actions of Microsoft.Compute/virtualMachines that change power (lower-case, as paths are matched),
# each as (its name in ARM, the classic instance status and power state it leads to).
ACTIONS: Final[dict[str, tuple[str, c.InstanceStatus, c.PowerState]]] = {
    "start": ("start", c.InstanceStatus.READY, c.PowerState.STARTED),
    "poweroff": ("powerOff", c.InstanceStatus.STOPPED_VM, c.PowerState.STOPPED),
    "deallocate": ("deallocate", c.InstanceStatus.STOPPED_DEALLOCATED, c.PowerState.STOPPED),
    "restart": ("restart", c.InstanceStatus.READY, c.PowerState.STARTED),
}


def arm_code(instance_status: str | None) -> str:
    """The ARM power code of a classic instance status: stopped VMs keep their hardware, deallocated ones don't;
    every other status (ready, starting, busy, unknown) is a VM the platform runs."""
    if instance_status == c.InstanceStatus.STOPPED_DEALLOCATED.value:
        return DEALLOCATED
    if instance_status in (c.InstanceStatus.STOPPED_VM.value, c.InstanceStatus.STOPPING_VM.value):
        return STOPPED
    return RUNNING


def after_migration(instance_status: str | None, in_vnet: bool) -> str:
    """The power code of a classic VM's ARM twin. A VNet VM keeps running (or stays as it was); outside a VNet
    prepare stops and deallocates the classic VM and the platform starts the ARM one, if it was running: a stopped
    one ends up deallocated."""
    code = arm_code(instance_status)
    return DEALLOCATED if not in_vnet and code != RUNNING else code


def is_running(code: str | None) -> bool:
    return (code or RUNNING) == RUNNING


def instance_view(doc: dict[str, Any]) -> dict[str, Any]:
    """`…/virtualMachines/{vm}/instanceView` of an ARM VM document (its `properties.instanceView` under
    `$expand=instanceView`): provisioning and power statuses, and the disks it has."""
    props = doc.get("properties") or {}
    code = str(doc.get(POWER_KEY) or RUNNING)
    provisioning = str(props.get("provisioningState") or "Succeeded")
    status: dict[str, Any] = {"code": f"ProvisioningState/{provisioning.lower()}", "level": "Info",
                              "displayStatus": f"Provisioning {provisioning.lower()}"}
    storage = props.get("storageProfile") or {}
    disks = [d for d in [storage.get("osDisk"), *(storage.get("dataDisks") or [])] if isinstance(d, dict)]
    view: dict[str, Any] = {
        "disks": [{"name": d.get("name"), "statuses": [dict(status)]} for d in disks],
        "statuses": [status, {"code": f"PowerState/{code}", "level": "Info",
                              "displayStatus": _DISPLAY.get(code, f"VM {code}")}],
    }
    computer = (props.get("osProfile") or {}).get("computerName")
    if computer:
        view["computerName"] = computer
    if storage.get("osDisk", {}).get("osType"):
        view["osName"] = storage["osDisk"]["osType"]
    return view
