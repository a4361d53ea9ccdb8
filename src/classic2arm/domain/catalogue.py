"""The one catalogue of message texts: validation messages and errors, with their rule ids.

Texts are exactly as the spec gives them (typos, double spaces and unbalanced braces included);
where the spec marks a gap the text is ours and the entry says so (`ours=True`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Text:
    rule: str
    code: str
    template: str
    ours: bool = False

    def render(self, *args: Any, **values: Any) -> tuple[str, str]:
        """(code, message) with the placeholders filled in."""
        return self.code, self.template.format(*args, **values)

    def text(self, *args: Any, **values: Any) -> str:
        return self.template.format(*args, **values)


# --------------------------------------------------------------------------- retirement (spec §8)
NEW_CLASSIC_VM_NOT_ALLOWED = Text(
    "RET1", "NewClassicVMCreationNotAllowedForSubscription",
    "As part of the retirement process, IaaS VMs (classic) are no longer available for new customers. "
    "This subscription had no IaaS VMs (classic) in February 2020, so new VMs (classic) can't be created in it. "
    "Use Azure Resource Manager, or contact support to add the subscription to the allowlist.",
    ours=True,
)
CLASSIC_VM_RETIRED = Text(
    "RET2", "ClassicVMRetired",
    "IaaS VMs (classic) were retired on September 1, 2023. VMs (classic) can no longer be created or started "
    "through Azure Service Manager; migrate them to Azure Resource Manager.",
    ours=True,
)
CLASSIC_STORAGE_NEW_SUBSCRIPTION = Text(
    "RET3", "ClassicStorageAccountCreationNotAllowed",
    "Subscriptions created after August 2022 can't create classic storage accounts. "
    "Create an Azure Resource Manager storage account instead.",
    ours=True,
)
CLASSIC_STORAGE_CREATION_ENDED = Text(
    "RET4", "ClassicStorageAccountCreationNotAllowed",
    "Classic storage accounts can't be created after August 16, 2024. "
    "Create an Azure Resource Manager storage account instead.",
    ours=True,
)
CLASSIC_STORAGE_RETIRED = Text(
    "RET5", "ClassicStorageAccountRetired",
    "Classic storage accounts were retired on August 31, 2024 and can no longer be managed through "
    "Azure Service Manager. Their data is preserved; migrate them to Azure Resource Manager.",
    ours=True,
)

# --------------------------------------------------------------------------- locks (spec §4.2 R50, R51)
R50_DEPLOYMENT_LOCKED = Text(
    "R50", "ConflictError",
    "Deployment {dep} in HostedService {hs} is in the process of being migrated and hence cannot be changed.",
)
R50_LOCKED = Text(
    "R50", "ConflictError",
    "{kind} {name} is in the process of being migrated and hence cannot be changed",
)
R51_VM_LOCKED = Text(
    "R51", "ConflictError", "Management operations on VM are disallowed because migration is in progress",
)

# --------------------------------------------------------------------------- request level (spec §4.2)
R01_NOT_REGISTERED = Text("R01", "BadRequest", "Subscription is not registered for migration.")
R02_DEPLOYMENT_NOT_FOUND = Text("R02", "ResourceNotFound", "The deployment name '{dep}' does not exist.")
R02_STORAGE_NOT_FOUND = Text("R02", "ResourceNotFound", "The storage account '{name}' was not found.")
R02_VNET_NOT_FOUND = Text(
    "R02", "BadRequest",
    "Virtual network '{name}' not found. Either it does not exist or it is an Azure Resource Manager resource, "
    "which cannot be used with Cloud Services.",
)
# The errors page's text for a VNet asked for by the name the portal shows while its real name is
# `Group <rg> <vnet>` (spec §4.2 R02, doc variant).
R02_VNET_PORTAL_NAME = Text("R02", "BadRequest", "The virtual network {name} doesn't exist.")
R02_RESERVED_IP_NOT_FOUND = Text("R02", "ResourceNotFound", "The reserved IP '{name}' was not found.", ours=True)
R02_NSG_NOT_FOUND = Text("R02", "ResourceNotFound", "The network security group '{name}' was not found.", ours=True)
R02_ROUTE_TABLE_NOT_FOUND = Text("R02", "ResourceNotFound", "The route table '{name}' was not found.", ours=True)
R03_BAD_DESTINATION = Text(
    "R03", "BadRequest",
    "DestinationVirtualNetwork must be set to one of the following values: Default, New, or Existing.",
)
R03_DEFAULT_NOT_IMPLEMENTED = Text("R03", "BadRequest", "Default VNet destination option not implemented.")
R04_VNET_NAME_EMPTY = Text("R04", "BadRequest", "The virtual network name cannot be null or empty.")
R04_SUBNET_NAME_EMPTY = Text("R04", "BadRequest", "The Subnet Name cannot be null or empty.")

# --------------------------------------------------------------------------- lifecycle (R44–R46)
R44_ARM_PREPARED = Text(
    "R44", "OperationNotAllowed",
    "The operation cannot be performed on {kind} '{name}' because a migration is in progress. Commit the "
    "migration to start managing the {kind}.",
)
R45_NOT_PREPARED = Text("R45", "BadRequest", "Deployment {0} in HostedService {1} has not been prepared for Migration.")
R45_NOT_PREPARED_UNIT = Text("R45", "BadRequest", "{kind} {name} has not been prepared for Migration.", ours=True)
R46_OTHER_DESTINATION = Text(
    "R46", "BadRequest",
    "Deployment {dep} in HostedService {hs} is already being migrated with DestinationVirtualNetwork {was}. Abort "
    "the migration before preparing it with another destination.",
    ours=True,
)
R46_COMMITTING = Text(
    "R46", "BadRequest",
    "Migration of Deployment {0} in HostedService {1} is in the process of being committed and cannot be changed "
    "until it completes successfully.",
)
R46_ABORTING = Text(
    "R46", "BadRequest",
    "Migration of Deployment {0} in HostedService {1} is in the process of being aborted and cannot be changed "
    "until it completes successfully.",
)
R46_COMMITTING_UNIT = Text(
    "R46", "BadRequest",
    "Migration of {kind} {name} is in the process of being committed and cannot be changed until it completes "
    "successfully.", ours=True,
)
R46_ABORTING_UNIT = Text(
    "R46", "BadRequest",
    "Migration of {kind} {name} is in the process of being aborted and cannot be changed until it completes "
    "successfully.", ours=True,
)
R46_PREPARING_UNIT = Text(
    "R46", "BadRequest",
    "Migration of {kind} {name} is in the process of being prepared and cannot be changed until it completes.",
    ours=True,
)
R46_COMMITTED_NO_ABORT = Text(
    "R46", "BadRequest",
    "Migration of {kind} {name} has been committed or a commit was attempted; it can't be aborted. Retry the "
    "commit.", ours=True,
)

# --------------------------------------------------------------------------- transient backend failures (R47–R49)
R47_INTERNAL = Text("R47", "InternalError", "Internal server error")
R47_RETRY = Text("R47", "InternalError", "The server encountered an internal error. Retry the request.")
R47_NETWORK_ALLOCATION = Text(
    "R47", "InternalError",
    "The server encountered an unexpected error while trying to allocate network resources for the cloud service. "
    "Retry the request.",
)
R48_TEMPLATE = Text("R48", "DeploymentFailed", "Template {template} deployment failed. CorrelationId={guid}")
R49_XRP_VNET = Text("R49", "XrpVirtualNetworkMigrationError", "XrpVirtualNetworkMigrationError: Virtual network "
                                                              "migration failure.")
R49_UNKNOWN = Text("R49", "UnknownExceptionInEndExecute", "UnknownExceptionInEndExecute: {detail}")

# --------------------------------------------------------------------------- validate result strings (spec §6.1)
RESULT_NO_MESSAGES = "There are no ValidationMessages."
RESULT_FAILED = "Validation Failed. Please see ValidationMessages object for additional details."
RESULT_WARNINGS = ("Validation Passed with warnings. Please see ValidationMessages object for a list of resources "
                   "that will be migrated and additional detail on the warnings.")
RESULT_PASSED = ("Validation Passed. Please see ValidationMessages object for a list of resources that will be "
                 "migrated.")

# ============================================================================ validation messages (spec §4.2)
# Rules R05–R43 and R52–R56 (domain/rules/) add their texts below this line.
# Codes name the condition for callers that fold messages into one operation error (prepare); they are not
# on the validate wire. Where the spec gives only an older and a newer wording, the newest (2023) is used.

# --- destination (R05: spec text; the not-found variants are ours, spec marks them [P])
R05_SUBNET_OTHER_LOCATION = Text(
    "R05", "SubnetInDifferentLocation",
    "The subnet with ID '{0}' is in a different location than deployment '{1}' in hosted service '{2}'. "
    "The location for the subnet is '{3}' and the location for the hosted service is '{4}'.  Specify a subnet in "
    "the same location as the deployment.",
)
R05_RESOURCE_GROUP_NOT_FOUND = Text(
    "R05", "DestinationNotFound",
    "Resource group '{rg}' given as the destination of Deployment {dep} in HostedService {hs} was not found in "
    "Azure Resource Manager. Specify an existing resource group, virtual network and subnet.",
    ours=True,
)
R05_VNET_NOT_FOUND = Text(
    "R05", "DestinationNotFound",
    "Virtual network '{vnet}' in resource group '{rg}' given as the destination of Deployment {dep} in "
    "HostedService {hs} was not found in Azure Resource Manager. Specify an existing virtual network.",
    ours=True,
)
R05_SUBNET_NOT_FOUND = Text(
    "R05", "DestinationNotFound",
    "Subnet '{subnet}' was not found in virtual network '{vnet}' in resource group '{rg}' given as the destination "
    "of Deployment {dep} in HostedService {hs}. Specify an existing subnet.",
    ours=True,
)

# --- scope shape (R06–R13)
R06_DEPLOYMENT_IN_VNET = Text(
    "R06", "DeploymentInVirtualNetwork",
    "Deployment {0} in HostedService {1}  belongs to Virtual Network {2}. Migrate Virtual Network {2} to migrate "
    "this HostedService {1}.",
)
R07_PAAS_DEPLOYMENT = Text(
    "R07", "PaaSDeploymentNotSupported",
    "Migration isn't supported for Deployment {dep}  in HostedService {hs} because it's a PaaS deployment "
    "(Web/Worker).",
)
R08_VNET_PAAS = Text(
    "R08", "NonGatewayPaaSDeployments",
    "Migration isn't supported for Virtual Network {vnet} because it has non-gateway PaaS deployments.",
)
R09_MULTIPLE_AVAILABILITY_SETS = Text(
    "R09", "MultipleAvailabilitySets",
    "Migration isn't supported for Deployment {dep} in HostedService {hs} because it has multiple Availabilities "
    "Sets.",
)
# The source text has an unbalanced `{` before the hosted-service name; `{{` keeps it in the rendered text.
R10_MIXED_AVAILABILITY_SET = Text(
    "R10", "MixedAvailabilitySetMembership",
    "Migration isn't supported for Deployment {dep} in HostedService {{{hs} because it has VMs that are not part "
    "of the Availability Set even though the HostedService contains one.",
)
R11_MIXED_NICS = Text(
    "R11", "MixedSingleAndMultiNic",
    "Migration isn't supported for Deployment {dep} in HostedService {hs} because it has both single-NIC and "
    "multi-NIC VMs.",
    ours=True,
)
R12_MULTIPLE_SUBNETS = Text(
    "R12", "VmInMultipleSubnets",
    "VM {vm} in HostedService {hs} has network interfaces in more than one subnet ({subnets}), which isn't "
    "supported for migration. Move all network interfaces of the VM into one subnet and retry migration.",
    ours=True,
)
R13_NO_SUBNET = Text(
    "R13", "RoleWithoutSubnet",
    "The Deployment {dep} in cloud service {cs} cannot be migrated because there are no subnets associated with "
    "the role(s) {roles}. Associate all roles with a subnet, then retry the migration of the cloud service.",
)

# --- VM and deployment state (R14–R18)
R14_ROLE_STATE = Text(
    "R14", "RoleStateNotAllowed",
    "Migration isn't allowed for HostedService {hs} because it has VM {vm} in State: {state}. Migration is allowed "
    "only when the VM is in one of the following states - Running, Stopped, Stopped Deallocated.",
)
R15_INTERMEDIATE_STATE = Text(
    "R15", "DeploymentInIntermediateState",
    "Deployment {dep} in HostedService {hs} is in intermediate state: {state}. Migration not allowed.",
)
R15_UPDATE_IN_PROGRESS = Text(
    "R15", "DeploymentUpdateInProgress",
    "One or more VMs in Deployment {0} in HostedService {1} is undergoing an update operation. It can't be "
    "migrated until the previous operation completes successfully. Retry after sometime.",
)
# No text found for provisioning failures; the spec proposes the R14 template with the state name.
R16_PROVISIONING = Text(
    "R16", "VmProvisioningFailed",
    "Migration isn't allowed for HostedService {hs} because it has VM {vm} in State: {state}. Migration is allowed "
    "only when the VM is in one of the following states - Running, Stopped, Stopped Deallocated.",
    ours=True,
)
R17_FABRIC_CLUSTER = Text(
    "R17", "FabricClusterNotFound",
    "VM {vm} in HostedService {hs} can't be migrated because the fabric cluster it runs on does not exist in Azure "
    "Resource Manager. Stop (deallocate) the VM and retry migration, or retry later.",
    ours=True,
)
R18_NOT_REGIONAL = Text(
    "R18", "NotInRegionalScope",
    "Migration isn't allowed for Deployment {dep} in HostedService {hs} as it isn't in the regional scope. Refer "
    "to https://aka.ms/regionalscope for moving this deployment to regional scope.",
)

# --- extensions and guest agent (R19–R23)
R19_XML_EXTENSION = Text(
    "R19", "UnsupportedExtension",
    "VM {vm} in HostedService {hs} contains Extension {ext} which isn't supported in Azure Resource Manager. It's "
    "recommended to uninstall it from the VM before continuing with migration.",
)
R20_BACKUP_EXTENSION = Text(
    "R20", "BackupExtensionNotSupported",
    "VM {vm} in HostedService {hs} contains Extension VMSnapshot/VMSnapshotLinux, which is currently not supported "
    "for Migration. Uninstall it from the VM and add it back using Azure Resource Manager after the Migration is "
    "Complete",
)
R21_EXTENSION_STATUS_MISSING = Text(
    "R21", "ExtensionStatusNotReported",
    "VM {vm} in HostedService {hs} contains Extension {ext} whose Status isn't being reported from the VM. Hence, "
    "this VM can't be migrated. Ensure that the Extension status is being reported or uninstall the extension from "
    "the VM and retry migration.",
)
R22_EXTENSION_NOT_READY = Text(
    "R22", "ExtensionHandlerNotReady",
    "VM {vm} in HostedService {hs} contains Extension {ext} reporting Handler Status: {status}. Hence, the VM "
    "can't be migrated. Ensure that the Extension handler status being reported is {required} or uninstall it from "
    "the VM and retry migration.",
)
R23_AGENT_NOT_READY = Text(
    "R23", "GuestAgentNotReady",
    "VM Agent for VM {vm} in HostedService {hs} is reporting the overall agent status as Not Ready. Hence, the VM "
    "may not be migrated, if it has a migratable extension. Ensure that the VM Agent is reporting overall agent "
    "status as Ready. Refer to https://aka.ms/classiciaasmigrationfaqs.",
)

# --- disks (R25–R28)
R25_DISK_SIZE_MISMATCH = Text(
    "R25", "DataDiskSizeMismatch",
    "Deployment {dep} in HostedService {hs} contains a VM {vm} with Data Disk {disk} whose physical blob size "
    "{blob_size} bytes doesn't match the VM Data Disk logical size {logical_size} bytes. Migration will proceed "
    "without specifying a size for the data disk for the Azure Resource Manager VM.",
)
R26_VHD_INACCESSIBLE = Text(
    "R26", "StorageException",
    "A storage exception occurred while validating data disk {disk} with media link {uri} for VM {vm} in Cloud "
    "Service {cs}. Ensure that the VHD media link is accessible for this virtual machine",
)
R27_BLOB_NAME_SLASH = Text(
    "R27", "UnsupportedBlobName",
    "VM {vm} in HostedService {hs} contains Disk with MediaLink {uri} which has blob name {blob}  that isn't "
    "supported in Azure Resource Manager.",
)
R28_PREMIUM_BOOT_DIAGNOSTICS = Text(
    "R28", "BootDiagnosticsOnPremiumStorage",
    "VM {vm} in HostedService {hs} has boot diagnostics enabled on Premium storage account {account}, which isn't "
    "supported for migration. Disable boot diagnostics and retry migration.",
    ours=True,
)

# --- network (R29–R41)
R29_ENDPOINT_ACL = Text(
    "R29", "EndpointAclNotSupported",
    "VM {vm} in HostedService {hs} has endpoint {endpoint} with an access control list (ACL), which isn't "
    "supported for migration. Remove the endpoint ACL and retry migration.",
    ours=True,
)
R30_VNET_PEERED = Text(
    "R30", "VirtualNetworkPeered",
    "Migration isn't supported for Virtual Network {vnet} because it is peered with {peers}. Remove the peering, "
    "migrate the virtual network, then re-create the peering in Azure Resource Manager.",
    ours=True,
)
R32_RESERVED_IP_NO_ENDPOINT = Text(
    "R32", "ReservedIpWithoutEndpoint",
    "The deployment {dep} in hosted service {hs} has reserved IP(s) {rip} but no endpoint on the reserved IP. To "
    "resolve this issue, add at least one endpoint to the reserved IP.",
)
R32_RESERVED_IP_NO_NAME = Text(
    "R32", "ReservedIpWithoutName",
    "The deployment {dep} in hosted service {hs} has reserved IP(s) but no reserved IP name. To resolve this issue, "
    "update reserved IP name or contact the Microsoft Azure service desk.",
)
R33_RESERVED_IP_IN_USE = Text(
    "R33", "ReservedIpInUse",
    "Reserved IP {name} is associated with HostedService {hs}. Disassociate it from the cloud service before "
    "migrating it on its own, or migrate it together with the cloud service.",
    ours=True,
)
R33_NSG_IN_USE = Text(
    "R33", "NetworkSecurityGroupInUse",
    "Network Security Group {name} is associated with {users}. Migrate it together with the virtual network or "
    "virtual machines that use it, or remove the associations and retry migration.",
    ours=True,
)
R33_ROUTE_TABLE_IN_USE = Text(
    "R33", "RouteTableInUse",
    "Route Table {name} is associated with {users}. Migrate it together with the virtual network that uses it, or "
    "remove the associations and retry migration.",
    ours=True,
)
R34_INVALID_CIDR = Text(
    "R34", "InvalidAddressPrefix",
    "Address prefix {prefix} of {owner} isn't a valid CIDR block in Azure Resource Manager (host bits must be "
    "zero). Correct the address prefix and retry migration.",
    ours=True,
)
R35_ER_AND_VPN = Text(
    "R35", "ExpressRouteAndVpnGateway",
    "Migration isn't supported for Virtual Network {vnet} because its gateway has both an ExpressRoute circuit and "
    "VPN connections ({vpn}). Remove the VPN connections, migrate, then re-create them in Azure Resource Manager.",
    ours=True,
)
R36_CONNECTION_DOWN = Text(
    "R36", "GatewayConnectionDisconnected",
    "The connection from the gateway of Virtual Network {vnet} to local network site {site} isn't connected. "
    "Re-establish the connection or remove it, and retry migration.",
    ours=True,
)
R37_CIRCUIT_NOT_IN_ARM = Text(
    "R37", "ExpressRouteCircuitNotInArm",
    "Virtual Network {vnet} is linked to ExpressRoute circuit {circuit}, which hasn't been moved to Azure Resource "
    "Manager. Move the circuit to Azure Resource Manager first, then retry migration.",
    ours=True,
)
R37_CROSS_SUBSCRIPTION = Text(
    "R37", "ExpressRouteCrossSubscription",
    "Virtual Network {vnet} is linked to ExpressRoute circuit {circuit} with authorizations for other "
    "subscriptions ({subscriptions}), which can't be migrated automatically. Remove the cross-subscription links, "
    "migrate, then re-create them in Azure Resource Manager.",
    ours=True,
)
R38_LB_SET_MISMATCH = Text(
    "R38", "LoadBalancedSetMismatch",
    "Load-balanced endpoint set {lbset} in Deployment {dep} in HostedService {hs} has endpoints with different "
    "protocols, ports or probes on VMs {vms}, so it can't become one Azure Resource Manager load-balancing rule. "
    "Make the endpoints of the set identical and retry migration.",
    ours=True,
)
R39_IP_CONFLICT = Text(
    "R39", "PrivateIpConflict",
    "VM {vm} in HostedService {hs} and VM {other} in HostedService {other_hs} are both stopped (deallocated) and "
    "use the same private IP address {ip} in Virtual Network {vnet}. Change the IP address of one of them and "
    "retry migration.",
    ours=True,
)
R40_QUOTA = Text(
    "R40", "QuotaExceeded",
    "The current quota for {resource} in Azure Resource Manager is insufficient to complete migration. Current "
    "quota is {quota}, additional needed is {needed}. File a support request to raise the quota and retry "
    "migration once the quota has been raised.",
)
R41_ER_LOCAL_CONNECTIONS = Text(
    "R41", "ExpressRouteLocalConnections",
    "Virtual Network {vnet} is linked to an ExpressRoute circuit and its gateway has connections to local network "
    "sites ({sites}). Remove all ConnectionsToLocalNetwork references from the network configuration before "
    "migration.",
    ours=True,
)

# --- storage accounts (R42, R43, R56)
R42_ACCOUNT_IN_USE = Text(
    "R42", "StorageAccountHasClassicDisks",
    "Storage account {name} has classic disks or images that must be deleted or migrated first.",
    ours=True,
)
R43_STORAGE_ELIGIBLE = Text("R43", "Eligible", "Storage Account {name} is eligible for migration.")
R56_UNATTACHED = Text(
    "R56", "UnattachedDiskOrImage",
    "Storage account {name} holds the VHD of {kind} {item}, which isn't attached to a VM and won't be migrated. "
    "Delete the {kind} (its VHD blob is kept) before you prepare the migration of the storage account.",
    ours=True,
)
# Delete Storage Account while VHDs in the account are in use. The classic artifacts' text is ASM's own (seen in
# .NET SDK CloudException output and portal errors: microsoft/TestEasy#2, 2014); {count} is the number of containers
# holding them. VMs already moved to ARM (prepared twins, committed VMs) still lease their VHDs there: ours.
STORAGE_ACTIVE_ARTIFACTS = Text(
    "S1", "BadRequest",
    "Storage account {name} has {count} container(s) which have an active image and/or disk artifacts. Ensure "
    "those artifacts are removed from the image repository before deleting this storage account.",
)
STORAGE_ARM_VM_DISKS = Text(
    "S2", "ConflictError",
    "Storage account {name} holds the VHDs of {count} virtual machine(s) migrated to Azure Resource Manager, e.g. "
    "{vm}. Delete those VMs and their disks, or migrate the storage account, before deleting it.",
    ours=True,
)

# --- governance (R52–R55; texts are the spec's [P] proposals)
R52_TRAFFIC_MANAGER = Text(
    "R52", "TrafficManagerEndpoint",
    "HostedService {hs} is an endpoint of Traffic Manager profile {profile}, which isn't supported for migration. "
    "Remove the endpoint, migrate, then add the migrated public IP to a Traffic Manager profile in Azure Resource "
    "Manager.",
    ours=True,
)
R53_ROLE_ASSIGNMENT = Text(
    "R53", "RoleAssignmentScope",
    "Role assignment {assignment} on {classic_id} will not apply after migration. The resource will be {arm_id}; "
    "re-create the assignment there.",
    ours=True,
)
R54_ALERTS_AUTOSCALE = Text(
    "R54", "AlertsAndAutoscaleDropped",
    "VM {vm} in HostedService {hs} has {what}, which are dropped during migration. Re-create them in Azure Resource "
    "Manager after the migration is complete.",
    ours=True,
)
R55_SECURITY_CENTER = Text(
    "R55", "SecurityCenterBehindGateway",
    "VM {vm} in HostedService {hs} has the Azure Security Center extension and Virtual Network {vnet} has a gateway "
    "with on-premises DNS servers. Disable the Security Center policy on the subscription 3 hours before migration, "
    "or the migration can't proceed.",
    ours=True,
)

# --- success listing (Information; only the storage text is known, the rest are ours)
R43_DEPLOYMENT_ELIGIBLE = Text(
    "R43", "Eligible", "Deployment {dep} in HostedService {hs} is eligible for migration.", ours=True)
R43_VM_ELIGIBLE = Text("R43", "Eligible", "VM {vm} in HostedService {hs} is eligible for migration.", ours=True)
R43_AVAILABILITY_SET_ELIGIBLE = Text(
    "R43", "Eligible", "Availability Set {name} in HostedService {hs} is eligible for migration.", ours=True)
R43_VNET_ELIGIBLE = Text("R43", "Eligible", "Virtual Network {name} is eligible for migration.", ours=True)
R43_RESERVED_IP_ELIGIBLE = Text("R43", "Eligible", "Reserved IP {name} is eligible for migration.", ours=True)
R43_NSG_ELIGIBLE = Text("R43", "Eligible", "Network Security Group {name} is eligible for migration.", ours=True)
R43_ROUTE_TABLE_ELIGIBLE = Text("R43", "Eligible", "Route Table {name} is eligible for migration.", ours=True)


# --------------------------------------------------------------------------- ARM and ASM input (issue 11)
ARM_INVALID_RESOURCE_GROUP = Text(
    "N1", "InvalidResourceGroup", "The resource group name '{name}' is invalid: {reason}.", ours=True)
ARM_INVALID_RESOURCE_NAME = Text(
    "N2", "InvalidResourceName", "The {what} name '{name}' is invalid: {reason}.", ours=True)
ASM_UNKNOWN_ROLE_SIZE = Text(
    "N3", "BadRequest", "The role size '{size}' is not valid. Valid role sizes: {sizes}.", ours=True)
ASM_LABEL_NOT_BASE64 = Text(
    "N4", "BadRequest", "The {element} '{label}' is not valid: it must be base64-encoded text of 1 to "
    "{limit} characters.", ours=True)


# --------------------------------------------------------------------------- plan (issue 12)
@dataclass(frozen=True, slots=True)
class Mitigation:
    """What to do about a blocker of one rule: the errors page's mitigation column where it has the error
    (`ours=False`, text as the page gives it, links reduced to their text), ours otherwise."""

    rule: str
    text: str
    ours: bool = False


_EXT_STATUS = Mitigation(
    "R21",
    "Azure guest agent & VM Extensions need outbound internet access to the VM storage account to populate their "
    "status. Common causes of status failure include a Network Security Group that blocks outbound access to the "
    "internet; If the VNET has on premises DNS servers and DNS connectivity is lost. If you continue to see an "
    "unsupported status, you can uninstall the extensions to skip this check and move forward with migration.")

MITIGATIONS: dict[str, Mitigation] = {m.rule: m for m in (
    Mitigation("R01", "Register the subscription: classic2arm provider register Microsoft.ClassicInfrastructureMigrate "
                      "(Register-AzResourceProvider), wait about 5 minutes, then validate again.", ours=True),
    Mitigation("R02", "The unit no longer exists in the classic control plane: check its name, or drop it from "
                      "the plan.", ours=True),
    Mitigation("R05", "This can happen if you created the Virtual Network in the new Azure portal. The actual "
                      "Virtual Network name follows the pattern \"Group * <VNET name>\""),
    Mitigation("R06", "Migrate the virtual network the deployment belongs to; its deployments migrate with it.",
               ours=True),
    Mitigation("R07", "This happens when a deployment contains a web/worker role. Since migration is only supported "
                      "for Virtual Machines, remove the web/worker role from the deployment and try migration "
                      "again."),
    Mitigation("R08", "This error occurs when you have non-gateway PaaS deployments such as Application Gateway or "
                      "API Management services that are connected to the Virtual Network."),
    Mitigation("R09", "Currently, only hosted services that have 1 or less Availability sets can be migrated. To "
                      "work around this problem, move the additional availability sets, and Virtual machines in "
                      "those availability sets, to a different hosted service."),
    Mitigation("R10", "The workaround for this scenario is to either move all the virtual machines into a single "
                      "Availability set or remove all Virtual machines from the Availability set in the hosted "
                      "service."),
    Mitigation("R11", "Move the single-NIC and the multi-NIC VMs into separate cloud services (or give every VM the "
                      "same NIC layout), then validate again.", ours=True),
    Mitigation("R12", "Move every network interface of the VM into one subnet, then validate again.", ours=True),
    Mitigation("R13", "Associate every role of the deployment with a subnet of the virtual network, then validate "
                      "again.", ours=True),
    Mitigation("R14", "The VM might be undergoing through a state transition, which usually happens when during an "
                      "update operation on the HostedService such as a reboot, extension installation etc. It is "
                      "recommended for the update operation to complete on the HostedService before trying "
                      "migration."),
    Mitigation("R15", "Wait for the update operation on the deployment to finish (or finish it), then validate "
                      "again.", ours=True),
    Mitigation("R16", "Re-create the VM whose provisioning failed, keeping its disks, then validate again.",
               ours=True),
    Mitigation("R17", "Stop (deallocate) the VM and retry the prepare, or retry later.", ours=True),
    Mitigation("R18", "In 2014, Azure announced that networking resources will move from a cluster level scope to "
                      "regional scope. See https://aka.ms/regionalscope for more details. This error happens when "
                      "the deployment being migrated has not had an update operation, which automatically moves it "
                      "to a regional scope. The best work-around is to either add an endpoint to a VM, or a data "
                      "disk to the VM, and then retry migration."),
    Mitigation("R19", "NOTE: Error Message is in processs of getting updated, moving forward it is required to "
                      "uninstall the extension before the migration XML extensions such as BGInfo 1.* aren't "
                      "supported in Azure Resource Manager. Therefore, these extensions can't be migrated."),
    Mitigation("R20", "This is the scenario where the virtual machine is configured for Azure Backup. Since this is "
                      "currently an unsupported scenario, follow the workaround at https://aka.ms/vmbackupmigration"),
    _EXT_STATUS,
    Mitigation("R22", _EXT_STATUS.text),
    Mitigation("R23", _EXT_STATUS.text),
    Mitigation("R25", "This error happens if you've resized the VHD blob without updating the size in the VM API "
                      "model."),
    Mitigation("R26", "This error can happen if the disks of the VM have been deleted or are not accessible anymore. "
                      "Make sure the disks for the VM exist."),
    Mitigation("R27", "This error occurs when the name of the blob has a \"/\" in it which isn't supported in "
                      "Compute Resource Provider currently."),
    Mitigation("R28", "Disable boot diagnostics on the VM (or point it at a Standard account), migrate, then enable "
                      "it again in Azure Resource Manager.", ours=True),
    Mitigation("R29", "Delete the endpoint ACLs; after migration re-create them as NSG rules on the VM's NIC or "
                      "subnet.", ours=True),
    Mitigation("R30", "Remove the peering, migrate the virtual network, then peer it again in Azure Resource "
                      "Manager.", ours=True),
    Mitigation("R32", "Add an input endpoint on the reserved IP (a VIP only migrates with one), or give the "
                      "reserved IP a name.", ours=True),
    Mitigation("R33", "Migrate the object together with the VNet or cloud service that uses it, or remove the "
                      "association and migrate it on its own.", ours=True),
    Mitigation("R34", "Correct the address prefix (host bits zero) in the network configuration.", ours=True),
    Mitigation("R35", "Remove the VPN connections from the ExpressRoute gateway, migrate, re-create them in Azure "
                      "Resource Manager.", ours=True),
    Mitigation("R36", "Re-establish or remove the disconnected gateway connection.", ours=True),
    Mitigation("R37", "Move the ExpressRoute circuit to Azure Resource Manager first and remove cross-subscription "
                      "authorizations (MoveErConnectedVnet.ps1 disconnects, waits 300 s, prepares, commits, "
                      "reconnects).", ours=True),
    Mitigation("R38", "Make the endpoints of each load-balanced set identical (protocol, public port, probe).",
               ours=True),
    Mitigation("R39", "Change the static IP of one of the stopped (deallocated) VMs.", ours=True),
    Mitigation("R40", "Abort, raise the quota (support request), and start again.", ours=True),
    Mitigation("R41", "Remove every ConnectionsToLocalNetwork reference from the network configuration.", ours=True),
    Mitigation("R42", "Migrate (commit) every VM whose disks are in the account, then delete its unattached classic "
                      "disks and OS/VM images (the VHD blobs are kept).", ours=True),
    Mitigation("R50", "This error happens when the \"Prepare\" migration operation has been completed on the "
                      "resource and an operation that would make a change to the resource is triggered. Because of "
                      "the lock on the management plane after \"Prepare\" operation, any changes to the resource are "
                      "blocked. To unlock the management plane, you can run the \"Commit\" migration operation to "
                      "complete migration or the \"Abort\" migration operation to roll back the \"Prepare\" "
                      "operation."),
    Mitigation("R51", "This error occurs because the VM is in Prepare state and therefore locked for any "
                      "update/delete operation. Call Abort using PS/CLI on the VM to roll back the migration and "
                      "unlock the VM for update/delete operations. Calling commit will also unlock the VM but will "
                      "commit the migration to ARM."),
    Mitigation("R52", "Remove the cloud service from the Traffic Manager profile, migrate, then add the migrated "
                      "public IP to a Traffic Manager profile in Azure Resource Manager.", ours=True),
    Mitigation("R53", "Re-create the role assignment on the migrated resource's ARM id.", ours=True),
    Mitigation("R54", "Re-create the alert rules and autoscale settings in Azure Resource Manager after migration.",
               ours=True),
    Mitigation("R55", "Disable the Security Center policy on the subscription 3 hours before migration.", ours=True),
    Mitigation("R56", "Delete the unattached classic disks and OS/VM images (their VHD blobs are kept) before the "
                      "storage account is prepared.", ours=True),
    Mitigation("R57", "Give the location the imported files left out: classic2arm affinity-group set NAME --location "
                      "LOCATION for an affinity group, or import the files again with --location LOCATION.", ours=True),
)}
MITIGATION_UNKNOWN = "No documented mitigation: read the message and correct the resource it names."

# Wave titles, in execution order
WAVE_STANDALONE = "Standalone reserved IPs, NSGs and route tables"
WAVE_DEPLOYMENTS = "Deployments outside a VNet"
WAVE_SIMPLE_VNETS = "VNets with their deployments (no gateway, peering or ExpressRoute)"
WAVE_FLAGGED_VNETS = "VNets with a gateway, peering or ExpressRoute (prerequisites listed)"
WAVE_STORAGE = "Storage accounts (after every VM whose disks they hold)"
WAVE_PRODUCTION = "Production: {title}"

# What must happen before a flagged VNet migrates
PREREQ_PEERED = "remove the peering with {peers}; re-create it in Azure Resource Manager after the commit"
PREREQ_EXPRESS_ROUTE = ("move ExpressRoute circuit {circuit} to Azure Resource Manager first; with cross-subscription "
                        "authorizations, disconnect the circuit, migrate, reconnect (MoveErConnectedVnet.ps1)")
PREREQ_GATEWAY = ("gateway ({gateway}): every connection must be up and no VPN connection may share an ExpressRoute "
                  "gateway; the gateway VIP is kept")
PREREQ_STORAGE_WAITS = "waits for {unit} ({vms} VMs with disks in the account) to commit"
# An NSG or route table after the commit of the units that used it (spec §3: cloned into ARM, the classic copy kept)
CLONED_KEPT = ("cloned into Azure Resource Manager with {units} (committed); the classic copy is kept and now used by "
               "nothing: migrating it on its own (migrate --all again) adds a second {kind} in Azure Resource Manager")
NOTE_LARGE_VNET = ("VNet {vnet} has {vms} VMs: more than 400 VMs in one VNet may hit the 1,200 ARM writes/hour "
                   "limit; expect throttling (429, Retry-After)")
NOTE_PRODUCTION = "production units (marked by {marker}) go last"
NOTE_BLOCKED = "{count} of {units} units are blocked and stay here until their blockers are cleared"
NOTE_MOVES_WITH_USER = ("{count} of them are associated with a VNet or cloud service (R33) and migrate with it: "
                        "nothing to do, and not counted in the wave's time")

# Data-plane impact of one VM
IMPACT_NONE = "none: VNet VMs keep running (management-plane lock only)"
IMPACT_RESTART = "stop, deallocate and start in ARM during prepare (~{minutes:g} min down)"
IMPACT_DYNAMIC_VIP = ("the dynamic VIP {address} ({vip}) of cloud service {hs} changes: reserve it first "
                      "(New-AzureReservedIP -ServiceName {hs}) to keep it")
IMPACT_PRIVATE_IP = "the private IP {address} changes (VMs outside a VNet get a new address in the new VNet)"
IMPACT_INSTANCE_IP = "the instance-level public IP {address} changes (dynamic)"

# The production marker (ours: nothing in the classic model says "production"; ExtendedProperties are its tags)
PRODUCTION_MARKER = ("an ExtendedProperty Environment=Production (or Prod) on the hosted service or storage "
                     "account; a VNet is production when a hosted service in it is")

# The duration model's assumptions, printed with every plan (ours: no public source gives these times)
ASSUMPTIONS = (
    "ARM writes: one per ARM resource a unit's prepare creates (resource group, VNet, NICs, public IPs, load "
    "balancers, NSGs, route tables, availability sets, VMs, storage account); commit and abort add none.",
    "Throttle: {writes_per_hour:,} ARM writes per subscription per hour (request-limits-and-throttling); a wave "
    "takes at least its writes at that rate.",
    "Prepare: {prepare_base:g} min per unit plus {prepare_per_resource:g} s per ARM resource it creates; commit: "
    "{commit_base:g} min per unit plus {commit_per_resource:g} s per resource (our model: no public source gives "
    "these times).",
    "VMs outside a VNet are down {restart_minutes:g} min each during prepare (stop/deallocate, start in ARM).",
    "{parallel} units of a wave run at once (operations on different cloud services are not serialised); the waves "
    "run one after the other.",
    "Lock window: a unit's management plane is locked from the start of its prepare to the end of its commit.",
    "Blocked units are counted as if their blockers were cleared first; the time to clear them is not included "
    "(extension remediation alone can take 1-2 days). Reserved IPs, NSGs and route tables that move with their "
    "VNet or cloud service (R33) are not counted on their own.",
)
# --------------------------------------------------------------------------- what a retry may cure
# The backend's transient failures (R47–R49: "Retry the request") and the refusals of a unit another
# operation is still working on (R46 "…until it completes", R15 "Retry after sometime"): `migrate --all`
# retries these with backoff; any other failure is final.
TRANSIENT_FAILURES: tuple[Text, ...] = (R47_INTERNAL, R47_RETRY, R47_NETWORK_ALLOCATION, R48_TEMPLATE, R49_XRP_VNET,
                                        R49_UNKNOWN)
IN_PROGRESS_REFUSALS: tuple[Text, ...] = (R46_COMMITTING, R46_ABORTING, R46_COMMITTING_UNIT, R46_ABORTING_UNIT,
                                          R46_PREPARING_UNIT, R15_UPDATE_IN_PROGRESS)
_TRANSIENT_CODES = frozenset(t.code for t in TRANSIENT_FAILURES)


def _pattern(t: Text) -> re.Pattern[str]:
    parts = re.split(r"\{[^{}]*\}", t.template)
    return re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL)


_IN_PROGRESS_PATTERNS = tuple(_pattern(t) for t in IN_PROGRESS_REFUSALS)


def is_transient(code: str | None, message: str | None) -> bool:
    """Whether a failed operation's error is one a later retry of the same call may cure."""
    if code in _TRANSIENT_CODES:
        return True
    return bool(message) and any(p.search(message or "") for p in _IN_PROGRESS_PATTERNS)
