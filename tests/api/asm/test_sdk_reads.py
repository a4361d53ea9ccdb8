"""PyPI `azure-servicemanagement-legacy` (real-clients.md §C1) against a live server: every GET method it
offers for the classic resources parses our responses into fully populated objects."""

from __future__ import annotations

from typing import Any

import pytest
from live import SUB, LiveServer, sdk_client

from classic2arm.domain import classic as c
from classic2arm.domain import identity as ids

pytest.importorskip("azure.servicemanagement")


@pytest.fixture(scope="module")
def sms(live: LiveServer) -> Any:
    return sdk_client(live)


def _rows(live: LiveServer, rtype: str) -> list[Any]:
    with live.ctx.store.read() as tx:
        return tx.resources.query(SUB, types=[rtype])


def _vm_service(live: LiveServer) -> tuple[str, str, c.Role]:
    """A hosted service whose deployment is in a VNet, with a VM that has a data disk and endpoints."""
    for row in _rows(live, ids.T_VM):
        role = c.Role.model_validate(row.doc)
        if role.data_disks and role.input_endpoints and role.subnet_names:
            return role.service_name, role.deployment_name, role
    raise AssertionError("the generated estate has no VM with data disks, endpoints and a subnet")


def test_list_hosted_services_and_properties(sms: Any, live: LiveServer) -> None:
    listed = sms.list_hosted_services()
    names = {hs.service_name for hs in listed}
    assert names == {r.name for r in _rows(live, ids.T_HOSTED_SERVICE)}
    for hs in listed:
        assert hs.url.endswith(f"/services/hostedservices/{hs.service_name}")
        assert hs.hosted_service_properties.location == "West US"
        assert hs.hosted_service_properties.status == "Created"
        assert hs.hosted_service_properties.label
        assert hs.hosted_service_properties.date_created.startswith("20")
    svc, dep, _role = _vm_service(live)
    detailed = sms.get_hosted_service_properties(svc, embed_detail=True)
    assert detailed.service_name == svc
    assert [d.name for d in detailed.deployments] == [dep]
    plain = sms.get_hosted_service_properties(svc)
    assert plain.deployments is None  # no <Deployments> without embed-detail


def _check_deployment(d: Any, dep: str, role: c.Role) -> None:
    assert d.name == dep
    assert d.deployment_slot == "Production"
    assert d.status == "Running"
    assert len(d.private_id) == 32
    assert d.url.startswith("http://")
    assert d.configuration.startswith("<ServiceConfiguration")
    assert d.virtual_network_name
    assert d.virtual_ips.virtual_ips and d.virtual_ips.virtual_ips[0].address
    by_name = {r.role_name: r for r in d.role_list}
    got = by_name[role.name]
    assert got.role_type == "PersistentVMRole"
    assert got.role_size == role.size
    assert got.os_virtual_hard_disk.disk_name == role.os_disk.disk_name  # type: ignore[union-attr]
    assert got.os_virtual_hard_disk.media_link == role.os_disk.media_link  # type: ignore[union-attr]
    assert [x.disk_name for x in got.data_virtual_hard_disks] == [x.disk_name for x in role.data_disks]
    net = got.configuration_sets.configuration_sets[0]
    assert net.configuration_set_type == "NetworkConfiguration"
    assert net.subnet_names == role.subnet_names
    assert {e.name for e in net.input_endpoints} == {e.name for e in role.input_endpoints}
    assert all(e.port and e.local_port and e.protocol for e in net.input_endpoints)
    instances = {i.role_name: i for i in d.role_instance_list}
    inst = instances[role.name]
    assert inst.instance_status == role.instance_status.value
    assert inst.power_state == role.power_state.value
    if role.allocated:
        assert inst.ip_address == role.ip_address
        assert inst.instance_size == role.size
        assert {e.name for e in inst.instance_endpoints} == {e.name for e in role.input_endpoints}


