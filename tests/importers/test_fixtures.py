"""Every real third-party fixture imports, and what it holds comes out as the file says."""

from __future__ import annotations

from pathlib import Path

import pytest

from classic2arm.domain import classic as c
from classic2arm.domain.estate import Estate
from classic2arm.importers import load_bytes, load_file
from classic2arm.importers.service_defs import load_package

FIXTURES = Path("/work/shared/fixtures")
NETCFG = FIXTURES / "netcfg"
REST = FIXTURES / "asm-rest"
SESSIONS = FIXTURES / "asm-migration"
DEFS = FIXTURES / "service-defs"
LIBCLOUD = "apache__libcloud___3761b98b_673d_526c_8d55_fee918758e6e_"

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared fixtures not mounted")


def vnet(estate: Estate, name: str) -> c.VirtualNetworkSite:
    return next(v for v in estate.virtual_networks if v.name == name)


def subnets(v: c.VirtualNetworkSite) -> dict[str, str]:
    return {s.name: s.address_prefix for s in v.subnets}


def role(estate: Estate, name: str) -> c.Role:
    return next(r for r in estate.roles if r.name == name)


def test_every_fixture_imports() -> None:
    files = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md")
    assert len(files) == 24
    for f in files:
        load_file(f)


# ------------------------------------------------------------------ netcfg


def test_powershell_vnetconfig() -> None:
    e = load_file(NETCFG / "Azure__azure-powershell__vnetconfig.netcfg")
    assert [v.name for v in e.virtual_networks] == ["NewVNet1", "NewVNet2", "NewVNet3"]
    for v in e.virtual_networks:
        assert v.affinity_group == "WestUsAffinityGroup" and v.location is None
        assert "GatewaySubnet" in subnets(v)
        assert v.dns_servers == [c.DnsServer(name="open", address="208.67.222.222")]
        assert v.gateway is not None
        assert [conn.local_network_site for conn in v.gateway.connections] == ["LocalNet1"]
    v1 = vnet(e, "NewVNet1")
    assert v1.address_space == ["10.0.0.0/8"]
    assert subnets(v1) == {"Subnet1": "10.0.0.0/11", "Subnet2": "10.32.0.0/11", "GatewaySubnet": "10.64.0.0/29"}
    assert vnet(e, "NewVNet3").address_space == ["192.168.0.0/20"]
    assert e.local_network_sites == [
        c.LocalNetworkSite(name="LocalNet1", address_space=["157.59.34.0/28"], vpn_gateway_address="157.59.34.62")
    ]


def test_sdk_delete_network_configuration_is_empty() -> None:
    e = load_file(NETCFG / "Azure__azure-sdk-for-net__DeleteNetworkConfiguration.xml")
    assert e.counts() == {}
    assert e.notes


def test_sdk_gateway_network_configuration() -> None:
    e = load_file(NETCFG / "Azure__azure-sdk-for-net__GatewayNetworkConfiguration.xml")
    v = vnet(e, "gatewayVirtualNetworkSiteName")
    assert v.location == "East US" and v.affinity_group is None
    assert v.address_space == ["192.168.0.0/24", "192.168.1.0/24"]
    assert subnets(v) == {"FrontEndSubnet": "192.168.0.0/28", "BackEndSubnet": "192.168.1.0/28",
                          "GatewaySubnet": "192.168.1.16/28"}
    assert v.gateway is not None and v.gateway.profile == "Small" and v.gateway.connections == []
    assert v.dns_servers == []


def test_sdk_simple_migration_network_configuration() -> None:
    e = load_file(NETCFG / "Azure__azure-sdk-for-net__SimpleMigrationNetworkConfiguration.xml")
    assert len(e.virtual_networks) == 1
    v = e.virtual_networks[0]
    assert (v.name, v.location, v.address_space) == ("virtualNetworkSiteName", "East US", ["192.168.100.0/24"])
    assert subnets(v) == {"FrontEndSubnet5": "192.168.100.0/28"}
    assert v.gateway is None and v.dns_servers == []


def test_sdk_site_to_site_network_configuration() -> None:
    e = load_file(NETCFG / "Azure__azure-sdk-for-net__SiteToSiteNetworkConfiguration.xml")
    assert e.local_network_sites == [c.LocalNetworkSite(name="localNetworkSiteName", address_space=["10.1.0.0/16"],
                                                        vpn_gateway_address="1.1.1.1")]
    v = vnet(e, "virtualNetworkSiteName")
    assert v.affinity_group == "affinityGroupName" and v.location is None
    assert list(subnets(v)) == ["FrontEndSubnet", "BackEndSubnet", "GatewaySubnet"]
    assert v.gateway is not None and v.gateway.profile == "Small"
    assert [(x.local_network_site, x.type) for x in v.gateway.connections] == [("localNetworkSiteName", "IPsec")]


