"""Hand-written bodies for ASM shapes the real fixtures do not cover (element names per spec §5.4)."""

from __future__ import annotations

import pytest

from classic2arm.domain import classic as c
from classic2arm.importers import load_bytes
from classic2arm.importers.errors import InputError

AZ = 'xmlns="http://schemas.microsoft.com/windowsazure" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'

RICH_DEPLOYMENT = f"""<?xml version="1.0" encoding="utf-8"?>
<Deployment {AZ}>
  <Name>prod</Name><DeploymentSlot>Production</DeploymentSlot><PrivateID>abc</PrivateID><Status>Running</Status>
  <Label>cHJvZA==</Label><Url>http://shop.cloudapp.net/</Url>
  <RoleInstanceList>
    <RoleInstance>
      <RoleName>web1</RoleName><InstanceName>web1</InstanceName><InstanceStatus>ReadyRole</InstanceStatus>
      <InstanceUpgradeDomain>1</InstanceUpgradeDomain><InstanceFaultDomain>1</InstanceFaultDomain>
      <IpAddress>10.0.0.4</IpAddress><PowerState>Started</PowerState><HostName>web1</HostName>
      <GuestAgentStatus><GuestAgentVersion>2.7.1198.778</GuestAgentVersion><Status>Ready</Status></GuestAgentStatus>
      <ResourceExtensionStatusList>
        <ResourceExtensionStatus><HandlerName>Microsoft.Compute.VMAccessAgent</HandlerName>
          <Version>2.0</Version><Status>Unresponsive</Status></ResourceExtensionStatus>
      </ResourceExtensionStatusList>
      <PublicIPs><PublicIP><Name>pip</Name><Address>40.1.2.3</Address></PublicIP></PublicIPs>
      <NetworkInterfaces><NetworkInterface><Name>nic2</Name><IPConfigurations><IPConfiguration>
        <SubnetName>back</SubnetName><Address>10.0.1.9</Address></IPConfiguration></IPConfigurations>
      </NetworkInterface></NetworkInterfaces>
    </RoleInstance>
  </RoleInstanceList>
  <RoleList>
    <Role i:type="PersistentVMRole">
      <RoleName>web1</RoleName><OsVersion/><RoleType>PersistentVMRole</RoleType>
      <ConfigurationSets>
        <ConfigurationSet i:type="WindowsProvisioningConfigurationSet">
          <ConfigurationSetType>WindowsProvisioningConfiguration</ConfigurationSetType>
          <ComputerName>WEB1</ComputerName><AdminUsername>ops</AdminUsername>
          <WinRM><Listeners><Listener><Protocol>Https</Protocol></Listener></Listeners></WinRM>
        </ConfigurationSet>
        <ConfigurationSet i:type="NetworkConfigurationSet">
          <ConfigurationSetType>NetworkConfiguration</ConfigurationSetType>
          <InputEndpoints>
            <InputEndpoint>
              <LoadBalancedEndpointSetName>web</LoadBalancedEndpointSetName><LocalPort>80</LocalPort>
              <Name>http</Name><Port>80</Port>
              <LoadBalancerProbe><Path>/health</Path><Port>80</Port><Protocol>HTTP</Protocol>
                <IntervalInSeconds>5</IntervalInSeconds><TimeoutInSeconds>11</TimeoutInSeconds></LoadBalancerProbe>
              <Protocol>TCP</Protocol><Vip>13.1.1.1</Vip><EnableDirectServerReturn>false</EnableDirectServerReturn>
              <EndpointAcl><Rules><Rule><Order>100</Order><Action>deny</Action>
                <RemoteSubnet>1.2.3.0/24</RemoteSubnet><Description>blocked</Description></Rule></Rules></EndpointAcl>
              <IdleTimeoutInMinutes>10</IdleTimeoutInMinutes><LoadBalancerDistribution>sourceIP</LoadBalancerDistribution>
            </InputEndpoint>
            <InputEndpoint><LocalPort>1433</LocalPort><Name>sql</Name><Port>1433</Port><Protocol>tcp</Protocol>
              <LoadBalancerName>ilb</LoadBalancerName></InputEndpoint>
          </InputEndpoints>
          <SubnetNames><SubnetName>front</SubnetName></SubnetNames>
          <StaticVirtualNetworkIPAddress>10.0.0.4</StaticVirtualNetworkIPAddress>
          <PublicIPs><PublicIP><Name>pip</Name><IdleTimeoutInMinutes>4</IdleTimeoutInMinutes></PublicIP></PublicIPs>
          <NetworkInterfaces><NetworkInterface><Name>nic2</Name><IPConfigurations><IPConfiguration>
            <SubnetName>back</SubnetName><StaticVirtualNetworkIPAddress>10.0.1.9</StaticVirtualNetworkIPAddress>
          </IPConfiguration></IPConfigurations><NetworkSecurityGroup>nicnsg</NetworkSecurityGroup>
            <IPForwarding>Enabled</IPForwarding></NetworkInterface></NetworkInterfaces>
          <NetworkSecurityGroup>vmnsg</NetworkSecurityGroup>
        </ConfigurationSet>
      </ConfigurationSets>
      <ResourceExtensionReferences>
        <ResourceExtensionReference><ReferenceName>VMAccessAgent</ReferenceName><Publisher>Microsoft.Compute</Publisher>
          <Name>VMAccessAgent</Name><Version>2.*</Version><ResourceExtensionParameterValues>
          <ResourceExtensionParameterValue><Key>ignored</Key><Value>c2VjcmV0</Value><Type>Private</Type>
          </ResourceExtensionParameterValue></ResourceExtensionParameterValues><State>Enable</State>
        </ResourceExtensionReference>
        <ResourceExtensionReference><ReferenceName>snap</ReferenceName><Publisher>Microsoft.Azure.RecoveryServices</Publisher>
          <Name>VMSnapshot</Name><Version>1.0</Version><State>Enable</State></ResourceExtensionReference>
      </ResourceExtensionReferences>
      <AvailabilitySetName>webset</AvailabilitySetName>
      <DataVirtualHardDisks>
        <DataVirtualHardDisk><HostCaching>ReadOnly</HostCaching><DiskName>web1-data0</DiskName><Lun>0</Lun>
          <LogicalDiskSizeInGB>1023</LogicalDiskSizeInGB>
          <MediaLink>https://acct.blob.core.windows.net/vhds/web1-data0.vhd</MediaLink></DataVirtualHardDisk>
      </DataVirtualHardDisks>
      <OSVirtualHardDisk><HostCaching>ReadWrite</HostCaching><DiskName>web1-os</DiskName>
        <MediaLink>https://acct.blob.core.windows.net/vhds/web1-os.vhd</MediaLink><OS>Windows</OS></OSVirtualHardDisk>
      <RoleSize>Standard_D2</RoleSize><ProvisionGuestAgent>true</ProvisionGuestAgent>
      <DebugSettings><BootDiagnosticsEnabled>true</BootDiagnosticsEnabled>
        <SerialOutputBlobUri>https://diag.blob.core.windows.net/bootdiagnostics/x.log</SerialOutputBlobUri></DebugSettings>
      <LicenseType>Windows_Server</LicenseType>
    </Role>
  </RoleList>
  <VirtualNetworkName>shopnet</VirtualNetworkName>
  <Dns><DnsServers><DnsServer><Name>dc</Name><Address>10.0.0.10</Address></DnsServer></DnsServers></Dns>
  <VirtualIPs><VirtualIP><Address>13.1.1.1</Address><IsDnsProgrammed>true</IsDnsProgrammed><Name>vip1</Name>
    <IsReserved>true</IsReserved><ReservedIPName>shopip</ReservedIPName></VirtualIP></VirtualIPs>
  <InternalDnsSuffix>shop.internal.cloudapp.net</InternalDnsSuffix>
  <LoadBalancers><LoadBalancer><Name>ilb</Name><FrontendIpConfiguration><Type>Private</Type>
    <SubnetName>back</SubnetName><StaticVirtualNetworkIPAddress>10.0.1.100</StaticVirtualNetworkIPAddress>
  </FrontendIpConfiguration></LoadBalancer></LoadBalancers>
</Deployment>"""


