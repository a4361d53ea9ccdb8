"""The documented mapping and lifecycle (issue 14), through the service as a migration runs: VNet-to-VNet becomes a
`Vnet2Vnet` connection without local network gateways (deep dive, row 24), the errors page's text for a VNet asked
for by its portal name, a second prepare with another destination refused, local network sites gone from classic
once their (last) VNet commits, and a validation's operation timestamps on the world clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from classic2arm.domain import arm as armt
from classic2arm.domain import identity as ids
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.importers import load_bytes
from classic2arm.service import clock, migration, operations, providers, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.errors import ServiceError
from classic2arm.service.estate import import_estate

FIXTURES = next((p for p in (Path(__file__).resolve().parents[3] / "shared" / "fixtures",
                             Path("/work/shared/fixtures")) if p.is_dir()), Path("/work/shared/fixtures"))
WHEN = datetime(2023, 6, 1, tzinfo=UTC)


def _site(name: str, prefix: str, gateway: str) -> str:
    return (f'<LocalNetworkSite name="{name}"><AddressSpace><AddressPrefix>{prefix}</AddressPrefix></AddressSpace>'
            f"<VPNGatewayAddress>{gateway}</VPNGatewayAddress></LocalNetworkSite>")


def _vnet(name: str, prefix: str, gw_subnet: str, *sites: str) -> str:
    refs = "".join(f'<LocalNetworkSiteRef name="{s}"><Connection type="IPsec"/></LocalNetworkSiteRef>' for s in sites)
    return (f'<VirtualNetworkSite name="{name}" Location="West US"><AddressSpace><AddressPrefix>{prefix}'
            f'</AddressPrefix></AddressSpace><Subnets><Subnet name="GatewaySubnet"><AddressPrefix>{gw_subnet}'
            f'</AddressPrefix></Subnet></Subnets><Gateway profile="Small"><ConnectionsToLocalNetwork>{refs}'
            "</ConnectionsToLocalNetwork></Gateway></VirtualNetworkSite>")


# vnetA and vnetB are linked VNet-to-VNet (each through a local site standing for the other); vnetA also has an
# on-premises site of its own, and vnetC shares the on-premises site 'shared' with vnetA.
NETCFG = ('<NetworkConfiguration xmlns="http://schemas.microsoft.com/ServiceHosting/2011/07/NetworkConfiguration">'
          "<VirtualNetworkConfiguration><LocalNetworkSites>"
          + _site("siteB", "10.2.0.0/16", "40.0.0.2") + _site("siteA", "10.1.0.0/16", "40.0.0.1")
          + _site("onprem", "192.168.0.0/16", "131.1.1.1") + _site("shared", "172.20.0.0/16", "131.1.1.2")
          + "</LocalNetworkSites><VirtualNetworkSites>"
          + _vnet("vnetA", "10.1.0.0/16", "10.1.0.0/29", "siteB", "onprem", "shared")
          + _vnet("vnetB", "10.2.0.0/16", "10.2.0.0/29", "siteA")
          + _vnet("vnetC", "10.3.0.0/16", "10.3.0.0/29", "shared")
          + "</VirtualNetworkSites></VirtualNetworkConfiguration></NetworkConfiguration>").encode()


@pytest.fixture
def ready(ctx: AppContext) -> AppContext:
    world_clock.set_clock(ctx, clock.fixed(WHEN))
    import_estate(ctx, load_bytes(NETCFG, "v2v.netcfg"), source="v2v.netcfg")
    providers.register(ctx, "Microsoft.ClassicInfrastructureMigrate", True)
    return ctx


def _arm(ctx: AppContext, rtype: str) -> list[tuple[str, str | None, dict[str, object]]]:
    with ctx.store.read() as tx:
        return [(r.name, r.resource_group, r.doc.get("properties") or {})
                for r in tx.resources.query(model=ids.ARM, types=[rtype])]


def _classic_sites(ctx: AppContext) -> list[str]:
    with ctx.store.read() as tx:
        return sorted(r.name for r in tx.resources.query(types=[ids.T_LOCAL_SITE]))


def test_vnet_to_vnet_becomes_a_vnet2vnet_connection_without_local_network_gateways(ready: AppContext) -> None:
    ref = UnitRef(UnitKind.VNET, "vnetA")
    assert migration.execute(ready, Op.PREPARE, ref).status == "Succeeded"
    connections = {name: props for name, _, props in _arm(ready, armt.CONNECTION)}
    v2v = connections["vnetA-siteB-Connection"]
    assert v2v["connectionType"] == "Vnet2Vnet" and "localNetworkGateway2" not in v2v
    assert str(v2v["virtualNetworkGateway2"]["id"]).endswith(  # type: ignore[index]
        "/resourceGroups/vnetB-Migrated/providers/Microsoft.Network/virtualNetworkGateways/vnetB-Default-Gateway")
    assert connections["vnetA-onprem-Connection"]["connectionType"] == "IPsec"
    # a local network gateway only for the on-premises sites, none for the site that stands for vnetB
    assert sorted(name for name, _, _ in _arm(ready, armt.LOCAL_GATEWAY)) == ["onprem", "shared"]


def test_local_sites_leave_classic_with_their_last_vnet(ready: AppContext) -> None:
    for op in (Op.PREPARE, Op.COMMIT):
        assert migration.execute(ready, op, UnitRef(UnitKind.VNET, "vnetA")).status == "Succeeded"
    # vnetA's own sites are gone; 'shared' stays while vnetC (classic) still connects to it
    assert _classic_sites(ready) == ["shared", "siteA"]
    for op in (Op.PREPARE, Op.COMMIT):
        assert migration.execute(ready, op, UnitRef(UnitKind.VNET, "vnetC")).status == "Succeeded"
    assert _classic_sites(ready) == ["siteA"]


def test_abort_keeps_the_local_sites(ready: AppContext) -> None:
    ref = UnitRef(UnitKind.VNET, "vnetA")
    for op in (Op.PREPARE, Op.ABORT):
        assert migration.execute(ready, op, ref).status == "Succeeded"
    assert _classic_sites(ready) == ["onprem", "shared", "siteA", "siteB"]


def test_portal_name_of_a_vnet_gets_the_errors_page_text(ctx: AppContext) -> None:
    body = (FIXTURES / "asm-rest" / "jclouds__jclouds-labs__virtualnetworksites.xml").read_bytes()
    world_clock.set_clock(ctx, clock.fixed(WHEN))
    import_estate(ctx, load_bytes(body, "sites.xml"), source="sites.xml")
    providers.register(ctx, "Microsoft.ClassicInfrastructureMigrate", True)
    res = migration.validate(ctx, UnitRef(UnitKind.VNET, "testDocker"))
    assert [(m.rule, m.category.value, m.message) for m in res.messages] == [
        ("R02", "Error", "The virtual network testDocker doesn't exist.")]
    other = migration.validate(ctx, UnitRef(UnitKind.VNET, "nosuch"))
    assert other.messages[0].message.startswith("Virtual network 'nosuch' not found.")


def test_second_prepare_with_another_destination_is_refused(ctx: AppContext) -> None:
    path = (FIXTURES / "asm-rest" / "apache__libcloud___3761b98b_673d_526c_8d55_fee918758e6e_services_"
            "hostedservices_dcoddkinztest01.xml")
    world_clock.set_clock(ctx, clock.fixed(WHEN))
    import_estate(ctx, load_bytes(path.read_bytes(), path.name), source=path.name)
    providers.register(ctx, "Microsoft.ClassicInfrastructureMigrate", True)
    new = UnitRef(UnitKind.DEPLOYMENT, "dc03", "dcoddkinztest01", Destination("New"))
    assert migration.execute(ctx, Op.PREPARE, new).status == "Succeeded"
    assert migration.start(ctx, Op.PREPARE, new).status == "Succeeded"  # the same request: idempotent
    other = UnitRef(UnitKind.DEPLOYMENT, "dc03", "dcoddkinztest01", Destination("Existing", "rg", "v", "s"))
    with pytest.raises(ServiceError) as err:
        migration.start(ctx, Op.PREPARE, other)
    assert err.value.http_status == 400
    assert err.value.message == ("Deployment dc03 in HostedService dcoddkinztest01 is already being migrated with "
                                 "DestinationVirtualNetwork New. Abort the migration before preparing it with "
                                 "another destination.")


def test_validation_operation_timestamps_follow_the_world_clock(ready: AppContext) -> None:
    res = migration.validate(ready, UnitRef(UnitKind.VNET, "vnetB"))
    view = operations.get(ready, res.operation_id)
    assert view.created_at == WHEN and view.updated_at == WHEN
