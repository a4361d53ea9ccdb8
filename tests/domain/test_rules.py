"""Validation rules (spec §4.2): one test per rule, asserting the exact text copied from the spec.

Expected texts are literals here on purpose (not read from the catalogue), so a wrong catalogue entry fails.
Builders at the top make the smallest snapshot that triggers each rule; by default a snapshot is clean: every
VHD exists in its storage account with the size that matches its disk.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from classic2arm.domain import catalogue
from classic2arm.domain import classic as c
from classic2arm.domain.arm import ArmResource
from classic2arm.domain.rules import REGISTRY, Registry, has_errors, result_text, validate
from classic2arm.domain.rules.quota import needed
from classic2arm.domain.sizes import cores_of
from classic2arm.domain.units import (
    ArmFacts,
    Category,
    CloudService,
    Destination,
    Message,
    Phase,
    UnitKind,
    UnitRef,
    UnitSnapshot,
)

SUB = c.Subscription(id="sub1", registered_for_migration=True)
NOW = datetime(2024, 1, 1, tzinfo=UTC)
GIB = 1024**3
E, W, INFO = Category.ERROR, Category.WARNING, Category.INFORMATION

# --------------------------------------------------------------------------- builders


def vm(name: str = "vm1", svc: str = "cs1", dep: str = "d1", *, data_gb: tuple[int, ...] = (),
       account: str = "acct1", **kw: Any) -> c.Role:
    """A running Windows VM with an OS disk (and optional data disks) in `account`."""
    kw.setdefault("os_disk", c.OSDisk(disk_name=f"{name}-os", media_link=f"https://{account}.blob.core.windows.net/"
                                      f"vhds/{name}-os.vhd", logical_size_gb=127))
    kw.setdefault("data_disks", [
        c.DataDisk(disk_name=f"{name}-data{i}", lun=i, logical_size_gb=gb,
                   media_link=f"https://{account}.blob.core.windows.net/vhds/{name}-data{i}.vhd")
        for i, gb in enumerate(data_gb)
    ])
    return c.Role(name=name, service_name=svc, deployment_name=dep, **kw)


def service(name: str = "cs1", dep: str = "d1", vms: list[c.Role] | None = None, *, vnet: str | None = None,
            hs: dict[str, Any] | None = None, **dep_kw: Any) -> CloudService:
    roles = vms if vms is not None else [vm("vm1", name, dep, subnet_names=["FrontEnd"] if vnet else [])]
    return CloudService(
        hosted_service=c.HostedService(name=name, location="West US", **(hs or {})),
        deployment=c.Deployment(name=dep, service_name=name, virtual_network_name=vnet, **dep_kw),
        roles=roles,
    )


def accounts_for(services: list[CloudService], **types: str) -> dict[str, c.StorageAccount]:
    """Storage accounts holding every VHD of the services' VMs with the matching blob size (N GiB + 512)."""
    out: dict[str, c.StorageAccount] = {}
    for cs in services:
        for r in cs.roles:
            disks: list[tuple[str, int]] = [(d.media_link, d.logical_size_gb) for d in r.data_disks]
            if r.os_disk is not None:
                disks.append((r.os_disk.media_link, r.os_disk.logical_size_gb or 127))
            for link, gb in disks:
                acct, path = link.split("://", 1)[1].split(".", 1)[0], link.split(".net/", 1)[1]
                sa = out.setdefault(acct.lower(), c.StorageAccount(name=acct, location="West US",
                                                                   account_type=types.get(acct, "Standard_LRS")))
                sa.blobs[path] = c.Blob(size_bytes=gb * GIB + 512)
    return out


def dep_snap(cs: CloudService | None = None, **kw: Any) -> UnitSnapshot:
    cs = cs or service()
    kw.setdefault("storage_accounts", accounts_for([cs]))
    ref = UnitRef(UnitKind.DEPLOYMENT, cs.deployment.name, cs.name, kw.pop("destination", Destination("New")))
    return UnitSnapshot(subscription=SUB, ref=ref, now=NOW, exists=kw.pop("exists", True), location="West US",
                        services=[cs], **kw)


def vnet_site(name: str = "vnet1", **kw: Any) -> c.VirtualNetworkSite:
    kw.setdefault("address_space", ["10.0.0.0/16"])
    kw.setdefault("subnets", [c.Subnet(name="FrontEnd", address_prefix="10.0.0.0/24")])
    return c.VirtualNetworkSite(name=name, location="West US", **kw)


def vnet_snap(*services: CloudService, vnet: c.VirtualNetworkSite | None = None, **kw: Any) -> UnitSnapshot:
    site = vnet or vnet_site()
    svcs = list(services) if services else [service(vnet=site.name)]
    kw.setdefault("storage_accounts", accounts_for(svcs))
    return UnitSnapshot(subscription=SUB, ref=UnitRef(UnitKind.VNET, site.name), now=NOW,
                        exists=kw.pop("exists", True), location="West US", services=svcs, vnet=site, **kw)


def simple_snap(kind: UnitKind, name: str, **kw: Any) -> UnitSnapshot:
    return UnitSnapshot(subscription=SUB, ref=UnitRef(kind, name), now=NOW, exists=kw.pop("exists", True), **kw)


def of(messages: list[Message], rule: str) -> list[Message]:
    return [m for m in messages if m.rule == rule]


def one(snap: UnitSnapshot, rule: str, phase: Phase = Phase.VALIDATE) -> Message:
    found = of(validate(snap, phase), rule)
    assert len(found) == 1, found
    return found[0]


def check(m: Message, text: str, category: Category, rtype: str, rname: str, vm_name: str | None) -> None:
    assert m.message == text
    assert m.category == category
    assert m.resource_type == rtype
    assert m.resource_name == rname
    assert m.virtual_machine == vm_name


