"""Compute bodies: hosted services, deployments, roles (PersistentVMRole), data disks.

Element order follows real Get Deployment / Get Role captures (spec §5.4, fixtures/asm-rest).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from lxml import etree

from ...domain import classic as c
from ...domain import sizes
from ...service.classic_reads import MANAGEMENT_URL, DeploymentView, RoleView, ServiceView
from .xml_out import add, b64, extended_properties, listing, opt, root, single, texts, to_bytes

_EPOCH = datetime(2015, 1, 1, tzinfo=UTC)
_CSCFG_NS = "http://schemas.microsoft.com/ServiceHosting/2008/10/ServiceConfiguration"


# --------------------------------------------------------------------------- hosted services


def _service_body(el: etree._Element, view: ServiceView, embed: bool, base: str) -> None:
    hs = view.service
    add(el, "Url", view.url_at(base))
    add(el, "ServiceName", hs.name)
    props = add(el, "HostedServiceProperties")
    add(props, "Description", hs.description)
    if hs.affinity_group:
        add(props, "AffinityGroup", hs.affinity_group)
    else:
        add(props, "Location", hs.location)
    add(props, "Label", b64(hs.label or hs.name))
    add(props, "Status", hs.status)
    add(props, "DateCreated", hs.created or _EPOCH)
    add(props, "DateLastModified", hs.last_modified or hs.created or _EPOCH)
    extended_properties(props, hs.extended_properties)
    if embed:
        deps = add(el, "Deployments")
        for dv in view.deployments:
            _deployment_body(add(deps, "Deployment"), dv)


def hosted_services(views: list[ServiceView], base: str = MANAGEMENT_URL) -> bytes:
    return listing("HostedServices", "HostedService", views,
                   lambda el, v: _service_body(el, v, embed=False, base=base))


def hosted_service(view: ServiceView, embed: bool, base: str = MANAGEMENT_URL) -> bytes:
    return single("HostedService", view, lambda el, v: _service_body(el, v, embed, base))


def certificates(view: ServiceView, base: str = MANAGEMENT_URL) -> bytes:
    el = root("Certificates")
    for cert in view.service.certificates:
        ce = add(el, "Certificate")
        add(ce, "CertificateUrl", f"{view.url_at(base)}/certificates/{cert.thumbprint_algorithm}-{cert.thumbprint}")
        add(ce, "Thumbprint", cert.thumbprint)
        add(ce, "ThumbprintAlgorithm", cert.thumbprint_algorithm)
        add(ce, "Data", cert.data)
    return to_bytes(el)


# --------------------------------------------------------------------------- deployments


def _configuration(dv: DeploymentView) -> str:
    if dv.deployment.configuration:
        return dv.deployment.configuration
    cfg = etree.Element(f"{{{_CSCFG_NS}}}ServiceConfiguration", nsmap={None: _CSCFG_NS})  # type: ignore[dict-item]
    for rv in dv.roles:
        role = etree.SubElement(cfg, f"{{{_CSCFG_NS}}}Role", name=rv.role.name)
        etree.SubElement(role, f"{{{_CSCFG_NS}}}Instances", count=str(rv.role.instance_count))
    return b64(etree.tostring(cfg, encoding="unicode"))


def _instance(parent: etree._Element, role: c.Role, dep: c.Deployment) -> None:
    inst = add(parent, "RoleInstance")
    add(inst, "RoleName", role.name)
    add(inst, "InstanceName", role.name)
    add(inst, "InstanceStatus", role.instance_status.value)
    if role.instance_status == c.InstanceStatus.STOPPED_DEALLOCATED:
        add(inst, "PowerState", role.power_state.value)
        return
    add(inst, "InstanceUpgradeDomain", role.instance_upgrade_domain)
    add(inst, "InstanceFaultDomain", role.instance_fault_domain)
    add(inst, "InstanceSize", role.size or sizes.DEFAULT_CLASSIC)
    add(inst, "InstanceStateDetails")
    opt(inst, "IpAddress", role.ip_address)
    endpoints = add(inst, "InstanceEndpoints")
    vip = dep.virtual_ips[0].address if dep.virtual_ips else None
    for ep in role.input_endpoints:
        ie = add(endpoints, "InstanceEndpoint")
        add(ie, "Name", ep.name)
        opt(ie, "Vip", ep.vip or vip)
        add(ie, "PublicPort", ep.port)
        add(ie, "LocalPort", ep.local_port)
        add(ie, "Protocol", ep.protocol)
        opt(ie, "IdleTimeoutInMinutes", ep.idle_timeout_in_minutes)
    add(inst, "PowerState", role.power_state.value)
    add(inst, "HostName", role.host_name or role.computer_name or role.name)
    if role.guest_agent is not None:
        ga = add(inst, "GuestAgentStatus")
        add(ga, "ProtocolVersion", "1.0")
        add(ga, "Timestamp", dep.last_modified or dep.created or _EPOCH)
        add(ga, "GuestAgentVersion", role.guest_agent.version)
        add(ga, "Status", role.guest_agent.status)
        fm = add(ga, "FormattedMessage")
        add(fm, "Language", "en-US")
        add(fm, "Message", role.guest_agent.message or "GuestAgent is running and accepting new configurations.")
    statuses = add(inst, "ResourceExtensionStatusList")
    for ext in role.extensions:
        if ext.handler_status is None:
            continue
        st = add(statuses, "ResourceExtensionStatus")
        add(st, "HandlerName", f"{ext.publisher}.{ext.name}")
        add(st, "Version", ext.version)
        add(st, "Status", ext.handler_status)
        fm = add(st, "FormattedMessage")
        add(fm, "Language", "en-US")
        add(fm, "Message", f"Extension {ext.name} status: {ext.handler_status}")
    _public_ips(inst, role, runtime=True)
    _nics(inst, role, runtime=True)


def _public_ips(parent: etree._Element, role: c.Role, runtime: bool) -> None:
    """Instance-level public IPs: the RoleInstance (runtime) form carries the address, the role's
    configuration set doesn't."""
    if not role.public_ips:
        return
    pips = add(parent, "PublicIPs")
    for pip in role.public_ips:
        pe = add(pips, "PublicIP")
        add(pe, "Name", pip.name)
        if runtime:
            opt(pe, "Address", pip.address)
        opt(pe, "IdleTimeoutInMinutes", pip.idle_timeout_in_minutes)
        opt(pe, "DomainNameLabel", pip.domain_name_label)


