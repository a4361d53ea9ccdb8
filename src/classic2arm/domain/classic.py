"""The classic (Azure Service Manager) control plane as typed, immutable-by-convention models.

One model per stored resource. Children that only exist inside their parent in ASM XML (endpoints,
disks attached to a role, subnets of a VNet) are embedded; resources that ASM addresses on their own
(hosted service, deployment, role, VNet site, storage account, disk, image, reserved IP, NSG, route
table, local network site, affinity group, ExpressRoute circuit) are separate models so the store can
index and lock them one by one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .sizes import DEFAULT_CLASSIC


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)


# --------------------------------------------------------------------------- vocabularies


class RoleType(StrEnum):
    PERSISTENT_VM = "PersistentVMRole"
    WEB = "WebRole"
    WORKER = "WorkerRole"


class InstanceStatus(StrEnum):
    """Classic RoleInstance/InstanceStatus values (spec §5.4)."""

    READY = "ReadyRole"
    STOPPED_VM = "StoppedVM"
    STOPPED_DEALLOCATED = "StoppedDeallocated"
    ROLE_STATE_UNKNOWN = "RoleStateUnknown"
    CREATING_VM = "CreatingVM"
    STARTING_VM = "StartingVM"
    CREATING_ROLE = "CreatingRole"
    STARTING_ROLE = "StartingRole"
    BUSY_ROLE = "BusyRole"
    STOPPING_ROLE = "StoppingRole"
    STOPPING_VM = "StoppingVM"
    DELETING_VM = "DeletingVM"
    RESTARTING_ROLE = "RestartingRole"
    CYCLING_ROLE = "CyclingRole"
    FAILED_STARTING_ROLE = "FailedStartingRole"
    FAILED_STARTING_VM = "FailedStartingVM"
    UNRESPONSIVE_ROLE = "UnresponsiveRole"
    PREPARING = "Preparing"
    PROVISIONING = "Provisioning"
    PROVISIONING_TIMEOUT = "ProvisioningTimeout"
    PROVISIONING_FAILED = "ProvisioningFailed"


class PowerState(StrEnum):
    STARTED = "Started"
    STARTING = "Starting"
    STOPPED = "Stopped"
    STOPPING = "Stopping"
    UNKNOWN = "Unknown"


class MigrationState(StrEnum):
    """Values of the classic `MigrationState` element (spec §2.2); absence means not prepared."""

    PREPARING = "Preparing"
    PREPARED = "Prepared"
    COMMITTING = "Committing"
    COMMITTED = "Committed"
    ABORTING = "Aborting"
    ABORTED = "Aborted"
    PREPARE_FAILED = "PrepareFailed"


class DeploymentSlot(StrEnum):
    PRODUCTION = "Production"
    STAGING = "Staging"


class GatewayType(StrEnum):
    NONE = "None"
    STATIC_ROUTING = "StaticRouting"
    DYNAMIC_ROUTING = "DynamicRouting"
    EXPRESS_ROUTE = "ExpressRoute"


# --------------------------------------------------------------------------- subscription level


class Subscription(Model):
    id: str
    name: str = ""
    registered_for_migration: bool = False
    # "existing customer": had classic VMs in February 2020 (spec §8); may still create classic VMs.
    had_classic_vms_feb_2020: bool = True
    allow_listed_for_classic_vms: bool = False
    created: datetime | None = None
    # ARM quotas per region (lower-case ARM location) and resource kind, e.g. {"westus": {"cores": 100}}.
    arm_quotas: dict[str, dict[str, int]] = Field(default_factory=dict)
    co_administrators: list[str] = Field(default_factory=list)


class AffinityGroup(Model):
    name: str
    # None: referenced by imported files that never say where it is (`classic2arm affinity-group set` gives it).
    location: str | None = None
    label: str = ""
    description: str = ""


# --------------------------------------------------------------------------- compute


class LoadBalancerProbe(Model):
    protocol: str = "tcp"
    port: int
    path: str | None = None
    interval_in_seconds: int = 15
    timeout_in_seconds: int = 31


class AclRule(Model):
    order: int
    action: Literal["permit", "deny"] = "permit"
    remote_subnet: str
    description: str = ""


class InputEndpoint(Model):
    name: str
    protocol: str = "tcp"
    port: int
    local_port: int
    load_balanced_endpoint_set_name: str | None = None
    probe: LoadBalancerProbe | None = None
    vip: str | None = None
    virtual_ip_name: str | None = None
    enable_direct_server_return: bool = False
    load_balancer_name: str | None = None  # internal load balancer this endpoint uses
    acl: list[AclRule] = Field(default_factory=list)
    idle_timeout_in_minutes: int | None = None
    load_balancer_distribution: str | None = None


class InstancePublicIP(Model):
    name: str
    idle_timeout_in_minutes: int | None = None
    domain_name_label: str | None = None
    address: str | None = None


class IPConfiguration(Model):
    subnet_name: str
    static_ip: str | None = None


class SecondaryNic(Model):
    name: str
    ip_configurations: list[IPConfiguration] = Field(default_factory=list)
    network_security_group: str | None = None
    ip_forwarding: bool = False
    ip_address: str | None = None  # runtime DIP of the NIC


class ExtensionReference(Model):
    reference_name: str
    publisher: str
    name: str
    version: str
    state: str = "Enable"
    public_config: str | None = None
    private_config_present: bool = False
    # Runtime, from RoleInstance/ResourceExtensionStatusList: None means "status not reported".
    handler_status: str | None = "Ready"

    @property
    def is_xml_extension(self) -> bool:
        """XML extensions are not supported in ARM (spec §3.1 row 4, R19)."""
        n = self.name.lower()
        if n == "bginfo" and self.version.split(".")[0] in {"1", "1*"}:
            return True
        return n in {"visualstudiodebugger", "webdeployforvsdevtest", "webdeploy", "remotedebugging",
                     "remotedebuggingvs2013", "remotedebuggingvs2015", "visualstudioremotedebugger"}

    @property
    def is_backup(self) -> bool:
        return self.name in {"VMSnapshot", "VMSnapshotLinux"}


class OSDisk(Model):
    disk_name: str
    media_link: str
    os: Literal["Windows", "Linux"] = "Windows"
    host_caching: str = "ReadWrite"
    disk_label: str = ""
    source_image_name: str | None = None
    logical_size_gb: int | None = None
    io_type: str = "Standard"


class DataDisk(Model):
    disk_name: str
    media_link: str
    lun: int = 0
    logical_size_gb: int
    host_caching: str = "None"
    disk_label: str = ""
    io_type: str = "Standard"


class BootDiagnostics(Model):
    enabled: bool = False
    storage_uri: str | None = None  # e.g. https://acct.blob.core.windows.net/


class GuestAgentStatus(Model):
    status: Literal["Ready", "NotReady"] = "Ready"
    version: str = "2.7.41491.1010"
    message: str = ""


class Role(Model):
    """A classic role; with role_type PersistentVMRole it is an IaaS VM (Microsoft.ClassicCompute/virtualMachines)."""

    name: str
    service_name: str
    deployment_name: str
    role_type: RoleType = RoleType.PERSISTENT_VM
    size: str | None = DEFAULT_CLASSIC  # web/worker roles carry no RoleSize in Get Deployment
    os_version: str = ""
    input_endpoints: list[InputEndpoint] = Field(default_factory=list)
    subnet_names: list[str] = Field(default_factory=list)
    static_ip: str | None = None
    public_ips: list[InstancePublicIP] = Field(default_factory=list)
    secondary_nics: list[SecondaryNic] = Field(default_factory=list)
    network_security_group: str | None = None
    ip_forwarding: bool = False
    extensions: list[ExtensionReference] = Field(default_factory=list)
    availability_set: str | None = None
    os_disk: OSDisk | None = None
    data_disks: list[DataDisk] = Field(default_factory=list)
    boot_diagnostics: BootDiagnostics | None = None
    provision_guest_agent: bool = True
    license_type: str | None = None
    computer_name: str | None = None
    admin_username: str | None = None
    winrm_listeners: list[dict[str, str]] = Field(default_factory=list)
    # --- runtime (RoleInstance) ---
    instance_count: int = 1
    instance_status: InstanceStatus = InstanceStatus.READY
    power_state: PowerState = PowerState.STARTED
    ip_address: str | None = None
    host_name: str | None = None
    guest_agent: GuestAgentStatus | None = Field(default_factory=GuestAgentStatus)
    instance_fault_domain: int = 0
    instance_upgrade_domain: int = 0
    # --- things migration drops or refuses ---
    has_alerts: bool = False
    has_autoscale: bool = False
    dynamics_managed: bool = False
    provisioned_on_legacy_fabric: bool = False  # R17 "fabric cluster does not exist"

    @property
    def is_vm(self) -> bool:
        return self.role_type is RoleType.PERSISTENT_VM  # (validation stores the member itself)

    @property
    def allocated(self) -> bool:
        return self.instance_status != InstanceStatus.STOPPED_DEALLOCATED


class VirtualIP(Model):
    name: str
    address: str
    is_dns_programmed: bool = True
    is_reserved: bool = False
    reserved_ip_name: str | None = None


class DnsServer(Model):
    name: str
    address: str


class InternalLoadBalancer(Model):
    name: str
    type: str = "Private"
    subnet_name: str | None = None
    static_ip: str | None = None


class Deployment(Model):
    name: str
    service_name: str
    slot: DeploymentSlot = DeploymentSlot.PRODUCTION
    private_id: str = ""
    status: str = "Running"
    label: str = ""
    virtual_network_name: str | None = None
    virtual_ips: list[VirtualIP] = Field(default_factory=list)
    reserved_ip_name: str | None = None
    dns_servers: list[DnsServer] = Field(default_factory=list)
    internal_dns_suffix: str | None = None
    internal_load_balancers: list[InternalLoadBalancer] = Field(default_factory=list)
    regional_scope: bool = True
    upgrade_in_progress: bool = False
    sdk_version: str = ""
    created: datetime | None = None
    last_modified: datetime | None = None
    configuration: str | None = None  # base64 service configuration, kept as given


class Certificate(Model):
    thumbprint: str
    thumbprint_algorithm: str = "sha1"
    data: str = ""  # base64 public part


class HostedService(Model):
    name: str
    location: str | None = None
    affinity_group: str | None = None
    label: str = ""
    description: str = ""
    status: str = "Created"
    created: datetime | None = None
    last_modified: datetime | None = None
    extended_properties: dict[str, str] = Field(default_factory=dict)
    certificates: list[Certificate] = Field(default_factory=list)
    traffic_manager_profiles: list[str] = Field(default_factory=list)  # R52
    # Placed at import by an assumption (no file nor --location gave the location; see estate.infer_location),
    # so that its deployment can be rehearsed; a later import with --location replaces it.
    location_inferred: bool = False


# --------------------------------------------------------------------------- network


class Subnet(Model):
    name: str
    address_prefix: str
    network_security_group: str | None = None
    route_table: str | None = None


class LocalSiteConnection(Model):
    local_network_site: str
    type: str = "IPsec"
    connected: bool = True


class Gateway(Model):
    type: GatewayType = GatewayType.DYNAMIC_ROUTING
    profile: str = "Small"
    vip: str | None = None
    connections: list[LocalSiteConnection] = Field(default_factory=list)
    vpn_client_address_pool: list[str] = Field(default_factory=list)
    express_route_circuit: str | None = None  # service key of a linked circuit


class VirtualNetworkSite(Model):
    name: str
    id: str = ""
    location: str | None = None
    affinity_group: str | None = None
    label: str = ""
    state: str = "Created"
    address_space: list[str] = Field(default_factory=list)
    subnets: list[Subnet] = Field(default_factory=list)
    dns_servers: list[DnsServer] = Field(default_factory=list)
    gateway: Gateway | None = None
    peerings: list[str] = Field(default_factory=list)
    # markers for things living in the VNet that block migration (R08)
    contains_app_service_environment: bool = False
    contains_hdinsight: bool = False
    contains_api_management: bool = False
    contains_batch: bool = False
    contains_application_gateway: bool = False


class LocalNetworkSite(Model):
    name: str
    address_space: list[str] = Field(default_factory=list)
    vpn_gateway_address: str | None = None


class ReservedIP(Model):
    name: str
    address: str
    id: str = ""
    label: str = ""
    state: str = "Created"
    location: str
    service_name: str | None = None
    deployment_name: str | None = None
    virtual_ip_name: str | None = None

    @property
    def in_use(self) -> bool:
        return self.service_name is not None


class NsgRule(Model):
    name: str
    type: Literal["Inbound", "Outbound"] = "Inbound"
    priority: int
    action: Literal["Allow", "Deny"] = "Allow"
    source_address_prefix: str = "*"
    source_port_range: str = "*"
    destination_address_prefix: str = "*"
    destination_port_range: str = "*"
    protocol: str = "*"
    state: str = "Active"
    is_default: bool = False


class NetworkSecurityGroup(Model):
    name: str
    label: str = ""
    location: str
    rules: list[NsgRule] = Field(default_factory=list)


class Route(Model):
    name: str
    address_prefix: str
    next_hop_type: str
    next_hop_ip_address: str | None = None


class RouteTable(Model):
    name: str
    label: str = ""
    location: str
    routes: list[Route] = Field(default_factory=list)


class ExpressRouteCircuit(Model):
    service_key: str
    name: str
    location: str
    in_arm: bool = False  # circuits must be moved to ARM before a linked VNet migrates (R37)
    cross_subscription_authorizations: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- storage


class Blob(Model):
    size_bytes: int
    lease: Literal["available", "leased"] = "available"


class StorageAccount(Model):
    name: str
    location: str | None = None
    affinity_group: str | None = None
    account_type: str = "Standard_LRS"
    label: str = ""
    description: str = ""
    status: str = "Created"
    created: datetime | None = None
    primary_key: str = ""
    secondary_key: str = ""
    extended_properties: dict[str, str] = Field(default_factory=dict)
    # "container/blob" -> blob; enough to hold VHDs with their real sizes.
    blobs: dict[str, Blob] = Field(default_factory=dict)
    # Made up at import from the disks that live in it (no imported file described it), so that their
    # deployment can be rehearsed; its blobs are sized from those disks.
    inferred: bool = False

    @property
    def is_premium(self) -> bool:
        return self.account_type.lower().startswith("premium")

    def endpoints(self) -> list[str]:
        return [f"https://{self.name}.{svc}.core.windows.net/" for svc in ("blob", "queue", "table", "file")]


class Disk(Model):
    name: str
    media_link: str
    os: Literal["Windows", "Linux"] | None = None
    location: str | None = None
    logical_size_gb: int = 0
    label: str = ""
    source_image_name: str | None = None
    # attachment (None when unattached)
    hosted_service_name: str | None = None
    deployment_name: str | None = None
    role_name: str | None = None

    @property
    def attached(self) -> bool:
        return self.role_name is not None


class OSImage(Model):
    name: str
    os: Literal["Windows", "Linux"] = "Linux"
    media_link: str | None = None
    location: str | None = None
    label: str = ""
    category: str = "User"  # platform images have no media link in the user's accounts


class VMImage(Model):
    name: str
    os: Literal["Windows", "Linux"] = "Linux"
    location: str | None = None
    media_links: list[str] = Field(default_factory=list)
    label: str = ""
    category: str = "User"


class RoleAssignment(Model):
    """An RBAC assignment scoped to a classic resource (R53)."""

    name: str
    scope: str  # ASM-style key of the classic resource
    principal: str
    role: str