# --------------------------------------------------------------------------- R02 missing target


@pytest.mark.parametrize(("snap", "text", "rtype"), [
    (dep_snap(exists=False), "The deployment name 'd1' does not exist.", "Deployment"),
    (simple_snap(UnitKind.STORAGE, "acct9", exists=False), "The storage account 'acct9' was not found.", "Storage"),
    (simple_snap(UnitKind.VNET, "vnet9", exists=False),
     "Virtual network 'vnet9' not found. Either it does not exist or it is an Azure Resource Manager resource, "
     "which cannot be used with Cloud Services.", "VirtualNetwork"),
    (simple_snap(UnitKind.RESERVED_IP, "rip9", exists=False), "The reserved IP 'rip9' was not found.", "ReservedIP"),
])
def test_r02_missing_target_is_exactly_one_error(snap: UnitSnapshot, text: str, rtype: str) -> None:
    out = validate(snap)
    assert len(out) == 1
    check(out[0], text, E, rtype, snap.ref.name, None)
    assert out[0].rule == "R02"


# --------------------------------------------------------------------------- R05 existing destination


def _arm_vnet(location: str = "westus") -> ArmResource:
    vid = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/armnet"
    return ArmResource(id=vid, name="armnet", type="Microsoft.Network/virtualNetworks", location=location,
                       properties={"subnets": [{"name": "default", "id": vid + "/subnets/default"}]})


def _existing(arm: ArmFacts, subnet: str = "default") -> UnitSnapshot:
    return dep_snap(destination=Destination("Existing", "rg1", "armnet", subnet), arm=arm)


def test_r05_subnet_in_other_location() -> None:
    snap = _existing(ArmFacts(existing_vnet=_arm_vnet("eastus"), existing_vnet_location="eastus",
                              resource_group_exists=True))
    check(one(snap, "R05"),
          "The subnet with ID '/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/"
          "armnet/subnets/default' is in a different location than deployment 'd1' in hosted service 'cs1'. The "
          "location for the subnet is 'eastus' and the location for the hosted service is 'West US'.  Specify a "
          "subnet in the same location as the deployment.", E, "Deployment", "d1", None)


def test_r05_same_location_is_fine() -> None:
    snap = _existing(ArmFacts(existing_vnet=_arm_vnet(), existing_vnet_location="westus", resource_group_exists=True))
    assert of(validate(snap), "R05") == []


def test_r05_destination_missing_in_arm() -> None:
    m = one(_existing(ArmFacts(resource_group_exists=False)), "R05")
    check(m, "Resource group 'rg1' given as the destination of Deployment d1 in HostedService cs1 was not found in "
          "Azure Resource Manager. Specify an existing resource group, virtual network and subnet.",
          E, "Deployment", "d1", None)
    m = one(_existing(ArmFacts(resource_group_exists=True)), "R05")
    assert m.message.startswith("Virtual network 'armnet' in resource group 'rg1' ")
    m = one(_existing(ArmFacts(existing_vnet=_arm_vnet(), resource_group_exists=True), subnet="nope"), "R05")
    assert m.message.startswith("Subnet 'nope' was not found in virtual network 'armnet'")


# --------------------------------------------------------------------------- scope shape R06–R13


def test_r06_deployment_in_vnet() -> None:
    check(one(dep_snap(service(vnet="vnet1")), "R06"),
          "Deployment d1 in HostedService cs1  belongs to Virtual Network vnet1. Migrate Virtual Network vnet1 to "
          "migrate this HostedService cs1.", E, "Deployment", "d1", None)


def test_r07_paas_deployment() -> None:
    web = c.Role(name="web", service_name="cs1", deployment_name="d1", role_type=c.RoleType.WEB, size=None)
    check(one(dep_snap(service(vms=[vm(), web])), "R07"),
          "Migration isn't supported for Deployment d1  in HostedService cs1 because it's a PaaS deployment "
          "(Web/Worker).", E, "Deployment", "d1", None)


@pytest.mark.parametrize("variant", ["web", "marker", "dynamics"])
def test_r08_vnet_with_paas(variant: str) -> None:
    site = vnet_site(contains_api_management=variant == "marker")
    roles = [vm(subnet_names=["FrontEnd"], dynamics_managed=variant == "dynamics")]
    if variant == "web":
        roles.append(c.Role(name="web", service_name="cs1", deployment_name="d1", role_type=c.RoleType.WORKER,
                            subnet_names=["FrontEnd"]))
    check(one(vnet_snap(service(vms=roles, vnet="vnet1"), vnet=site), "R08"),
          "Migration isn't supported for Virtual Network vnet1 because it has non-gateway PaaS deployments.",
          E, "VirtualNetwork", "vnet1", None)


def test_r09_multiple_availability_sets() -> None:
    cs = service(vms=[vm("a", availability_set="as1"), vm("b", availability_set="as2")])
    check(one(dep_snap(cs), "R09"),
          "Migration isn't supported for Deployment d1 in HostedService cs1 because it has multiple "
          "Availabilities Sets.", E, "Deployment", "d1", None)


def test_r10_mixed_availability_set_keeps_the_unbalanced_brace() -> None:
    cs = service(vms=[vm("a", availability_set="as1"), vm("b")])
    check(one(dep_snap(cs), "R10"),
          "Migration isn't supported for Deployment d1 in HostedService {cs1 because it has VMs that are not part of "
          "the Availability Set even though the HostedService contains one.", E, "Deployment", "d1", None)


def test_r11_mixed_single_and_multi_nic() -> None:
    nic = c.SecondaryNic(name="nic2", ip_configurations=[c.IPConfiguration(subnet_name="FrontEnd")])
    cs = service(vms=[vm("a", subnet_names=["FrontEnd"], secondary_nics=[nic]), vm("b", subnet_names=["FrontEnd"])],
                 vnet="vnet1")
    check(one(vnet_snap(cs), "R11"),
          "Migration isn't supported for Deployment d1 in HostedService cs1 because it has both single-NIC and "
          "multi-NIC VMs.", E, "Deployment", "d1", None)


