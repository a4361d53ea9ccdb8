"""The read side: finding a resource by name, the one ARM listing and get, and the classic reads' decisions."""

from __future__ import annotations

import re

import pytest

from classic2arm.domain import arm as armt
from classic2arm.domain import identity as ids
from classic2arm.service import arm_api, arm_reads, classic_reads, resources
from classic2arm.service.context import AppContext
from classic2arm.service.errors import NotFound, ServiceError

SUB = "11111111-2222-3333-4444-555555555555"
WEB1 = f"/{SUB}/services/hostedservices/shop/deployments/shop/roles/web1"


def test_show_finds_a_resource_by_plain_name_in_any_case(sample_ctx: AppContext) -> None:
    by_path = resources.show(sample_ctx, WEB1)
    assert resources.show(sample_ctx, "web1") == by_path
    assert resources.show(sample_ctx, " WEB1 ") == by_path
    assert resources.show(sample_ctx, "orphan-disk")["type"] == ids.T_DISK


def test_show_of_a_shared_name_lists_every_match(sample_ctx: AppContext) -> None:
    # the hosted service "shop" holds the deployment "shop"
    with pytest.raises(ServiceError) as err:
        resources.show(sample_ctx, "Shop")
    assert err.value.code == "AmbiguousResourceName" and err.value.http_status == 400
    assert "2 resources are named 'Shop'" in err.value.message
    assert f"/{SUB}/services/hostedservices/shop\n" in err.value.message + "\n"
    assert f"/{SUB}/services/hostedservices/shop/deployments/shop" in err.value.message
    # either is shown by its path
    assert resources.show(sample_ctx, f"/{SUB}/services/hostedservices/shop")["type"] == ids.T_HOSTED_SERVICE


def test_show_of_an_unknown_or_empty_name_is_refused(sample_ctx: AppContext) -> None:
    with pytest.raises(NotFound, match="no resource 'nope'"):
        resources.show(sample_ctx, "nope")
    with pytest.raises(ServiceError) as err:
        resources.show(sample_ctx, "  ")
    assert err.value.http_status == 400


def _arm_vnet(ctx: AppContext) -> str:
    arm_api.put_group(ctx, SUB, "net-rg", {"location": "westus"})
    addr = arm_reads.ResourceAddress(SUB, "net-rg", "Microsoft.Network", ("virtualNetworks",), ("vnet1",))
    arm_api.put_resource(ctx, addr, {"location": "westus", "properties": {
        "addressSpace": {"addressPrefixes": ["10.9.0.0/16"]},
        "subnets": [{"name": "a", "properties": {"addressPrefix": "10.9.1.0/24"}},
                    {"name": "b", "properties": {"addressPrefix": "10.9.2.0/24"}}]}})
    return addr.resource_id()


def test_one_listing_with_classic_views_filtered_one_way(sample_ctx: AppContext) -> None:
    vnet_id = _arm_vnet(sample_ctx)
    listed = arm_reads.list_resources(sample_ctx).items  # the CLI's `arm list`
    paged = arm_reads.list_page(sample_ctx, SUB, top="3")  # the ARM API's, one page at a time
    pages = paged.items
    while paged.next_token:
        paged = arm_reads.list_page(sample_ctx, SUB, top="3", skiptoken=paged.next_token)
        pages += paged.items
    assert pages == listed
    types = {i["type"] for i in listed}
    # resource groups and subnets have calls of their own; disks, images, local sites have no ARM view
    assert armt.RESOURCE_GROUP not in types and armt.SUBNET not in types
    assert not any(t.lower() in (ids.T_DISK.lower(), ids.T_LOCAL_SITE.lower()) for t in types)
    assert {ids.T_VM, ids.T_VNET, ids.T_STORAGE, armt.VNET} <= types
    assert [i["id"] for i in listed if i["type"] == armt.VNET] == [vnet_id]
    arm_only = arm_reads.list_resources(sample_ctx, classic=False).items
    assert [i["id"] for i in arm_only] == [vnet_id]
    in_group = arm_reads.list_resources(sample_ctx, resource_group="DEFAULT-NETWORKING").items
    assert in_group and all(i["id"].split("/")[4] == "Default-Networking" for i in in_group)
    vms = arm_reads.list_resources(sample_ctx, types=["microsoft.classiccompute/VIRTUALMACHINES"]).items
    assert sorted(i["name"] for i in vms) == ["db1", "jump", "web1", "web2"]


