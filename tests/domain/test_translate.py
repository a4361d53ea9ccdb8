"""translate(snapshot): one test per row of the spec §3.1 mapping table, plus units, order and determinism."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from classic2arm.domain import arm
from classic2arm.domain import classic as c
from classic2arm.domain import identity as ids
from classic2arm.domain.arm import ArmResource
from classic2arm.domain.sizes import arm_size
from classic2arm.domain.translate import Translation, translate
from classic2arm.domain.translate.names import key_vault, vnet_name
from classic2arm.domain.units import CloudService, Destination, UnitKind, UnitRef, UnitSnapshot

SUB = "11111111-2222-3333-4444-555555555555"
NOW = datetime(2024, 5, 1, tzinfo=UTC)
GB = 1024**3


# --------------------------------------------------------------------------- compact builders


def vm(name: str, svc: str = "svc1", **kw: Any) -> c.Role:
    defaults: dict[str, Any] = {
        "os_disk": c.OSDisk(disk_name=f"{name}-os", media_link=f"https://acct1.blob.core.windows.net/vhds/{name}-os.vhd"),
        "subnet_names": ["web"], "ip_address": "10.1.0.4",
    }
    return c.Role(name=name, service_name=svc, deployment_name=f"{svc}-dep", **{**defaults, **kw})


def ep(name: str, port: int, **kw: Any) -> c.InputEndpoint:
    return c.InputEndpoint(name=name, port=port, local_port=kw.pop("local_port", port), **kw)


def cloud(svc: str, *vms: c.Role, certs: int = 0, **dep: Any) -> CloudService:
    dep.setdefault("virtual_ips", [c.VirtualIP(name=f"{svc}ContractContract", address="40.1.1.1")])
    hs = c.HostedService(name=svc, location="West US",
                         certificates=[c.Certificate(thumbprint=f"AB{i:038X}") for i in range(certs)])
    return CloudService(hosted_service=hs, deployment=c.Deployment(name=f"{svc}-dep", service_name=svc, **dep),
                        roles=list(vms))


def site(name: str = "vnet1", **kw: Any) -> c.VirtualNetworkSite:
    kw.setdefault("address_space", ["10.1.0.0/16"])
    kw.setdefault("subnets", [c.Subnet(name="web", address_prefix="10.1.0.0/24")])
    return c.VirtualNetworkSite(name=name, location="West US", **kw)


def vnet_snap(*services: CloudService, vnet: c.VirtualNetworkSite | None = None, **kw: Any) -> UnitSnapshot:
    vnet = vnet or site()
    return UnitSnapshot(subscription=c.Subscription(id=SUB), ref=UnitRef(UnitKind.VNET, vnet.name), now=NOW,
                        exists=True, location="West US", services=list(services), vnet=vnet, **kw)


def dep_snap(cs: CloudService, destination: Destination | None = None, **kw: Any) -> UnitSnapshot:
    # Non-VNet VMs carry no subnet.
    for role in cs.roles:
        role.subnet_names = []
    ref = UnitRef(UnitKind.DEPLOYMENT, cs.deployment.name, service=cs.name, destination=destination)
    return UnitSnapshot(subscription=c.Subscription(id=SUB), ref=ref, now=NOW, exists=True, location="West US",
                        services=[cs], **kw)


def one(t: Translation, rtype: str, name: str) -> ArmResource:
    found = [r for r in t.all() if r.type == rtype and r.name == name]
    assert len(found) == 1, f"{rtype} {name}: {[r.name for r in t.all() if r.type == rtype]}"
    return found[0]


def names_of(t: Translation, rtype: str) -> list[str]:
    return [r.name for r in t.all() if r.type == rtype]


def rid(rg: str, rtype: str, name: str) -> str:
    return ids.arm_resource_id(SUB, rg, rtype, name)


def props(r: ArmResource) -> dict[str, Any]:
    return r.properties


# --------------------------------------------------------------------------- rows


def test_row01_cloud_service_becomes_rg_and_dns_label() -> None:
    t = translate(vnet_snap(cloud("MySvc", vm("vm1", "MySvc", input_endpoints=[ep("RDP", 3389)]))))
    assert "MySvc-Migrated" in names_of(t, arm.RESOURCE_GROUP)
    pip = one(t, arm.PUBLIC_IP, "MySvcContractContract")
    assert pip.resource_group == "MySvc-Migrated"
    assert props(pip)["dnsSettings"] == {"domainNameLabel": "mysvc", "fqdn": "mysvc.cloudapp.net"}
    assert props(pip)["publicIPAllocationMethod"] == "Dynamic"
    assert props(pip)["provisioningState"] == "Succeeded"
    assert ids.resource_group_id(SUB, "MySvc-Migrated") in t.origins[ids.hosted_service_id(SUB, "MySvc")]


@pytest.mark.parametrize(("classic", "expected"), [
    ("ExtraSmall", "Standard_A0"), ("Small", "Standard_A1"), ("Medium", "Standard_A2"), ("Large", "Standard_A3"),
    ("ExtraLarge", "Standard_A4"), ("A5", "Standard_A5"), ("A11", "Standard_A11"), ("Basic_A2", "Basic_A2"),
    ("Standard_D2", "Standard_D2"), ("Standard_DS3_v2", "Standard_DS3_v2"),
])
def test_row02_size_mapping(classic: str, expected: str) -> None:
    assert arm_size(classic) == expected


def test_row02_vm_same_name_in_service_rg() -> None:
    t = translate(vnet_snap(cloud("svc1", vm("web1", size="Medium", license_type="Windows_Server"))))
    v = one(t, arm.VM, "web1")
    assert v.resource_group == "svc1-Migrated" and v.location == "westus"
    assert props(v)["hardwareProfile"] == {"vmSize": "Standard_A2"}
    assert props(v)["licenseType"] == "Windows_Server"
    assert "osProfile" not in props(v)  # nothing stored classically, nothing invented
    assert t.origins[ids.role_id(SUB, "svc1", "svc1-dep", "web1")][-1] == v.id


def test_row03_disks_attach_and_size_check() -> None:
    acct = c.StorageAccount(name="acct1", blobs={
        "vhds/good.vhd": c.Blob(size_bytes=10 * GB + 512), "vhds/bad.vhd": c.Blob(size_bytes=10 * GB + 4096)})
    disks = [c.DataDisk(disk_name=n, media_link=f"https://acct1.blob.core.windows.net/vhds/{n}.vhd", lun=lun,
                        logical_size_gb=10, host_caching="readonly")
             for n, lun in (("bad", 1), ("good", 0), ("unknown", 2))]
    t = translate(vnet_snap(cloud("svc1", vm("vm1", data_disks=disks)), storage_accounts={"acct1": acct}))
    sp = props(one(t, arm.VM, "vm1"))["storageProfile"]
    assert sp["osDisk"] == {"name": "vm1-os", "osType": "Windows", "caching": "ReadWrite", "createOption": "Attach",
                            "vhd": {"uri": "https://acct1.blob.core.windows.net/vhds/vm1-os.vhd"}}
    good, bad, unknown = sp["dataDisks"]
    assert (good["lun"], good["name"], good["diskSizeGB"], good["caching"]) == (0, "good", 10, "ReadOnly")
    assert good["createOption"] == "Attach" and good["vhd"]["uri"].endswith("/vhds/good.vhd")
    assert "diskSizeGB" not in bad  # R25: blob size disagrees with the logical size
    assert unknown["diskSizeGB"] == 10  # blob not in snapshot: classic's size is trusted


def test_row04_extensions_and_xml_extensions_dropped() -> None:
    exts = [c.ExtensionReference(reference_name="BGInfo", publisher="Microsoft.Compute", name="BGInfo", version="1.*"),
            c.ExtensionReference(reference_name="MyCSE", publisher="Microsoft.Compute", name="CustomScriptExtension",
                                 version="1.*", public_config='{"fileUris": ["https://x/y.ps1"]}'),
            c.ExtensionReference(reference_name="Agent", publisher="Microsoft.Azure.Security", name="IaaSAntimalware",
                                 version="1.5", public_config="eyJBbnRpbWFsd2FyZUVuYWJsZWQiOiB0cnVlfQ==")]
    t = translate(vnet_snap(cloud("svc1", vm("vm1", extensions=exts))))
    assert names_of(t, arm.VM_EXTENSION) == ["MyCSE", "Agent"]
    cse = one(t, arm.VM_EXTENSION, "MyCSE")
    assert cse.id == one(t, arm.VM, "vm1").id + "/extensions/MyCSE"
    assert props(cse) | {} == {"provisioningState": "Succeeded", "publisher": "Microsoft.Compute",
                               "type": "CustomScriptExtension", "typeHandlerVersion": "1.0",
                               "autoUpgradeMinorVersion": True, "settings": {"fileUris": ["https://x/y.ps1"]}}
    agent = props(one(t, arm.VM_EXTENSION, "Agent"))
    assert agent["settings"] == {"AntimalwareEnabled": True} and agent["typeHandlerVersion"] == "1.5"
    assert any("XML extension BGInfo" in d for d in t.dropped)


def test_row05_key_vault_per_service_with_certificates() -> None:
    t = translate(vnet_snap(cloud("svc1", vm("vm1", computer_name="vm1"), certs=2), cloud("svc2", vm("vm2", "svc2"))))
    kv = one(t, arm.KEY_VAULT, "svc1-KV")
    assert kv.resource_group == "svc1-Migrated"
    assert props(kv)["sku"] == {"family": "A", "name": "standard"} and props(kv)["accessPolicies"] == []
    assert props(kv)["tenantId"] == "00000000-0000-0000-0000-000000000000"
    secrets = props(one(t, arm.VM, "vm1"))["osProfile"]["secrets"]
    assert secrets[0]["sourceVault"] == {"id": kv.id}
    assert [s["certificateStore"] for s in secrets[0]["vaultCertificates"]] == ["My", "My"]
    assert secrets[0]["vaultCertificates"][0]["certificateUrl"].startswith("https://svc1-kv.vault.azure.net/secrets/AB")
    assert names_of(t, arm.KEY_VAULT) == ["svc1-KV"]  # svc2 has no certificates
    assert "osProfile" not in props(one(t, arm.VM, "vm2"))


@pytest.mark.parametrize("svc", ["a" * 40, "1startsWithDigit", "x--y", "b" * 21, "b" * 22])
def test_row05_key_vault_name_valid(svc: str) -> None:
    name = key_vault(svc)
    assert 3 <= len(name) <= 24 and name[0].isalpha() and name[-1].isalnum() and "--" not in name
    assert all(ch.isalnum() or ch == "-" for ch in name)
    assert key_vault(svc) == name
    assert key_vault("a" * 40) != key_vault("a" * 39)  # cut names stay distinct


def test_row06_winrm_listeners_and_stored_os_profile() -> None:
    role = vm("vm1", computer_name="VM1", admin_username="admin1",
              winrm_listeners=[{"protocol": "Http"}, {"protocol": "Https", "certificate_thumbprint": "AB" + "0" * 38}])
    t = translate(vnet_snap(cloud("svc1", role, certs=1)))
    osp = props(one(t, arm.VM, "vm1"))["osProfile"]
    assert (osp["computerName"], osp["adminUsername"]) == ("VM1", "admin1")
    listeners = osp["windowsConfiguration"]["winRM"]["listeners"]
    assert listeners[0] == {"protocol": "Http"}
    assert listeners[1]["protocol"] == "Https" and listeners[1]["certificateUrl"].endswith("/secrets/AB" + "0" * 38)


def test_row07_availability_set() -> None:
    t = translate(vnet_snap(cloud("svc1", vm("vm1", availability_set="AS1"), vm("vm2", availability_set="AS1"))))
    avset = one(t, arm.AVAILABILITY_SET, "AS1")
    assert avset.resource_group == "svc1-Migrated"
    assert props(avset)["platformFaultDomainCount"] == 2 and props(avset)["platformUpdateDomainCount"] == 5
    assert props(one(t, arm.VM, "vm2"))["availabilitySet"] == {"id": avset.id}


def test_row08_primary_nic_keeps_private_ip_in_vnet() -> None:
    t = translate(vnet_snap(cloud("svc1", vm("vm1", static_ip="10.1.0.9"), vm("vm2"))))
    nic = one(t, arm.NIC, "vm1-PrimaryNic")
    assert nic.resource_group == "svc1-Migrated" and props(nic)["primary"] is True
    cfg = props(nic)["ipConfigurations"][0]["properties"]
    assert cfg["privateIPAllocationMethod"] == "Static" and cfg["privateIPAddress"] == "10.1.0.9"
    assert cfg["subnet"] == {"id": rid("vnet1-Migrated", arm.VNET, "vnet1") + "/subnets/web"}
    assert props(one(t, arm.NIC, "vm2-PrimaryNic"))["ipConfigurations"][0]["properties"]["privateIPAddress"] == \
        "10.1.0.4"  # no static IP: the runtime DIP is kept
    nics = props(one(t, arm.VM, "vm1"))["networkProfile"]["networkInterfaces"]
    assert nics == [{"id": nic.id, "properties": {"primary": True}}]


def test_row08_non_vnet_vm_gets_dynamic_ip_in_platform_vnet() -> None:
    t = translate(dep_snap(cloud("svc1", vm("vm1"))))
    vnet = one(t, arm.VNET, "svc1-VirtualNetwork")
    assert vnet.resource_group == "svc1-Migrated"
    assert props(vnet)["addressSpace"] == {"addressPrefixes": ["10.0.0.0/16"]}
    assert one(t, arm.SUBNET, "svc1-Subnet").properties["addressPrefix"] == "10.0.0.0/24"
    cfg = props(one(t, arm.NIC, "vm1-PrimaryNic"))["ipConfigurations"][0]["properties"]
    assert cfg["privateIPAllocationMethod"] == "Dynamic" and "privateIPAddress" not in cfg
    assert cfg["subnet"]["id"] == vnet.id + "/subnets/svc1-Subnet"
    assert names_of(t, arm.RESOURCE_GROUP) == ["svc1-Migrated"]


def test_row08_existing_destination_references_arm_subnet() -> None:
    dest = Destination(kind="Existing", resource_group="netrg", vnet="corpnet", subnet="apps")
    t = translate(dep_snap(cloud("svc1", vm("vm1")), destination=dest))
    assert names_of(t, arm.VNET) == [] and names_of(t, arm.SUBNET) == []
    cfg = props(one(t, arm.NIC, "vm1-PrimaryNic"))["ipConfigurations"][0]["properties"]
    assert cfg["subnet"]["id"] == f"/subscriptions/{SUB}/resourceGroups/netrg/providers/Microsoft.Network/" \
        "virtualNetworks/corpnet/subnets/apps"


def test_row09_secondary_nics() -> None:
    sec = c.SecondaryNic(name="nic2", ip_configurations=[c.IPConfiguration(subnet_name="back")],
                         ip_address="10.1.1.5", ip_forwarding=True)
    v = site(subnets=[c.Subnet(name="web", address_prefix="10.1.0.0/24"),
                      c.Subnet(name="back", address_prefix="10.1.1.0/24")])
    t = translate(vnet_snap(cloud("svc1", vm("vm1", secondary_nics=[sec])), vnet=v))
    nic = one(t, arm.NIC, "vm1-nic2")
    assert props(nic)["primary"] is False and props(nic)["enableIPForwarding"] is True
    cfg = props(nic)["ipConfigurations"][0]["properties"]
    assert cfg["subnet"]["id"].endswith("/subnets/back") and cfg["privateIPAddress"] == "10.1.1.5"
    refs = props(one(t, arm.VM, "vm1"))["networkProfile"]["networkInterfaces"]
    assert [r["properties"]["primary"] for r in refs] == [True, False] and refs[1]["id"] == nic.id


def _lb_service() -> CloudService:
    probe = c.LoadBalancerProbe(protocol="http", port=80, path="/health", interval_in_seconds=5, timeout_in_seconds=16)
    web = [ep("HTTP", 80, local_port=8080, load_balanced_endpoint_set_name="WebSet", probe=probe,
              load_balancer_distribution="sourceIP", enable_direct_server_return=True, idle_timeout_in_minutes=10)]
    return cloud("svc1", *(vm(f"vm{i}", input_endpoints=[*web, ep("RDP", 50000 + i, local_port=3389)])
                           for i in (1, 2)))


def test_row10_load_balanced_set_becomes_lb_rule_pool_probe() -> None:
    t = translate(vnet_snap(_lb_service()))
    lb = one(t, arm.LOAD_BALANCER, "svc1-LB")
    assert lb.resource_group == "svc1-Migrated"
    p = props(lb)
    (pool,) = p["backendAddressPools"]
    assert pool["name"] == "WebSet" and len(pool["properties"]["backendIPConfigurations"]) == 2
    (rule,) = p["loadBalancingRules"]
    r = rule["properties"]
    assert (r["protocol"], r["frontendPort"], r["backendPort"]) == ("Tcp", 80, 8080)
    assert r["enableFloatingIP"] is True and r["idleTimeoutInMinutes"] == 10 and r["loadDistribution"] == "SourceIP"
    assert r["backendAddressPool"] == {"id": pool["id"]} and r["probe"] == {"id": p["probes"][0]["id"]}
    assert r["frontendIPConfiguration"] == {"id": p["frontendIPConfigurations"][0]["id"]}
    assert p["probes"][0]["properties"] | {"provisioningState": ""} == {
        "protocol": "Http", "port": 80, "requestPath": "/health", "intervalInSeconds": 5, "numberOfProbes": 3,
        "provisioningState": ""}
    cfg = props(one(t, arm.NIC, "vm2-PrimaryNic"))["ipConfigurations"][0]["properties"]
    assert cfg["loadBalancerBackendAddressPools"] == [{"id": pool["id"]}]


def test_row10_no_endpoints_no_load_balancer() -> None:
    t = translate(vnet_snap(cloud("svc1", vm("vm1"))))
    assert names_of(t, arm.LOAD_BALANCER) == []
    assert names_of(t, arm.PUBLIC_IP) == []  # the VIP has no endpoint (row 12)


def test_row10_internal_load_balancer_is_a_load_balancer_of_its_own() -> None:
    """Issue 14: an ARM load balancer is public or internal, never both; the classic ILB becomes an internal load
    balancer named as the user named it, beside the public `<svc>-LB` of the VIP."""
    ilb = c.InternalLoadBalancer(name="ilb1", subnet_name="web", static_ip="10.1.0.100")
    role = vm("vm1", input_endpoints=[ep("SQL", 1433, load_balanced_endpoint_set_name="sql",
                                          load_balancer_name="ilb1"), ep("RDP", 3389)])
    t = translate(vnet_snap(cloud("svc1", role, internal_load_balancers=[ilb])))
    assert sorted(names_of(t, arm.LOAD_BALANCER)) == ["ilb1", "svc1-LB"]
    public = props(one(t, arm.LOAD_BALANCER, "svc1-LB"))
    assert all("publicIPAddress" in f["properties"] for f in public["frontendIPConfigurations"])
    assert [r["name"] for r in public["inboundNatRules"]] == ["vm1-RDP"] and public["loadBalancingRules"] == []
    internal = props(one(t, arm.LOAD_BALANCER, "ilb1"))
    assert [r["name"] for r in internal["loadBalancingRules"]] == ["sql"] and internal["inboundNatRules"] == []
    assert internal["backendAddressPools"][0]["id"].endswith("/loadBalancers/ilb1/backendAddressPools/sql")
    nic = props(one(t, arm.NIC, "vm1-PrimaryNic"))["ipConfigurations"][0]["properties"]
    assert [p["id"].split("/loadBalancers/")[1] for p in nic["loadBalancerBackendAddressPools"]] == [
        "ilb1/backendAddressPools/sql"]
    (fe,) = internal["frontendIPConfigurations"]
    assert fe["name"] == "ilb1"
    assert fe["properties"]["privateIPAllocationMethod"] == "Static"
    assert fe["properties"]["privateIPAddress"] == "10.1.0.100"
    assert fe["properties"]["subnet"]["id"].endswith("/virtualNetworks/vnet1/subnets/web")


def test_row11_plain_endpoints_become_nat_rules() -> None:
    t = translate(vnet_snap(_lb_service()))
    nat = props(one(t, arm.LOAD_BALANCER, "svc1-LB"))["inboundNatRules"]
    assert [n["name"] for n in nat] == ["vm1-RDP", "vm2-RDP"]
    assert (nat[1]["properties"]["frontendPort"], nat[1]["properties"]["backendPort"]) == (50002, 3389)
    assert nat[1]["properties"]["protocol"] == "Tcp"
    cfg = props(one(t, arm.NIC, "vm2-PrimaryNic"))["ipConfigurations"][0]["properties"]
    assert cfg["loadBalancerInboundNatRules"] == [{"id": nat[1]["id"]}]


def test_row12_vip_migrated_only_when_used_and_kept_in_vnet() -> None:
    vips = [c.VirtualIP(name="svc1ContractContract", address="40.1.1.1"), c.VirtualIP(name="idle", address="40.1.1.2")]
    t = translate(vnet_snap(cloud("svc1", vm("vm1", input_endpoints=[ep("RDP", 3389)]), virtual_ips=vips)))
    assert names_of(t, arm.PUBLIC_IP) == ["svc1ContractContract"]
    pip = one(t, arm.PUBLIC_IP, "svc1ContractContract")
    assert props(pip)["ipAddress"] == "40.1.1.1" and pip.tags == {"classicVip": "40.1.1.1"}
    fe = props(one(t, arm.LOAD_BALANCER, "svc1-LB"))["frontendIPConfigurations"][0]
    assert fe["properties"]["publicIPAddress"] == {"id": pip.id}
    assert any("VIP idle (40.1.1.2)" in d for d in t.dropped)


def test_row12_non_vnet_dynamic_vip_loses_address_but_keeps_tag() -> None:
    t = translate(dep_snap(cloud("svc1", vm("vm1", input_endpoints=[ep("SSH", 22)]))))
    pip = one(t, arm.PUBLIC_IP, "svc1ContractContract")
    assert "ipAddress" not in props(pip) and pip.tags == {"classicVip": "40.1.1.1"}


def test_row13_vnet_subnets_inline_and_as_children() -> None:
    v = site(address_space=["10.1.0.0/16", "10.2.0.0/16"],
             subnets=[c.Subnet(name="web", address_prefix="10.1.0.0/24"),
                      c.Subnet(name="GatewaySubnet", address_prefix="10.1.255.0/27")])
    t = translate(vnet_snap(vnet=v))
    net = one(t, arm.VNET, "vnet1")
    assert net.resource_group == "vnet1-Migrated" and net.location == "westus"
    assert props(net)["addressSpace"] == {"addressPrefixes": ["10.1.0.0/16", "10.2.0.0/16"]}
    assert [s["name"] for s in props(net)["subnets"]] == ["web", "GatewaySubnet"]
    sub = one(t, arm.SUBNET, "web")
    assert sub.id == net.id + "/subnets/web" and sub.parent_id == net.id and sub.location is None
    assert sub.properties == props(net)["subnets"][0]["properties"]
    assert names_of(t, arm.RESOURCE_GROUP) == ["vnet1-Migrated"]


def test_row13_portal_vnet_name() -> None:
    assert vnet_name("Group myrg myvnet") == "group-myrg-myvnet"
    assert vnet_name("plain-vnet") == "plain-vnet"
    t = translate(vnet_snap(vnet=site("Group rg1 net1")))
    assert one(t, arm.VNET, "group-rg1-net1").resource_group == "group-rg1-net1-Migrated"
    assert ids.vnet_id(SUB, "Group rg1 net1") in t.origins


def test_row14_reserved_vip_static_basic_keeps_address() -> None:
    vips = [c.VirtualIP(name="svc1ContractContract", address="52.1.1.1", is_reserved=True, reserved_ip_name="myrip")]
    t = translate(dep_snap(cloud("svc1", vm("vm1", input_endpoints=[ep("SSH", 22)]), virtual_ips=vips)))
    pip = one(t, arm.PUBLIC_IP, "myrip")
    assert pip.resource_group == "svc1-Migrated" and pip.sku == {"name": "Basic"}
    assert props(pip)["publicIPAllocationMethod"] == "Static" and props(pip)["ipAddress"] == "52.1.1.1"
    assert pip.id in t.origins[ids.reserved_ip_id(SUB, "myrip")]


def test_row14_standalone_reserved_ip_unit() -> None:
    rip = c.ReservedIP(name="rip1", address="52.2.2.2", location="East US")
    snap = UnitSnapshot(subscription=c.Subscription(id=SUB), ref=UnitRef(UnitKind.RESERVED_IP, "rip1"), now=NOW,
                        exists=True, reserved_ip=rip)
    t = translate(snap)
    pip = one(t, arm.PUBLIC_IP, "rip1")
    assert names_of(t, arm.RESOURCE_GROUP) == ["rip1-Migrated"] and pip.location == "eastus"
    assert props(pip)["publicIPAllocationMethod"] == "Static" and props(pip)["ipAddress"] == "52.2.2.2"


def test_row15_instance_public_ip() -> None:
    role = vm("vm1", public_ips=[c.InstancePublicIP(name="pip1", address="23.1.1.1", idle_timeout_in_minutes=7)])
    t = translate(vnet_snap(cloud("svc1", role)))
    pip = one(t, arm.PUBLIC_IP, "vm1-pip1")
    assert pip.resource_group == "svc1-Migrated" and props(pip)["publicIPAllocationMethod"] == "Dynamic"
    assert props(pip)["idleTimeoutInMinutes"] == 7
    cfg = props(one(t, arm.NIC, "vm1-PrimaryNic"))["ipConfigurations"][0]["properties"]
    assert cfg["publicIPAddress"] == {"id": pip.id}


def test_row15_instance_public_ip_keeps_its_dns_label() -> None:
    """Issue 14: the deep dive migrates the per-VM public IP "with all its properties"; its DNS label is kept
    (lower-cased, as ARM requires), with the classic instance-level name as the fqdn."""
    role = vm("vm1", public_ips=[c.InstancePublicIP(name="pip1", domain_name_label="FtpInstance")])
    t = translate(vnet_snap(cloud("svc1", role)))
    dns = props(one(t, arm.PUBLIC_IP, "vm1-pip1"))["dnsSettings"]
    assert dns == {"domainNameLabel": "ftpinstance", "fqdn": "ftpinstance.svc1.cloudapp.net"}
    assert not any("DNS label" in d for d in t.dropped)


def _nsg() -> c.NetworkSecurityGroup:
    return c.NetworkSecurityGroup(name="nsg1", location="West US", rules=[
        c.NsgRule(name="rdp", priority=100, protocol="TCP", source_address_prefix="INTERNET",
                  destination_address_prefix="VIRTUAL_NETWORK", destination_port_range="3389"),
        c.NsgRule(name="out", type="Outbound", priority=200, action="Deny", protocol="UDP",
                  source_address_prefix="AZURE_LOADBALANCER"),
        c.NsgRule(name="DEFAULT RULE", priority=65000, is_default=True)])


def test_row16_nsg_cloned_once_for_subnet_and_vm() -> None:
    v = site(subnets=[c.Subnet(name="web", address_prefix="10.1.0.0/24", network_security_group="NSG1")])
    t = translate(vnet_snap(cloud("svc1", vm("vm1", network_security_group="nsg1")), vnet=v, nsgs={"nsg1": _nsg()}))
    nsg = one(t, arm.NSG, "nsg1")
    assert nsg.resource_group == "vnet1-Migrated"
    rules = props(nsg)["securityRules"]
    assert [r["name"] for r in rules] == ["rdp", "out"]
    assert rules[0]["properties"] | {"provisioningState": ""} == {
        "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "3389", "sourceAddressPrefix": "Internet",
        "destinationAddressPrefix": "VirtualNetwork", "access": "Allow", "priority": 100, "direction": "Inbound",
        "provisioningState": ""}
    assert (rules[1]["properties"]["direction"], rules[1]["properties"]["access"]) == ("Outbound", "Deny")
    assert rules[1]["properties"]["sourceAddressPrefix"] == "AzureLoadBalancer"
    assert rules[1]["properties"]["protocol"] == "Udp"
    assert one(t, arm.SUBNET, "web").properties["networkSecurityGroup"] == {"id": nsg.id}
    assert props(one(t, arm.NIC, "vm1-PrimaryNic"))["networkSecurityGroup"] == {"id": nsg.id}


def test_row16_standalone_nsg_unit() -> None:
    snap = UnitSnapshot(subscription=c.Subscription(id=SUB), ref=UnitRef(UnitKind.NSG, "nsg1"), now=NOW, exists=True,
                        location="West US", nsg=_nsg())
    t = translate(snap)
    assert names_of(t, arm.RESOURCE_GROUP) == ["nsg1-Migrated"]
    assert one(t, arm.NSG, "nsg1").resource_group == "nsg1-Migrated"


def test_row17_dns_servers_on_vnet_and_nic() -> None:
    dns = [c.DnsServer(name="dc1", address="10.1.0.10")]
    t = translate(vnet_snap(cloud("svc1", vm("vm1"), dns_servers=[c.DnsServer(name="d", address="10.1.0.11")]),
                            vnet=site(dns_servers=dns)))
    assert props(one(t, arm.VNET, "vnet1"))["dhcpOptions"] == {"dnsServers": ["10.1.0.10"]}
    assert props(one(t, arm.NIC, "vm1-PrimaryNic"))["dnsSettings"]["dnsServers"] == ["10.1.0.11"]


@pytest.mark.parametrize(("classic", "arm_hop"), [
    ("VirtualAppliance", "VirtualAppliance"), ("VPNGateway", "VirtualNetworkGateway"), ("Internet", "Internet"),
    ("Null", "None"), ("VNETLocal", "VnetLocal")])
def test_row18_route_table_clone(classic: str, arm_hop: str) -> None:
    rt = c.RouteTable(name="rt1", location="West US", routes=[
        c.Route(name="r1", address_prefix="0.0.0.0/0", next_hop_type=classic, next_hop_ip_address="10.1.0.5")])
    v = site(subnets=[c.Subnet(name="web", address_prefix="10.1.0.0/24", route_table="rt1")])
    t = translate(vnet_snap(vnet=v, route_tables={"rt1": rt}))
    table = one(t, arm.ROUTE_TABLE, "rt1")
    assert table.resource_group == "vnet1-Migrated"
    (route,) = props(table)["routes"]
    assert route["properties"]["nextHopType"] == arm_hop and route["properties"]["addressPrefix"] == "0.0.0.0/0"
    assert ("nextHopIpAddress" in route["properties"]) == (arm_hop == "VirtualAppliance")
    assert one(t, arm.SUBNET, "web").properties["routeTable"] == {"id": table.id}


def test_row18_standalone_route_table_unit() -> None:
    rt = c.RouteTable(name="rt9", location="North Europe")
    snap = UnitSnapshot(subscription=c.Subscription(id=SUB), ref=UnitRef(UnitKind.ROUTE_TABLE, "rt9"), now=NOW,
                        exists=True, route_table=rt)
    t = translate(snap)
    assert one(t, arm.ROUTE_TABLE, "rt9").resource_group == "rt9-Migrated"
    assert one(t, arm.ROUTE_TABLE, "rt9").location == "northeurope"


def test_row19_ip_forwarding() -> None:
    t = translate(vnet_snap(cloud("svc1", vm("vm1", ip_forwarding=True), vm("vm2"))))
    assert props(one(t, arm.NIC, "vm1-PrimaryNic"))["enableIPForwarding"] is True
    assert props(one(t, arm.NIC, "vm2-PrimaryNic"))["enableIPForwarding"] is False


def test_row20_multi_vip_lb() -> None:
    vips = [c.VirtualIP(name="svc1ContractContract", address="40.1.1.1"), c.VirtualIP(name="vip2", address="40.1.1.2")]
    role = vm("vm1", input_endpoints=[ep("HTTP", 80), ep("HTTP2", 80, local_port=81, virtual_ip_name="vip2")])
    t = translate(vnet_snap(cloud("svc1", role, virtual_ips=vips)))
    assert names_of(t, arm.PUBLIC_IP) == ["svc1ContractContract", "vip2"]
    assert "dnsSettings" not in props(one(t, arm.PUBLIC_IP, "vip2"))  # the DNS name points at the default VIP
    lb = props(one(t, arm.LOAD_BALANCER, "svc1-LB"))
    assert [f["name"] for f in lb["frontendIPConfigurations"]] == ["svc1ContractContract", "vip2"]
    assert lb["inboundNatRules"][1]["properties"]["frontendIPConfiguration"]["id"].endswith("/vip2")


def test_row21_internal_dns_suffix() -> None:
    t = translate(vnet_snap(cloud("svc1", vm("vm1"), internal_dns_suffix="b5.internal.cloudapp.net")))
    dns = props(one(t, arm.NIC, "vm1-PrimaryNic"))["dnsSettings"]
    assert dns == {"internalDomainNameSuffix": "b5.internal.cloudapp.net"}


def _gateway_site(**gw: Any) -> c.VirtualNetworkSite:
    gateway = c.Gateway(**{"profile": "Medium", "vip": "104.1.1.1",
                           "connections": [c.LocalSiteConnection(local_network_site="onprem")], **gw})
    return site(gateway=gateway, subnets=[c.Subnet(name="web", address_prefix="10.1.0.0/24"),
                                          c.Subnet(name="GatewaySubnet", address_prefix="10.1.255.0/27")])


ONPREM = {"onprem": c.LocalNetworkSite(name="onprem", address_space=["192.168.0.0/16"],
                                       vpn_gateway_address="131.1.1.1")}


def test_row22_gateway() -> None:
    t = translate(vnet_snap(vnet=_gateway_site(vpn_client_address_pool=["172.16.0.0/24"]), local_sites=ONPREM))
    gw = one(t, arm.VNET_GATEWAY, "vnet1-Default-Gateway")
    assert gw.resource_group == "vnet1-Migrated"
    p = props(gw)
    assert (p["gatewayType"], p["vpnType"], p["sku"]) == ("Vpn", "RouteBased", {"name": "Standard", "tier": "Standard"})
    pip = one(t, arm.PUBLIC_IP, "vnet1-Default-Gateway-IP")
    assert props(pip)["ipAddress"] == "104.1.1.1"
    cfg = p["ipConfigurations"][0]["properties"]
    assert cfg["publicIPAddress"] == {"id": pip.id} and cfg["subnet"]["id"].endswith("/subnets/GatewaySubnet")
    assert p["vpnClientConfiguration"] == {"vpnClientAddressPool": {"addressPrefixes": ["172.16.0.0/24"]}}
    static = translate(vnet_snap(vnet=_gateway_site(type=c.GatewayType.STATIC_ROUTING), local_sites=ONPREM))
    assert props(one(static, arm.VNET_GATEWAY, "vnet1-Default-Gateway"))["vpnType"] == "PolicyBased"


def test_row23_local_network_gateway() -> None:
    t = translate(vnet_snap(vnet=_gateway_site(), local_sites=ONPREM))
    lgw = one(t, arm.LOCAL_GATEWAY, "onprem")
    assert lgw.resource_group == "vnet1-Migrated"
    assert props(lgw)["localNetworkAddressSpace"] == {"addressPrefixes": ["192.168.0.0/16"]}
    assert props(lgw)["gatewayIpAddress"] == "131.1.1.1"
    assert lgw.id in t.origins[ids.local_site_id(SUB, "onprem")]


def test_row24_connections_ipsec_and_vnet2vnet() -> None:
    t = translate(vnet_snap(vnet=_gateway_site(), local_sites=ONPREM))
    conn = props(one(t, arm.CONNECTION, "vnet1-onprem-Connection"))
    assert conn["connectionType"] == "IPsec"
    assert conn["virtualNetworkGateway1"]["id"] == one(t, arm.VNET_GATEWAY, "vnet1-Default-Gateway").id
    assert conn["localNetworkGateway2"]["id"] == one(t, arm.LOCAL_GATEWAY, "onprem").id
    v2v = translate(vnet_snap(vnet=_gateway_site(), local_sites=ONPREM),
                    peer_vnets={"vnet1": ["10.1.0.0/16"], "Group rg other": ["192.168.0.0/16"]})
    conn = props(one(v2v, arm.CONNECTION, "vnet1-onprem-Connection"))
    assert conn["connectionType"] == "Vnet2Vnet" and "localNetworkGateway2" not in conn
    assert conn["virtualNetworkGateway2"]["id"] == rid("group-rg-other-Migrated", arm.VNET_GATEWAY,
                                                       "group-rg-other-Default-Gateway")
    assert names_of(v2v, arm.LOCAL_GATEWAY) == []


def test_row25_expressroute_gateway() -> None:
    v = _gateway_site(type=c.GatewayType.EXPRESS_ROUTE, connections=[], express_route_circuit="key-1")
    t = translate(vnet_snap(vnet=v))
    p = props(one(t, arm.VNET_GATEWAY, "vnet1-Default-Gateway"))
    assert p["gatewayType"] == "ExpressRoute"
    assert any("ExpressRoute link" in d for d in t.dropped)


@pytest.mark.parametrize(("classic", "sku"), [("Standard_LRS", "Standard_LRS"), ("standard_ragrs", "Standard_RAGRS"),
                                              ("Standard_ZRS", "Standard_ZRS"), ("Premium_LRS", "Premium_LRS")])
def test_row26_storage_account(classic: str, sku: str) -> None:
    acct = c.StorageAccount(name="acct1", location="West Europe", account_type=classic, created=NOW)
    snap = UnitSnapshot(subscription=c.Subscription(id=SUB), ref=UnitRef(UnitKind.STORAGE, "acct1"), now=NOW,
                        exists=True, storage_account=acct)
    t = translate(snap)
    sa = one(t, arm.STORAGE_ACCOUNT, "acct1")
    assert (sa.resource_group, sa.location, sa.kind, sa.sku) == ("acct1-Migrated", "westeurope", "Storage",
                                                                 {"name": sku})
    endpoints = props(sa)["primaryEndpoints"]
    assert endpoints["blob"] == "https://acct1.blob.core.windows.net/"
    assert set(endpoints) == ({"blob"} if sku.startswith("Premium") else {"blob", "queue", "table", "file"})
    assert props(sa)["creationTime"] == NOW.isoformat()
    assert t.origins[ids.storage_id(SUB, "acct1")] == [ids.resource_group_id(SUB, "acct1-Migrated"), sa.id]


def test_row27_alerts_autoscale_and_acls_dropped() -> None:
    acl = [c.AclRule(order=1, remote_subnet="1.2.3.0/24")]
    t = translate(vnet_snap(cloud("svc1", vm("vm1", has_alerts=True, has_autoscale=True,
                                                input_endpoints=[ep("RDP", 3389, acl=acl)]))))
    assert any(d.startswith("alert rules on svc1/vm1") for d in t.dropped)
    assert any(d.startswith("autoscale settings on svc1/vm1") for d in t.dropped)
    assert any(d.startswith("endpoint ACL on svc1/vm1/RDP") for d in t.dropped)


def test_row28_boot_diagnostics() -> None:
    diag = c.BootDiagnostics(enabled=True, storage_uri="https://diag.blob.core.windows.net/")
    t = translate(vnet_snap(cloud("svc1", vm("vm1", boot_diagnostics=diag))))
    assert props(one(t, arm.VM, "vm1"))["diagnosticsProfile"] == {
        "bootDiagnostics": {"enabled": True, "storageUri": "https://diag.blob.core.windows.net/"}}


# --------------------------------------------------------------------------- whole units


def _rich_snapshot() -> UnitSnapshot:
    v = _gateway_site()
    v.subnets[0].network_security_group = "nsg1"
    svc1 = _lb_service()
    svc1.hosted_service.certificates = [c.Certificate(thumbprint="AB" * 20)]
    for role in svc1.roles:
        role.availability_set = "AS1"
        role.extensions = [c.ExtensionReference(reference_name="ext", publisher="P", name="N", version="1.0")]
    svc2 = cloud("svc2", vm("db1", "svc2", public_ips=[c.InstancePublicIP(name="pip")]))
    return vnet_snap(svc1, svc2, vnet=v, local_sites=ONPREM, nsgs={"nsg1": _nsg()})


def test_vnet_unit_with_two_cloud_services_groups() -> None:
    t = translate(_rich_snapshot())
    assert names_of(t, arm.RESOURCE_GROUP) == ["vnet1-Migrated", "svc1-Migrated", "svc2-Migrated"]
    assert {r.resource_group for r in t.resources if r.type in (arm.VM, arm.NIC, arm.LOAD_BALANCER)} == \
        {"svc1-Migrated", "svc2-Migrated"}
    assert {r.resource_group for r in t.resources if r.type in (arm.VNET, arm.NSG, arm.VNET_GATEWAY)} == \
        {"vnet1-Migrated"}
    assert all(r.location == "westus" for r in t.all() if r.type != arm.SUBNET)


def test_deterministic_and_ids_unique() -> None:
    a, b = translate(_rich_snapshot()), translate(_rich_snapshot())
    assert a == b
    all_ids = [r.id.lower() for r in a.all()]
    assert len(all_ids) == len(set(all_ids))
    assert all(r.properties["provisioningState"] == "Succeeded" for r in a.all())


def _refs(value: Any, skip: frozenset[str]) -> list[str]:
    if isinstance(value, dict):
        found = [value["id"]] if isinstance(value.get("id"), str) else []
        return found + [x for k, v in value.items() if k not in skip for x in _refs(v, skip)]
    if isinstance(value, list):
        return [x for v in value for x in _refs(v, skip)]
    return []


def test_parents_and_references_come_first() -> None:
    t = translate(_rich_snapshot())
    position = {r.id.lower(): i for i, r in enumerate(t.resources)}
    # Back-references ARM fills in on GET (pool members, NAT rule targets, AS members) point forward by nature.
    skip = frozenset({"backendIPConfigurations", "backendIPConfiguration", "virtualMachines"})
    for i, r in enumerate(t.resources):
        if r.parent_id and r.parent_id.lower() in position:
            assert position[r.parent_id.lower()] < i, r.id
        for target in _refs(r.properties, skip):
            top = next((p for p in position if target.lower().startswith(p + "/") or target.lower() == p), None)
            if top is not None and top != r.id.lower() and not r.id.lower().startswith(top + "/"):
                assert position[top] < i, f"{r.id} -> {target}"


def test_every_resource_lives_in_a_created_group() -> None:
    t = translate(_rich_snapshot())
    groups = {g.name.lower() for g in t.resource_groups}
    assert all((r.resource_group or "").lower() in groups for r in t.resources)
    made = {x.lower() for v in t.origins.values() for x in v}
    assert {r.id.lower() for r in t.all()} <= made  # every ARM resource has a classic origin


def test_web_roles_not_translated() -> None:
    t = translate(vnet_snap(cloud("svc1", vm("vm1"), c.Role(name="w1", service_name="svc1", deployment_name="d",
                                                            role_type=c.RoleType.WEB))))
    assert names_of(t, arm.VM) == ["vm1"] and any("WebRole w1" in d for d in t.dropped)


def big_vnet_snapshot(n_vms: int = 2000, per_service: int = 50) -> UnitSnapshot:
    services = []
    for s in range(n_vms // per_service):
        svc = f"svc{s}"
        roles = [vm(f"{svc}vm{i}", svc, ip_address=f"10.1.{s}.{i + 4}", availability_set="AS",
                    input_endpoints=[ep("HTTP", 80, load_balanced_endpoint_set_name="web",
                                        probe=c.LoadBalancerProbe(port=80)), ep("RDP", 50000 + i, local_port=3389)],
                    data_disks=[c.DataDisk(disk_name=f"{svc}vm{i}-d0", logical_size_gb=128,
                                           media_link=f"https://acct1.blob.core.windows.net/vhds/{svc}vm{i}-d0.vhd")],
                    extensions=[c.ExtensionReference(reference_name="BGInfo", publisher="Microsoft.Compute",
                                                     name="BGInfo", version="2.1")])
                 for i in range(per_service)]
        services.append(cloud(svc, *roles))
    return vnet_snap(*services, vnet=site(address_space=["10.0.0.0/8"]))


def test_translates_a_vnet_of_2000_vms() -> None:
    t = translate(big_vnet_snapshot())
    assert len([r for r in t.resources if r.type == arm.VM]) == 2000