def test_r12_nics_in_several_subnets() -> None:
    nic = c.SecondaryNic(name="nic2", ip_configurations=[c.IPConfiguration(subnet_name="BackEnd")])
    cs = service(vms=[vm("a", subnet_names=["FrontEnd"], secondary_nics=[nic])], vnet="vnet1")
    check(one(vnet_snap(cs), "R12"),
          "VM a in HostedService cs1 has network interfaces in more than one subnet (FrontEnd, BackEnd), which isn't "
          "supported for migration. Move all network interfaces of the VM into one subnet and retry migration.",
          E, "VirtualMachine", "a", "a")


def test_r13_vnet_vm_without_subnet() -> None:
    cs = service(vms=[vm("a", subnet_names=["FrontEnd"]), vm("b"), vm("c")], vnet="vnet1")
    check(one(vnet_snap(cs), "R13"),
          "The Deployment d1 in cloud service cs1 cannot be migrated because there are no subnets associated with "
          "the role(s) b, c. Associate all roles with a subnet, then retry the migration of the cloud service.",
          E, "Deployment", "d1", None)


# --------------------------------------------------------------------------- state R14–R18


def test_r14_role_state() -> None:
    cs = service(vms=[vm(instance_status=c.InstanceStatus.ROLE_STATE_UNKNOWN)])
    check(one(dep_snap(cs), "R14"),
          "Migration isn't allowed for HostedService cs1 because it has VM vm1 in State: RoleStateUnknown. Migration "
          "is allowed only when the VM is in one of the following states - Running, Stopped, Stopped Deallocated.",
          E, "VirtualMachine", "vm1", "vm1")


@pytest.mark.parametrize("status", [c.InstanceStatus.READY, c.InstanceStatus.STOPPED_VM,
                                    c.InstanceStatus.STOPPED_DEALLOCATED])
def test_r14_allowed_states(status: c.InstanceStatus) -> None:
    assert of(validate(dep_snap(service(vms=[vm(instance_status=status)]))), "R14") == []


def test_r15_intermediate_state_and_update() -> None:
    out = of(validate(dep_snap(service(status="Deploying", upgrade_in_progress=True))), "R15")
    assert len(out) == 2
    check(out[0], "Deployment d1 in HostedService cs1 is in intermediate state: Deploying. Migration not allowed.",
          E, "Deployment", "d1", None)
    check(out[1], "One or more VMs in Deployment d1 in HostedService cs1 is undergoing an update operation. It can't "
          "be migrated until the previous operation completes successfully. Retry after sometime.",
          E, "Deployment", "d1", None)


def test_r16_provisioning_timeout_has_its_own_rule() -> None:
    snap = dep_snap(service(vms=[vm(instance_status=c.InstanceStatus.PROVISIONING_TIMEOUT)]))
    check(one(snap, "R16"),
          "Migration isn't allowed for HostedService cs1 because it has VM vm1 in State: ProvisioningTimeout. "
          "Migration is allowed only when the VM is in one of the following states - Running, Stopped, Stopped "
          "Deallocated.", E, "VirtualMachine", "vm1", "vm1")
    assert of(validate(snap), "R14") == []


def test_r17_fabric_cluster_is_prepare_only() -> None:
    snap = dep_snap(service(vms=[vm(provisioned_on_legacy_fabric=True)]))
    assert of(validate(snap), "R17") == []
    check(one(snap, "R17", Phase.PREPARE),
          "VM vm1 in HostedService cs1 can't be migrated because the fabric cluster it runs on does not exist in "
          "Azure Resource Manager. Stop (deallocate) the VM and retry migration, or retry later.",
          E, "VirtualMachine", "vm1", "vm1")


def test_r18_not_regional() -> None:
    check(one(dep_snap(service(regional_scope=False)), "R18"),
          "Migration isn't allowed for Deployment d1 in HostedService cs1 as it isn't in the regional scope. Refer "
          "to https://aka.ms/regionalscope for moving this deployment to regional scope.", E, "Deployment", "d1", None)


# --------------------------------------------------------------------------- extensions R19–R23


def ext(name: str, version: str = "2.*", publisher: str = "Microsoft.Compute", **kw: Any) -> c.ExtensionReference:
    return c.ExtensionReference(reference_name=name, publisher=publisher, name=name, version=version, **kw)


def test_r19_xml_extension_is_an_error() -> None:
    snap = dep_snap(service(vms=[vm(extensions=[ext("BGInfo", "1.*")])]))
    check(one(snap, "R19"),
          "VM vm1 in HostedService cs1 contains Extension BGInfo which isn't supported in Azure Resource Manager. "
          "It's recommended to uninstall it from the VM before continuing with migration.",
          E, "Extension", "BGInfo", "vm1")


def test_r20_backup_extension() -> None:
    snap = dep_snap(service(vms=[vm(extensions=[ext("VMSnapshot", "1.*", "Microsoft.Azure.RecoveryServices")])]))
    check(one(snap, "R20"),
          "VM vm1 in HostedService cs1 contains Extension VMSnapshot/VMSnapshotLinux, which is currently not "
          "supported for Migration. Uninstall it from the VM and add it back using Azure Resource Manager after the "
          "Migration is Complete", E, "Extension", "VMSnapshot", "vm1")


def test_r21_extension_status_missing() -> None:
    snap = dep_snap(service(vms=[vm(extensions=[ext("VMAccessAgent", handler_status=None)])]))
    check(one(snap, "R21"),
          "VM vm1 in HostedService cs1 contains Extension VMAccessAgent whose Status isn't being reported from the "
          "VM. Hence, this VM can't be migrated. Ensure that the Extension status is being reported or uninstall the "
          "extension from the VM and retry migration.", E, "Extension", "VMAccessAgent", "vm1")


