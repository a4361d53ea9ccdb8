"""Template export and deployment of a 1,000-VM resource group, in process on SQLite (the same use cases the ARM
API's exportTemplate and deployments PUT call).

1. build: a copy-loop template (a VNet, N NICs, N VMs with unmanaged disks) deployed into group `bench-src`;
2. export: `arm_templates.export_group` of that group (N VMs, N NICs, the VNet: 2N+1 resources, one parameter
   each);
3. deploy: the exported template deployed into the empty group `bench-copy` (every resource a PUT, in one
   transaction), then `what_if` of it on the copy (all NoChange).

    PYTHONPATH=src .venv/bin/python bench/bench_templates.py [--vms 1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from classic2arm.domain import generator
from classic2arm.service import arm_api, arm_deploy, arm_templates, estate
from classic2arm.service.context import AppContext

SUB = "00000000-0000-0000-0000-000000000001"


def source_template(vms: int) -> dict[str, Any]:
    nic = "[concat('nic-', copyIndex())]"
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"count": {"type": "int", "defaultValue": vms}},
        "resources": [
            {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2016-03-30", "name": "bench-vnet",
             "location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.8.0.0/16"]},
                                                  "subnets": [{"name": "s", "properties": {
                                                      "addressPrefix": "10.8.0.0/20"}}]}},
            {"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2016-03-30", "name": nic,
             "location": "westus", "copy": {"name": "nics", "count": "[parameters('count')]"},
             "dependsOn": ["bench-vnet"],
             "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
                 "privateIPAllocationMethod": "Dynamic",
                 "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'bench-vnet', 's')]"}}}]}},
            {"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2016-03-30",
             "name": "[concat('vm-', copyIndex())]", "location": "westus",
             "copy": {"name": "vms", "count": "[parameters('count')]"},
             "dependsOn": ["[resourceId('Microsoft.Network/networkInterfaces', concat('nic-', copyIndex()))]"],
             "properties": {
                 "hardwareProfile": {"vmSize": "Standard_A2"},
                 "storageProfile": {"osDisk": {"name": "[concat('vm-', copyIndex(), '-os')]", "osType": "Linux",
                                               "createOption": "Attach", "caching": "ReadWrite", "vhd": {
                                                   "uri": "[concat('https://benchdisks.blob.core.windows.net/vhds/"
                                                          "vm-', copyIndex(), '-os.vhd')]"}},
                                    "dataDisks": []},
                 "networkProfile": {"networkInterfaces": [
                     {"id": "[resourceId('Microsoft.Network/networkInterfaces', concat('nic-', copyIndex()))]",
                      "properties": {"primary": True}}]}}},
        ],
    }


def body(template: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {"mode": "Incremental", "template": template}}


def timed(label: str, fn: Any) -> Any:
    start = time.perf_counter()
    out = fn()
    print(f"{label}: {time.perf_counter() - start:.2f} s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ctx = AppContext.open(f"sqlite:///{Path(folder) / 'bench.db'}")
        estate.import_estate(ctx, generator.generate(vms=0, vnets=0), source="bench")
        for rg in ("bench-src", "bench-copy"):
            arm_api.put_group(ctx, SUB, rg, {"location": "westus"})
        # (copy loops count at most 800: two deployments of half the VMs each would do too; one loop is enough
        # below 800, else the loop is split)
        template = source_template(min(args.vms, 800))
        timed(f"build: deploy a copy-loop template of {args.vms} VMs into bench-src", lambda: [
            arm_deploy.create(ctx, SUB, "bench-src", f"build{i}", body(_shifted(template, i * 800, n)))
            for i, n in enumerate(_chunks(args.vms, 800))])
        exported = timed("export: arm_templates.export_group(bench-src)",
                         lambda: arm_templates.export_group(ctx, SUB, "bench-src"))
        text = json.dumps(exported.template)
        print(f"  template: {len(exported.template['resources'])} resources, "
              f"{len(exported.template['parameters'])} parameters, {len(text) / 1e6:.1f} MB; "
              f"{len(exported.warnings)} warnings", flush=True)
        done = timed("deploy: the exported template into the empty bench-copy",
                     lambda: arm_deploy.create(ctx, SUB, "bench-copy", "copy", body(exported.template)))
        assert done["properties"]["provisioningState"] == "Succeeded"
        what = timed("what-if: the exported template on bench-copy",
                     lambda: arm_deploy.what_if(ctx, SUB, "bench-copy", "check", body(exported.template)))
        kinds = {c["changeType"] for c in what["properties"]["changes"]}
        print(f"  what-if change types: {sorted(kinds)}", flush=True)
        ctx.close()


def _chunks(total: int, size: int) -> list[int]:
    return [min(size, total - i) for i in range(0, total, size)]


def _shifted(template: dict[str, Any], offset: int, count: int) -> dict[str, Any]:
    """The copy-loop template for VMs offset … offset+count-1."""
    text = json.dumps(template).replace("copyIndex()", f"copyIndex({offset})")
    out = json.loads(text)
    out["parameters"]["count"]["defaultValue"] = count
    return dict(out)


if __name__ == "__main__":
    main()
