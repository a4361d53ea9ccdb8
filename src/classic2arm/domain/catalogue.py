"""The one catalogue of message texts: validation messages and errors, with their rule ids.

Texts are exactly as the spec gives them (typos, double spaces and unbalanced braces included);
where the spec marks a gap the text is ours and the entry says so (`ours=True`).
"""

from __future__ import annotations

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