def _nics(parent: etree._Element, role: c.Role, runtime: bool) -> None:
    """Secondary NICs: the runtime form has each configuration's address; the configuration form has the
    static address asked for, the NSG and IP forwarding."""
    if not role.secondary_nics:
        return
    nics = add(parent, "NetworkInterfaces")
    for nic in role.secondary_nics:
        ne = add(nics, "NetworkInterface")
        add(ne, "Name", nic.name)
        cfgs = add(ne, "IPConfigurations")
        for cfg in nic.ip_configurations:
            ce = add(cfgs, "IPConfiguration")
            add(ce, "SubnetName", cfg.subnet_name)
            if runtime:
                opt(ce, "Address", nic.ip_address or cfg.static_ip)
            else:
                opt(ce, "StaticVirtualNetworkIPAddress", cfg.static_ip)
        if not runtime:
            opt(ne, "NetworkSecurityGroup", nic.network_security_group)
            add(ne, "IPForwarding", "Enabled" if nic.ip_forwarding else "Disabled")


def _network_set(parent: etree._Element, role: c.Role, dep: c.Deployment) -> None:
    cs = add(parent, "ConfigurationSet", xsi_type="NetworkConfigurationSet")
    add(cs, "ConfigurationSetType", "NetworkConfiguration")
    eps = add(cs, "InputEndpoints")
    vip = dep.virtual_ips[0].address if dep.virtual_ips else None
    for ep in role.input_endpoints:
        ie = add(eps, "InputEndpoint")
        opt(ie, "LoadBalancedEndpointSetName", ep.load_balanced_endpoint_set_name)
        add(ie, "LocalPort", ep.local_port)
        add(ie, "Name", ep.name)
        add(ie, "Port", ep.port)
        if ep.probe is not None:
            pr = add(ie, "LoadBalancerProbe")
            opt(pr, "Path", ep.probe.path)
            add(pr, "Port", ep.probe.port)
            add(pr, "Protocol", ep.probe.protocol.upper() if ep.probe.protocol == "http" else ep.probe.protocol)
            add(pr, "IntervalInSeconds", ep.probe.interval_in_seconds)
            add(pr, "TimeoutInSeconds", ep.probe.timeout_in_seconds)
        add(ie, "Protocol", ep.protocol)
        opt(ie, "Vip", ep.vip or (None if ep.load_balancer_name else vip))
        add(ie, "EnableDirectServerReturn", ep.enable_direct_server_return)
        opt(ie, "LoadBalancerName", ep.load_balancer_name)
        if ep.acl:
            rules = add(add(ie, "EndpointAcl"), "Rules")
            for rule in ep.acl:
                re_ = add(rules, "Rule")
                add(re_, "Order", rule.order)
                add(re_, "Action", rule.action)
                add(re_, "RemoteSubnet", rule.remote_subnet)
                add(re_, "Description", rule.description)
        opt(ie, "IdleTimeoutInMinutes", ep.idle_timeout_in_minutes)
        opt(ie, "LoadBalancerDistribution", ep.load_balancer_distribution)
        opt(ie, "VirtualIPName", ep.virtual_ip_name)
    texts(cs, "SubnetNames", "SubnetName", role.subnet_names)
    opt(cs, "StaticVirtualNetworkIPAddress", role.static_ip)
    _public_ips(cs, role, runtime=False)
    _nics(cs, role, runtime=False)
    opt(cs, "NetworkSecurityGroup", role.network_security_group)
    if role.ip_forwarding:
        add(cs, "IPForwarding", "Enabled")