def test_arm_show_is_the_api_get(sample_ctx: AppContext) -> None:
    vnet_id = _arm_vnet(sample_ctx)
    target = arm_reads.parse_id(vnet_id + "/subnets/b")
    assert isinstance(target, arm_reads.ResourceAddress)
    assert arm_reads.show(sample_ctx, vnet_id + "/subnets/b") == arm_reads.get_resource(sample_ctx, target)
    assert arm_reads.show(sample_ctx, vnet_id)["properties"]["addressSpace"]["addressPrefixes"] == ["10.9.0.0/16"]
    classic = resources.show(sample_ctx, WEB1)["armId"]
    assert arm_reads.show(sample_ctx, classic)["type"] == ids.T_VM
    assert arm_reads.show(sample_ctx, f"/subscriptions/{SUB}/resourceGroups/Default-Networking")["type"] == \
        armt.RESOURCE_GROUP
    with pytest.raises(NotFound, match="virtualNetworks/subnets/vnet1/zz"):
        arm_reads.show(sample_ctx, vnet_id + "/subnets/zz")
    with pytest.raises(ServiceError) as err:
        arm_reads.show(sample_ctx, WEB1)
    assert err.value.code == "InvalidResourceId" and err.value.http_status == 400


def test_classic_subscription_limits_and_usage(sample_ctx: AppContext) -> None:
    facts = classic_reads.subscription(sample_ctx, SUB)
    # web1, web2 (Medium, 2 cores each) and db1 (Large, 4) run; jump is deallocated
    assert (facts.cores, facts.max_cores) == (8, 20)
    assert (facts.hosted_services, facts.storage_accounts, facts.vnets) == (2, 1, 1)
    assert (facts.max_hosted_services, facts.max_storage_accounts, facts.max_vnets) == (100, 100, 100)


def test_storage_name_availability(sample_ctx: AppContext) -> None:
    assert classic_reads.storage_name_availability(sample_ctx, "freename1") == \
        classic_reads.NameAvailability(True, None)
    taken = classic_reads.storage_name_availability(sample_ctx, "contosovhds")
    assert taken == classic_reads.NameAvailability(False, "The storage account name is already taken.")
    for bad in ("ab", "Upper1", "a" * 25, "dash-es"):
        assert not classic_reads.storage_name_availability(sample_ctx, bad).available


def test_classic_reads_answer_asm_404_texts(sample_ctx: AppContext) -> None:
    with pytest.raises(NotFound, match=re.escape("The hosted service 'nope' does not exist.")):
        classic_reads.hosted_service(sample_ctx, SUB, "nope")
    no_staging = "No deployments were found in the staging slot of hosted service 'shop'."
    with pytest.raises(NotFound, match=re.escape(no_staging)):
        classic_reads.deployment_in_slot(sample_ctx, SUB, "shop", "staging")
    rv, dep = classic_reads.role(sample_ctx, SUB, "shop", "shop", "web1")
    assert rv.role.name == "web1" and dep.name == "shop"
    assert classic_reads.data_disk(sample_ctx, SUB, "shop", "shop", "db1", " 0 ").lun == 0
    embedded = classic_reads.hosted_service(sample_ctx, SUB, "shop", embed=True)
    assert [len(d.roles) for d in embedded.deployments] == [3]
    vnets = classic_reads.vnet_sites(sample_ctx, SUB)
    assert [(v.vnet.name, v.in_use, sorted(v.local_sites)) for v in vnets] == [("contoso-vnet", True, ["onprem"])]
