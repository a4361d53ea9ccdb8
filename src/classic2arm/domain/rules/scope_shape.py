"""Scope-shape rules (spec §4.2 R05–R13): is the unit something the migration can take as a whole?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import catalogue as t
from ..locations import arm_name, is_known
from ..units import Message, UnitKind, UnitSnapshot
from ._common import DEPLOYMENT, ERROR, STORAGE, VIRTUAL_MACHINE, VIRTUAL_NETWORK, all_subnets, join, msg
from .registry import rule

DEP_AND_VNET = {UnitKind.DEPLOYMENT, UnitKind.VNET}


def _same_location(a: str, b: str) -> bool:
    if is_known(a) and is_known(b):
        return arm_name(a) == arm_name(b)
    # unknown spellings: compare the way ARM does, ignoring case and spaces
    return a.replace(" ", "").lower() == b.replace(" ", "").lower()


def _arm_subnet(vnet_properties: dict[str, Any], name: str) -> dict[str, Any] | None:
    for sub in vnet_properties.get("subnets") or []:
        if isinstance(sub, dict) and str(sub.get("name", "")).lower() == name.lower():
            return sub
    return None


@rule(id="R05", scopes={UnitKind.DEPLOYMENT})
def existing_destination(snap: UnitSnapshot) -> Iterator[Message]:
    """Existing ARM destination: resource group, VNet and subnet must exist, in the deployment's region."""
    dest = snap.ref.destination
    if dest is None or dest.normalized != "existing" or not snap.services:
        return
    if not (dest.resource_group and dest.vnet and dest.subnet):
        return  # empty names are refused at request level (R04) before any rule runs
    cs = snap.services[0]
    names = {"dep": cs.deployment.name, "hs": cs.name, "rg": dest.resource_group, "vnet": dest.vnet,
             "subnet": dest.subnet}
    arm = snap.arm
    if not arm.resource_group_exists:
        yield msg(t.R05_RESOURCE_GROUP_NOT_FOUND, ERROR, DEPLOYMENT, cs.deployment.name, **names)
        return
    if arm.existing_vnet is None:
        yield msg(t.R05_VNET_NOT_FOUND, ERROR, DEPLOYMENT, cs.deployment.name, **names)
        return
    subnet = _arm_subnet(arm.existing_vnet.properties, dest.subnet)
    if subnet is None:
        yield msg(t.R05_SUBNET_NOT_FOUND, ERROR, DEPLOYMENT, cs.deployment.name, **names)
        return
    subnet_id = str(subnet.get("id") or f"{arm.existing_vnet.id}/subnets/{dest.subnet}")
    vnet_location = arm.existing_vnet_location or arm.existing_vnet.location
    dep_location = snap.location or cs.hosted_service.location
    if vnet_location and dep_location and not _same_location(vnet_location, dep_location):
        yield msg(t.R05_SUBNET_OTHER_LOCATION, ERROR, DEPLOYMENT, cs.deployment.name,
                  subnet_id, cs.deployment.name, cs.name, vnet_location, dep_location)


@rule(id="R06", scopes={UnitKind.DEPLOYMENT})
def deployment_in_vnet(snap: UnitSnapshot) -> Iterator[Message]:
    """A deployment inside a VNet migrates only with its VNet."""
    for cs in snap.services:
        vnet = cs.deployment.virtual_network_name
        if vnet:
            yield msg(t.R06_DEPLOYMENT_IN_VNET, ERROR, DEPLOYMENT, cs.deployment.name,
                      cs.deployment.name, cs.name, vnet)


@rule(id="R07", scopes={UnitKind.DEPLOYMENT})
def paas_deployment(snap: UnitSnapshot) -> Iterator[Message]:
    """Web/worker roles (PaaS) can't go through IaaS migration."""
    for cs in snap.services:
        if any(not r.is_vm for r in cs.roles):
            yield msg(t.R07_PAAS_DEPLOYMENT, ERROR, DEPLOYMENT, cs.deployment.name,
                      dep=cs.deployment.name, hs=cs.name)


@rule(id="R08", scopes={UnitKind.VNET})
def vnet_with_paas(snap: UnitSnapshot) -> Iterator[Message]:
    """The VNet hosts non-gateway PaaS (web/worker roles, ASE, HDInsight, APIM, Batch, App Gateway, Dynamics LCS).

    One message per VNet whatever the number of causes: the doc text names the VNet only.
    """
    v = snap.vnet
    blocked = v is not None and (
        v.contains_app_service_environment or v.contains_hdinsight or v.contains_api_management
        or v.contains_batch or v.contains_application_gateway
    )
    if not blocked:
        blocked = any(not r.is_vm or r.dynamics_managed for cs in snap.services for r in cs.roles)
    if blocked:
        name = v.name if v is not None else snap.ref.name
        yield msg(t.R08_VNET_PAAS, ERROR, VIRTUAL_NETWORK, name, vnet=name)