def test_r22_extension_not_ready() -> None:
    snap = dep_snap(service(vms=[vm(extensions=[ext("VMAccessAgent", handler_status="NotReady")])]))
    check(one(snap, "R22"),
          "VM vm1 in HostedService cs1 contains Extension VMAccessAgent reporting Handler Status: NotReady. Hence, "
          "the VM can't be migrated. Ensure that the Extension handler status being reported is Ready or uninstall "
          "it from the VM and retry migration.", E, "Extension", "VMAccessAgent", "vm1")


R23_TEXT = ("VM Agent for VM vm1 in HostedService cs1 is reporting the overall agent status as Not Ready. Hence, the "
            "VM may not be migrated, if it has a migratable extension. Ensure that the VM Agent is reporting overall "
            "agent status as Ready. Refer to https://aka.ms/classiciaasmigrationfaqs.")


def test_r23_agent_not_ready_error_with_migratable_extension() -> None:
    snap = dep_snap(service(vms=[vm(extensions=[ext("VMAccessAgent")],
                                    guest_agent=c.GuestAgentStatus(status="NotReady"))]))
    check(one(snap, "R23"), R23_TEXT, E, "VirtualMachine", "vm1", "vm1")


def test_r23_agent_not_ready_warning_without_migratable_extension() -> None:
    snap = dep_snap(service(vms=[vm(extensions=[], guest_agent=c.GuestAgentStatus(status="NotReady"))]))
    check(one(snap, "R23"), R23_TEXT, W, "VirtualMachine", "vm1", "vm1")


def test_extension_rules_skip_deallocated_vms() -> None:
    bad = [ext("BGInfo", "1.*"), ext("VMSnapshot"), ext("A", handler_status=None), ext("B", handler_status="Busy")]
    snap = dep_snap(service(vms=[vm(extensions=bad, instance_status=c.InstanceStatus.STOPPED_DEALLOCATED,
                                    guest_agent=c.GuestAgentStatus(status="NotReady"))]))
    assert [m for m in validate(snap) if m.rule in {"R19", "R20", "R21", "R22", "R23"}] == []


# --------------------------------------------------------------------------- disks R25–R28


def test_r25_data_disk_size_mismatch_is_a_warning() -> None:
    cs = service(vms=[vm(data_gb=(11,))])
    snap = dep_snap(cs)
    snap.storage_accounts["acct1"].blobs["vhds/vm1-data0.vhd"] = c.Blob(size_bytes=16106127872)  # 15 GiB + 512
    check(one(snap, "R25"),
          "Deployment d1 in HostedService cs1 contains a VM vm1 with Data Disk vm1-data0 whose physical blob size "
          "16106127872 bytes doesn't match the VM Data Disk logical size 11811160064 bytes. Migration will proceed "
          "without specifying a size for the data disk for the Azure Resource Manager VM.",
          W, "Disk", "vm1-data0", "vm1")
    assert not has_errors(validate(snap))


def test_r25_matching_size_is_quiet() -> None:
    assert of(validate(dep_snap(service(vms=[vm(data_gb=(11, 1023))]))), "R25") == []


@pytest.mark.parametrize("missing", ["blob", "account"])
def test_r26_vhd_inaccessible(missing: str) -> None:
    snap = dep_snap(service(vms=[vm(data_gb=(32,))]))
    if missing == "blob":
        del snap.storage_accounts["acct1"].blobs["vhds/vm1-data0.vhd"]
    else:
        snap.storage_accounts.clear()
    check(one(snap, "R26"),
          "A storage exception occurred while validating data disk vm1-data0 with media link "
          "https://acct1.blob.core.windows.net/vhds/vm1-data0.vhd for VM vm1 in Cloud Service cs1. Ensure that the "
          "VHD media link is accessible for this virtual machine", E, "Disk", "vm1-data0", "vm1")


def test_r27_blob_name_with_slash() -> None:
    link = "https://acct1.blob.core.windows.net/vhds/folder/vm1-os.vhd"
    snap = dep_snap(service(vms=[vm(os_disk=c.OSDisk(disk_name="vm1-os", media_link=link))]))
    check(one(snap, "R27"),
          "VM vm1 in HostedService cs1 contains Disk with MediaLink https://acct1.blob.core.windows.net/vhds/folder/"
          "vm1-os.vhd which has blob name folder/vm1-os.vhd  that isn't supported in Azure Resource Manager.",
          E, "Disk", "vm1-os", "vm1")


def test_r28_boot_diagnostics_on_premium() -> None:
    cs = service(vms=[vm(boot_diagnostics=c.BootDiagnostics(enabled=True,
                                                            storage_uri="https://diagp.blob.core.windows.net/"))])
    accounts = accounts_for([cs])
    accounts["diagp"] = c.StorageAccount(name="diagp", account_type="Premium_LRS")
    check(one(dep_snap(cs, storage_accounts=accounts), "R28"),
          "VM vm1 in HostedService cs1 has boot diagnostics enabled on Premium storage account diagp, which isn't "
          "supported for migration. Disable boot diagnostics and retry migration.", E, "VirtualMachine", "vm1", "vm1")


# --------------------------------------------------------------------------- network R29–R41, R52


def endpoint(name: str = "web", port: int = 80, **kw: Any) -> c.InputEndpoint:
    return c.InputEndpoint(name=name, port=port, local_port=port, **kw)


def test_r29_endpoint_acl() -> None:
    acl = [c.AclRule(order=1, remote_subnet="1.2.3.0/24")]
    snap = dep_snap(service(vms=[vm(input_endpoints=[endpoint("RDP", 3389, acl=acl)])]))
    check(one(snap, "R29"),
          "VM vm1 in HostedService cs1 has endpoint RDP with an access control list (ACL), which isn't supported for "
          "migration. Remove the endpoint ACL and retry migration.", E, "VirtualMachine", "vm1", "vm1")


