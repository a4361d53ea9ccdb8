"""Extension and guest-agent rules (spec §4.2 R19–R23).

They only concern VMs that are allocated: a stopped-deallocated VM has no running agent to report
anything and its extensions migrate as configuration (spec: "stopped-deallocated VMs skip these").

R24 (Security Center / ASR guidance) has no condition the service can check on its own; its one
checkable part — the Security Center agent behind a gateway with on-premises DNS — is R55.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import catalogue as t
from .. import classic as c
from ..units import Message, UnitKind, UnitSnapshot
from ._common import ERROR, EXTENSION, WARNING, msg, vm_msg
from .registry import rule

DEP_AND_VNET = {UnitKind.DEPLOYMENT, UnitKind.VNET}
READY = "Ready"


def _running_vms_with_extensions(snap: UnitSnapshot) -> Iterator[c.Role]:
    for cs in snap.services:
        for vm in cs.vms:
            if vm.extensions and vm.instance_status != c.InstanceStatus.STOPPED_DEALLOCATED:
                yield vm


def _ext_msg(text: t.Text, vm: c.Role, ext: c.ExtensionReference, **values: object) -> Message:
    return msg(text, ERROR, EXTENSION, ext.name, vm=vm.name, hs=vm.service_name, ext=ext.name, **values)


def _handled_elsewhere(ext: c.ExtensionReference) -> bool:
    """XML and backup extensions must be uninstalled anyway (R19/R20); their status adds nothing."""
    return ext.is_xml_extension or ext.is_backup


@rule(id="R19", scopes=DEP_AND_VNET)
def xml_extension(snap: UnitSnapshot) -> Iterator[Message]:
    """XML extensions don't exist in ARM; the 2023 doc requires uninstalling them (Error)."""
    for vm in _running_vms_with_extensions(snap):
        for ext in vm.extensions:
            if ext.is_xml_extension:
                yield _ext_msg(t.R19_XML_EXTENSION, vm, ext)


@rule(id="R20", scopes=DEP_AND_VNET)
def backup_extension(snap: UnitSnapshot) -> Iterator[Message]:
    """Azure Backup's VMSnapshot extension can't migrate."""
    for vm in _running_vms_with_extensions(snap):
        for ext in vm.extensions:
            if ext.is_backup:
                yield _ext_msg(t.R20_BACKUP_EXTENSION, vm, ext)


@rule(id="R21", scopes=DEP_AND_VNET)
def extension_status_missing(snap: UnitSnapshot) -> Iterator[Message]:
    """An extension whose status the VM doesn't report (handler_status None)."""
    for vm in _running_vms_with_extensions(snap):
        for ext in vm.extensions:
            if ext.handler_status is None and not _handled_elsewhere(ext):
                yield _ext_msg(t.R21_EXTENSION_STATUS_MISSING, vm, ext)


@rule(id="R22", scopes=DEP_AND_VNET)
def extension_not_ready(snap: UnitSnapshot) -> Iterator[Message]:
    """An extension handler reporting anything but Ready."""
    for vm in _running_vms_with_extensions(snap):
        for ext in vm.extensions:
            status = ext.handler_status
            if status is not None and status != READY and not _handled_elsewhere(ext):
                yield _ext_msg(t.R22_EXTENSION_NOT_READY, vm, ext, status=status, required=READY)


@rule(id="R23", scopes=DEP_AND_VNET)
def agent_not_ready(snap: UnitSnapshot) -> Iterator[Message]:
    """Guest agent NotReady: Error if the VM has a migratable (non-XML) extension, else only a Warning.

    The text itself says "may not be migrated, if it has a migratable extension": the agent matters only
    for extensions ARM will reinstall.
    """
    for cs in snap.services:
        for vm in cs.vms:
            agent = vm.guest_agent
            if agent is None or agent.status != "NotReady" or not vm.allocated:
                continue
            migratable = any(not ext.is_xml_extension for ext in vm.extensions)
            yield vm_msg(t.R23_AGENT_NOT_READY, ERROR if migratable else WARNING, vm)