@rule(id="R09", scopes=DEP_AND_VNET)
def multiple_availability_sets(snap: UnitSnapshot) -> Iterator[Message]:
    """At most one availability set per cloud service."""
    for cs in snap.services:
        sets = {vm.availability_set.lower() for vm in cs.vms if vm.availability_set}
        if len(sets) > 1:
            yield msg(t.R09_MULTIPLE_AVAILABILITY_SETS, ERROR, DEPLOYMENT, cs.deployment.name,
                      dep=cs.deployment.name, hs=cs.name)


@rule(id="R10", scopes=DEP_AND_VNET)
def mixed_availability_set(snap: UnitSnapshot) -> Iterator[Message]:
    """All VMs of a cloud service in its availability set, or none."""
    for cs in snap.services:
        vms = cs.vms
        with_set = sum(1 for vm in vms if vm.availability_set)
        if 0 < with_set < len(vms):
            yield msg(t.R10_MIXED_AVAILABILITY_SET, ERROR, DEPLOYMENT, cs.deployment.name,
                      dep=cs.deployment.name, hs=cs.name)


@rule(id="R11", scopes=DEP_AND_VNET)
def mixed_nic_counts(snap: UnitSnapshot) -> Iterator[Message]:
    """A cloud service may not mix single-NIC and multi-NIC VMs (toolkit 'mixedmodenics')."""
    for cs in snap.services:
        multi = [bool(vm.secondary_nics) for vm in cs.vms]
        if any(multi) and not all(multi):
            yield msg(t.R11_MIXED_NICS, ERROR, DEPLOYMENT, cs.deployment.name, dep=cs.deployment.name, hs=cs.name)


@rule(id="R12", scopes=DEP_AND_VNET)
def vm_in_several_subnets(snap: UnitSnapshot) -> Iterator[Message]:
    """All NICs of one VM must be in the same subnet."""
    for cs in snap.services:
        for vm in cs.vms:
            if len(vm.subnet_names) > 1 or vm.secondary_nics:
                subnets = all_subnets(vm)
                if len(subnets) > 1:
                    yield msg(t.R12_MULTIPLE_SUBNETS, ERROR, VIRTUAL_MACHINE, vm.name, vm=vm.name,
                              hs=cs.name, subnets=join(subnets))


@rule(id="R13", scopes=DEP_AND_VNET)
def vm_without_subnet(snap: UnitSnapshot) -> Iterator[Message]:
    """VMs of a VNet deployment must name a subnet; one message per deployment listing the roles."""
    for cs in snap.services:
        if not cs.deployment.virtual_network_name:
            continue
        missing = [vm.name for vm in cs.vms if not vm.subnet_names]
        if missing:
            yield msg(t.R13_NO_SUBNET, ERROR, DEPLOYMENT, cs.deployment.name, vm=missing[0] if len(missing) == 1
                      else None, dep=cs.deployment.name, cs=cs.name, roles=join(missing))


@rule(id="R57", scopes={UnitKind.DEPLOYMENT, UnitKind.VNET, UnitKind.STORAGE})
def location_unknown(snap: UnitSnapshot) -> Iterator[Message]:
    """An imported estate may not say where a unit is (an affinity group no file places, and what is bound to it or
    in its VNets; a hosted service an import stored without a location before they were inferred, or with
    --strict): nothing can be created in ARM without a region, so say which command gives it."""
    if snap.location:
        return
    if snap.vnet is not None:
        if not snap.vnet.location:
            yield msg(t.R57_VNET_LOCATION_UNKNOWN, ERROR, VIRTUAL_NETWORK, snap.vnet.name, vnet=snap.vnet.name,
                      ag=snap.vnet.affinity_group or "?")
        return
    if snap.storage_account is not None:
        sa = snap.storage_account
        if not sa.location and (sa.inferred or sa.affinity_group):  # (the two ways an import leaves it unknown)
            hint = t.AG_HINT.format(ag=sa.affinity_group) if sa.affinity_group else ""
            yield msg(t.R57_STORAGE_LOCATION_UNKNOWN, ERROR, STORAGE, sa.name, account=sa.name, ag_hint=hint)
        return
    for cs in snap.services:
        hs = cs.hosted_service
        if not hs.location:
            hint = t.AG_HINT.format(ag=hs.affinity_group) if hs.affinity_group else ""
            yield msg(t.R57_SERVICE_LOCATION_UNKNOWN, ERROR, DEPLOYMENT, cs.deployment.name, hs=hs.name,
                      ag_hint=hint)