def data_disk_element(parent: etree._Element | None, disk: c.DataDisk) -> etree._Element:
    el = root("DataVirtualHardDisk") if parent is None else add(parent, "DataVirtualHardDisk")
    add(el, "HostCaching", disk.host_caching)
    add(el, "DiskLabel", disk.disk_label)
    add(el, "DiskName", disk.disk_name)
    add(el, "Lun", disk.lun)
    add(el, "LogicalDiskSizeInGB", disk.logical_size_gb)
    add(el, "MediaLink", disk.media_link)
    add(el, "IOType", disk.io_type)
    return el


def _role_body(el: etree._Element, rv: RoleView, dep: c.Deployment) -> None:
    role = rv.role
    add(el, "RoleName", role.name)
    add(el, "OsVersion", role.os_version)
    add(el, "RoleType", role.role_type.value)
    sets = add(el, "ConfigurationSets")
    _network_set(sets, role, dep)
    exts = add(el, "ResourceExtensionReferences")
    for ext in role.extensions:
        xe = add(exts, "ResourceExtensionReference")
        add(xe, "ReferenceName", ext.reference_name)
        add(xe, "Publisher", ext.publisher)
        add(xe, "Name", ext.name)
        add(xe, "Version", ext.version)
        if ext.public_config is not None or ext.private_config_present:
            values = add(xe, "ResourceExtensionParameterValues")
            if ext.public_config is not None:
                pv = add(values, "ResourceExtensionParameterValue")
                add(pv, "Key", "PublicConfiguration")
                add(pv, "Value", ext.public_config)
                add(pv, "Type", "Public")
        add(xe, "State", ext.state)
    opt(el, "AvailabilitySetName", role.availability_set)
    disks = add(el, "DataVirtualHardDisks")
    for d in role.data_disks:
        data_disk_element(disks, d)
    if role.os_disk is not None:
        osd = add(el, "OSVirtualHardDisk")
        add(osd, "HostCaching", role.os_disk.host_caching)
        opt(osd, "DiskLabel", role.os_disk.disk_label)
        add(osd, "DiskName", role.os_disk.disk_name)
        add(osd, "MediaLink", role.os_disk.media_link)
        opt(osd, "SourceImageName", role.os_disk.source_image_name)
        add(osd, "OS", role.os_disk.os)
        add(osd, "IOType", role.os_disk.io_type)
        opt(osd, "ResizedSizeInGB", role.os_disk.logical_size_gb)
    if role.is_vm:
        add(el, "RoleSize", role.size or sizes.DEFAULT_CLASSIC)
    add(el, "ProvisionGuestAgent", role.provision_guest_agent)
    if role.boot_diagnostics is not None and role.boot_diagnostics.enabled:
        dbg = add(el, "DebugSettings")
        add(dbg, "BootDiagnosticsEnabled", True)
        base = role.boot_diagnostics.storage_uri or ""
        add(dbg, "ConsoleScreenshotBlobUri", f"{base}bootdiagnostics/{role.name}.screenshot.bmp")
        add(dbg, "SerialOutputBlobUri", f"{base}bootdiagnostics/{role.name}.serialconsole.log")
    opt(el, "LicenseType", role.license_type)
    opt(el, "MigrationState", rv.migration_state)


