"""The ARM template expression evaluator against the documented semantics of each supported function."""

from __future__ import annotations

from typing import Any

import pytest

from classic2arm.domain.template_expr import Scope, TemplateError, evaluate

SUB = "00000000-0000-0000-0000-000000000001"
RG = {"id": f"/subscriptions/{SUB}/resourceGroups/rg1", "name": "rg1", "location": "westus"}
DEPLOYED = {f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Network/publicIPAddresses/pip":
            {"id": "x", "properties": {"ipAddress": "1.2.3.4", "dnsSettings": {"fqdn": "a.b"}}}}


def scope(**params: Any) -> Scope:
    return Scope(SUB, "tenant-1", RG, params, {"prefix": "[concat(parameters('env'), '-')]", "n": 3,
                                               "loop": "[variables('loop')]"},
                 lambda i: DEPLOYED.get(i), {"": 2, "vms": 2})


@pytest.mark.parametrize(("expr", "expected"), [
    ("plain", "plain"),
    ("[[literal]", "[literal]"),
    ("[parameters('env')]", "prod"),
    ("[PARAMETERS('ENV')]", "prod"),
    ("[concat(variables('prefix'), 'vm', string(copyIndex(1)))]", "prod-vm3"),
    ("[concat('a', 'b', 'c')]", "abc"),
    ("[format('{0}-{1}-{0}', 'a', 7)]", "a-7-a"),
    ("[format('{{0}} {0}', 'x')]", "{0} x"),
    ("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')]",
     f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v/subnets/s"),
    ("[resourceId('other', 'Microsoft.Network/publicIPAddresses', 'p')]",
     f"/subscriptions/{SUB}/resourceGroups/other/providers/Microsoft.Network/publicIPAddresses/p"),
    ("[resourceId('s2', 'other', 'Microsoft.Compute/virtualMachines', 'vm')]",
     "/subscriptions/s2/resourceGroups/other/providers/Microsoft.Compute/virtualMachines/vm"),
    ("[resourceGroup().location]", "westus"),
    ("[resourceGroup()['name']]", "rg1"),
    ("[subscription().subscriptionId]", SUB),
    ("[reference(resourceId('Microsoft.Network/publicIPAddresses', 'pip')).dnsSettings.fqdn]", "a.b"),
    ("[reference(resourceId('Microsoft.Network/publicIPAddresses', 'pip'), '2016-03-30', 'Full').id]", "x"),
    ("[copyIndex('vms')]", 2),
    ("[length(parameters('list'))]", 3),
    ("[parameters('list')[1]]", "b"),
    ("[if(equals(parameters('env'), 'prod'), 'big', parameters('missing'))]", "big"),
    ("[toUpper('ab')]", "AB"),
    ("[int('42')]", 42),
    ("[and(true(), not(false()))]", True),
    ("[empty('')]", True),
    ("[concat(parameters('list'), parameters('list'))]", ["a", "b", "c", "a", "b", "c"]),
    ("['it''s']", "it's"),
])
def test_documented_semantics(expr: str, expected: Any) -> None:
    assert evaluate(expr, scope(env="prod", list=["a", "b", "c"])) == expected


def test_unique_string_is_deterministic_13_chars() -> None:
    a = evaluate("[uniqueString(resourceGroup().id)]", scope())
    assert a == evaluate("[uniqueString(resourceGroup().id)]", scope())
    assert len(a) == 13 and a.isalnum() and a == a.lower()
    assert a != evaluate("[uniqueString(resourceGroup().id, 'x')]", scope())


def test_nested_values_are_walked() -> None:
    got = evaluate({"a": ["[parameters('env')]", {"b": "[variables('n')]"}], "c": 1}, scope(env="e"))
    assert got == {"a": ["e", {"b": 3}], "c": 1}


@pytest.mark.parametrize(("expr", "fragment"), [
    ("[listKeys('x', '2016-01-01')]", "'listKeys' is not supported"),
    ("[parameters('nope')]", "'nope' is not found"),
    ("[variables('loop')]", "refers to itself"),
    ("[concat('a']", "expected"),
    ("[concat('a') x]", "unexpected"),
    ("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v')]", "requires 2 resource name"),
    ("[reference(resourceId('Microsoft.Network/publicIPAddresses', 'gone'))]", "was not found"),
    ("[resourceGroup().nothere]", "doesn't exist"),
    ("[copyIndex('other')]", "no copy loop"),
    ("[format('{3}', 'a')]", "beyond"),
    ("[not('x')]", "boolean"),
])
def test_clear_errors(expr: str, fragment: str) -> None:
    with pytest.raises(TemplateError) as err:
        evaluate(expr, scope(env="prod"))
    assert fragment in err.value.message
