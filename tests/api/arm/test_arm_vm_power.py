# The SDK models type every field Optional; the asserts here check presence at run time.
# mypy: disable-error-code="union-attr,arg-type,index,attr-defined"
"""ARM VMs that run, through the real azure-mgmt-compute client: instance views whose power state follows the
VMs across prepare and commit (a VNet VM keeps running; one outside a VNet runs again on the ARM side), the power
actions as long-running operations (`begin_*().result()`), refused while a migration holds the VM, and what they
do recorded in the downtime timeline."""

from __future__ import annotations

from typing import Any

import pytest
from arm_env import API, SUB, Env
from arm_sdk import make
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient

from classic2arm.domain import classic as c
from classic2arm.domain import identity as ids
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitRef
from classic2arm.service import migration, status
from classic2arm.service.context import AppContext


@pytest.fixture(scope="module")
def tls() -> bool:
    """Over HTTPS, the clients' own bearer policy (overrides conftest's HTTP default)."""
    return True


def power_of(vm: Any) -> list[str]:
    """The power statuses of a VM got with `$expand=instanceView`, or of an instance view."""
    view = getattr(vm, "instance_view", None) or vm
    return [s.code for s in view.statuses if s.code.startswith("PowerState/")]


def classic_states(env: Env, ref: UnitRef) -> dict[str, str]:
    """name (lower) → instance status of the unit's classic VMs (still there while Prepared)."""
    with env.ctx.store.read() as tx:
        rows = tx.resources.query(SUB, model=ids.CLASSIC, types=[ids.T_VM])
        return {r.name.lower(): str(r.doc.get("instance_status")) for r in rows if r.lock_holder}


@pytest.fixture(scope="module")
def committed(arm: Env) -> dict[str, Any]:
    """Before commit: what the classic VMs were and a prepared VM refusing actions; then both units committed."""
    c_client = make(ComputeManagementClient, arm, SUB)
    assert arm.vnet is not None and arm.deployment is not None
    vnet_before = classic_states(arm, arm.vnet)
    prepared = next(v for v in c_client.virtual_machines.list_all())
    rg = prepared.id.split("/")[4]
    with pytest.raises(HttpResponseError) as err:
        c_client.virtual_machines.begin_power_off(rg, prepared.name).result()
    refused = err.value
    prepared_view = c_client.virtual_machines.instance_view(rg, prepared.name)
    scoped = AppContext(arm.ctx.store, SUB)
    for ref in (arm.vnet, arm.deployment):
        assert migration.execute(scoped, Op.COMMIT, ref).status == "Succeeded"
    return {"before": vnet_before, "refused": refused, "prepared_view": prepared_view}


def test_refused_while_prepared(committed: dict[str, Any]) -> None:
    err = committed["refused"]
    assert err.status_code == 409 and err.error.code == "OperationNotAllowed"
    assert "migration is in progress" in str(err.error.message)
    assert power_of(committed["prepared_view"])  # readable while prepared, though


def test_power_follows_the_migration(arm: Env, committed: dict[str, Any]) -> None:
    client = make(ComputeManagementClient, arm, SUB)
    vms = {v.name.lower(): v for v in client.virtual_machines.list_all()}
    rg = f"{arm.deployment.name}-Migrated"
    # (the classic VMs of the non-VNet deployment were deallocated by prepare: not what their twins are)
    before = {n: s for n, s in committed["before"].items() if vms[n].id.split("/")[4].lower() != rg.lower()}
    assert len(set(before.values())) > 1  # running and stopped VNet VMs
    for name, was in before.items():  # VNet VMs: as they were in classic
        vm = vms[name]
        view = client.virtual_machines.get(vm.id.split("/")[4], vm.name, expand="instanceView")
        expected = {c.InstanceStatus.STOPPED_DEALLOCATED.value: "PowerState/deallocated",
                    c.InstanceStatus.STOPPED_VM.value: "PowerState/stopped"}.get(was, "PowerState/running")
        assert power_of(view) == [expected], name
        assert view.instance_view.statuses[0].code == "ProvisioningState/succeeded"
    outside = list(client.virtual_machines.list(rg))
    assert outside and any(power_of(client.virtual_machines.instance_view(rg, v.name)) == ["PowerState/running"]
                           for v in outside)  # running again after prepare's stop/deallocate