# --------------------------------------------------------------------------- disk/image and role writes (issue 12)
# Not in the spec; the wording follows the service's error as users quote it.
ASM_DISK_IN_USE = Text(
    "N21", "BadRequest",
    "A disk with name {disk} is currently in use by virtual machine {vm} running within hosted service {hs}, "
    "deployment {dep}.", ours=True)
ASM_DISK_SHRINK = Text(
    "N22", "BadRequest",
    "The disk {disk} is {size} GB: ResizedSizeInGB {resized} must be larger than its current size (a disk can only "
    "grow), and at most {limit} GB.", ours=True)
ASM_NO_SUCH_EXTENSION = Text(
    "N23", "ResourceNotFound", "VM {vm} has no extension named '{ext}'. Its extensions: {known}.", ours=True)
ASM_NO_SUCH_ENDPOINT = Text(
    "N24", "ResourceNotFound", "VM {vm} has no input endpoint named '{endpoint}'. Its endpoints: {known}.", ours=True)


# --------------------------------------------------------------------------- the web console (issue 13)
# Ours: the console's refusals and notes (docs/console.md).
CONSOLE_BAD_KIND = Text("CON1", "InvalidKind", "unknown unit kind '{kind}'; kinds: {kinds}", ours=True)
CONSOLE_BAD_PAGE = Text("CON2", "InvalidPage", "page must be 1 or more", ours=True)
CONSOLE_BAD_PAGE_SIZE = Text("CON2", "InvalidPage", "per_page must be from 1 to {limit}", ours=True)
CONSOLE_BAD_NUMBER = Text("CON2", "InvalidParameter", "{name} must be a whole number, not '{text}'", ours=True)
CONSOLE_NO_NAME = Text("CON3", "InvalidName", "give the unit's name", ours=True)
CONSOLE_DEPLOYMENT_PATH = Text("CON3", "InvalidName", "a deployment is named by its cloud service and its name: "
                                                      "/units/deployment/SERVICE/DEPLOYMENT", ours=True)