def test_deployment_by_name_and_slot(sms: Any, live: LiveServer) -> None:
    svc, dep, role = _vm_service(live)
    _check_deployment(sms.get_deployment_by_name(svc, dep), dep, role)
    _check_deployment(sms.get_deployment_by_slot(svc, "Production"), dep, role)


def test_role_and_data_disk(sms: Any, live: LiveServer) -> None:
    svc, dep, role = _vm_service(live)
    got = sms.get_role(svc, dep, role.name)
    assert got.role_name == role.name and got.role_size == role.size and got.role_type == "PersistentVMRole"
    assert got.os_virtual_hard_disk.os == role.os_disk.os  # type: ignore[union-attr]
    assert got.availability_set_name == (role.availability_set or "")
    first = role.data_disks[0]
    disk = sms.get_data_disk(svc, dep, role.name, first.lun)
    assert disk.disk_name == first.disk_name
    assert int(disk.lun) == first.lun
    assert int(disk.logical_disk_size_in_gb) == first.logical_size_gb
    assert disk.media_link == first.media_link
    assert disk.host_caching == first.host_caching


def test_disks(sms: Any, live: LiveServer) -> None:
    disks = sms.list_disks()
    stored = {r.name: c.Disk.model_validate(r.doc) for r in _rows(live, ids.T_DISK)}
    assert {d.name for d in disks} == set(stored)
    for d in disks:
        assert d.media_link == stored[d.name].media_link
        assert d.location == "West US"
        assert d.logical_disk_size_in_gb > 0
    attached = next(d for d in disks if stored[d.name].attached)
    one = sms.get_disk(attached.name)
    assert one.attached_to.role_name == stored[attached.name].role_name
    assert one.attached_to.hosted_service_name == stored[attached.name].hosted_service_name


def test_images(sms: Any) -> None:
    images = {i.name: i for i in sms.list_os_images()}
    img = images["golden-ubuntu"]
    assert img.os == "Linux" and img.location == "West US" and img.media_link.endswith(".vhd")
    assert img.logical_size_in_gb == 30 and img.category == "User"
    assert sms.get_os_image("golden-ubuntu").label == "Golden Ubuntu"
    details = sms.get_os_image_details("golden-ubuntu")
    assert details.name == "golden-ubuntu"
    assert [p.progress for p in details.replication_progress] == [100]
    vm_images = sms.list_vm_images()
    web = next(v for v in vm_images if v.name == "web-tier")
    assert web.os_disk_configuration.os == "Windows"
    assert web.os_disk_configuration.media_link.endswith("web-os.vhd")
    assert next(d.media_link for d in web.data_disk_configurations).endswith("web-data.vhd")
    assert [v.name for v in sms.list_vm_images(location="West US")] == [v.name for v in vm_images]


def test_virtual_network_sites(sms: Any, live: LiveServer) -> None:
    sites = sms.list_virtual_network_sites()
    stored = {r.name: c.VirtualNetworkSite.model_validate(r.doc) for r in _rows(live, ids.T_VNET)}
    assert {s.name for s in sites} == set(stored)
    for s in sites:
        assert s.id == stored[s.name].id
        assert [(x.name, x.address_prefix) for x in s.subnets] == [
            (x.name, x.address_prefix) for x in stored[s.name].subnets]
    raw = sms.perform_get(f"/{SUB}/services/networking/virtualnetwork")
    for vnet in stored.values():
        for prefix in vnet.address_space:
            assert f"<AddressPrefix>{prefix}</AddressPrefix>".encode() in raw.body


def test_storage_accounts_and_keys(sms: Any, live: LiveServer) -> None:
    accounts = {a.service_name: a for a in sms.list_storage_accounts()}
    assert set(accounts) == {r.name for r in _rows(live, ids.T_STORAGE)}
    solo = sms.get_storage_account_properties("solostore")
    props = solo.storage_service_properties
    assert props.location == "West US" and props.account_type == "Standard_GRS" and props.status == "Created"
    assert props.endpoints == [f"https://solostore.{s}.core.windows.net/" for s in ("blob", "queue", "table", "file")]
    assert props.geo_secondary_region == "East US"
    assert solo.capabilities == ["PersistentVMRole"]
    keys = sms.get_storage_account_keys("solostore")
    assert keys.storage_service_keys.primary == "cHJpbWFyeQ=="
    assert keys.storage_service_keys.secondary == "c2Vjb25kYXJ5"
    assert sms.check_storage_account_name_availability("solostore").result is False
    assert sms.check_storage_account_name_availability("brandnewname1").result is True


