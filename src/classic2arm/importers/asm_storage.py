"""ASM storage-side bodies: storage accounts (Get/List/Create input), disks, images, affinity groups."""

from __future__ import annotations

from classic2arm.domain import classic as c
from classic2arm.domain.estate import Estate

from .asm_compute import extended_properties
from .xml_node import Node, build, present


def _account_type(n: Node) -> str | None:
    explicit = n.text("AccountType")
    if explicit:
        return explicit
    # Pre-2014 bodies only say whether geo-replication is on.
    geo = n.text("GeoReplicationEnabled")
    if geo is None:
        return None
    return "Standard_GRS" if n.boolean("GeoReplicationEnabled", False) else "Standard_LRS"


def _storage_account(n: Node) -> c.StorageAccount:
    props = n.child("StorageServiceProperties")
    source = props if props is not None else n  # CreateStorageServiceInput is flat
    return build(
        c.StorageAccount,
        n,
        name=n.req("ServiceName"),
        location=source.text("Location"),
        affinity_group=source.text("AffinityGroup"),
        label=source.label(),
        description=source.text("Description") or "",
        created=source.timestamp("CreationTime"),
        extended_properties=extended_properties(n),
        **present(account_type=_account_type(source), status=source.text("Status")),
    )


def parse_storage_services(root: Node) -> Estate:
    estate = Estate()
    nodes = root.children("StorageService") if root.tag == "StorageServices" else [root]
    for n in nodes:
        estate.storage_accounts.append(_storage_account(n))
        if state := n.text("MigrationState"):
            estate.notes.append(f"{n.src}: storage account '{n.req('ServiceName')}' has MigrationState {state}")
    return estate


def _disk(n: Node) -> c.Disk:
    attached = n.child("AttachedTo")
    return build(
        c.Disk,
        n,
        name=n.req("Name"),
        media_link=n.req("MediaLink"),
        os=n.choice("OS", ("Windows", "Linux")),
        location=n.text("Location"),
        logical_size_gb=n.integer("LogicalDiskSizeInGB") or 0,
        label=n.label(),
        source_image_name=n.text("SourceImageName"),
        hosted_service_name=attached.text("HostedServiceName") if attached else None,
        deployment_name=attached.text("DeploymentName") if attached else None,
        role_name=attached.text("RoleName") if attached else None,
    )


def parse_disks(root: Node) -> Estate:
    nodes = root.children("Disk") if root.tag == "Disks" else [root]
    return Estate(disks=[_disk(d) for d in nodes])


def _os_image(n: Node) -> c.OSImage:
    return build(
        c.OSImage,
        n,
        name=n.req("Name"),
        media_link=n.text("MediaLink"),
        location=n.text("Location"),
        label=n.label(),
        **present(os=n.choice("OS", ("Windows", "Linux")), category=n.text("Category")),
    )


def parse_os_images(root: Node) -> Estate:
    nodes = root.children("OSImage") if root.tag == "Images" else [root]
    return Estate(os_images=[_os_image(i) for i in nodes])


def _vm_image(n: Node) -> c.VMImage:
    os_cfg = n.child("OSDiskConfiguration")
    links = [link for link in [os_cfg.text("MediaLink") if os_cfg else None] if link]
    links += [link for d in n.items("DataDiskConfigurations", "DataDiskConfiguration") if (link := d.text("MediaLink"))]
    return build(
        c.VMImage,
        n,
        name=n.req("Name"),
        location=n.text("Location"),
        media_links=links,
        label=n.label(),
        **present(os=os_cfg.choice("OS", ("Windows", "Linux")) if os_cfg else None, category=n.text("Category")),
    )


def parse_vm_images(root: Node) -> Estate:
    nodes = root.children("VMImage") if root.tag == "VMImages" else [root]
    return Estate(vm_images=[_vm_image(i) for i in nodes])


def _affinity_group(n: Node) -> c.AffinityGroup:
    return build(c.AffinityGroup, n, name=n.req("Name"), location=n.req("Location"), label=n.label(),
                 description=n.text("Description") or "")


def parse_affinity_groups(root: Node) -> Estate:
    nodes = root.children("AffinityGroup") if root.tag == "AffinityGroups" else [root]
    return Estate(affinity_groups=[_affinity_group(g) for g in nodes])