def test_knife_get_network_vnet_without_subnets() -> None:
    e = load_file(NETCFG / "chef__knife-azure__get_network.xml")
    assert [(v.name, v.affinity_group) for v in e.virtual_networks] == [
        ("jm-vnet-test", "jm-affinity-group"), ("vnet-test-2", "test"), ("vnname", "agname")]
    last = vnet(e, "vnname")
    assert last.address_space == ["10.0.0.0/16", "172.16.0.0/20"] and last.subnets == []
    assert subnets(vnet(e, "jm-vnet-test")) == {"Subnet-1": "192.168.0.0/23"}


def test_fcampops_network_config() -> None:
    e = load_file(NETCFG / "gitBowei__FCampOps__NetworkConfig.xml")
    v = vnet(e, "LUC-VIRTUALNETWORK")
    assert v.affinity_group == "LUC-AFFINITYGROUP" and v.address_space == ["10.0.0.0/8"]
    assert subnets(v) == {"Subnet-1": "10.0.0.0/11"}
    assert v.dns_servers == [c.DnsServer(name="LUC-DNS", address="10.0.0.4")]


def test_jclouds_network_configuration() -> None:
    e = load_file(NETCFG / "jclouds__jclouds-labs__networkconfiguration.xml")
    v = vnet(e, "jclouds-virtual-network")
    assert v.location == "West Europe" and v.address_space == ["10.0.0.0/20"]
    assert subnets(v) == {"jclouds-1": "10.0.0.0/23"}


# ------------------------------------------------------------------ ASM REST


def test_libcloud_operation_status_has_no_resources() -> None:
    e = load_file(REST / f"{LIBCLOUD}operations_acc33f6756cda6fd96826394fce4c9f3.xml")
    assert e.counts() == {}
    assert any("Succeeded" in n for n in e.notes)


def test_libcloud_hosted_service_embed_detail() -> None:
    e = load_file(REST / f"{LIBCLOUD}services_hostedservices_dcoddkinztest01.xml")
    (hs,) = e.hosted_services
    assert (hs.name, hs.location, hs.label, hs.description) == ("dcoddkinztest01", "North Europe",
                                                                "dcoddkinztest01", "")
    assert hs.created is not None and hs.created.year == 2014
    (dep,) = e.deployments
    assert (dep.name, dep.service_name, dep.slot, dep.label) == ("dc03", "dcoddkinztest01",
                                                                 c.DeploymentSlot.PRODUCTION, "dc03")
    assert [v.address for v in dep.virtual_ips] == ["191.235.135.62"]
    assert dep.virtual_network_name is None
    assert [r.name for r in e.roles] == ["dc03", "oddkinz2"]
    assert {d.name: d.location for d in e.disks} == {"dc03-dc03-0-201405271530050398": "North Europe",
                                                     "dc03-oddkinz2-0-201405271549530290": "North Europe"}


def test_libcloud_get_deployment_by_slot() -> None:
    e = load_file(REST / f"{LIBCLOUD}services_hostedservices_dcoddkinztest01_deploymentslots_Production.xml")
    assert e.hosted_services == []
    (dep,) = e.deployments
    assert (dep.name, dep.service_name) == ("dc03", "dcoddkinztest01")  # service from the Url host
    assert dep.internal_dns_suffix == "dcoddkinztest01.f5.internal.cloudapp.net"
    vm = role(e, "oddkinz2")
    assert vm.role_type == c.RoleType.PERSISTENT_VM and vm.size == "Small"
    assert [(p.name, p.port, p.local_port, p.vip) for p in vm.input_endpoints] == [
        ("SSH", 57706, 22, "191.235.135.62")]
    assert vm.ip_address == "100.92.60.107" and vm.power_state == c.PowerState.STARTED
    assert vm.guest_agent is not None and vm.guest_agent.status == "NotReady"
    assert vm.os_disk is not None and vm.os_disk.os == "Linux"
    assert [(d.name, d.role_name, d.os) for d in e.disks] == [
        ("dc03-dc03-0-201405271530050398", "dc03", "Linux"),
        ("dc03-oddkinz2-0-201405271549530290", "oddkinz2", "Linux")]


def test_jclouds_deployment() -> None:
    e = load_file(REST / "jclouds__jclouds-labs__deployment.xml")
    (dep,) = e.deployments
    assert dep.service_name == "node1855162607153993262-b26" and dep.virtual_network_name == "jclouds"
    (vm,) = e.roles
    assert vm.size == "Basic_A0" and vm.subnet_names == ["Subnet-1"] and vm.ip_address == "10.0.2.6"
    assert [(p.name, p.port) for p in vm.input_endpoints] == [("tcp_22-22", 22), ("tcp_2375-2375", 2375)]
    assert vm.guest_agent is None  # the capture reports no agent status
    (disk,) = e.disks
    assert disk.media_link == "https://test.blob.core.windows.net/clockerblob/container-node1855162607153993262-b26.vhd"