def test_actions_through_the_sdk(arm: Env, committed: dict[str, Any]) -> None:
    client = make(ComputeManagementClient, arm, SUB)
    rg = f"{arm.deployment.name}-Migrated"
    vm = next(v for v in client.virtual_machines.list(rg)
              if power_of(client.virtual_machines.instance_view(rg, v.name)) == ["PowerState/running"])

    def state() -> list[str]:
        return [s.code for s in client.virtual_machines.instance_view(rg, vm.name).statuses
                if s.code.startswith("PowerState/")]

    client.virtual_machines.begin_power_off(rg, vm.name).result()
    assert state() == ["PowerState/stopped"]
    client.virtual_machines.begin_deallocate(rg, vm.name).result()
    assert state() == ["PowerState/deallocated"]
    with pytest.raises(HttpResponseError) as err:
        client.virtual_machines.begin_restart(rg, vm.name).result()
    assert err.value.status_code == 409 and err.value.error.code == "OperationNotAllowed"
    client.virtual_machines.begin_start(rg, vm.name).result()
    assert state() == ["PowerState/running"]
    client.virtual_machines.begin_restart(rg, vm.name).result()
    assert state() == ["PowerState/running"]
    # the control plane is unchanged by any of it, and a PUT keeps the power state
    got = client.virtual_machines.get(rg, vm.name)
    assert got.hardware_profile.vm_size == vm.hardware_profile.vm_size and got.instance_view is None
    client.virtual_machines.begin_deallocate(rg, vm.name).result()
    client.virtual_machines.begin_create_or_update(rg, vm.name, got).result()
    assert state() == ["PowerState/deallocated"]
    client.virtual_machines.begin_start(rg, vm.name).result()
    # the timeline: powerOff (down), start (up), restart (down+up), deallocate (down), start (up)
    downtime = {d.vm.lower(): d for d in status.downtime(AppContext(arm.ctx.store, SUB))}
    mine = downtime[vm.name.lower()]
    assert mine.windows >= 3 and not mine.open


def test_http_shape(arm: Env, committed: dict[str, Any]) -> None:
    rg = f"{arm.deployment.name}-Migrated"
    with arm.client() as http:
        vms = http.get(f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines",
                       params={"api-version": API}).json()["value"]
        base = vms[0]["id"]
        assert "_power" not in vms[0]
        assert http.post(f"{base}/start", params={"api-version": API}).status_code == 202
        r = http.post(f"{base}/powerOff", params={"api-version": API})
        assert r.status_code == 202 and "Azure-AsyncOperation" in r.headers and "Location" in r.headers
        op_id = r.headers["Azure-AsyncOperation"].split("/operations/")[1].split("?")[0]
        assert http.get(r.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
        view = http.get(f"{base}/instanceView", params={"api-version": API}).json()
        assert view["statuses"][1] == {"code": "PowerState/stopped", "level": "Info", "displayStatus": "VM stopped"}
        assert http.get(f"{base}/powerOff", params={"api-version": API}).status_code == 405
        assert http.post(f"{base}/instanceView", params={"api-version": API}).status_code == 405
        missing = http.post(f"{base}x/start", params={"api-version": API})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFound"
        assert http.post(f"{base}/start", params={"api-version": API}).status_code == 202
        with arm.ctx.store.read() as tx:
            ops = {e["operation_id"] for e in tx.timeline.all(SUB, vm_key=base.lower())}
        assert op_id.replace("-", "") in ops
