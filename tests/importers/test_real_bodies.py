"""Real ASM body shapes other SDKs and tools recorded that the importer refused before issue 14: a Get Virtual
Network Gateway body, a list of a hosted service's deployments, a List Virtual Network Sites body without a
namespace whose sites have no <Subnets> (or an empty one) and address prefixes with host bits set."""

from __future__ import annotations

import json
from pathlib import Path

from classic2arm.importers import load_bytes

NS = 'xmlns="http://schemas.microsoft.com/windowsazure" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
DEPLOYMENT = (Path("/work/shared/fixtures/asm-rest") / "apache__libcloud___3761b98b_673d_526c_8d55_fee918758e6e_"
              "services_hostedservices_dcoddkinztest01_deploymentslots_Production.xml")

GATEWAY = (f"<Gateway {NS}><State>Provisioned</State><VIPAddress>137.117.10.20</VIPAddress><LastEvent>"
           "<Timestamp>2014-07-21T09:10:11.123Z</Timestamp><Id>23002</Id><Message>Successfully created a gateway"
           "</Message><Data/></LastEvent><GatewayType>DynamicRouting</GatewayType><GatewaySize>Default"
           "</GatewaySize></Gateway>")


def test_get_virtual_network_gateway_body_imports_as_a_note() -> None:
    estate = load_bytes(GATEWAY.encode(), "gw.xml")
    assert not estate.classic_objects()
    assert estate.notes == ["gw.xml: gateway of a virtual network the body does not name (state Provisioned, type "
                            "DynamicRouting, size Default, VIP 137.117.10.20); no resources (the VNet's own body "
                            "gives its gateway)"]


def test_gateway_body_in_a_session_record_names_its_vnet() -> None:
    record = {"Entries": [{"RequestUri": "/sub/services/networking/vnet1/gateway", "RequestMethod": "GET",
                           "ResponseBody": GATEWAY, "StatusCode": 200}]}
    estate = load_bytes(json.dumps(record).encode(), "rec.json")
    assert not estate.classic_objects()  # (a session record skips resourceless bodies)


def test_list_of_a_hosted_services_deployments() -> None:
    body = DEPLOYMENT.read_text(encoding="utf-8")
    start = body.index(">") + 1  # the <Deployment ...> start tag
    listing = f"<Deployments {NS}><Deployment>{body[start:]}</Deployments>"
    estate = load_bytes(listing.encode(), "deployments.xml")
    assert [(d.service_name, d.name) for d in estate.deployments] == [("dcoddkinztest01", "dc03")]
    assert sorted(r.name for r in estate.roles) == ["dc03", "oddkinz2"]


def test_virtual_network_sites_without_namespace_or_subnets() -> None:
    body = ("<VirtualNetworkSites><VirtualNetworkSite><Name>odd@@name$$%1</Name><Id>1e045b27-0000-4b5a-8399-"
            "23a85df51702</Id><AffinityGroup>GroupA</AffinityGroup><State>Creating</State><InUse>true</InUse>"
            "<AddressSpace><AddressPrefixes><AddressPrefix>172.16.0.10/12</AddressPrefix><AddressPrefix>10.0.8.7/24"
            "</AddressPrefix></AddressPrefixes></AddressSpace></VirtualNetworkSite><VirtualNetworkSite><Name>west"
            "</Name><State>Created</State><AddressSpace><AddressPrefixes><AddressPrefix>192.168.0.0/19"
            "</AddressPrefix></AddressPrefixes></AddressSpace><Subnets/><Location>West US</Location>"
            "</VirtualNetworkSite></VirtualNetworkSites>")
    estate = load_bytes(body.encode(), "sites.xml")
    by_name = {v.name: v for v in estate.virtual_networks}
    assert by_name["odd@@name$$%1"].subnets == [] and by_name["odd@@name$$%1"].affinity_group == "GroupA"
    assert by_name["odd@@name$$%1"].address_space == ["172.16.0.10/12", "10.0.8.7/24"]
    assert by_name["west"].subnets == [] and by_name["west"].location == "West US"