CONSOLE_NO_UNIT = Text("CON4", "ResourceNotFound", "{unit} does not exist (the overview lists the units)", ours=True)
CONSOLE_NO_RESOURCE = Text("CON4", "ResourceNotFound", "no resource '{ref}' in subscription {sub}", ours=True)
CONSOLE_BAD_ACTION = Text("CON5", "UnknownAction", "unknown action '{action}'; actions: validate, {actions}", ours=True)
CONSOLE_NOT_CONFIRMED = Text("CON6", "NotConfirmed", "Commit cannot be undone: type yes in the box to confirm it.",
                             ours=True)
CONSOLE_NO_FIX = Text("CON7", "UnknownFix", "choose a fix", ours=True)
CONSOLE_CSRF = Text("CON8", "Refused", "The form's CSRF token is missing or wrong: reload the page and try again.",
                    ours=True)
CONSOLE_FORM_TOO_LARGE = Text("CON9", "RequestBodyTooLarge", "the form is larger than {kib} KiB", ours=True)
CONSOLE_BAD_FORM = Text("CON9", "InvalidForm", "the form could not be read (urlencoded UTF-8 expected)", ours=True)
CONSOLE_BAD_TOKEN = Text("CON10", "InvalidAuthenticationToken", "The token is invalid or has expired.", ours=True)
CONSOLE_TOKEN_GONE = Text("CON10", "InvalidAuthenticationToken",
                          "The token is invalid or has expired: sign in again.", ours=True)
