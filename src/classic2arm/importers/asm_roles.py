"""ASM `Role` / `PersistentVMRole` elements (+ their RoleInstance runtime data) -> domain Role and Disks."""

from __future__ import annotations

from dataclasses import dataclass, field

from classic2arm.domain import classic as c
from classic2arm.domain import media
from classic2arm.domain.estate import Estate

from .xml_node import Node, build, present

_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


@dataclass
class Where:
    """What a role body does not say about itself: its parents and their location."""

    service_name: str
    deployment_name: str
    location: str | None = None


@dataclass
class Runtime:
    """RoleInstance facts for one role, collected before the role is built."""

    instances: list[Node] = field(default_factory=list)
    handler_status: dict[str, str] = field(default_factory=dict)
    public_ip_address: dict[str, str] = field(default_factory=dict)
    nic_address: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, instances: list[Node]) -> Runtime:
        rt = cls(instances=instances)
        for inst in instances:
            for st in inst.items("ResourceExtensionStatusList", "ResourceExtensionStatus"):
                handler, status = st.text("HandlerName"), st.text("Status")
                if handler and status:
                    rt.handler_status[handler.lower()] = status
            for pip in inst.items("PublicIPs", "PublicIP"):
                name, address = pip.text("Name"), pip.text("Address")
                if name and address:
                    rt.public_ip_address[name] = address
            for nic in inst.items("NetworkInterfaces", "NetworkInterface"):
                name = nic.text("Name")
                addresses = [a for cfg in nic.items("IPConfigurations", "IPConfiguration")
                             if (a := cfg.text("Address"))]
                if name and addresses:
                    rt.nic_address[name] = addresses[0]
        return rt


def _probe(n: Node) -> c.LoadBalancerProbe:
    return build(
        c.LoadBalancerProbe,
        n,
        port=n.req_integer("Port"),
        **present(
            protocol=(n.text("Protocol") or "").lower() or None,
            path=n.text("Path"),
            interval_in_seconds=n.integer("IntervalInSeconds"),
            timeout_in_seconds=n.integer("TimeoutInSeconds"),
        ),
    )


def _acl_rule(n: Node) -> c.AclRule:
    return build(
        c.AclRule,
        n,
        order=n.req_integer("Order"),
        action=(n.choice("Action", ("permit", "deny")) or "permit"),
        remote_subnet=n.cidr("RemoteSubnet"),
        description=n.text("Description") or "",
    )


def _endpoint(n: Node) -> c.InputEndpoint:
    probe = n.child("LoadBalancerProbe")
    return build(
        c.InputEndpoint,
        n,
        name=n.req("Name"),
        port=n.req_integer("Port"),
        local_port=n.req_integer("LocalPort"),
        probe=_probe(probe) if probe else None,
        acl=[_acl_rule(r) for r in n.items("EndpointAcl", "Rules", "Rule")],
        enable_direct_server_return=n.boolean("EnableDirectServerReturn", False),
        **present(
            protocol=(n.text("Protocol") or "").lower() or None,
            load_balanced_endpoint_set_name=n.text("LoadBalancedEndpointSetName"),
            vip=n.text("Vip"),
            virtual_ip_name=n.text("VirtualIPName"),
            load_balancer_name=n.text("LoadBalancerName"),
            idle_timeout_in_minutes=n.integer("IdleTimeoutInMinutes"),
            load_balancer_distribution=n.text("LoadBalancerDistribution"),
        ),
    )


def _nic(n: Node, rt: Runtime) -> c.SecondaryNic:
    name = n.req("Name")
    configs = [
        build(c.IPConfiguration, cfg, subnet_name=cfg.req("SubnetName"),
              static_ip=cfg.ip("StaticVirtualNetworkIPAddress"))
        for cfg in n.items("IPConfigurations", "IPConfiguration")
    ]
    return build(
        c.SecondaryNic,
        n,
        name=name,
        ip_configurations=configs,
        network_security_group=n.text("NetworkSecurityGroup"),
        ip_forwarding=n.boolean("IPForwarding", False),
        ip_address=rt.nic_address.get(name),
    )


