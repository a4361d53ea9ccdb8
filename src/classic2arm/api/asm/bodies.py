"""Request bodies of the ASM writes: content type, hardened parsing, namespace and root checks, and the
conversion into domain objects (reusing the importers wherever the wire shape is the same)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lxml import etree

from ...domain import catalogue as msg
from ...domain import classic as c
from ...domain.estate import Estate
from ...domain.units import Destination
from ...importers import asm_compute, asm_roles, asm_storage, netcfg, safe_xml, values
from ...importers.asm_roles import Where
from ...importers.xml_node import Node, build, present
from ...service.classic_writes import new_disk_name
from .guard import AsmRequest, bad_request
from .xml_out import NS

XML_TYPES = frozenset({"application/xml", "text/xml", "application/atom+xml", "text/plain",
                       "application/octet-stream"})
SOURCE = "request body"


def parse(req: AsmRequest, expected_root: str | tuple[str, ...], namespace: str = NS) -> Node:
    """The body's root as a Node, or a 400 saying exactly what is wrong with it."""
    roots = (expected_root,) if isinstance(expected_root, str) else expected_root
    ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype not in XML_TYPES:
        raise bad_request(f"The content type '{ctype[:80]}' is not supported: send the <{roots[0]}> document as "
                          f"application/xml.")
    if not req.body.strip():
        raise bad_request(f"The request body is empty; expected a <{roots[0]}> document.")
    el = safe_xml.parse_xml(req.body, SOURCE)
    ns = safe_xml.namespace(el)
    if ns and ns != namespace:
        raise bad_request(f"The root element <{safe_xml.local_name(el)}> is in namespace '{ns[:120]}'; expected "
                          f"'{namespace}'.")
    name = safe_xml.local_name(el)
    if name not in roots:
        raise bad_request(f"The root element is <{name[:80]}>; expected <{'> or <'.join(roots)}>.")
    return Node.root(el, SOURCE)


def check_label(n: Node, element: str = "Label") -> None:
    """Create Hosted Service's and Create Storage Account's label must be base64 (importers keep a plain-text
    label from a capture; the API refuses one). Create VM Deployment's label is plain text, as the SDK sends it."""
    raw = n.text(element)
    if raw is not None and values.strict_label(raw) is None:
        raise bad_request(msg.ASM_LABEL_NOT_BASE64.text(element=element, label=raw[:80], limit=values.LABEL_MAX))


def optional(req: AsmRequest, expected_root: str) -> Node | None:
    return parse(req, expected_root) if req.body.strip() else None


# --------------------------------------------------------------------------- migration


def destination(req: AsmRequest) -> Destination:
    n = parse(req, "DeploymentNetworkResource")
    return Destination(kind=n.text("DestinationVirtualNetwork") or "", resource_group=n.text("ResourceGroupName") or "",
                       vnet=n.text("VirtualNetworkName") or "", subnet=n.text("SubNetName") or "")


# --------------------------------------------------------------------------- compute


def hosted_service(req: AsmRequest) -> c.HostedService:
    n = parse(req, "CreateHostedService")
    check_label(n)
    return build(c.HostedService, n, name=n.req("ServiceName"), location=n.text("Location"),
                 affinity_group=n.text("AffinityGroup"), label=n.label(), description=n.text("Description") or "",
                 extended_properties=asm_compute.extended_properties(n))


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [ch for ch in el if isinstance(ch.tag, str) and etree.QName(ch).localname == name]


def _name_disks(role_el: etree._Element, svc: str, now: datetime) -> None:
    """ASM names the disks a caller leaves unnamed; the importer needs the names."""
    role_name = next(((n.text or "").strip() for n in _children(role_el, "RoleName")), "") or "role"
    disks = _children(role_el, "OSVirtualHardDisk")
    for box in _children(role_el, "DataVirtualHardDisks"):
        disks.extend(_children(box, "DataVirtualHardDisk"))
    for index, disk in enumerate(disks):
        names = _children(disk, "DiskName")
        if names and (names[0].text or "").strip():
            continue
        for old in names:
            disk.remove(old)
        el = etree.SubElement(disk, f"{{{etree.QName(disk).namespace or NS}}}DiskName")
        el.text = new_disk_name(svc, role_name, index, now)


def _role(n: Node, where: Where) -> c.Role:
    estate = Estate()
    _name_disks(n.el, where.service_name, datetime.now(UTC))
    role = asm_roles.add_role(estate, n, where)
    if role.os_disk is None and role.is_vm:
        raise n.error("OSVirtualHardDisk", "a virtual machine needs an <OSVirtualHardDisk> (or a VMImageName)")
    return role


def deployment(req: AsmRequest, svc: str) -> tuple[c.Deployment, list[c.Role]]:
    n = parse(req, "Deployment")
    name = n.req("Name")
    roles = n.items("RoleList", "Role")
    if not roles:
        raise n.error("RoleList", "a VM deployment needs at least one <Role>")
    where = Where(svc, name)
    built = [_role(r, where) for r in roles]
    dep = build(c.Deployment, n, name=name, service_name=svc, label=n.label(),
                virtual_network_name=n.text("VirtualNetworkName"), reserved_ip_name=n.text("ReservedIPName"),
                dns_servers=[build(c.DnsServer, d, name=d.req("Name"), address=d.req("Address"))
                             for d in n.items("Dns", "DnsServers", "DnsServer")],
                **present(slot=n.enum("DeploymentSlot", c.DeploymentSlot)))
    return dep, built