def test_rich_get_deployment() -> None:
    e = load_bytes(RICH_DEPLOYMENT.encode(), "dep.xml")
    (dep,) = e.deployments
    assert (dep.service_name, dep.label, dep.reserved_ip_name, dep.virtual_network_name) == (
        "shop", "prod", "shopip", "shopnet")
    assert dep.virtual_ips[0].is_reserved and dep.dns_servers == [c.DnsServer(name="dc", address="10.0.0.10")]
    ilb = c.InternalLoadBalancer(name="ilb", subnet_name="back", static_ip="10.0.1.100")
    assert dep.internal_load_balancers == [ilb]
    (vm,) = e.roles
    http, sql = vm.input_endpoints
    assert http.load_balanced_endpoint_set_name == "web" and http.protocol == "tcp"
    assert http.probe == c.LoadBalancerProbe(protocol="http", port=80, path="/health", interval_in_seconds=5,
                                             timeout_in_seconds=11)
    assert http.acl == [c.AclRule(order=100, action="deny", remote_subnet="1.2.3.0/24", description="blocked")]
    assert (http.idle_timeout_in_minutes, http.load_balancer_distribution) == (10, "sourceIP")
    assert sql.load_balancer_name == "ilb"
    assert vm.static_ip == "10.0.0.4" and vm.network_security_group == "vmnsg"
    assert vm.public_ips == [c.InstancePublicIP(name="pip", idle_timeout_in_minutes=4, address="40.1.2.3")]
    (nic,) = vm.secondary_nics
    assert (nic.ip_forwarding, nic.network_security_group, nic.ip_address) == (True, "nicnsg", "10.0.1.9")
    access, snap = vm.extensions
    assert access.private_config_present and access.public_config is None and access.handler_status == "Unresponsive"
    assert snap.is_backup and snap.handler_status is None  # instance reported no status for it
    assert vm.availability_set == "webset" and vm.license_type == "Windows_Server"
    assert vm.boot_diagnostics == c.BootDiagnostics(enabled=True, storage_uri="https://diag.blob.core.windows.net/")
    assert (vm.computer_name, vm.admin_username, vm.winrm_listeners) == ("WEB1", "ops", [{"protocol": "Https"}])
    assert (vm.instance_fault_domain, vm.guest_agent and vm.guest_agent.version) == (1, "2.7.1198.778")
    assert vm.data_disks[0].logical_size_gb == 1023 and vm.data_disks[0].host_caching == "ReadOnly"
    assert sorted((d.name, d.logical_size_gb, d.role_name) for d in e.disks) == [
        ("web1-data0", 1023, "web1"), ("web1-os", 0, "web1")]