def test_r30_peered_vnet() -> None:
    check(one(vnet_snap(vnet=vnet_site(peerings=["other"])), "R30"),
          "Migration isn't supported for Virtual Network vnet1 because it is peered with other. Remove the peering, "
          "migrate the virtual network, then re-create the peering in Azure Resource Manager.",
          E, "VirtualNetwork", "vnet1", None)


def test_r32_reserved_ip_without_endpoint() -> None:
    vips = [c.VirtualIP(name="vip1", address="1.1.1.1", is_reserved=True, reserved_ip_name="rip1")]
    check(one(dep_snap(service(virtual_ips=vips)), "R32"),
          "The deployment d1 in hosted service cs1 has reserved IP(s) rip1 but no endpoint on the reserved IP. To "
          "resolve this issue, add at least one endpoint to the reserved IP.", E, "Deployment", "d1", None)


def test_r32_reserved_ip_without_name() -> None:
    vips = [c.VirtualIP(name="vip1", address="1.1.1.1", is_reserved=True)]
    snap = dep_snap(service(vms=[vm(input_endpoints=[endpoint()])], virtual_ips=vips))
    check(one(snap, "R32"),
          "The deployment d1 in hosted service cs1 has reserved IP(s) but no reserved IP name. To resolve this issue, "
          "update reserved IP name or contact the Microsoft Azure service desk.", E, "Deployment", "d1", None)


def test_r32_reserved_ip_with_endpoint_is_fine() -> None:
    vips = [c.VirtualIP(name="vip1", address="1.1.1.1", is_reserved=True, reserved_ip_name="rip1")]
    assert of(validate(dep_snap(service(vms=[vm(input_endpoints=[endpoint()])], virtual_ips=vips))), "R32") == []


def test_r33_standalone_objects_still_associated() -> None:
    rip = c.ReservedIP(name="rip1", address="1.1.1.1", location="West US", service_name="cs1")
    check(one(simple_snap(UnitKind.RESERVED_IP, "rip1", reserved_ip=rip), "R33"),
          "Reserved IP rip1 is associated with HostedService cs1. Disassociate it from the cloud service before "
          "migrating it on its own, or migrate it together with the cloud service.", E, "ReservedIP", "rip1", None)
    nsg = c.NetworkSecurityGroup(name="nsg1", location="West US")
    check(one(simple_snap(UnitKind.NSG, "nsg1", nsg=nsg, used_by=["subnet FrontEnd of vnet1"]), "R33"),
          "Network Security Group nsg1 is associated with subnet FrontEnd of vnet1. Migrate it together with the "
          "virtual network or virtual machines that use it, or remove the associations and retry migration.",
          E, "NetworkSecurityGroup", "nsg1", None)
    rt = c.RouteTable(name="rt1", location="West US")
    check(one(simple_snap(UnitKind.ROUTE_TABLE, "rt1", route_table=rt, used_by=["subnet BackEnd of vnet1"]), "R33"),
          "Route Table rt1 is associated with subnet BackEnd of vnet1. Migrate it together with the virtual network "
          "that uses it, or remove the associations and retry migration.", E, "RouteTable", "rt1", None)


def test_r34_invalid_cidr_is_prepare_only() -> None:
    site = vnet_site(address_space=["10.0.0.1/16"],
                     subnets=[c.Subnet(name="FrontEnd", address_prefix="10.0.0.0/24"),
                              c.Subnet(name="Bad", address_prefix="10.0.1.0/23")])
    local = {"onprem": c.LocalNetworkSite(name="onprem", address_space=["192.168.1.1/24"])}
    snap = vnet_snap(vnet=site, local_sites=local)
    assert of(validate(snap), "R34") == []
    out = of(validate(snap, Phase.PREPARE), "R34")
    assert [m.message for m in out] == [
        "Address prefix 10.0.0.1/16 of Virtual Network vnet1 isn't a valid CIDR block in Azure Resource Manager "
        "(host bits must be zero). Correct the address prefix and retry migration.",
        "Address prefix 10.0.1.0/23 of subnet Bad of Virtual Network vnet1 isn't a valid CIDR block in Azure "
        "Resource Manager (host bits must be zero). Correct the address prefix and retry migration.",
        "Address prefix 192.168.1.1/24 of local network site onprem isn't a valid CIDR block in Azure Resource "
        "Manager (host bits must be zero). Correct the address prefix and retry migration.",
    ]
    check(out[0], out[0].message, E, "VirtualNetwork", "vnet1", None)


def _gw(**kw: Any) -> c.Gateway:
    return c.Gateway(**kw)


def test_r35_er_and_vpn_on_one_gateway() -> None:
    gw = _gw(type=c.GatewayType.EXPRESS_ROUTE, express_route_circuit="key1",
             connections=[c.LocalSiteConnection(local_network_site="branch")])
    circuits = {"key1": c.ExpressRouteCircuit(service_key="key1", name="er1", location="West US", in_arm=True)}
    snap = vnet_snap(vnet=vnet_site(gateway=gw), er_circuits=circuits)
    assert of(validate(snap), "R35") == []
    check(one(snap, "R35", Phase.PREPARE),
          "Migration isn't supported for Virtual Network vnet1 because its gateway has both an ExpressRoute circuit "
          "and VPN connections (branch). Remove the VPN connections, migrate, then re-create them in Azure Resource "
          "Manager.", E, "VirtualNetwork", "vnet1", None)


