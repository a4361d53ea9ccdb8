"""Building and changing a classic estate through `azure-servicemanagement-legacy`'s write methods, and
migrating a unit through its generic `perform_post` (the package has no migration methods)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from live import SUB, LiveServer, sdk_client

from classic2arm.domain import identity as ids

sm = pytest.importorskip("azure.servicemanagement")

SVC, DEP, VM, VM2 = "sdkbuilt", "sdkbuilt", "web1", "web2"
ACCOUNT = "sdkstore01"


@pytest.fixture(scope="module")
def sms(live: LiveServer) -> Any:
    return sdk_client(live)


def wait(sms: Any, result: Any) -> None:
    assert result is not None and result.request_id
    status = sms.get_operation_status(result.request_id)
    assert status.status == "Succeeded", (status.status, status.error.code, status.error.message)


def _vnet(live: LiveServer) -> tuple[str, str]:
    with live.ctx.store.read() as tx:
        row = sorted(tx.resources.query(SUB, types=[ids.T_VNET]), key=lambda r: r.name)[0]
    return row.name, row.doc["subnets"][0]["name"]


def _linux(host: str) -> Any:
    config = sm.LinuxConfigurationSet(host, "azureuser", "Passw0rd!Passw0rd", True)
    config.ssh = None
    return config


def _network(subnet: str, port: int) -> Any:
    net = sm.ConfigurationSet()
    net.configuration_set_type = "NetworkConfiguration"
    net.input_endpoints.input_endpoints.append(sm.ConfigurationSetInputEndpoint("SSH", "tcp", str(port), "22"))
    net.subnet_names.append(subnet)
    return net


def test_build_change_and_tear_down_an_estate(sms: Any, live: LiveServer) -> None:
    vnet, subnet = _vnet(live)
    sms.create_hosted_service(SVC, label="built by the SDK", description="sdk", location="West US")
    assert sms.check_hosted_service_name_availability  # the method exists; availability is not emulated
    wait(sms, sms.create_storage_account(ACCOUNT, "sdk account", "sdk account", location="West US",
                                         account_type="Standard_LRS"))
    props = sms.get_storage_account_properties(ACCOUNT).storage_service_properties
    assert props.status == "Created" and props.account_type == "Standard_LRS"
    assert len(sms.get_storage_account_keys(ACCOUNT).storage_service_keys.primary) == 88

    os_disk = sm.OSVirtualHardDisk("golden-ubuntu", f"https://{ACCOUNT}.blob.core.windows.net/vhds/{VM}.vhd")
    wait(sms, sms.create_virtual_machine_deployment(
        SVC, DEP, "production", DEP, VM, _linux(VM), os_disk, network_config=_network(subnet, 22),
        role_size="Small", virtual_network_name=vnet))
    dep = sms.get_deployment_by_name(SVC, DEP)
    assert dep.status == "Running" and dep.virtual_network_name == vnet
    assert dep.virtual_ips.virtual_ips[0].address
    inst = dep.role_instance_list.role_instances[0]
    assert inst.role_name == VM and inst.instance_status == "ReadyRole" and inst.ip_address
    disk_name = dep.role_list.roles[0].os_virtual_hard_disk.disk_name
    assert disk_name and sms.get_disk(disk_name).attached_to.role_name == VM

    os2 = sm.OSVirtualHardDisk("golden-ubuntu", f"https://{ACCOUNT}.blob.core.windows.net/vhds/{VM2}.vhd")
    wait(sms, sms.add_role(SVC, DEP, VM2, _linux(VM2), os2, network_config=_network(subnet, 2222),
                           role_size="Medium"))
    wait(sms, sms.add_data_disk(SVC, DEP, VM2, 0, host_caching="ReadOnly", disk_label="data",
                                logical_disk_size_in_gb=20,
                                media_link=f"https://{ACCOUNT}.blob.core.windows.net/vhds/{VM2}-data0.vhd"))
    role2 = sms.get_role(SVC, DEP, VM2)
    assert role2.role_size == "Medium"
    assert [int(d.lun) for d in role2.data_virtual_hard_disks] == [0]
    assert sms.get_data_disk(SVC, DEP, VM2, 0).host_caching == "ReadOnly"
    wait(sms, sms.update_role(SVC, DEP, VM2, role_size="Large"))
    assert sms.get_role(SVC, DEP, VM2).role_size == "Large"

    wait(sms, sms.shutdown_role(SVC, DEP, VM2, post_shutdown_action="StoppedDeallocated"))
    instances = {i.role_name: i for i in sms.get_deployment_by_name(SVC, DEP).role_instance_list}
    assert instances[VM2].instance_status == "StoppedDeallocated" and instances[VM2].power_state == "Stopped"
    wait(sms, sms.start_role(SVC, DEP, VM2))
    instances = {i.role_name: i for i in sms.get_deployment_by_name(SVC, DEP).role_instance_list}
    assert instances[VM2].instance_status == "ReadyRole" and instances[VM2].ip_address

    wait(sms, sms.create_reserved_ip_address("sdk-rip", label="sdk", location="West US"))
    rip = sms.get_reserved_ip_address("sdk-rip")
    assert rip.address and not rip.in_use
    wait(sms, sms.associate_reserved_ip_address("sdk-rip", SVC, DEP))
    assert sms.get_reserved_ip_address("sdk-rip").in_use is True
    assert sms.get_deployment_by_name(SVC, DEP).virtual_ips.virtual_ips[0].address == rip.address
    wait(sms, sms.disassociate_reserved_ip_address("sdk-rip", SVC, DEP))
    assert sms.get_reserved_ip_address("sdk-rip").in_use is False

    wait(sms, sms.delete_role(SVC, DEP, VM2, complete=True))
    assert {r.role_name for r in sms.get_deployment_by_name(SVC, DEP).role_list} == {VM}
    wait(sms, sms.delete_deployment(SVC, DEP, delete_vhd=True))
    sms.delete_hosted_service(SVC)
    assert SVC not in {hs.service_name for hs in sms.list_hosted_services()}
    wait(sms, sms.delete_reserved_ip_address("sdk-rip"))
    sms.delete_storage_account(ACCOUNT)
    assert ACCOUNT not in {a.service_name for a in sms.list_storage_accounts()}


def test_migration_through_perform_post(sms: Any, live: LiveServer) -> None:
    wait(sms, sms.create_storage_account("sdkmigrate1", "to migrate", "to migrate", location="West US",
                                         account_type="Standard_LRS"))
    base = f"/{SUB}/services/storageservices/sdkmigrate1/migration"
    resp = sms.perform_post(base + "?comp=validate", None, x_ms_version="2016-03-01")
    assert resp.status == 200 and b"<ValidationMessages" in resp.body
    for comp in ("prepare", "commit"):
        resp = sms.perform_post(f"{base}?comp={comp}", None, x_ms_version="2016-03-01")
        assert resp.status == 202 and not resp.body
        request_id = dict(resp.headers)["x-ms-request-id"]
        deadline = time.monotonic() + 30
        while (status := sms.get_operation_status(request_id)).status == "InProgress":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert status.status == "Succeeded", (status.error.code, status.error.message)
        if comp == "prepare":
            raw = sms.perform_get(f"/{SUB}/services/storageservices/sdkmigrate1")
            assert b"<MigrationState>Prepared</MigrationState>" in raw.body
    assert "sdkmigrate1" not in {a.service_name for a in sms.list_storage_accounts()}