def test_jclouds_reserved_ips() -> None:
    e = load_file(REST / "jclouds__jclouds-labs__listreservedipaddress.xml")
    ip1, ip2 = e.reserved_ips
    assert (ip1.name, ip1.address, ip1.location, ip1.service_name, ip1.deployment_name) == (
        "jclouds_ip1", "23.101.78.155", "West Europe", "jclouds_s", "jclouds_d")
    assert ip1.in_use
    assert (ip2.name, ip2.label, ip2.in_use) == ("jclouds_ip2", "jclouds ip2 label", False)


def test_jclouds_virtual_network_sites() -> None:
    e = load_file(REST / "jclouds__jclouds-labs__virtualnetworksites.xml")
    assert [(v.name, v.location, v.address_space) for v in e.virtual_networks] == [
        ("Group Group testDocker", "West Europe", ["10.1.0.0/16"]),
        ("Group Group-1 dockertest", "West Europe", ["10.2.0.0/16"])]
    assert e.virtual_networks[0].id == "39d0d14b-fc1d-496f-8928-b5a13a6f4b64"
    assert subnets(e.virtual_networks[1]) == {"Subnet-1": "10.2.0.0/24"}


def test_migaz_cloud_service() -> None:
    e = load_file(REST / "zyadamec__migAz__VM1-05-CloudService-myservice.xml")
    (hs,) = e.hosted_services
    assert hs.location == "Australia East" and hs.label == "tomscontainers"
    assert hs.extended_properties["ProvisioningSource"] == "AzureResourceManager"
    (dep,) = e.deployments
    assert dep.status == "Suspended" and dep.virtual_network_name == "Group Group-2 myservice"
    assert dep.virtual_ips == []
    (vm,) = e.roles
    assert vm.instance_status == c.InstanceStatus.STOPPED_DEALLOCATED and not vm.allocated
    assert vm.power_state == c.PowerState.STOPPED and vm.guest_agent is None
    assert [p.name for p in vm.input_endpoints] == ["HTTP", "HTTP 5004", "Raven", "Remote Desktop", "WinRM"]
    assert vm.size == "Standard_DS2" and vm.subnet_names == ["Subnet-1"]
    assert [x.name for x in vm.extensions] == ["MicrosoftMonitoringAgent", "BGInfo"]
    assert vm.extensions[0].public_config == "eyJXb3Jrc3BhY2VJZCI6ImVkMjg4N2Y4LWY2MDktNDliNC05NzU0LWE3NzUyYmZhYzg2ZiJ9"
    assert vm.extensions[1].is_xml_extension
    assert vm.os_disk is not None and vm.os_disk.io_type == "Provisioned"
    (disk,) = e.disks
    assert (disk.name, disk.os, disk.location, disk.role_name) == (
        "myservice-myservice-os-1445207070064", "Windows", "Australia East", "myservice")


def test_migaz_get_role_names_from_file() -> None:
    e = load_file(REST / "zyadamec__migAz__VM1-06-VirtualMachine-myservice-myservice-myservice.xml")
    (vm,) = e.roles
    assert (vm.name, vm.service_name, vm.deployment_name) == ("myservice", "myservice", "myservice")
    assert len(vm.input_endpoints) == 5 and vm.subnet_names == ["Subnet-1"]
    assert e.disks[0].media_link.startswith("https://mystorage.blob.core.windows.net/")


def test_get_role_takes_names_from_context() -> None:
    data = (REST / "zyadamec__migAz__VM1-06-VirtualMachine-myservice-myservice-myservice.xml").read_bytes()
    e = load_bytes(data, "role.xml", {"service_name": "svc", "deployment_name": "dep"})
    assert (e.roles[0].service_name, e.roles[0].deployment_name) == ("svc", "dep")
    assert e.disks[0].hosted_service_name == "svc"


def test_migaz_virtual_networks() -> None:
    e = load_file(REST / "zyadamec__migAz__VNET1-02-VirtualNetworks.xml")
    assert [(v.name, v.location) for v in e.virtual_networks] == [
        ("10.2.0.0", "West Europe"), ("COE-SPS-VNET", "West Europe"), ("EastUSNet", "East US")]
    first = vnet(e, "10.2.0.0")
    assert len(first.subnets) == 8 and subnets(first)["GatewaySubnet"] == "10.2.0.0/29"
    assert [d.address for d in first.dns_servers] == ["10.2.1.4", "10.2.1.5"]
    assert first.gateway is not None and first.gateway.vpn_client_address_pool == ["10.3.0.0/24"]
    assert [x.local_network_site for x in first.gateway.connections] == ["MOBILE DATACENTER", "EastUSNet"]
    assert vnet(e, "COE-SPS-VNET").gateway is None
    sites = {s.name: s for s in e.local_network_sites}
    assert set(sites) == {"MOBILE DATACENTER", "EastUSNet", "WestEuropeNet"}
    assert sites["MOBILE DATACENTER"].address_space == ["10.10.0.0/16", "10.1.0.0/16"]


