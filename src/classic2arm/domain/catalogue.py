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

    def render(self, **values: Any) -> tuple[str, str]:
        """(code, message) with the placeholders filled in."""
        return self.code, self.template.format(**values)

    def text(self, **values: Any) -> str:
        return self.template.format(**values)


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