def test_reserved_ips(sms: Any, live: LiveServer) -> None:
    rips = {r.name: r for r in sms.list_reserved_ip_addresses()}
    stored = {r.name: c.ReservedIP.model_validate(r.doc) for r in _rows(live, ids.T_RESERVED_IP)}
    assert set(rips) == set(stored)
    for name, rip in rips.items():
        assert rip.address == stored[name].address and rip.location == "West US" and rip.state == "Created"
        assert rip.in_use == stored[name].in_use
    spare = next(n for n, r in stored.items() if not r.in_use)
    assert sms.get_reserved_ip_address(spare).id == stored[spare].id


def test_subscription_level(sms: Any, live: LiveServer) -> None:
    locations = {loc.name: loc for loc in sms.list_locations()}
    assert "West US" in locations
    west = locations["West US"]
    assert west.display_name == "West US" and "PersistentVMRole" in west.available_services
    assert "Small" in west.compute_capabilities.virtual_machines_role_sizes
    sizes = {s.name: s for s in sms.list_role_sizes()}
    assert sizes["Small"].cores == 1 and sizes["Large"].cores == 4 and sizes["Small"].memory_in_mb > 0
    assert sizes["Small"].supported_by_virtual_machines is True
    sub = sms.get_subscription()
    assert sub.subscription_id == SUB and sub.subscription_status == "Active"
    assert sub.current_hosted_services == len(_rows(live, ids.T_HOSTED_SERVICE))
    assert sub.current_storage_accounts == len(_rows(live, ids.T_STORAGE))
    assert sub.current_core_count > 0 and sub.max_core_count >= sub.current_core_count
    assert sms.list_affinity_groups().affinity_groups == []
    extensions = {(e.publisher, e.name) for e in sms.list_resource_extensions()}
    assert ("Microsoft.Compute", "BGInfo") in extensions
    assert all(e.version for e in sms.list_resource_extensions())
    assert list(sms.list_management_certificates()) == []
    svc, _dep, _role = _vm_service(live)
    certs = sms.list_service_certificates(svc)
    stored = c.HostedService.model_validate(_hs_doc(live, svc)).certificates
    assert [x.thumbprint for x in certs] == [x.thumbprint for x in stored]


def _hs_doc(live: LiveServer, svc: str) -> dict[str, Any]:
    with live.ctx.store.read() as tx:
        row = tx.resources.get(ids.hosted_service_id(SUB, svc))
    assert row is not None
    return row.doc


def test_operation_status_and_history(sms: Any, live: LiveServer) -> None:
    vnet = sorted(r.name for r in _rows(live, ids.T_VNET))[0]
    resp = sms.perform_post(f"/{SUB}/services/networking/virtualnetwork/{vnet}/migration?comp=validate", None,
                            x_ms_version="2016-07-01")
    assert resp.status == 200
    request_id = dict(resp.headers)["x-ms-request-id"]
    status = sms.get_operation_status(request_id)
    assert status.status == "Succeeded" and status.http_status_code == "200"
    dashed = f"{request_id[:8]}-{request_id[8:12]}-{request_id[12:16]}-{request_id[16:20]}-{request_id[20:]}"
    # The SDK looks for <Id>, but the service (and we) send <ID> (recorded traffic): read it raw.
    raw = sms.perform_get(f"/{SUB}/operations/{request_id}")
    assert f"<ID>{dashed}</ID>".encode() in raw.body
    assert sms.get_operation_status(dashed).status == "Succeeded"
    history = sms.list_subscription_operations()
    assert request_id in {o.operation_id for o in history.subscription_operations}