def role(req: AsmRequest, svc: str, dep: str) -> c.Role:
    return _role(parse(req, "PersistentVMRole"), Where(svc, dep))


def role_changes(req: AsmRequest, svc: str, dep: str, name: str) -> dict[str, Any]:
    """Update Role: the configuration fields the body gives (an absent element leaves its field as it is)."""
    n = parse(req, "PersistentVMRole")
    if (n.text("RoleName") or name).lower() != name.lower():
        raise n.error("RoleName", f"the body names role '{n.text('RoleName')}' but the path names '{name}'")
    built = _role(n, Where(svc, dep)) if n.child("OSVirtualHardDisk") is not None else None
    if built is None:
        estate = Estate()
        built = asm_roles.add_role(estate, n, Where(svc, dep))
    changes: dict[str, Any] = {}
    sets = {(cs.text("ConfigurationSetType") or "") for cs in n.items("ConfigurationSets", "ConfigurationSet")}
    if "NetworkConfiguration" in sets:
        changes.update(input_endpoints=built.input_endpoints, subnet_names=built.subnet_names,
                       static_ip=built.static_ip, public_ips=built.public_ips,
                       network_security_group=built.network_security_group, ip_forwarding=built.ip_forwarding,
                       secondary_nics=built.secondary_nics)
    element_fields = {"RoleSize": ("size", built.size), "AvailabilitySetName": ("availability_set",
                                                                                  built.availability_set),
                      "DataVirtualHardDisks": ("data_disks", built.data_disks),
                      "ResourceExtensionReferences": ("extensions", built.extensions),
                      "ProvisionGuestAgent": ("provision_guest_agent", built.provision_guest_agent),
                      "LicenseType": ("license_type", built.license_type),
                      "DebugSettings": ("boot_diagnostics", built.boot_diagnostics)}
    for element, (fld, value) in element_fields.items():
        if n.child(element) is not None:
            changes[fld] = value
    return changes


def data_disk(req: AsmRequest, svc: str, role_name: str) -> c.DataDisk:
    n = parse(req, "DataVirtualHardDisk")
    lun = n.integer("Lun") or 0
    return build(c.DataDisk, n, disk_name=n.text("DiskName") or new_disk_name(svc, role_name, lun + 1,
                                                                              datetime.now(UTC)),
                 media_link=n.req("MediaLink"), logical_size_gb=n.req_integer("LogicalDiskSizeInGB"),
                 disk_label=n.text("DiskLabel") or "", lun=lun,
                 **present(host_caching=n.text("HostCaching")))


def disk_update(req: AsmRequest, name: str) -> tuple[str | None, int | None]:
    """Update Disk's <Disk>: (Label, ResizedSizeInGB). Name may only repeat the path's (disks are not renamed);
    HasOperatingSystem, MediaLink and OS are deprecated and ignored, as the service does."""
    n = parse(req, "Disk")
    given = n.text("Name")
    if given is not None and given.lower() != name.lower():
        raise n.error("Name", f"the body names disk '{given[:80]}' but the path names '{name[:80]}' (a disk "
                              f"cannot be renamed)")
    label, resized = n.text("Label"), n.integer("ResizedSizeInGB")
    if label is None and resized is None:
        raise n.error("Disk", "nothing to update: give <Label> and/or <ResizedSizeInGB>")
    return label, resized


def role_operation(req: AsmRequest) -> tuple[str, str | None]:
    """(OperationType, PostShutdownAction) of a role-instance operation body."""
    n = parse(req, ("StartRoleOperation", "ShutdownRoleOperation", "RestartRoleOperation"))
    kind = n.text("OperationType") or n.tag
    if kind != n.tag:
        raise n.error("OperationType", f"'{kind[:80]}' does not match the root element <{n.tag}>")
    action = n.choice("PostShutdownAction", ("Stopped", "StoppedDeallocated")) if kind.startswith("Shutdown") else None
    return kind, action


# --------------------------------------------------------------------------- storage and network


def storage_account(req: AsmRequest) -> c.StorageAccount:
    n = parse(req, "CreateStorageServiceInput")
    check_label(n)
    estate = asm_storage.parse_storage_services(n)
    return estate.storage_accounts[0]


def reserved_ip(req: AsmRequest) -> c.ReservedIP:
    n = parse(req, "ReservedIP")
    return build(c.ReservedIP, n, name=n.req("Name"), address="0.0.0.0", label=n.text("Label") or "",
                 location=n.req("Location"))


def association(req: AsmRequest) -> tuple[str, str, str | None]:
    n = parse(req, "ReservedIPAssociation")
    return n.req("ServiceName"), n.req("DeploymentName"), n.text("VirtualIPName")


def network_configuration(req: AsmRequest) -> Estate:
    n = parse(req, "NetworkConfiguration", namespace=netcfg.NAMESPACE)
    if n.child("VirtualNetworkConfiguration") is None:
        # Without it the document would silently remove every VNet: refuse instead.
        raise n.error("VirtualNetworkConfiguration", "missing required <VirtualNetworkConfiguration>")
    return netcfg.parse(n)
