"""Importing estates into the store, exporting them back, and refusing inconsistent input."""

from __future__ import annotations

from pathlib import Path

import pytest

from classic2arm.domain import classic as c
from classic2arm.domain import identity as ids
from classic2arm.domain.estate import Estate
from classic2arm.importers import estate_doc
from classic2arm.importers.errors import InputError
from classic2arm.service import arm_reads, clock, inventory, resources, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.errors import BadInput
from classic2arm.service.estate import export_estate, import_estate

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-estate.yaml"

SUB = "11111111-2222-3333-4444-555555555555"


def _snapshot(ctx: AppContext) -> list[tuple[str, str, str, object]]:
    with ctx.store.read() as tx:
        return [(r.id, r.type, r.location or "", r.doc) for r in tx.resources.query()]


def test_sample_import_counts_and_locations(sample_ctx: AppContext) -> None:
    with sample_ctx.store.read() as tx:
        vms = tx.resources.query(SUB, types=[ids.T_VM])
        assert sorted(r.name for r in vms) == ["db1", "jump", "web1", "web2"]
        vnet = tx.resources.query(SUB, types=[ids.T_VNET])[0]
        # location came from the affinity group
        assert vnet.doc["location"] == "West US" and vnet.location == "westus"
        assert vnet.arm_id == f"/subscriptions/{SUB}/resourceGroups/Default-Networking/providers/" \
                              "Microsoft.ClassicNetwork/virtualNetworks/contoso-vnet".lower()
        web1 = tx.resources.get(ids.role_id(SUB, "shop", "shop", "web1"))
        assert web1 is not None and web1.parent_key == ids.deployment_id(SUB, "shop", "shop").lower()


def test_inventory_lists_classic_vms_like_resource_graph(sample_ctx: AppContext) -> None:
    items = {i.name: i for i in inventory.inventory(sample_ctx)}
    assert set(items) == {"web1", "web2", "db1", "jump"}
    assert items["web1"].type == "microsoft.classiccompute/virtualmachines"
    assert items["web1"].virtualNetwork == "contoso-vnet" and items["web1"].cloudService == "shop"
    assert items["jump"].virtualNetwork is None and items["jump"].powerState == "StoppedDeallocated"
    assert items["db1"].powerState == "Started" and items["db1"].location == "westus"
    storage = inventory.inventory(sample_ctx, "Microsoft.ClassicStorage/storageAccounts")
    assert [s.name for s in storage] == ["contosovhds"]
    assert len(inventory.inventory(sample_ctx, "all")) > 10


def test_show_and_arm_views(sample_ctx: AppContext) -> None:
    shown = resources.show(sample_ctx, f"/{SUB}/services/hostedservices/shop/deployments/shop/roles/web1")
    assert shown["type"] == ids.T_VM and shown["properties"]["size"] == "Medium"
    arm_id = shown["armId"]
    view = arm_reads.show(sample_ctx, arm_id)
    assert view["type"] == "Microsoft.ClassicCompute/virtualMachines"
    assert view["properties"]["hardwareProfile"]["size"] == "Medium"
    assert view["properties"]["networkProfile"]["virtualNetwork"]["name"] == "contoso-vnet"
    listed = arm_reads.list_resources(sample_ctx, types=["Microsoft.ClassicCompute/virtualMachines"]).items
    assert {x["name"] for x in listed} == {"web1", "web2", "db1", "jump"}
    # ASM path without the subscription prefix works too
    assert resources.show(sample_ctx, "/services/storageservices/contosovhds")["name"] == "contosovhds"