def test_r36_disconnected_connection() -> None:
    gw = _gw(connections=[c.LocalSiteConnection(local_network_site="branch", connected=False)])
    snap = vnet_snap(vnet=vnet_site(gateway=gw))
    assert of(validate(snap), "R36") == []
    check(one(snap, "R36", Phase.PREPARE),
          "The connection from the gateway of Virtual Network vnet1 to local network site branch isn't connected. "
          "Re-establish the connection or remove it, and retry migration.", E, "VirtualNetwork", "vnet1", None)


def test_r37_circuit_not_in_arm_and_cross_subscription() -> None:
    gw = _gw(type=c.GatewayType.EXPRESS_ROUTE, express_route_circuit="KEY1")
    circuits = {"key1": c.ExpressRouteCircuit(service_key="KEY1", name="er1", location="West US", in_arm=False,
                                              cross_subscription_authorizations=["sub2"])}
    out = of(validate(vnet_snap(vnet=vnet_site(gateway=gw), er_circuits=circuits), Phase.PREPARE), "R37")
    assert [m.message for m in out] == [
        "Virtual Network vnet1 is linked to ExpressRoute circuit er1, which hasn't been moved to Azure Resource "
        "Manager. Move the circuit to Azure Resource Manager first, then retry migration.",
        "Virtual Network vnet1 is linked to ExpressRoute circuit er1 with authorizations for other subscriptions "
        "(sub2), which can't be migrated automatically. Remove the cross-subscription links, migrate, then re-create "
        "them in Azure Resource Manager.",
    ]
    assert all(m.category == E and m.resource_type == "VirtualNetwork" for m in out)


def test_r38_lb_set_mismatch() -> None:
    probe = c.LoadBalancerProbe(port=80, path="/health", protocol="http")
    a = vm("a", input_endpoints=[endpoint(load_balanced_endpoint_set_name="web", probe=probe)])
    b = vm("b", input_endpoints=[endpoint(load_balanced_endpoint_set_name="WEB", probe=None)])
    snap = dep_snap(service(vms=[a, b]))
    assert of(validate(snap), "R38") == []
    check(one(snap, "R38", Phase.PREPARE),
          "Load-balanced endpoint set web in Deployment d1 in HostedService cs1 has endpoints with different "
          "protocols, ports or probes on VMs a, b, so it can't become one Azure Resource Manager load-balancing rule. "
          "Make the endpoints of the set identical and retry migration.", E, "Deployment", "d1", None)


def test_r39_deallocated_vms_with_same_ip() -> None:
    dealloc = c.InstanceStatus.STOPPED_DEALLOCATED
    cs1 = service(vms=[vm("a", subnet_names=["FrontEnd"], static_ip="10.0.0.5", instance_status=dealloc)],
                  vnet="vnet1")
    cs2 = service("cs2", "d2", vms=[vm("b", "cs2", "d2", subnet_names=["FrontEnd"], static_ip="10.0.0.5",
                                       instance_status=dealloc)], vnet="vnet1")
    snap = vnet_snap(cs1, cs2)
    assert of(validate(snap), "R39") == []
    check(one(snap, "R39", Phase.PREPARE),
          "VM b in HostedService cs2 and VM a in HostedService cs1 are both stopped (deallocated) and use the same "
          "private IP address 10.0.0.5 in Virtual Network vnet1. Change the IP address of one of them and retry "
          "migration.", E, "VirtualMachine", "b", "b")


def test_r40_quota() -> None:
    cs = service(vms=[vm("a", size="Large"), vm("b", size="Standard_DS2")])
    arm = ArmFacts(usage={"cores": 95, "networkInterfaces": 0}, quota={"cores": 100, "networkInterfaces": 10})
    snap = dep_snap(cs, arm=arm)
    assert of(validate(snap), "R40") == []
    check(one(snap, "R40", Phase.PREPARE),
          "The current quota for cores in Azure Resource Manager is insufficient to complete migration. Current quota "
          "is 100, additional needed is 6. File a support request to raise the quota and retry migration once the "
          "quota has been raised.", E, "Deployment", "d1", None)


def test_quota_needs() -> None:
    vips = [c.VirtualIP(name="vip1", address="1.1.1.1", is_reserved=True, reserved_ip_name="rip1")]
    nic = c.SecondaryNic(name="n2", network_security_group="nsgB")
    cs = service(vms=[vm("a", size="A7", input_endpoints=[endpoint()], secondary_nics=[nic],
                         public_ips=[c.InstancePublicIP(name="pip")], network_security_group="nsgA"),
                      vm("b", size="Medium", network_security_group="NSGA")], virtual_ips=vips)
    need = needed(dep_snap(cs))
    assert need == {"cores": 10, "networkInterfaces": 3, "publicIPAddresses": 2, "staticPublicIPAddresses": 1,
                    "loadBalancers": 1, "networkSecurityGroups": 2, "routeTables": 0, "virtualNetworks": 1,
                    "availabilitySets": 0, "storageAccounts": 0}
    assert (cores_of("ExtraSmall"), cores_of("Basic_A2"), cores_of("Standard_GS5"), cores_of("Weird")) == (1, 2, 32, 1)


def test_r41_er_vnet_with_local_connections_warns() -> None:
    gw = _gw(type=c.GatewayType.EXPRESS_ROUTE, express_route_circuit="key1",
             connections=[c.LocalSiteConnection(local_network_site="branch", type="Dedicated")])
    check(one(vnet_snap(vnet=vnet_site(gateway=gw)), "R41"),
          "Virtual Network vnet1 is linked to an ExpressRoute circuit and its gateway has connections to local network "
          "sites (branch). Remove all ConnectionsToLocalNetwork references from the network configuration before "
          "migration.", W, "VirtualNetwork", "vnet1", None)


