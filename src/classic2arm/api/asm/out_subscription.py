"""Subscription-level bodies: the subscription, locations, role sizes, management certificates, resource
extensions and the subscription's operation history."""

from __future__ import annotations

from datetime import datetime

from ...domain import sizes
from ...domain.locations import REGIONS
from ...service.classic_reads import SubscriptionFacts
from ...service.operations import OperationView
from .xml_out import add, root, texts, to_bytes

WEB_WORKER_SIZES, VM_SIZES = sizes.WEB_WORKER_SIZES, sizes.VM_SIZES
STORAGE_TYPES = ("Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_RAGRS", "Premium_LRS")
# (publisher, name, version, label, json extension)
EXTENSIONS = (
    ("Microsoft.Compute", "BGInfo", "2.1", "BGInfo Extension", True),
    ("Microsoft.Compute", "CustomScriptExtension", "1.10", "Custom Script Extension", True),
    ("Microsoft.Compute", "VMAccessAgent", "2.4", "VM Access Agent", True),
    ("Microsoft.OSTCExtensions", "CustomScriptForLinux", "1.5", "Custom Script for Linux", True),
    ("Microsoft.OSTCExtensions", "VMAccessForLinux", "1.5", "VM Access for Linux", True),
    ("Microsoft.EnterpriseCloud.Monitoring", "MicrosoftMonitoringAgent", "1.0", "Microsoft Monitoring Agent", True),
    ("Microsoft.VisualStudio.WindowsAzure.RemoteDebug", "VSRemoteDebugger", "1.1", "Remote debugger", False),
)


def subscription(f: SubscriptionFacts) -> bytes:
    el = root("Subscription")
    add(el, "SubscriptionID", f.id)
    add(el, "SubscriptionName", f.name or "classic2arm")
    add(el, "SubscriptionStatus", "Active")
    add(el, "AccountAdminLiveEmailId", f.admin)
    add(el, "ServiceAdminLiveEmailId", f.admin)
    add(el, "MaxCoreCount", f.max_cores)
    add(el, "MaxStorageAccounts", f.max_storage_accounts)
    add(el, "MaxHostedServices", f.max_hosted_services)
    add(el, "CurrentCoreCount", f.cores)
    add(el, "CurrentHostedServices", f.hosted_services)
    add(el, "CurrentStorageAccounts", f.storage_accounts)
    add(el, "MaxVirtualNetworkSites", f.max_vnets)
    add(el, "CurrentVirtualNetworkSites", f.vnets)
    add(el, "MaxLocalNetworkSites", 100)
    add(el, "MaxDnsServers", 100)
    add(el, "AADTenantID", "00000000-0000-0000-0000-00000000a11d")
    if f.created is not None:
        add(el, "CreatedTime", f.created)
    return to_bytes(el)


def locations() -> bytes:
    el = root("Locations")
    for display in REGIONS:
        loc = add(el, "Location")
        add(loc, "Name", display)
        add(loc, "DisplayName", display)
        texts(loc, "AvailableServices", "AvailableService", ["Compute", "Storage", "PersistentVMRole", "HighMemory"])
        caps = add(loc, "ComputeCapabilities")
        texts(caps, "WebWorkerRoleSizes", "RoleSize", WEB_WORKER_SIZES)
        texts(caps, "VirtualMachinesRoleSizes", "RoleSize", VM_SIZES)
        texts(add(loc, "StorageCapabilities"), "StorageAccountTypes", "StorageAccountType", STORAGE_TYPES)
    return to_bytes(el)


def role_sizes() -> bytes:
    el = root("RoleSizes")
    for name in VM_SIZES:
        cores = sizes.cores_of(name)
        rs = add(el, "RoleSize")
        add(rs, "Name", name)
        add(rs, "Label", f"{name} (cores: {cores})")
        add(rs, "Cores", cores)
        add(rs, "MemoryInMb", 1792 * cores if not name.startswith("Standard_D") else 3584 * cores)
        add(rs, "SupportedByWebWorkerRoles", name in WEB_WORKER_SIZES)
        add(rs, "SupportedByVirtualMachines", True)
        add(rs, "MaxDataDiskCount", 2 * cores)
        add(rs, "WebWorkerResourceDiskSizeInMb", 20480 * cores)
        add(rs, "VirtualMachineResourceDiskSizeInMb", 20480 * cores)
    return to_bytes(el)


def management_certificates(certs: list[tuple[str, datetime]]) -> bytes:
    el = root("SubscriptionCertificates")
    for thumb, created in certs:
        ce = add(el, "SubscriptionCertificate")
        add(ce, "SubscriptionCertificatePublicKey", "")
        add(ce, "SubscriptionCertificateThumbprint", thumb)
        add(ce, "SubscriptionCertificateData", "")
        add(ce, "Created", created)
    return to_bytes(el)


def resource_extensions() -> bytes:
    el = root("ResourceExtensions")
    for publisher, name, version, label, is_json in EXTENSIONS:
        re_ = add(el, "ResourceExtension")
        add(re_, "Publisher", publisher)
        add(re_, "Name", name)
        add(re_, "Version", version)
        add(re_, "Label", label)
        add(re_, "Description", f"{label} for classic virtual machines")
        add(re_, "PublicConfigurationSchema", "")
        add(re_, "PrivateConfigurationSchema", "")
        add(re_, "SampleConfig", "")
        add(re_, "ReplicationCompleted", True)
        add(re_, "Eula", "https://azure.microsoft.com/support/legal/")
        add(re_, "PrivacyUri", "https://privacy.microsoft.com/")
        add(re_, "HomepageUri", "https://azure.microsoft.com/")
        add(re_, "IsJsonExtension", is_json)
        add(re_, "IsInternalExtension", False)
        add(re_, "DisallowMajorVersionUpgrade", False)
        add(re_, "CompanyName", "Microsoft")
        add(re_, "SupportedOS", "Windows" if "Linux" not in name else "Linux")
        add(re_, "PublishedDate", "2015-01-01T00:00:00Z")
    return to_bytes(el)


def subscription_operations(sub: str, ops: list[OperationView]) -> bytes:
    el = root("SubscriptionOperationCollection")
    box = add(el, "SubscriptionOperations")
    for op in ops:
        oe = add(box, "SubscriptionOperation")
        add(oe, "OperationId", op.id)
        add(oe, "OperationObjectId", f"/{sub}/{op.unit}")
        add(oe, "OperationName", op.kind)
        add(oe, "OperationParameters")
        caller = add(oe, "OperationCaller")
        add(caller, "UsedServiceManagementApi", True)
        add(caller, "ClientIP", "127.0.0.1")
        status = add(oe, "OperationStatus")
        add(status, "ID", op.dashed_id)
        add(status, "Status", op.status)
        if op.http_status is not None:
            add(status, "HttpStatusCode", op.http_status)
        add(oe, "OperationStartedTime", op.created_at)
        add(oe, "OperationCompletedTime", op.updated_at)
        add(oe, "OperationKind", op.kind)
    add(el, "ContinuationToken")
    return to_bytes(el)
