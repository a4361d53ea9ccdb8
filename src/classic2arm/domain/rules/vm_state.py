"""VM and deployment state rules (spec §4.2 R14–R18)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from .. import catalogue as t
from .. import classic as c
from ..units import Message, Phase, UnitKind, UnitSnapshot
from ._common import DEPLOYMENT, ERROR, msg, vm_msg
from .registry import rule

DEP_AND_VNET = {UnitKind.DEPLOYMENT, UnitKind.VNET}

# Running, Stopped, Stopped Deallocated in the doc's words (spec R14 [I]).
ALLOWED_STATES: Final = frozenset({c.InstanceStatus.READY, c.InstanceStatus.STOPPED_VM,
                                   c.InstanceStatus.STOPPED_DEALLOCATED})
# Not transient: the VM has to be recreated from its disks (spec R16), so it gets its own rule id.
PROVISIONING_FAILURES: Final = frozenset({c.InstanceStatus.PROVISIONING_TIMEOUT,
                                          c.InstanceStatus.PROVISIONING_FAILED})
# Deployment statuses in which the service is at rest (anything else is an intermediate state).
SETTLED_DEPLOYMENT: Final = frozenset({"running", "suspended"})


@rule(id="R14", scopes=DEP_AND_VNET)
def role_state(snap: UnitSnapshot) -> Iterator[Message]:
    """A VM must be running, stopped or stopped-deallocated (usually transient: retry later)."""
    for cs in snap.services:
        for vm in cs.vms:
            status = vm.instance_status
            if status not in ALLOWED_STATES and status not in PROVISIONING_FAILURES:
                yield vm_msg(t.R14_ROLE_STATE, ERROR, vm, state=status.value)


@rule(id="R16", scopes=DEP_AND_VNET)
def provisioning_failed(snap: UnitSnapshot) -> Iterator[Message]:
    """A VM whose provisioning timed out or failed must be recreated (keeping its disks) first."""
    for cs in snap.services:
        for vm in cs.vms:
            if vm.instance_status in PROVISIONING_FAILURES:
                yield vm_msg(t.R16_PROVISIONING, ERROR, vm, state=vm.instance_status.value)


@rule(id="R15", scopes=DEP_AND_VNET)
def deployment_state(snap: UnitSnapshot) -> Iterator[Message]:
    """The deployment must be at rest: Running/Suspended and no update (upgrade) in flight."""
    for cs in snap.services:
        dep = cs.deployment
        if dep.status.strip().lower() not in SETTLED_DEPLOYMENT:
            yield msg(t.R15_INTERMEDIATE_STATE, ERROR, DEPLOYMENT, dep.name, dep=dep.name, hs=cs.name,
                      state=dep.status)
        if dep.upgrade_in_progress:
            yield msg(t.R15_UPDATE_IN_PROGRESS, ERROR, DEPLOYMENT, dep.name, dep.name, cs.name)


@rule(id="R17", scopes=DEP_AND_VNET, phase=Phase.PREPARE)
def fabric_cluster(snap: UnitSnapshot) -> Iterator[Message]:
    """'Fabric cluster does not exist': only prepare finds out; a deallocated VM is not on a cluster."""
    for cs in snap.services:
        for vm in cs.vms:
            if vm.provisioned_on_legacy_fabric and vm.allocated:
                yield vm_msg(t.R17_FABRIC_CLUSTER, ERROR, vm)


@rule(id="R18", scopes=DEP_AND_VNET)
def regional_scope(snap: UnitSnapshot) -> Iterator[Message]:
    """The deployment's networking must have moved to regional scope (any update does that)."""
    for cs in snap.services:
        if not cs.deployment.regional_scope:
            yield msg(t.R18_NOT_REGIONAL, ERROR, DEPLOYMENT, cs.deployment.name, dep=cs.deployment.name, hs=cs.name)