def _public_ip(n: Node, rt: Runtime) -> c.InstancePublicIP:
    name = n.req("Name")
    return build(
        c.InstancePublicIP,
        n,
        name=name,
        idle_timeout_in_minutes=n.integer("IdleTimeoutInMinutes"),
        domain_name_label=n.text("DomainNameLabel"),
        address=rt.public_ip_address.get(name),
    )


def _config_sets(role: Node) -> dict[str, Node]:
    sets: dict[str, Node] = {}
    for cs in role.items("ConfigurationSets", "ConfigurationSet"):
        kind = cs.text("ConfigurationSetType") or (cs.el.get(_XSI_TYPE) or "").removesuffix("Set")
        sets.setdefault(kind, cs)
    return sets


def _network_fields(net: Node | None, rt: Runtime) -> dict[str, object]:
    if net is None:
        return {}
    return {
        "input_endpoints": [_endpoint(e) for e in net.items("InputEndpoints", "InputEndpoint")],
        "subnet_names": [s.own_text() or "" for s in net.items("SubnetNames", "SubnetName") if s.own_text()],
        "static_ip": net.ip("StaticVirtualNetworkIPAddress"),
        "public_ips": [_public_ip(p, rt) for p in net.items("PublicIPs", "PublicIP")],
        "secondary_nics": [_nic(n, rt) for n in net.items("NetworkInterfaces", "NetworkInterface")],
        "network_security_group": net.text("NetworkSecurityGroup"),
        "ip_forwarding": net.boolean("IPForwarding", False),
    }


def _provisioning_fields(sets: dict[str, Node]) -> dict[str, object]:
    win = sets.get("WindowsProvisioningConfiguration")
    linux = sets.get("LinuxProvisioningConfiguration")
    if win is not None:
        listeners = [
            present(protocol=li.text("Protocol"), certificate_thumbprint=li.text("CertificateThumbprint"))
            for li in win.items("WinRM", "Listeners", "Listener")
        ]
        return present(computer_name=win.text("ComputerName"), admin_username=win.text("AdminUsername"),
                       winrm_listeners=listeners)
    if linux is not None:
        return present(computer_name=linux.text("HostName"), admin_username=linux.text("UserName"))
    return {}


def _extension(n: Node, rt: Runtime) -> c.ExtensionReference:
    publisher, name = n.req("Publisher"), n.req("Name")
    reference = n.text("ReferenceName") or name
    public: str | None = None
    private = False
    for pv in n.items("ResourceExtensionParameterValues", "ResourceExtensionParameterValue"):
        kind = (pv.text("Type") or "").lower()
        if kind == "private" or (not kind and "private" in (pv.text("Key") or "").lower()):
            private = True
        else:
            public = pv.text("Value")
    fields = present(state=n.text("State"), public_config=public)
    if rt.instances:
        # Instance data was present: an extension it does not mention has no reported status.
        fields["handler_status"] = (rt.handler_status.get(f"{publisher}.{name}".lower())
                                    or rt.handler_status.get(reference.lower()))
    return build(c.ExtensionReference, n, reference_name=reference, publisher=publisher, name=name,
                 version=n.req("Version"), private_config_present=private, **fields)


def _boot_diagnostics(n: Node | None) -> c.BootDiagnostics | None:
    if n is None:
        return None
    blob = n.text("SerialOutputBlobUri") or n.text("ConsoleScreenshotBlobUri")
    uri = media.endpoint(blob) if blob else None
    return build(c.BootDiagnostics, n, enabled=n.boolean("BootDiagnosticsEnabled", False), storage_uri=uri)


def _os_disk(n: Node) -> c.OSDisk:
    return build(
        c.OSDisk,
        n,
        disk_name=n.req("DiskName"),
        media_link=n.req("MediaLink"),
        disk_label=n.text("DiskLabel") or "",
        source_image_name=n.text("SourceImageName"),
        logical_size_gb=n.integer("LogicalDiskSizeInGB") or n.integer("ResizedSizeInGB"),
        **present(os=n.choice("OS", ("Windows", "Linux")), host_caching=n.text("HostCaching"),
                  io_type=n.text("IOType")),
    )


