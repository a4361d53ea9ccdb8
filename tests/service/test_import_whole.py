"""Imports that take a real estate whole (issue 14): undefined affinity groups are created from what the files say,
every problem of a multi-file import is reported at once naming its file, references to resources no file
describes become notes (and inferred storage accounts), and a Get Deployment body alone can be rehearsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from classic2arm.domain import identity as ids
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.importers import load_bytes
from classic2arm.importers.detect import load_files
from classic2arm.importers.errors import InputErrors
from classic2arm.service import clock, migration, plan, providers, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.errors import BadInput
from classic2arm.service.estate import import_estate, set_affinity_group_location

FIXTURES = next((p for p in (Path(__file__).resolve().parents[3] / "shared" / "fixtures",
                             Path("/work/shared/fixtures")) if p.is_dir()), Path("/work/shared/fixtures"))
GET_DEPLOYMENT = (FIXTURES / "asm-rest" / "apache__libcloud___3761b98b_673d_526c_8d55_fee918758e6e_services_"
                  "hostedservices_dcoddkinztest01_deploymentslots_Production.xml")
NS = 'xmlns="http://schemas.microsoft.com/windowsazure"'

NETCFG = b"""<NetworkConfiguration xmlns="http://schemas.microsoft.com/ServiceHosting/2011/07/NetworkConfiguration">
<VirtualNetworkConfiguration><VirtualNetworkSites>
<VirtualNetworkSite name="agnet" AffinityGroup="%s"><AddressSpace><AddressPrefix>10.1.0.0/16</AddressPrefix>
</AddressSpace><Subnets><Subnet name="s1"><AddressPrefix>10.1.0.0/24</AddressPrefix></Subnet></Subnets>
</VirtualNetworkSite></VirtualNetworkSites></VirtualNetworkConfiguration></NetworkConfiguration>"""

HOSTED_SERVICE = f"""<HostedService {NS}><ServiceName>agsvc</ServiceName><HostedServiceProperties>
<Description/><AffinityGroup>grp</AffinityGroup><Location>West Europe</Location><Label>YWdzdmM=</Label>
<Status>Created</Status></HostedServiceProperties></HostedService>""".encode()


@pytest.fixture
def early(ctx: AppContext) -> AppContext:
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    return ctx


def _register(ctx: AppContext) -> None:
    providers.register(ctx, "Microsoft.ClassicInfrastructureMigrate", True)


def _vnet_location(ctx: AppContext, name: str) -> str | None:
    with ctx.store.read() as tx:
        row = tx.resources.get(ids.vnet_id(ctx.subscription_id(tx), name))
        assert row is not None
        return row.doc.get("location")


def test_group_created_in_the_location_another_file_gives(early: AppContext, tmp_path: Path) -> None:
    (tmp_path / "net.netcfg").write_bytes(NETCFG % b"grp")
    (tmp_path / "svc.xml").write_bytes(HOSTED_SERVICE)
    report = import_estate(early, load_files([tmp_path / "net.netcfg", tmp_path / "svc.xml"]), source="2 files")
    assert any(f"affinity group 'grp' was not defined in the input: created in West Europe, the location "
               f"{tmp_path / 'svc.xml'} gives it" == n for n in report.notes)
    assert _vnet_location(early, "agnet") == "West Europe"


def test_unplaced_group_then_set_location(early: AppContext) -> None:
    report = import_estate(early, load_bytes(NETCFG % b"nowhere", "net.netcfg"), source="net.netcfg")
    [note] = [n for n in report.notes if "nowhere" in n]
    assert "classic2arm affinity-group set nowhere --location LOCATION" in note
    assert _vnet_location(early, "agnet") is None
    _register(early)
    ref = UnitRef(UnitKind.VNET, "agnet")
    res = migration.validate(early, ref)
    assert [(m.rule, m.category.value, m.message) for m in res.messages] == [
        ("R57", "Error", "The location of Virtual Network agnet is unknown: its affinity group nowhere has no "
                         "location in the imported files. Set it with 'classic2arm affinity-group set nowhere "
                         "--location LOCATION'.")]
    placed = set_affinity_group_location(early, "NOWHERE", "westus")
    assert placed.location == "West US" and len(placed.placed) == 1
    assert _vnet_location(early, "agnet") == "West US"
    assert not migration.validate(early, ref).has_errors
    with pytest.raises(BadInput, match="can't change"):
        set_affinity_group_location(early, "nowhere", "East US")
    # importing the file again keeps the group's location
    import_estate(early, load_bytes(NETCFG % b"nowhere", "net.netcfg"), source="net.netcfg")
    assert _vnet_location(early, "agnet") == "West US"


def test_every_problem_of_a_multi_file_import_names_its_file(early: AppContext, tmp_path: Path) -> None:
    bad1 = tmp_path / "a.xml"
    bad1.write_bytes(f"<ReservedIPs {NS}><ReservedIP><Name>r</Name><Address>1.2.3.4</Address>"
                     f"<Location>Narnia</Location></ReservedIP></ReservedIPs>".encode())
    bad2 = tmp_path / "b.xml"
    bad2.write_bytes(f"<NetworkSecurityGroup {NS}><Name>n</Name><Location>Atlantis</Location>"
                     f"</NetworkSecurityGroup>".encode())
    with pytest.raises(BadInput) as err:
        import_estate(early, load_files([bad1, bad2]), source="2 files")
    text = str(err.value)
    assert text.startswith("2 problems:")
    assert f"{bad1}: ReservedIP 'r': unknown location 'Narnia'" in text
    assert f"{bad2}: NetworkSecurityGroup 'n': unknown location 'Atlantis'" in text
    with early.store.read() as tx:
        assert tx.resources.count() == 0
    # files that can't be read at all: every one named, in one run
    (tmp_path / "c.xml").write_bytes(b"<Nonsense/>")
    (tmp_path / "d.json").write_bytes(b"{")
    with pytest.raises(InputErrors) as many:
        load_files([tmp_path / "c.xml", bad1, tmp_path / "d.json"])
    assert [e.path for e in many.value.errors] == [str(tmp_path / "c.xml"), str(tmp_path / "d.json")]


def _doc(ctx: AppContext, ident: str) -> dict[str, object]:
    with ctx.store.read() as tx:
        row = tx.resources.get(ident)
        assert row is not None
        return dict(row.doc, _location=row.location)


def test_get_deployment_body_alone_rehearses_into_service_migrated(early: AppContext) -> None:
    # no file gives the service's location: it is placed by an assumption, marked, and one note says so
    report = import_estate(early, load_bytes(GET_DEPLOYMENT.read_bytes(), GET_DEPLOYMENT.name), source="dep.xml")
    [note] = [n for n in report.notes if n.startswith("no file gives the location")]
    assert note == ("no file gives the location of hosted service 'dcoddkinztest01': placed in West US, the default "
                    "location (nothing else in the estate gives one), and marked inferred (location_inferred), so "
                    "its deployment can be rehearsed (an inferred storage account of its disks is placed there too); "
                    "to set the real one, import the files again with 'classic2arm import FILE... --location "
                    "LOCATION'")
    assert any(n.startswith("storage account 'mtlytics' holds disks") for n in report.notes)
    sub = ctx_sub(early)
    hs = _doc(early, ids.hosted_service_id(sub, "dcoddkinztest01"))
    assert hs["location"] == "West US" and hs["location_inferred"] is True
    sa = _doc(early, ids.storage_id(sub, "mtlytics"))
    assert sa["inferred"] is True and sa["location"] == "West US" and len(sa["blobs"]) == 2  # type: ignore[arg-type]
    _register(early)
    ref = UnitRef(UnitKind.DEPLOYMENT, "dc03", "dcoddkinztest01", Destination("New"))
    assert not migration.validate(early, ref).has_errors
    # the same file with --location replaces the assumption: the service, its deployment, roles and inferred account
    again = import_estate(early, load_bytes(GET_DEPLOYMENT.read_bytes(), GET_DEPLOYMENT.name), source="dep.xml",
                          location="North Europe")
    assert not any(n.startswith("no file gives the location") for n in again.notes)
    hs = _doc(early, ids.hosted_service_id(sub, "dcoddkinztest01"))
    assert hs["location"] == "North Europe" and hs["location_inferred"] is False
    assert _doc(early, ids.storage_id(sub, "mtlytics"))["location"] == "North Europe"
    assert not migration.validate(early, ref).has_errors
    assert migration.execute(early, Op.PREPARE, ref).status == "Succeeded"
    assert migration.execute(early, Op.COMMIT, ref).status == "Succeeded"
    with early.store.read() as tx:
        groups = {r.name: r.location
                  for r in tx.resources.query(model="arm", types=["Microsoft.Resources/resourceGroups"])}
    assert groups.get("dcoddkinztest01-Migrated") == "northeurope"


def test_inferred_location_follows_the_rest_of_the_estate(early: AppContext, tmp_path: Path) -> None:
    # one location elsewhere in the estate (this import's files): that one
    net = FIXTURES / "netcfg" / "jclouds__jclouds-labs__networkconfiguration.xml"  # one VNet, West Europe
    report = import_estate(early, load_files([net, GET_DEPLOYMENT]), source="2 files")
    [note] = [n for n in report.notes if n.startswith("no file gives the location")]
    assert "placed in West Europe, the one location the rest of the estate uses," in note
    # the most common one, counting what the store holds: the VNet above and these three (West Europe x2, East US);
    # not the inferred service above, nor its inferred storage account
    vnets = FIXTURES / "asm-rest" / "zyadamec__migAz__VNET1-02-VirtualNetworks.xml"
    role = FIXTURES / "asm-rest" / "zyadamec__migAz__VM1-06-VirtualMachine-myservice-myservice-myservice.xml"
    import_estate(early, load_files([vnets]), source="vnets.xml")
    report = import_estate(early, load_files([role]), source="role.xml")
    [note] = [n for n in report.notes if n.startswith("no file gives the location")]
    assert ("placed in West Europe, the location most of the rest of the estate uses (3 of 4 placed resources)"
            in note)
    sub = ctx_sub(early)
    assert _doc(early, ids.storage_id(sub, "mystorage"))["location"] == "West Europe"


def test_a_vnet_imported_later_replaces_the_assumption(early: AppContext, tmp_path: Path) -> None:
    jclouds = FIXTURES / "asm-rest" / "jclouds__jclouds-labs__deployment.xml"  # in VNet 'jclouds', no file has it
    import_estate(early, load_files([jclouds]), source="dep.xml")
    sub = ctx_sub(early)
    svc = "node1855162607153993262-b26"
    assert _doc(early, ids.hosted_service_id(sub, svc))["location"] == "West US"
    net = tmp_path / "jclouds.netcfg"
    net.write_bytes(NETCFG.replace(b'name="agnet" AffinityGroup="%s"', b'name="jclouds" Location="East Asia"')
                    .replace(b'name="s1"', b'name="Subnet-1"'))
    report = import_estate(early, load_files([net]), source="jclouds.netcfg")
    hs = _doc(early, ids.hosted_service_id(sub, svc))
    assert hs["location"] == "East Asia" and hs["location_inferred"] is False
    with early.store.read() as tx:
        dep = tx.resources.query(sub, types=[ids.T_DEPLOYMENT])[0]
        vm = tx.resources.query(sub, types=[ids.T_VM])[0]
    assert dep.location == "eastasia" and vm.location == "eastasia"  # (the column holds the ARM name)
    assert _doc(early, ids.storage_id(sub, "test"))["location"] == "East Asia"
    assert not any(n.startswith("no file gives the location") for n in report.notes)
    _register(early)
    assert not migration.validate(early, UnitRef(UnitKind.VNET, "jclouds")).has_errors


def ctx_sub(ctx: AppContext) -> str:
    with ctx.store.read() as tx:
        return ctx.subscription_id(tx)


def test_strict_refuses_dangling_references(early: AppContext) -> None:
    with pytest.raises(BadInput) as err:
        import_estate(early, load_bytes(GET_DEPLOYMENT.read_bytes(), "dep.xml"), source="dep.xml", strict=True)
    assert "dep.xml: storage account 'mtlytics': holds disks of this estate but no imported file describes it" \
        in str(err.value)
    assert ("dep.xml: HostedService 'dcoddkinztest01': no file gives its location and --strict infers none: import "
            "the files again with --location LOCATION") in str(err.value)
    with early.store.read() as tx:
        assert tx.resources.count() == 0


def test_dangling_references_are_notes_in_plan(early: AppContext) -> None:
    jclouds = FIXTURES / "asm-rest" / "jclouds__jclouds-labs__deployment.xml"
    rips = FIXTURES / "asm-rest" / "jclouds__jclouds-labs__listreservedipaddress.xml"
    import_estate(early, load_files([jclouds, rips]), source="2 files")
    _register(early)
    notes = plan.build_plan(early).notes
    assert any("is in virtual network 'jclouds', which no imported file describes" in n for n in notes)
    assert any("reserved IP 'jclouds_ip1' is associated with hosted service 'jclouds_s'" in n for n in notes)
    assert any(n.startswith("storage account ") and "inferred" in n for n in notes)
    assert ("hosted service 'node1855162607153993262-b26' is in West Europe by an assumption of the import (no file "
            "gave the location; marked location_inferred); to set the real one, import the files again with "
            "'classic2arm import FILE... --location LOCATION'") in notes


def test_real_clock_past_retirement_says_how_to_rehearse(ctx: AppContext) -> None:
    report = import_estate(ctx, load_bytes(GET_DEPLOYMENT.read_bytes(), "dep.xml"), source="dep.xml")
    assert report.deallocated_for_retirement == 2 and report.retirement_note is not None
    assert "the world clock (real time, " in report.retirement_note
    assert "'classic2arm import FILE... --as-of 2023-06-01'" in report.retirement_note
    assert "'classic2arm clock set 2023-06-01'" in report.retirement_note
    # --as-of: the clock is set first, and the VMs keep their running state
    again = import_estate(ctx, load_bytes(GET_DEPLOYMENT.read_bytes(), "dep.xml"), source="dep.xml",
                          as_of=clock.parse_when("2023-06-01"))
    assert again.deallocated_for_retirement == 0 and again.retirement_note is None
    assert world_clock.show_clock(ctx)["mode"] == "fixed"


def test_an_exported_assumption_stays_marked_and_is_made_again(early: AppContext, tmp_path: Path) -> None:
    from classic2arm.importers import estate_doc
    from classic2arm.service.estate import export_estate

    import_estate(early, load_bytes(GET_DEPLOYMENT.read_bytes(), GET_DEPLOYMENT.name), source="dep.xml")
    doc = tmp_path / "estate.yaml"
    doc.write_bytes(estate_doc.dumps(export_estate(early), "yaml"))
    assert b"location_inferred: true" in doc.read_bytes()
    fresh = AppContext.open(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        report = import_estate(fresh, load_files([doc]), source=str(doc), as_of=clock.parse_when("2023-06-01"))
        [note] = [n for n in report.notes if n.startswith("no file gives the location")]
        assert "hosted service 'dcoddkinztest01': placed in West US, the default location" in note
        hs = _doc(fresh, ids.hosted_service_id(ctx_sub(fresh), "dcoddkinztest01"))
        assert hs["location"] == "West US" and hs["location_inferred"] is True
    finally:
        fresh.close()


def test_a_service_in_a_vnet_of_unknown_location_waits_for_it(early: AppContext, tmp_path: Path) -> None:
    """Its VNet's group has no location yet: no assumption (the VNet's R57 gives the command), and placing the
    group places the service, its deployment, roles and inferred storage account with the VNet."""
    net = tmp_path / "jclouds.netcfg"
    net.write_bytes(NETCFG.replace(b'name="agnet" AffinityGroup="%s"', b'name="jclouds" AffinityGroup="nowhere"')
                    .replace(b'name="s1"', b'name="Subnet-1"'))
    jclouds = FIXTURES / "asm-rest" / "jclouds__jclouds-labs__deployment.xml"
    report = import_estate(early, load_files([net, jclouds]), source="2 files")
    assert not any(n.startswith("no file gives the location") for n in report.notes)
    sub = ctx_sub(early)
    svc = "node1855162607153993262-b26"
    assert _doc(early, ids.hosted_service_id(sub, svc))["location"] is None
    _register(early)
    assert [m.rule for m in migration.validate(early, UnitRef(UnitKind.VNET, "jclouds")).messages
            if m.category.value == "Error"] == ["R57"]
    placed = set_affinity_group_location(early, "nowhere", "West Europe")
    assert ids.hosted_service_id(sub, svc) in placed.placed and ids.storage_id(sub, "test") in placed.placed
    assert _doc(early, ids.hosted_service_id(sub, svc))["location"] == "West Europe"
    assert _doc(early, ids.storage_id(sub, "test"))["location"] == "West Europe"
    with early.store.read() as tx:
        assert {r.location for r in tx.resources.query(sub, types=[ids.T_DEPLOYMENT, ids.T_VM])} == {"westeurope"}
    assert not migration.validate(early, UnitRef(UnitKind.VNET, "jclouds")).has_errors