CONSOLE_COMMITTED = Text("CON11", "Committed",
                         "Committed: the classic resources are gone for good; the ARM resources the migration "
                         "created are in {resource_groups} {groups}.", ours=True)
CONSOLE_COMMITTED_NOTHING_LEFT = Text("CON11", "Committed",
                                      "Committed: the classic resources are gone for good, and none of the ARM "
                                      "resources the migration created exists any more.", ours=True)


# --------------------------------------------------------------------------- ARM VM power actions (issue 15)
# Not in the spec; the wording follows the Compute RP's errors as users quote them.
ARM_VM_ACTION_NOT_ALLOWED = Text(
    "N30", "OperationNotAllowed",
    "Operation '{action}' is not allowed on VM '{vm}' since the VM is {state}.", ours=True)
ARM_VM_UNKNOWN_ACTION = Text(
    "N31", "InvalidResourceType",
    "The resource type 'virtualMachines/{action}' could not be found in the namespace 'Microsoft.Compute'; the "
    "VM actions served are: start, powerOff, deallocate, restart, instanceView.", ours=True)


# --- location unknown (R57, ours): an imported estate whose files never say where something is
R57_VNET_LOCATION_UNKNOWN = Text(
    "R57", "LocationUnknown",
    "The location of Virtual Network {vnet} is unknown: its affinity group {ag} has no location in the imported "
    "files. Set it with 'classic2arm affinity-group set {ag} --location LOCATION'.",
    ours=True,
)
R57_SERVICE_LOCATION_UNKNOWN = Text(
    "R57", "LocationUnknown",
    "The location of HostedService {hs} is unknown: the imported files don't give it. Import them again with "
    "'classic2arm import FILE... --location LOCATION'{ag_hint}.",
    ours=True,
)
R57_STORAGE_LOCATION_UNKNOWN = Text(
    "R57", "LocationUnknown",
    "The location of Storage account {account} is unknown: the imported files don't give it. Import them again "
    "with 'classic2arm import FILE... --location LOCATION'{ag_hint}.",
    ours=True,
)
AFFINITY_GROUP_LOCATION_UNKNOWN = Text(
    "AG1", "AffinityGroupLocationUnknown",
    "The location of affinity group '{ag}' is unknown. Set it with 'classic2arm affinity-group set {ag} "
    "--location LOCATION'.",
    ours=True,
)
AG_HINT = ", or set the location of its affinity group with 'classic2arm affinity-group set {ag} --location LOCATION'"