def test_list_hosted_services_with_affinity_group() -> None:
    doc = f"""<HostedServices {AZ}>
      <HostedService><ServiceName>a</ServiceName><HostedServiceProperties><Description>d</Description>
        <AffinityGroup>ag1</AffinityGroup><Label>YQ==</Label><Status>Created</Status></HostedServiceProperties>
      </HostedService>
      <HostedService><ServiceName>b</ServiceName><HostedServiceProperties><Location>West US</Location>
      </HostedServiceProperties></HostedService>
    </HostedServices>"""
    e = load_bytes(doc.encode(), "hs.xml")
    assert [(h.name, h.location, h.affinity_group, h.label) for h in e.hosted_services] == [
        ("a", None, "ag1", "a"), ("b", "West US", None, "")]


def test_list_storage_services() -> None:
    doc = f"""<StorageServices {AZ}><StorageService><ServiceName>acct1</ServiceName><StorageServiceProperties>
      <AffinityGroup>ag1</AffinityGroup><Label>YWNjdDE=</Label><Status>Created</Status>
      <CreationTime>2015-01-02T03:04:05.1234567Z</CreationTime><AccountType>Premium_LRS</AccountType>
      </StorageServiceProperties><MigrationState>Prepared</MigrationState></StorageService></StorageServices>"""
    e = load_bytes(doc.encode(), "st.xml")
    (acct,) = e.storage_accounts
    assert (acct.affinity_group, acct.location, acct.label, acct.is_premium) == ("ag1", None, "acct1", True)
    assert acct.created is not None and acct.created.microsecond == 123456
    assert any("Prepared" in n for n in e.notes)


