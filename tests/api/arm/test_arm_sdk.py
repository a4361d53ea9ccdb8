# The SDK models type every field Optional; the asserts here check presence at run time.
# mypy: disable-error-code="union-attr,arg-type,index"
"""Real-client conformance: the published azure-mgmt-* clients (azure-core pipelines, typed models, LRO
pollers, pagers) against a real server over a generated estate with a VNet unit, a non-VNet deployment
unit and a storage account prepared.

Over HTTPS (one server for the module, a throwaway test CA passed as `connection_verify`), so the clients run
with their own stock `BearerTokenCredentialPolicy` (ARMChallengeAuthenticationPolicy) — no test policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from arm_env import STORAGE, SUB, Env
from arm_sdk import client_kwargs, make
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError
from azure.core.pipeline.policies import BearerTokenCredentialPolicy
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute.models import VirtualMachineUpdate
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import (
    AddressSpace,
    PublicIPAddress,
    PublicIPAddressDnsSettings,
    PublicIPAddressPropertiesFormat,
    Subnet,
    SubnetPropertiesFormat,
    VirtualNetwork,
    VirtualNetworkPropertiesFormat,
)
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions
from azure.mgmt.storage import StorageManagementClient

from classic2arm.domain import arm as armt
from classic2arm.domain import identity as ids
from classic2arm.domain.state_machine import Op
from classic2arm.service import migration
from classic2arm.service.context import AppContext


@pytest.fixture(scope="module")
def tls() -> bool:
    """This module runs over HTTPS (overrides conftest's HTTP default)."""
    return True


def arm_rows(env: Env, rtype: str) -> list[dict[str, Any]]:
    with env.ctx.store.read() as tx:
        return [r.doc for r in tx.resources.query(SUB, model=ids.ARM, types=[rtype])]


def rg_of(resource_id: str) -> str:
    return resource_id.split("/")[4]


def compute(env: Env) -> ComputeManagementClient:
    return make(ComputeManagementClient, env, SUB)


def network(env: Env) -> NetworkManagementClient:
    return make(NetworkManagementClient, env, SUB)


def assert_refused(call: Callable[[], Any]) -> None:
    with pytest.raises(HttpResponseError) as err:
        call()
    assert err.value.status_code == 409
    assert err.value.error is not None and err.value.error.code == "OperationNotAllowed"
    assert "migration is in progress" in str(err.value.error.message)


def test_resource_groups_list_get_and_exist(arm: Env) -> None:
    client = make(ResourceManagementClient, arm, SUB)
    groups = {g.name: g for g in client.resource_groups.list()}
    migrated = {rg_of(r["id"]) for r in arm_rows(arm, armt.RESOURCE_GROUP) + arm_rows(arm, armt.VM)}
    assert migrated and migrated <= set(groups)
    assert "Default-Networking" in groups  # classic resources' default group, as ARM shows it
    for name in migrated:
        got = client.resource_groups.get(name)
        assert got.name == name and got.location and got.properties.provisioning_state == "Succeeded"
        assert client.resource_groups.check_existence(name.upper()) is True  # case-insensitive
    assert client.resource_groups.check_existence("no-such-group") is False
    with pytest.raises(ResourceNotFoundError):
        client.resource_groups.get("no-such-group")


def test_virtual_machines_typed(arm: Env) -> None:
    client = compute(arm)
    expected = {r["id"].lower(): r for r in arm_rows(arm, armt.VM)}
    listed = list(client.virtual_machines.list_all())
    assert {v.id.lower() for v in listed} == set(expected) and len(listed) >= 2
    for vm in listed:
        assert vm.hardware_profile is not None and vm.hardware_profile.vm_size
        assert vm.hardware_profile.vm_size == expected[vm.id.lower()]["properties"]["hardwareProfile"]["vmSize"]
        assert vm.provisioning_state == "Succeeded" and vm.location
        assert vm.network_profile is not None and vm.network_profile.network_interfaces
        assert vm.storage_profile is not None and vm.storage_profile.os_disk is not None
        assert vm.storage_profile.os_disk.vhd is not None and vm.storage_profile.os_disk.vhd.uri
    one = listed[0]
    got = client.virtual_machines.get(rg_of(one.id), one.name)
    assert got.id == one.id and got.hardware_profile.vm_size == one.hardware_profile.vm_size
    in_rg = list(client.virtual_machines.list(rg_of(one.id)))
    assert one.id in {v.id for v in in_rg}
    with_ext = {r["id"].rsplit("/extensions/", 1)[0] for r in arm_rows(arm, armt.VM_EXTENSION)}
    vm_id = sorted(with_ext)[0]
    exts = client.virtual_machine_extensions.list(rg_of(vm_id), vm_id.rsplit("/", 1)[1])
    assert exts.value and all(e.publisher and e.type_handler_version for e in exts.value)
    sets = list(client.availability_sets.list(rg_of(arm_rows(arm, armt.AVAILABILITY_SET)[0]["id"])))
    assert sets and all(s.platform_fault_domain_count for s in sets)


def test_network_resources_typed(arm: Env) -> None:
    client = network(arm)
    nics = list(client.network_interfaces.list_all())
    assert len(nics) == len(arm_rows(arm, armt.NIC)) > 0
    assert all(n.ip_configurations and n.ip_configurations[0].private_ip_address for n in nics)
    nic = client.network_interfaces.get(rg_of(nics[0].id), nics[0].name)
    assert nic.ip_configurations[0].private_ip_address == nics[0].ip_configurations[0].private_ip_address

    lbs = [client.load_balancers.get(rg_of(r["id"]), r["name"]) for r in arm_rows(arm, armt.LOAD_BALANCER)]
    assert lbs and any(lb.load_balancing_rules for lb in lbs)
    assert any(lb.probes for lb in lbs) and any(lb.inbound_nat_rules for lb in lbs)
    for lb in lbs:
        assert lb.frontend_ip_configurations
        for rule in lb.load_balancing_rules or []:
            assert rule.frontend_port and rule.backend_port and rule.protocol
    lb = next(lb for lb in lbs if lb.load_balancing_rules)
    rules = list(client.load_balancer_load_balancing_rules.list(rg_of(lb.id), lb.name))
    assert {r.name for r in rules} == {r.name for r in lb.load_balancing_rules or []}

    pips = list(client.public_ip_addresses.list_all())
    assert pips and all(p.ip_address for p in pips)
    labelled = [p for p in pips if p.dns_settings and p.dns_settings.domain_name_label]
    assert labelled and all(p.dns_settings.fqdn for p in labelled)

    vnets = list(client.virtual_networks.list_all())
    assert vnets and all(v.subnets and v.subnets[0].address_prefix for v in vnets)
    vnet = vnets[0]
    subnets = list(client.subnets.list(rg_of(vnet.id), vnet.name))
    assert {s.name for s in subnets} == {s.name for s in vnet.subnets or []}
    sn = client.subnets.get(rg_of(vnet.id), vnet.name, subnets[0].name)
    assert sn.address_prefix == subnets[0].address_prefix

    nsgs = list(client.network_security_groups.list_all())
    assert nsgs
    nsg = next(n for n in nsgs if n.security_rules)
    rules_ = list(client.security_rules.list(rg_of(nsg.id), nsg.name))
    assert rules_ and all(r.priority and r.access and r.direction for r in rules_)


def test_storage_account_typed(arm: Env) -> None:
    client = make(StorageManagementClient, arm, SUB)
    accounts = {a.name: a for a in client.storage_accounts.list()}
    assert STORAGE in accounts
    acct = accounts[STORAGE]
    assert acct.sku is not None and acct.sku.name and acct.kind and acct.location
    got = client.storage_accounts.get_properties(rg_of(acct.id), STORAGE)
    assert got.id == acct.id and got.primary_endpoints is not None and got.primary_endpoints.blob


def test_writes_on_prepared_resources_refused(arm: Env) -> None:
    c, n = compute(arm), network(arm)
    vm_doc = arm_rows(arm, armt.VM)[0]
    vm = c.virtual_machines.get(rg_of(vm_doc["id"]), vm_doc["name"])
    vm.tags = {"touched": "yes"}
    assert_refused(lambda: c.virtual_machines.begin_create_or_update(rg_of(vm.id), vm.name, vm).result())
    assert_refused(lambda: c.virtual_machines.begin_delete(rg_of(vm.id), vm.name).result())
    nic_doc = arm_rows(arm, armt.NIC)[0]
    nic = n.network_interfaces.get(rg_of(nic_doc["id"]), nic_doc["name"])
    assert_refused(lambda: n.network_interfaces.begin_create_or_update(rg_of(nic.id), nic.name, nic).result())
    rg = make(ResourceManagementClient, arm, SUB)
    assert_refused(lambda: rg.resource_groups.begin_delete(rg_of(vm.id)).result())
    after = c.virtual_machines.get(rg_of(vm.id), vm.name)
    assert not after.tags


def test_classic_resources_read_only(arm: Env) -> None:
    client = make(ResourceManagementClient, arm, SUB)
    classic = list(client.resources.list(filter="resourceType eq 'Microsoft.ClassicCompute/virtualMachines'"))
    assert classic and all(r.type == ids.T_VM for r in classic)
    one = client.resources.get_by_id(classic[0].id, api_version="2017-04-01")
    assert one.properties["hardwareProfile"]["size"]
    with pytest.raises(HttpResponseError) as err:
        client.resources.begin_create_or_update_by_id(classic[0].id, {"location": one.location, "properties": {}},
                                                      api_version="2017-04-01").result()
    assert err.value.status_code == 409 and err.value.error.code == "OperationNotAllowed"


def test_resources_list_pages_with_next_link(arm: Env) -> None:
    client = make(ResourceManagementClient, arm, SUB)
    everything = list(client.resources.list())
    paged = list(client.resources.list(top=7))
    assert len(everything) > 7 and [r.id for r in paged] == [r.id for r in everything]
    pages = list(client.resources.list(top=7).by_page())
    assert len(pages) == -(-len(everything) // 7)


def test_provider_registration_gates_migration(arm: Env) -> None:
    client = make(ResourceManagementClient, arm, SUB)
    ns = "Microsoft.ClassicInfrastructureMigrate"
    assert client.providers.unregister(ns).registration_state == "NotRegistered"
    assert client.providers.get(ns.lower()).registration_state == "NotRegistered"
    scoped = AppContext(arm.ctx.store, SUB)
    with pytest.raises(Exception, match="not registered for migration"):
        migration.validate(scoped, arm.vnet)
    registered = client.providers.register(ns)
    assert registered.registration_state == "Registered" and registered.resource_types
    assert migration.validate(scoped, arm.vnet).messages
    names = {p.namespace for p in client.providers.list()}
    assert {ns, "Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage", "Microsoft.ClassicCompute"} <= names


def test_resource_graph_returns_classic_vms(arm: Env) -> None:
    client = make(ResourceGraphClient, arm)
    query = 'resources | where type == "microsoft.classiccompute/virtualmachines"'
    result = client.resources(QueryRequest(subscriptions=[SUB], query=query))
    with arm.ctx.store.read() as tx:
        expected = {r.name for r in tx.resources.query(SUB, types=[ids.T_VM])}
    assert result.total_records == result.count == len(expected) > 0
    assert {row["name"] for row in result.data} == expected
    row = result.data[0]
    assert row["type"] == "microsoft.classiccompute/virtualmachines" and row["subscriptionId"] == SUB
    assert row["properties"]["hardwareProfile"]["size"] and row["resourceGroup"] and row["location"]
    paged = client.resources(QueryRequest(subscriptions=[SUB], query=query + " | order by name asc",
                                          options=QueryRequestOptions(top=5)))
    assert paged.count == 5 and paged.skip_token and paged.result_truncated == "false"
    second = client.resources(QueryRequest(subscriptions=[SUB], query=query + " | order by name asc",
                                           options=QueryRequestOptions(top=5, skip_token=paged.skip_token)))
    assert [r["name"] for r in second.data] == sorted(expected)[5:10]


def test_after_commit_update_and_delete_work(arm: Env) -> None:
    """Runs last in this module: commits the deployment unit, whose resources then become writable."""
    scoped = AppContext(arm.ctx.store, SUB)
    assert migration.execute(scoped, Op.COMMIT, arm.deployment).status == "Succeeded"
    rg = f"{arm.deployment.name}-Migrated"
    c = compute(arm)
    vms = list(c.virtual_machines.list(rg))
    assert vms
    vm = vms[0]
    vm.tags = {"owner": "after-commit"}
    updated = c.virtual_machines.begin_create_or_update(rg, vm.name, vm).result()
    assert updated.tags == {"owner": "after-commit"} and updated.hardware_profile.vm_size == vm.hardware_profile.vm_size
    patched = c.virtual_machines.begin_update(rg, vm.name, VirtualMachineUpdate(tags={"owner": "patched"})).result()
    assert patched.tags == {"owner": "patched"}
    c.virtual_machines.begin_delete(rg, vm.name).result()
    with pytest.raises(ResourceNotFoundError):
        c.virtual_machines.get(rg, vm.name)
    n = network(arm)
    nic = next(iter(n.network_interfaces.list(rg)))
    n.network_interfaces.begin_delete(rg, nic.name).result()
    assert nic.name not in {x.name for x in n.network_interfaces.list(rg)}
    # a new resource in the committed group: created through the poller, then listed
    pip = n.public_ip_addresses.begin_create_or_update(rg, "new-pip", PublicIPAddress(
        location="westus", properties=PublicIPAddressPropertiesFormat(
            public_ip_allocation_method="Static", dns_settings=PublicIPAddressDnsSettings(domain_name_label="newpip"))
    )).result()
    assert pip.provisioning_state == "Succeeded" and pip.dns_settings.domain_name_label == "newpip"


def test_resource_group_lifecycle(arm: Env) -> None:
    client = make(ResourceManagementClient, arm, SUB)
    created = client.resource_groups.create_or_update("sdk-rg", {"location": "West Europe", "tags": {"a": "1"}})
    assert created.location == "westeurope" and created.tags == {"a": "1"}
    n = network(arm)
    vnet = n.virtual_networks.begin_create_or_update("sdk-rg", "vnet1", VirtualNetwork(
        location="westeurope", properties=VirtualNetworkPropertiesFormat(
            address_space=AddressSpace(address_prefixes=["10.9.0.0/16"]),
            subnets=[Subnet(name="a", properties=SubnetPropertiesFormat(address_prefix="10.9.1.0/24"))]))).result()
    assert [s.name for s in vnet.subnets or []] == ["a"]
    new_subnet = Subnet(properties=SubnetPropertiesFormat(address_prefix="10.9.2.0/24"))
    sn = n.subnets.begin_create_or_update("sdk-rg", "vnet1", "b", new_subnet).result()
    assert sn.address_prefix == "10.9.2.0/24"
    assert {s.name for s in n.virtual_networks.get("sdk-rg", "vnet1").subnets or []} == {"a", "b"}
    n.subnets.begin_delete("sdk-rg", "vnet1", "a").result()
    assert [s.name for s in n.subnets.list("sdk-rg", "vnet1")] == ["b"]
    patched = client.resource_groups.update("sdk-rg", {"tags": {"b": "2"}})
    assert patched.tags == {"b": "2"}
    client.resource_groups.begin_delete("sdk-rg").result()
    assert client.resource_groups.check_existence("sdk-rg") is False
    with pytest.raises(ResourceNotFoundError):
        n.virtual_networks.get("sdk-rg", "vnet1")


def test_https_with_stock_bearer_policy(arm: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The clients above talk HTTPS, trusting the test CA, with the SDK's own bearer policy; without the CA
    (system trust only) the handshake fails."""
    assert arm.url.startswith("https://") and arm.ca_path is not None
    kwargs = client_kwargs(arm)
    assert kwargs["connection_verify"] == str(arm.ca_path) and "authentication_policy" not in kwargs
    client = make(ResourceManagementClient, arm, SUB)
    policies = client._client._pipeline._impl_policies  # the pipeline azure-core built
    assert any(isinstance(p, BearerTokenCredentialPolicy) for p in policies)
    assert any(g.name == "Default-Networking" for g in client.resource_groups.list())
    vms = list(compute(arm).virtual_machines.list_all())
    assert vms and all(v.hardware_profile and v.hardware_profile.vm_size for v in vms)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    untrusting = ResourceManagementClient(kwargs["credential"], SUB, base_url=arm.url, retry_total=0)
    with pytest.raises(ServiceRequestError):
        next(iter(untrusting.resource_groups.list()))