def _data_disk(n: Node) -> c.DataDisk:
    return build(
        c.DataDisk,
        n,
        disk_name=n.req("DiskName"),
        media_link=n.req("MediaLink"),
        logical_size_gb=n.req_integer("LogicalDiskSizeInGB"),
        disk_label=n.text("DiskLabel") or "",
        **present(lun=n.integer("Lun"), host_caching=n.text("HostCaching"), io_type=n.text("IOType")),
    )


def _role_type(n: Node) -> c.RoleType:
    found = n.enum("RoleType", c.RoleType)
    if found is not None:
        return found
    declared = n.el.get(_XSI_TYPE) or ("PersistentVMRole" if n.tag == "PersistentVMRole" else "")
    if declared == "PersistentVMRole" or n.child("RoleSize") is not None:
        return c.RoleType.PERSISTENT_VM
    # Web/worker roles in a RoleList carry neither RoleSize nor a type; which one is not knowable.
    return c.RoleType.WEB


def _runtime_fields(rt: Runtime) -> dict[str, object]:
    if not rt.instances:
        return {}
    first = rt.instances[0]
    agent = first.child("GuestAgentStatus")
    guest = None
    if agent is not None:
        formatted = agent.child("FormattedMessage")
        message = (formatted.text("Message") if formatted else None) or agent.text("Message") or ""
        guest = build(
            c.GuestAgentStatus,
            agent,
            message=message,
            **present(status=agent.choice("Status", ("Ready", "NotReady")),
                      version=agent.text("GuestAgentVersion")),
        )
    return {
        "instance_count": len(rt.instances),
        "guest_agent": guest,
        **present(
            instance_status=first.enum("InstanceStatus", c.InstanceStatus),
            power_state=first.enum("PowerState", c.PowerState),
            ip_address=first.ip("IpAddress"),
            host_name=first.text("HostName"),
            instance_fault_domain=first.integer("InstanceFaultDomain"),
            instance_upgrade_domain=first.integer("InstanceUpgradeDomain"),
        ),
    }


def add_role(estate: Estate, n: Node, where: Where, instances: list[Node] | None = None) -> c.Role:
    """Parse one role into `estate`, with a classic Disk for each disk it has attached."""
    name = n.req("RoleName")
    rt = Runtime.of(instances or [])
    sets = _config_sets(n)
    role_type = _role_type(n)
    os_node = n.child("OSVirtualHardDisk")
    os_disk = _os_disk(os_node) if os_node else None
    data_disks = [_data_disk(d) for d in n.items("DataVirtualHardDisks", "DataVirtualHardDisk")]
    role = build(
        c.Role,
        n,
        name=name,
        service_name=where.service_name,
        deployment_name=where.deployment_name,
        role_type=role_type,
        size=n.text("RoleSize"),
        os_version=n.text("OsVersion") or "",
        extensions=[_extension(e, rt) for e in n.items("ResourceExtensionReferences", "ResourceExtensionReference")],
        availability_set=n.text("AvailabilitySetName"),
        os_disk=os_disk,
        data_disks=data_disks,
        boot_diagnostics=_boot_diagnostics(n.child("DebugSettings")),
        provision_guest_agent=n.boolean("ProvisionGuestAgent", True),
        license_type=n.text("LicenseType"),
        **_network_fields(sets.get("NetworkConfiguration"), rt),
        **_provisioning_fields(sets),
        **_runtime_fields(rt),
    )
    estate.roles.append(role)
    attach = {"hosted_service_name": where.service_name, "deployment_name": where.deployment_name,
              "role_name": name, "location": where.location}
    if os_disk is not None and os_node is not None:
        estate.disks.append(build(
            c.Disk, os_node, name=os_disk.disk_name, media_link=os_disk.media_link, os=os_disk.os,
            logical_size_gb=os_disk.logical_size_gb or 0, label=os_disk.disk_label,
            source_image_name=os_disk.source_image_name, **attach,
        ))
    for disk in data_disks:
        estate.disks.append(c.Disk(name=disk.disk_name, media_link=disk.media_link,
                                   logical_size_gb=disk.logical_size_gb, label=disk.disk_label, **attach))
    if state := n.text("MigrationState"):
        estate.notes.append(f"{n.src}: role {where.service_name}/{where.deployment_name}/{name} "
                            f"has MigrationState {state}")
    return role