def test_r52_traffic_manager() -> None:
    check(one(dep_snap(service(hs={"traffic_manager_profiles": ["tm1"]})), "R52"),
          "HostedService cs1 is an endpoint of Traffic Manager profile tm1, which isn't supported for migration. "
          "Remove the endpoint, migrate, then add the migrated public IP to a Traffic Manager profile in Azure "
          "Resource Manager.", E, "HostedService", "cs1", None)


# --------------------------------------------------------------------------- governance R53–R55


def test_r53_role_assignment() -> None:
    ra = c.RoleAssignment(name="ra1", scope="/sub1/services/hostedservices/cs1/deployments/d1/roles/vm1",
                          principal="p", role="Contributor")
    kept = c.RoleAssignment(name="ra2", scope="/sub1/services/storageservices/acct1", principal="p", role="Reader")
    check(one(dep_snap(role_assignments=[ra, kept]), "R53"),
          "Role assignment ra1 on /sub1/services/hostedservices/cs1/deployments/d1/roles/vm1 will not apply after "
          "migration. The resource will be /subscriptions/sub1/resourceGroups/cs1-Migrated/providers/"
          "Microsoft.Compute/virtualMachines/vm1; re-create the assignment there.", W, "Deployment", "d1", None)


def test_r54_alerts_and_autoscale() -> None:
    check(one(dep_snap(service(vms=[vm(has_alerts=True, has_autoscale=True)])), "R54"),
          "VM vm1 in HostedService cs1 has alerts and autoscale settings, which are dropped during migration. "
          "Re-create them in Azure Resource Manager after the migration is complete.",
          W, "VirtualMachine", "vm1", "vm1")


def test_r55_security_center_behind_gateway_with_dns() -> None:
    mma = ext("MicrosoftMonitoringAgent", "1.*", "Microsoft.EnterpriseCloud.Monitoring")
    site = vnet_site(gateway=_gw(), dns_servers=[c.DnsServer(name="dc1", address="10.0.0.4")])
    snap = vnet_snap(service(vms=[vm(subnet_names=["FrontEnd"], extensions=[mma])], vnet="vnet1"), vnet=site)
    check(one(snap, "R55"),
          "VM vm1 in HostedService cs1 has the Azure Security Center extension and Virtual Network vnet1 has a gateway "
          "with on-premises DNS servers. Disable the Security Center policy on the subscription 3 hours before "
          "migration, or the migration can't proceed.", W, "VirtualMachine", "vm1", "vm1")


# --------------------------------------------------------------------------- storage R42, R43, R56


def _storage(**kw: Any) -> UnitSnapshot:
    return simple_snap(UnitKind.STORAGE, "acct1", storage_account=c.StorageAccount(name="acct1"), **kw)


def test_r43_clean_storage_account() -> None:
    out = validate(_storage())
    assert out == [Message("R43", "Storage", "acct1", INFO, "Storage Account acct1 is eligible for migration.")]
    assert result_text(out) == ("Validation Passed. Please see ValidationMessages object for a list of resources "
                                "that will be migrated.")


def test_r56_warns_at_validate_and_r42_fails_prepare() -> None:
    disk = c.Disk(name="orphan", media_link="https://acct1.blob.core.windows.net/vhds/orphan.vhd")
    attached = c.Disk(name="used", media_link="https://acct1.blob.core.windows.net/vhds/used.vhd", role_name="vm1",
                      hosted_service_name="cs1", deployment_name="d1")
    image = c.OSImage(name="img1", media_link="https://acct1.blob.core.windows.net/vhds/img.vhd")
    snap = _storage(disks=[disk, attached], os_images=[image])
    out = validate(snap)
    assert [m.message for m in of(out, "R56")] == [
        "Storage account acct1 holds the VHD of disk orphan, which isn't attached to a VM and won't be migrated. "
        "Delete the disk (its VHD blob is kept) before you prepare the migration of the storage account.",
        "Storage account acct1 holds the VHD of OS image img1, which isn't attached to a VM and won't be migrated. "
        "Delete the OS image (its VHD blob is kept) before you prepare the migration of the storage account.",
    ]
    assert all(m.category == W and m.resource_type == "Storage" for m in of(out, "R56"))
    assert of(out, "R42") == []
    assert out[-1].message == "Storage Account acct1 is eligible for migration."
    assert result_text(out).startswith("Validation Passed with warnings.")
    prepared = validate(snap, Phase.PREPARE)
    assert of(prepared, "R56") == []  # prepare reports the same condition as R42
    check(one(snap, "R42", Phase.PREPARE),
          "Storage account acct1 has classic disks or images that must be deleted or migrated first.",
          E, "Storage", "acct1", None)


# --------------------------------------------------------------------------- whole-unit behaviour


def test_clean_deployment_lists_what_migrates() -> None:
    vips = [c.VirtualIP(name="vip1", address="1.1.1.1", is_reserved=True, reserved_ip_name="rip1")]
    cs = service(vms=[vm("a", availability_set="as1", input_endpoints=[endpoint()], network_security_group="nsg1"),
                      vm("b", availability_set="as1")], virtual_ips=vips)
    out = validate(dep_snap(cs))
    assert [(m.rule, m.category, m.resource_type, m.resource_name, m.virtual_machine, m.message) for m in out] == [
        ("R43", INFO, "Deployment", "d1", None, "Deployment d1 in HostedService cs1 is eligible for migration."),
        ("R43", INFO, "VirtualMachine", "a", "a", "VM a in HostedService cs1 is eligible for migration."),
        ("R43", INFO, "VirtualMachine", "b", "b", "VM b in HostedService cs1 is eligible for migration."),
        ("R43", INFO, "AvailabilitySet", "as1", None, "Availability Set as1 in HostedService cs1 is eligible for "
                                                   "migration."),
        ("R43", INFO, "NetworkSecurityGroup", "nsg1", None, "Network Security Group nsg1 is eligible for migration."),
        ("R43", INFO, "ReservedIP", "rip1", None, "Reserved IP rip1 is eligible for migration."),
    ]
    assert not has_errors(out)
    assert result_text(out) == ("Validation Passed. Please see ValidationMessages object for a list of resources "
                                "that will be migrated.")