def test_round_trip_export_import_gives_same_resources(sample_ctx: AppContext, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = estate_doc.dumps(export_estate(sample_ctx), "yaml")
    other = AppContext.open(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        world_clock.set_clock(other, clock.fixed(clock.parse_when("2023-06-01")))  # same "as of" date
        import_estate(other, estate_doc.load(data, "export.yaml"))
        assert _snapshot(other) == _snapshot(sample_ctx)
        # and a JSON export reads back the same way
        again = estate_doc.load(estate_doc.dumps(export_estate(other), "json"), "export.json")
        assert again.counts() == export_estate(sample_ctx).counts()
    finally:
        other.close()


def test_reimport_is_idempotent(sample_ctx: AppContext) -> None:
    before = [(i, t, loc, d) for i, t, loc, d in _snapshot(sample_ctx)]
    report = import_estate(sample_ctx, estate_doc.load(SAMPLE.read_bytes(), "again"))
    assert report.created == 0 and report.updated == len(before)
    assert _snapshot(sample_ctx) == before


def _vnet(**kw: object) -> Estate:
    return Estate(virtual_networks=[c.VirtualNetworkSite(name="v", address_space=["10.0.0.0/16"], **kw)])


@pytest.mark.parametrize(
    ("estate", "needle"),
    [
        (_vnet(location="Narnia"), "unknown location 'Narnia'"),
        (_vnet(), "neither a location nor an affinity group"),
        (Estate(hosted_services=[c.HostedService(name="h", location="Atlantis")]), "unknown location 'Atlantis'"),
    ],
)
def test_inconsistent_input_is_refused_and_nothing_written(sample_ctx: AppContext, estate: Estate,
                                                           needle: str) -> None:
    before = _snapshot(sample_ctx)
    with sample_ctx.store.read() as tx:
        events_before = tx.events.count()
    bad = Estate(storage_accounts=[c.StorageAccount(name="wouldbewritten", location="West US")])
    bad.merge(estate)
    with pytest.raises(BadInput) as err:
        import_estate(sample_ctx, bad, source="bad.yaml")
    assert needle in str(err.value) and str(err.value).startswith("bad.yaml: ")
    assert _snapshot(sample_ctx) == before
    with sample_ctx.store.read() as tx:
        assert tx.events.count() == events_before


def test_affinity_group_given_on_the_side(ctx: AppContext) -> None:
    import_estate(ctx, _vnet(affinity_group="WestUsAffinityGroup"), affinity_groups={"WestUsAffinityGroup": "westus"})
    with ctx.store.read() as tx:
        assert tx.resources.query(types=[ids.T_VNET])[0].doc["location"] == "West US"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (b"classic2arm: estate/v9\n", "classic2arm"),
        (b"classic2arm: estate/v1\nbogus: []\n", "bogus"),
        (b"classic2arm: estate/v1\nvirtual_networks: [{name: v, address_space: 5}]\n",
         "virtual_networks[0].address_space"),
        (b"classic2arm: estate/v1\nhosted_services: [{name: h, deployments: [{name: d, roles: [{size: 3}]}]}]\n",
         "hosted_services[0].deployments[0].roles[0]"),
        (b"a: &x [1]\nb: *x\n", "document"),
        (b"{\"classic2arm\": ", "line 1"),
        (b"\xff\xfe\x00garbage", "byte 0"),
    ],
)
def test_estate_document_errors_name_the_field(text: bytes, where: str) -> None:
    with pytest.raises(InputError) as err:
        estate_doc.load(text, "doc.yaml")
    assert str(err.value).startswith("doc.yaml: ") and where in str(err.value)


def test_a_role_body_alone_brings_its_parents(ctx: AppContext) -> None:
    """Get Role / Get Deployment bodies name their deployment and hosted service without describing them."""
    report = import_estate(ctx, Estate(roles=[c.Role(name="r", service_name="s", deployment_name="d")]))
    assert report.counts == {ids.T_HOSTED_SERVICE: 1, ids.T_DEPLOYMENT: 1, ids.T_VM: 1}
    assert any("hosted service 's' was not in the input" in n for n in report.notes)
    with ctx.store.read() as tx:
        hs = tx.resources.query(types=[ids.T_HOSTED_SERVICE])[0]
        # no file places it: an assumed location, marked (issue 14)
        assert hs.name == "s" and hs.location == "westus" and hs.doc["location_inferred"] is True