def role(rv: RoleView, dep: c.Deployment) -> bytes:
    return single("PersistentVMRole", rv, lambda el, v: _role_body(el, v, dep))


def data_disk(disk: c.DataDisk) -> bytes:
    return to_bytes(data_disk_element(None, disk))


def _deployment_body(el: etree._Element, dv: DeploymentView) -> None:
    dep = dv.deployment
    created = dep.created or _EPOCH
    add(el, "Name", dep.name)
    add(el, "DeploymentSlot", dep.slot.value)
    add(el, "PrivateID", dep.private_id or hashlib.md5(f"{dep.service_name}/{dep.name}".encode()).hexdigest())
    add(el, "Status", dep.status)
    add(el, "Label", b64(dep.label or dep.name))
    add(el, "Url", f"http://{dep.service_name}.cloudapp.net/")
    add(el, "Configuration", _configuration(dv))
    instances = add(el, "RoleInstanceList")
    for rv in dv.roles:
        _instance(instances, rv.role, dep)
    if dep.upgrade_in_progress:
        up = add(el, "UpgradeStatus")
        add(up, "UpgradeType", "Auto")
        add(up, "CurrentUpgradeDomainState", "Before")
        add(up, "CurrentUpgradeDomain", 0)
    add(el, "UpgradeDomainCount", 1)
    roles = add(el, "RoleList")
    for rv in dv.roles:
        _role_body(add(roles, "Role", xsi_type="PersistentVMRole" if rv.role.is_vm else None), rv, dep)
    add(el, "SdkVersion", dep.sdk_version)
    add(el, "Locked", False)
    add(el, "RollbackAllowed", False)
    opt(el, "VirtualNetworkName", dep.virtual_network_name)
    add(el, "CreatedTime", created)
    add(el, "LastModifiedTime", dep.last_modified or created)
    extended_properties(el, {})
    if dep.dns_servers:
        servers = add(add(el, "Dns"), "DnsServers")
        for d in dep.dns_servers:
            ds = add(servers, "DnsServer")
            add(ds, "Name", d.name)
            add(ds, "Address", d.address)
    down = add(el, "PersistentVMDowntime")
    add(down, "StartTime", created + timedelta(days=30))
    add(down, "EndTime", created + timedelta(days=32))
    add(down, "Status", "PersistentVMUpdateScheduled")
    vips = add(el, "VirtualIPs")
    for vip in dep.virtual_ips:
        ve = add(vips, "VirtualIP")
        add(ve, "Address", vip.address)
        add(ve, "IsDnsProgrammed", vip.is_dns_programmed)
        add(ve, "Name", vip.name)
        if vip.is_reserved:
            add(ve, "IsReserved", True)
            opt(ve, "ReservedIPName", vip.reserved_ip_name)
    opt(el, "ReservedIPName", dep.reserved_ip_name)
    add(el, "InternalDnsSuffix", dep.internal_dns_suffix or f"{dep.service_name}.a1.internal.cloudapp.net")
    lbs = add(el, "LoadBalancers")
    for lb in dep.internal_load_balancers:
        le = add(lbs, "LoadBalancer")
        add(le, "Name", lb.name)
        fe = add(le, "FrontendIpConfiguration")
        add(fe, "Type", lb.type)
        opt(fe, "SubnetName", lb.subnet_name)
        opt(fe, "StaticVirtualNetworkIPAddress", lb.static_ip)


def deployment(dv: DeploymentView) -> bytes:
    return single("Deployment", dv, _deployment_body)
