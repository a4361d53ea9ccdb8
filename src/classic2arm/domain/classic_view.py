"""How ARM (and Resource Graph) shows classic resources: `Microsoft.ClassicCompute/...` etc. (spec §7.2).

Read-only views; the shape follows the classic providers' ARM properties (instanceView, hardwareProfile,
networkProfile, storageProfile for VMs; addressSpace/subnets for VNets; …).
"""

from __future__ import annotations

from typing import Any

from . import classic as c
from . import identity as ids
from .arm import ArmResource
from .locations import arm_name


def _ref(arm_id: str | None, name: str, rtype: str) -> dict[str, Any]:
    return {"id": arm_id, "name": name, "type": rtype}


def vm_power_state(role: c.Role) -> str:
    """Classic power state as the portal and Resource Graph summarise it."""
    if role.instance_status == c.InstanceStatus.STOPPED_DEALLOCATED:
        return "StoppedDeallocated"
    if role.instance_status == c.InstanceStatus.STOPPED_VM:
        return "Stopped"
    return role.power_state.value


def vm_view(sub: str, role: c.Role, dep: c.Deployment | None, location: str | None, rg: str,
            migration_state: str | None = None) -> ArmResource:
    ident = ids.classic_identity(sub, role, location, rg)
    vnet_name = dep.virtual_network_name if dep else None
    props: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "domainName": _ref(ids.arm_resource_id(sub, rg, ids.T_HOSTED_SERVICE, role.service_name),
                           role.service_name, ids.T_HOSTED_SERVICE),
        "instanceView": {
            "status": role.instance_status.value,
            "powerState": vm_power_state(role),
            "privateIpAddress": role.ip_address,
            "publicIpAddresses": [v.address for v in (dep.virtual_ips if dep else [])],
            "fullyQualifiedDomainName": f"{role.service_name}.cloudapp.net",
        },
        "hardwareProfile": {"size": role.size, "deploymentName": role.deployment_name,
                            "deploymentId": dep.private_id if dep else None, "platformGuestAgent": True},
        "networkProfile": {
            "inputEndpoints": [{"endpointName": e.name, "publicIpAddress": e.vip, "privatePort": e.local_port,
                                "publicPort": e.port, "protocol": e.protocol,
                                "enableDirectServerReturn": e.enable_direct_server_return}
                               for e in role.input_endpoints],
            "virtualNetwork": (_ref(ids.arm_resource_id(sub, ids.DEFAULT_NETWORKING_RG, ids.T_VNET, vnet_name),
                                    vnet_name, ids.T_VNET) | {"subnetNames": role.subnet_names})
            if vnet_name else None,
        },
        "storageProfile": {
            "operatingSystemDisk": {"diskName": role.os_disk.disk_name, "vhdUri": role.os_disk.media_link,
                                    "operatingSystem": role.os_disk.os, "caching": role.os_disk.host_caching}
            if role.os_disk else None,
            "dataDisks": [{"diskName": d.disk_name, "vhdUri": d.media_link, "lun": d.lun,
                           "diskSize": d.logical_size_gb, "caching": d.host_caching} for d in role.data_disks],
        },
        "extensions": [{"extension": e.name, "publisher": e.publisher, "version": e.version, "state": e.state,
                        "referenceName": e.reference_name} for e in role.extensions],
    }
    if role.availability_set:
        props["hardwareProfile"]["availabilitySet"] = role.availability_set
    if migration_state:
        props["migrationState"] = migration_state
    return ArmResource(id=ident.arm_id or ident.id, name=role.name, type=ident.type,
                       location=arm_name(location) if location else None, properties=props)


def generic_view(sub: str, obj: c.Model, location: str | None, migration_state: str | None = None) -> ArmResource:
    """Every other classic resource: its classic fields as camelCase properties."""
    ident = ids.classic_identity(sub, obj, location)
    raw = obj.model_dump(mode="json", exclude={"name", "location", "blobs", "primary_key", "secondary_key"})
    props: dict[str, Any] = {"provisioningState": "Succeeded"}
    for k, v in raw.items():
        head, *rest = k.split("_")
        props[head + "".join(p.title() for p in rest)] = v
    if migration_state:
        props["migrationState"] = migration_state
    loc = location or getattr(obj, "location", None)
    return ArmResource(id=ident.arm_id or ident.id, name=getattr(obj, "name", ident.name), type=ident.type,
                       location=arm_name(loc) if loc else None, properties=props)
