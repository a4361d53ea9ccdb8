"""Storage-side bodies: storage accounts (+ keys), disks, OS images, VM images, affinity groups."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from ...domain import classic as c
from ...domain import media
from ...service.classic_reads import MANAGEMENT_URL, StorageView
from .xml_out import add, b64, extended_properties, listing, opt, root, single, texts, to_bytes

_EPOCH = datetime(2015, 1, 1, tzinfo=UTC)
# Geo-redundant accounts name their paired region; a few pairs are enough for the emulator.
_PAIRS = {"East US": "West US", "West US": "East US", "North Europe": "West Europe", "West Europe": "North Europe",
          "East US 2": "Central US", "Central US": "East US 2", "Southeast Asia": "East Asia",
          "East Asia": "Southeast Asia", "Australia East": "Australia Southeast"}


def _account(el: etree._Element, v: StorageView, base: str = MANAGEMENT_URL) -> None:
    a = v.account
    add(el, "Url", v.url_at(base))
    add(el, "ServiceName", a.name)
    props = add(el, "StorageServiceProperties")
    add(props, "Description", a.description)
    if a.affinity_group:
        add(props, "AffinityGroup", a.affinity_group)
    add(props, "Location", a.location)
    add(props, "Label", b64(a.label or a.name))
    add(props, "Status", a.status)
    texts(props, "Endpoints", "Endpoint", a.endpoints())
    geo = "GRS" in a.account_type.upper()
    add(props, "GeoPrimaryRegion", a.location)
    add(props, "StatusOfPrimary", "Available")
    if geo:
        add(props, "GeoSecondaryRegion", _PAIRS.get(a.location or "", a.location))
        add(props, "StatusOfSecondary", "Available")
    add(props, "CreationTime", a.created or _EPOCH)
    add(props, "CustomDomains")
    add(props, "AccountType", a.account_type)
    extended_properties(el, a.extended_properties)
    texts(el, "Capabilities", "Capability", ["PersistentVMRole"])
    opt(el, "MigrationState", v.migration_state)


def storage_services(views: list[StorageView], base: str = MANAGEMENT_URL) -> bytes:
    return listing("StorageServices", "StorageService", views, lambda el, v: _account(el, v, base))


def storage_service(v: StorageView, base: str = MANAGEMENT_URL) -> bytes:
    return single("StorageService", v, lambda el, v: _account(el, v, base))


def storage_keys(v: StorageView, base: str = MANAGEMENT_URL) -> bytes:
    el = root("StorageService")
    add(el, "Url", v.url_at(base))
    add(el, "ServiceName", v.account.name)
    keys = add(el, "StorageServiceKeys")
    add(keys, "Primary", v.account.primary_key)
    add(keys, "Secondary", v.account.secondary_key)
    return to_bytes(el)


def _disk(el: etree._Element, d: c.Disk) -> None:
    if d.attached:
        at = add(el, "AttachedTo")
        add(at, "HostedServiceName", d.hosted_service_name)
        add(at, "DeploymentName", d.deployment_name)
        add(at, "RoleName", d.role_name)
    opt(el, "OS", d.os)
    add(el, "Location", d.location)
    add(el, "LogicalDiskSizeInGB", d.logical_size_gb)
    add(el, "MediaLink", d.media_link)
    add(el, "Name", d.name)
    opt(el, "SourceImageName", d.source_image_name)
    opt(el, "Label", d.label)
    add(el, "IOType", "Standard")


def disks(items: list[c.Disk]) -> bytes:
    return listing("Disks", "Disk", items, _disk)


def disk(d: c.Disk) -> bytes:
    return single("Disk", d, _disk)


def _os_image(el: etree._Element, img: c.OSImage) -> None:
    add(el, "Category", img.category)
    add(el, "Label", img.label or img.name)
    add(el, "Location", img.location)
    add(el, "LogicalSizeInGB", media.os_disk_gb(img.os))
    opt(el, "MediaLink", img.media_link)
    add(el, "Name", img.name)
    add(el, "OS", img.os)
    add(el, "Description", img.label or img.name)
    add(el, "ImageFamily", img.label or img.name)
    add(el, "PublishedDate", _EPOCH)
    add(el, "IsPremium", False)
    add(el, "ShowInGui", True)
    add(el, "RecommendedVMSize", "Small")
    add(el, "PublisherName", "User")
    add(el, "IOType", "Standard")


def os_images(items: list[c.OSImage]) -> bytes:
    return listing("Images", "OSImage", items, _os_image)


def os_image(img: c.OSImage, details: bool) -> bytes:
    el = root("OSImageDetails" if details else "OSImage")
    _os_image(el, img)
    if details:
        progress = add(el, "ReplicationProgress")
        element = add(progress, "ReplicationProgressElement")
        add(element, "Location", img.location)
        add(element, "Progress", 100)
    return to_bytes(el)


def vm_images(items: list[c.VMImage]) -> bytes:
    el = root("VMImages")
    for img in items:
        ve = add(el, "VMImage")
        add(ve, "Name", img.name)
        add(ve, "Label", img.label or img.name)
        add(ve, "Category", img.category)
        add(ve, "Description", img.label or img.name)
        osd = add(ve, "OSDiskConfiguration")
        add(osd, "Name", f"{img.name}-os")
        add(osd, "HostCaching", "ReadWrite")
        add(osd, "OSState", "Generalized")
        add(osd, "OS", img.os)
        opt(osd, "MediaLink", img.media_links[0] if img.media_links else None)
        add(osd, "LogicalDiskSizeInGB", media.os_disk_gb(img.os))
        add(osd, "IOType", "Standard")
        data = add(ve, "DataDiskConfigurations")
        for lun, link in enumerate(img.media_links[1:]):
            dd = add(data, "DataDiskConfiguration")
            add(dd, "Name", f"{img.name}-data{lun}")
            add(dd, "HostCaching", "None")
            add(dd, "Lun", lun)
            add(dd, "MediaLink", link)
            add(dd, "LogicalDiskSizeInGB", 10)
            add(dd, "IOType", "Standard")
        add(ve, "Location", img.location)
        add(ve, "CreatedTime", _EPOCH)
        add(ve, "ModifiedTime", _EPOCH)
        add(ve, "ImageFamily", img.label or img.name)
        add(ve, "RecommendedVMSize", "Small")
        add(ve, "IsPremium", False)
        add(ve, "PublisherName", "User")
        add(ve, "ShowInGui", True)
    return to_bytes(el)


def affinity_groups(items: list[c.AffinityGroup]) -> bytes:
    el = root("AffinityGroups")
    for ag in items:
        ae = add(el, "AffinityGroup")
        add(ae, "Name", ag.name)
        add(ae, "Label", b64(ag.label or ag.name))
        add(ae, "Description", ag.description)
        add(ae, "Location", ag.location)
        texts(ae, "Capabilities", "Capability", ["PersistentVMRole", "HighMemory"])
    return to_bytes(el)