def test_clean_vnet_lists_vnet_and_network_objects() -> None:
    site = vnet_site(subnets=[c.Subnet(name="FrontEnd", address_prefix="10.0.0.0/24", network_security_group="nsg1",
                                       route_table="rt1")])
    out = validate(vnet_snap(vnet=site), Phase.PREPARE)
    assert [m.message for m in out] == [
        "Virtual Network vnet1 is eligible for migration.",
        "Deployment d1 in HostedService cs1 is eligible for migration.",
        "VM vm1 in HostedService cs1 is eligible for migration.",
        "Network Security Group nsg1 is eligible for migration.",
        "Route Table rt1 is eligible for migration.",
    ]


@pytest.mark.parametrize(("kind", "obj", "text", "rtype"), [
    (UnitKind.RESERVED_IP, {"reserved_ip": c.ReservedIP(name="rip1", address="1.1.1.1", location="West US")},
     "Reserved IP rip1 is eligible for migration.", "ReservedIP"),
    (UnitKind.NSG, {"nsg": c.NetworkSecurityGroup(name="rip1", location="West US")},
     "Network Security Group rip1 is eligible for migration.", "NetworkSecurityGroup"),
    (UnitKind.ROUTE_TABLE, {"route_table": c.RouteTable(name="rip1", location="West US")},
     "Route Table rip1 is eligible for migration.", "RouteTable"),
])
def test_clean_standalone_units(kind: UnitKind, obj: dict[str, Any], text: str, rtype: str) -> None:
    out = validate(simple_snap(kind, "rip1", **obj))
    assert len(out) == 1
    check(out[0], text, INFO, rtype, "rip1", None)


def test_every_problem_is_reported_in_rule_order_and_no_information_on_error() -> None:
    web = c.Role(name="web", service_name="cs1", deployment_name="d1", role_type=c.RoleType.WEB, size=None)
    cs = service(vms=[vm("a", availability_set="as1", instance_status=c.InstanceStatus.BUSY_ROLE,
                         extensions=[ext("BGInfo", "1.*")]),
                      vm("b", has_alerts=True), web], regional_scope=False)
    out = validate(dep_snap(cs))
    assert [m.rule for m in out] == ["R07", "R10", "R14", "R18", "R19", "R54"]
    assert [m.rule for m in out] == sorted(m.rule for m in out)
    assert all(m.category != INFO for m in out)
    assert result_text(out) == "Validation Failed. Please see ValidationMessages object for additional details."
    assert validate(dep_snap(cs)) == out  # deterministic


def test_messages_sorted_by_resource_within_a_rule() -> None:
    vms = [vm(n, instance_status=c.InstanceStatus.BUSY_ROLE) for n in ("c", "a", "b")]
    assert [m.virtual_machine for m in of(validate(dep_snap(service(vms=vms))), "R14")] == ["a", "b", "c"]


def test_prepare_only_rules_are_absent_at_validate() -> None:
    prepare_only = {r.id for r in REGISTRY.all() if r.phase == Phase.PREPARE}
    assert prepare_only == {"R17", "R34", "R35", "R36", "R37", "R38", "R39", "R40", "R42"}
    for kind in UnitKind:
        assert not {r.id for r in REGISTRY.select(kind, Phase.VALIDATE)} & prepare_only
    assert "R56" not in {r.id for r in REGISTRY.select(UnitKind.STORAGE, Phase.PREPARE)}
    assert "R14" in {r.id for r in REGISTRY.select(UnitKind.VNET, Phase.PREPARE)}


def test_result_text_variants() -> None:
    def m(cat: Category | str) -> Message:
        return Message("X", "Deployment", "d", cat, "t")  # type: ignore[arg-type]

    assert result_text([]) == "There are no ValidationMessages."
    assert result_text([m(W), m("error")]) == ("Validation Failed. Please see ValidationMessages object for "
                                               "additional details.")
    assert result_text([m(W), m(INFO)]) == (
        "Validation Passed with warnings. Please see ValidationMessages object for a list of resources that will be "
        "migrated and additional detail on the warnings.")
    assert result_text([m(INFO)]) == catalogue.RESULT_PASSED
    assert has_errors([m("ERROR")]) and not has_errors([m(W)])


def test_registry_api() -> None:
    reg = Registry()

    @reg.rule(id="X1", scopes={UnitKind.NSG}, category=W)
    def x1(snap: UnitSnapshot) -> list[Message]:
        """Demo rule."""
        return [Message("X1", "NetworkSecurityGroup", snap.ref.name, W, "demo")]

    with pytest.raises(ValueError, match="registered twice"):
        reg.rule(id="X1", scopes={UnitKind.NSG})(x1)
    assert [r.id for r in reg.select(UnitKind.NSG, Phase.VALIDATE)] == ["X1"]
    assert reg.get("X1").title == "Demo rule."
    out = validate(simple_snap(UnitKind.NSG, "n1"), registry=reg)
    assert [m.message for m in out] == ["demo"]
    every = {r.id for r in REGISTRY.all()}
    expected = {f"R{i:02d}" for i in range(5, 44)} | {f"R{i}" for i in range(52, 57)}
    # R24 is guidance only, R31 is covered by R08
    assert expected - every == {"R24", "R31"}


def test_catalogue_marks_our_texts() -> None:
    assert not catalogue.R10_MIXED_AVAILABILITY_SET.ours and not catalogue.R43_STORAGE_ELIGIBLE.ours
    assert catalogue.R12_MULTIPLE_SUBNETS.ours and catalogue.R43_VM_ELIGIBLE.ours and catalogue.R11_MIXED_NICS.ours