# --- inferred locations (issue 14, ours): a hosted service no file and no --location places, at import and in plan
LOCATION_SET_HINT = "to set the real one, import the files again with 'classic2arm import FILE... --location LOCATION'"
IMPORT_LOCATION_INFERRED = Text(
    "IMP1", "LocationInferred",
    "no file gives the location of {services}: placed in {location}, {why}, and marked inferred "
    "(location_inferred), so {deployments} can be rehearsed (an inferred storage account of {its} disks is placed "
    "there too); " + LOCATION_SET_HINT,
    ours=True,
)
PLAN_LOCATION_INFERRED = Text(
    "IMP1", "LocationInferred",
    "{services} {are} in {location} by an assumption of the import (no file gave the location; marked "
    "location_inferred); " + LOCATION_SET_HINT,
    ours=True,
)
LOCATION_WHY_ONLY = "the one location the rest of the estate uses"
LOCATION_WHY_COMMON = "the location most of the rest of the estate uses ({count} of {total} placed resources)"
LOCATION_WHY_DEFAULT = "the default location (nothing else in the estate gives one)"
IMPORT_LOCATION_STRICT = Text(
    "IMP2", "LocationUnknown",
    "no file gives its location and --strict infers none: import the files again with --location LOCATION",
    ours=True,
)