def test_migaz_network_security_group() -> None:
    e = load_file(REST / "zyadamec__migAz__VNET2-02-NetworkSecurityGroup-asmnsg.xml")
    (nsg,) = e.network_security_groups
    assert (nsg.name, nsg.location, len(nsg.rules)) == ("asmnsg", "East US", 8)
    assert sum(r.is_default for r in nsg.rules) == 6
    dns = nsg.rules[0]
    assert (dns.name, dns.priority, dns.destination_port_range, dns.type) == (
        "Enable Internal DNS", 100, "53", "Inbound")
    assert nsg.rules[-1].action == "Deny"


def test_migaz_route_table() -> None:
    e = load_file(REST / "zyadamec__migAz__VNET2-03-RouteTable-asmrt.xml")
    (rt,) = e.route_tables
    assert (rt.name, rt.location) == ("asmrt", "East US")
    assert rt.routes == [c.Route(name="all traffic to fw", address_prefix="0.0.0.0/0",
                                 next_hop_type="VirtualAppliance", next_hop_ip_address="10.1.1.1")]


# ------------------------------------------------------------------ session records


def test_session_storage_migration() -> None:
    e = load_file(SESSIONS / "Azure__azure-sdk-for-net__CanMigrateStorageAccountToSrp.json")
    (acct,) = e.storage_accounts  # create body + two GETs collapse to one, last wins
    assert (acct.name, acct.location, acct.account_type) == ("teststorage1633", "East US 2 (Stage)", "Standard_GRS")
    assert acct.label == "Test测试1" and acct.description == "Test测试2"
    assert acct.extended_properties["ResourceGroup"] == "Default-Storage-EastUS2(Stage)"
    assert any("MigrationState Prepared" in n for n in e.notes)


def test_session_validate_deployment_has_no_resources() -> None:
    e = load_file(SESSIONS / "Azure__azure-sdk-for-net__CanValidateDeploymentForMigration.json")
    assert e.counts() == {}
    assert any("no classic resources" in n for n in e.notes)


def test_session_vnet_migration() -> None:
    e = load_file(SESSIONS / "Azure__azure-sdk-for-net__MigrateSimpleVNetConfiguration.json")
    (v,) = e.virtual_networks  # the PUT netcfg and the later GET describe the same VNet
    assert (v.name, v.location, v.id) == ("virtualNetworkSiteName", "East US", "32f669cc-d766-4f10-978e-c04afd716a68")
    assert subnets(v) == {"FrontEndSubnet5": "192.168.100.0/28"}
    assert any("MigrationState 2" in n for n in e.notes)


# ------------------------------------------------------------------ service definitions


def test_cscfg_declared_utf16_but_utf8_with_instance_public_ip() -> None:
    e = load_file(DEFS / "Azure__azure-powershell__ServiceConfiguration.cscfg")
    (r,) = e.roles
    assert (r.name, r.role_type, r.size, r.instance_count) == ("HelloWorld_WebRole", c.RoleType.WEB, None, 1)
    assert [p.name for p in r.public_ips] == ["PublicIP1"]
    assert len(e.hosted_services) == 1 and e.deployments[0].slot == c.DeploymentSlot.PRODUCTION


def test_cscfg_reserved_ip_web_role() -> None:
    e = load_file(DEFS / "Azure__azure-powershell__ReservedIPConfig2.cscfg",
                  {"service_name": "sampleapp", "deployment_name": "prod"})
    (r,) = e.roles
    assert (r.name, r.instance_count, r.service_name, r.deployment_name) == ("WebRole1", 2, "sampleapp", "prod")
    (dep,) = e.deployments
    assert dep.reserved_ip_name == "ResrvdIP2" and dep.service_name == "sampleapp"


def test_cscfg_with_csdef_knows_worker_roles() -> None:
    csdef = (b'<ServiceDefinition name="SampleApp" xmlns="http://schemas.microsoft.com/ServiceHosting/2008/10/'
             b'ServiceDefinition"><WorkerRole name="WebRole1" vmsize="Small"/></ServiceDefinition>')
    cscfg = (DEFS / "Azure__azure-powershell__ReservedIPConfig2.cscfg").read_bytes()
    e = load_package(cscfg, csdef, "pkg.cscfg")
    assert e.roles[0].role_type == c.RoleType.WORKER and e.roles[0].instance_count == 2
