"""UnitKind carries the words every surface names a kind by (expected values are literals, from the spec)."""

from __future__ import annotations

import pytest

from classic2arm.domain.units import UnitKind


@pytest.mark.parametrize(("kind", "word", "rtype", "cmdlet"), [
    (UnitKind.DEPLOYMENT, "Deployment", "Deployment", "Move-AzureService"),
    (UnitKind.VNET, "Virtual Network", "VirtualNetwork", "Move-AzureVirtualNetwork"),
    (UnitKind.STORAGE, "Storage account", "Storage", "Move-AzureStorageAccount"),
    (UnitKind.RESERVED_IP, "Reserved IP", "ReservedIP", "Move-AzureReservedIP"),
    (UnitKind.NSG, "Network Security Group", "NetworkSecurityGroup", "Move-AzureNetworkSecurityGroup"),
    (UnitKind.ROUTE_TABLE, "Route Table", "RouteTable", "Move-AzureRouteTable"),
])
def test_words(kind: UnitKind, word: str, rtype: str, cmdlet: str) -> None:
    assert (kind.word, kind.resource_type, kind.cmdlet) == (word, rtype, cmdlet)
    assert kind.help_title


@pytest.mark.parametrize(("kind", "code", "text"), [
    (UnitKind.DEPLOYMENT, "ResourceNotFound", "The deployment name 'x' does not exist."),
    (UnitKind.STORAGE, "ResourceNotFound", "The storage account 'x' was not found."),
    (UnitKind.VNET, "BadRequest", "Virtual network 'x' not found. Either it does not exist or it is an Azure "
                                  "Resource Manager resource, which cannot be used with Cloud Services."),
    (UnitKind.ROUTE_TABLE, "ResourceNotFound", "The route table 'x' was not found."),
])
def test_not_found_renders_for_every_kind_alike(kind: UnitKind, code: str, text: str) -> None:
    assert kind.not_found.rule == "R02"
    assert kind.not_found.render(dep="x", name="x") == (code, text)
