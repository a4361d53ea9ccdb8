"""What the ASM serializers render: domain objects plus the store's per-row migration state."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...domain import classic as c

MANAGEMENT_URL = "https://management.core.windows.net"


@dataclass(frozen=True, slots=True)
class RoleView:
    role: c.Role
    migration_state: str | None = None


@dataclass(slots=True)
class DeploymentView:
    deployment: c.Deployment
    roles: list[RoleView] = field(default_factory=list)


@dataclass(slots=True)
class ServiceView:
    subscription_id: str
    service: c.HostedService
    deployments: list[DeploymentView] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{MANAGEMENT_URL}/{self.subscription_id}/services/hostedservices/{self.service.name}"


@dataclass(frozen=True, slots=True)
class VNetView:
    vnet: c.VirtualNetworkSite
    local_sites: dict[str, c.LocalNetworkSite]  # by lower name
    in_use: bool
    migration_state: str | None = None


@dataclass(frozen=True, slots=True)
class StorageView:
    subscription_id: str
    account: c.StorageAccount
    migration_state: str | None = None

    @property
    def url(self) -> str:
        return f"{MANAGEMENT_URL}/{self.subscription_id}/services/storageservices/{self.account.name}"