def test_list_disks() -> None:
    doc = f"""<Disks {AZ}>
      <Disk><AttachedTo><HostedServiceName>s</HostedServiceName><DeploymentName>d</DeploymentName>
        <RoleName>r</RoleName></AttachedTo><OS>Linux</OS><Location>East US</Location>
        <LogicalDiskSizeInGB>30</LogicalDiskSizeInGB><MediaLink>https://a.blob.core.windows.net/v/os.vhd</MediaLink>
        <Name>os</Name><SourceImageName>img</SourceImageName></Disk>
      <Disk><Location>East US</Location><LogicalDiskSizeInGB>100</LogicalDiskSizeInGB>
        <MediaLink>https://a.blob.core.windows.net/v/data.vhd</MediaLink><Name>data</Name></Disk>
    </Disks>"""
    os_disk, data = load_bytes(doc.encode(), "disks.xml").disks
    assert (os_disk.os, os_disk.attached, os_disk.logical_size_gb) == ("Linux", True, 30)
    assert os_disk.source_image_name == "img"
    assert (data.os, data.attached, data.location) == (None, False, "East US")


def test_images_vm_images_and_affinity_groups() -> None:
    images = f"""<Images {AZ}><OSImage><Category>User</Category><Label>bXk=</Label><Location>West US</Location>
      <MediaLink>https://a.blob.core.windows.net/i/my.vhd</MediaLink><Name>my</Name><OS>Windows</OS></OSImage></Images>"""
    (img,) = load_bytes(images.encode(), "img.xml").os_images
    assert (img.name, img.os, img.label, img.category) == ("my", "Windows", "my", "User")
    vm_images = f"""<VMImages {AZ}><VMImage><Name>cap</Name><Category>User</Category>
      <OSDiskConfiguration><OS>Linux</OS><MediaLink>https://a.blob.core.windows.net/i/os.vhd</MediaLink>
      </OSDiskConfiguration><DataDiskConfigurations><DataDiskConfiguration>
      <MediaLink>https://a.blob.core.windows.net/i/d0.vhd</MediaLink></DataDiskConfiguration></DataDiskConfigurations>
      <Location>West US</Location></VMImage></VMImages>"""
    (vmi,) = load_bytes(vm_images.encode(), "vmi.xml").vm_images
    assert vmi.os == "Linux" and len(vmi.media_links) == 2
    groups = f"""<AffinityGroups {AZ}><AffinityGroup><Name>ag1</Name><Label>YWcx</Label>
      <Description>x</Description><Location>West US</Location></AffinityGroup></AffinityGroups>"""
    assert load_bytes(groups.encode(), "ag.xml").affinity_groups == [
        c.AffinityGroup(name="ag1", location="West US", label="ag1", description="x")]


def test_route_table_with_flat_next_hop_and_list_roots() -> None:
    doc = f"""<RouteTables {AZ}><RouteTable><Name>rt</Name><Location>East US</Location><RouteList><Route>
      <Name>r</Name><AddressPrefix>10.0.0.0/8</AddressPrefix><NextHopType>VPNGateway</NextHopType></Route>
      </RouteList></RouteTable></RouteTables>"""
    (rt,) = load_bytes(doc.encode(), "rt.xml").route_tables
    assert rt.routes[0].next_hop_type == "VPNGateway" and rt.routes[0].next_hop_ip_address is None


def test_validation_messages_and_error_bodies_are_notes() -> None:
    for doc in (f"<ValidationMessages {AZ}/>", f"<Error {AZ}><Code>BadRequest</Code><Message>m</Message></Error>"):
        e = load_bytes(doc.encode(), "n.xml")
        assert e.counts() == {} and len(e.notes) == 1


@pytest.mark.parametrize("data", [
    b'{"classic2arm": "estate/v1", "affinity_groups": [{"name": "ag", "location": "West US"}]}',
    b"# estate\nclassic2arm: estate/v1\naffinity_groups: [{name: ag, location: West US}]\n",
])
def test_estate_documents_are_detected_by_content(data: bytes) -> None:
    estate = load_bytes(data, "doc")
    assert [a.name for a in estate.affinity_groups] == ["ag"]


@pytest.mark.parametrize("data", [b'{"classic2arm": 1}', b"classic2arm: 1\n"])
def test_estate_document_of_another_format_is_refused(data: bytes) -> None:
    with pytest.raises(InputError, match="doc: classic2arm: unsupported estate format 1"):
        load_bytes(data, "doc")
