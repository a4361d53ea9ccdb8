"""The synthetic estate generator: determinism, shape, referential integrity and blocker injection.

`_blocker_findings` re-derives every injected blocker from the estate itself (independently of the
generator's bookkeeping), so "notes == findings" proves both that each note is real and that the base
estate carries no blocker nobody asked for.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classic2arm.domain import classic as c
from classic2arm.domain.estate import Estate
from classic2arm.domain.generator import BLOCKER_RULES, generate
from classic2arm.domain.locations import arm_name, is_known
from classic2arm.domain.media import vhd_blob_size

NOTE = re.compile(r"^blocker (R\d\d) (hosted-service|vm|virtual-network|reserved-ip) (\S+)$")
QUOTA_KINDS = {"cores", "networkInterfaces", "loadBalancers", "publicIPAddresses", "staticPublicIPAddresses",
               "networkSecurityGroups", "routeTables", "virtualNetworks"}
ALLOWED_STATES = {c.InstanceStatus.READY, c.InstanceStatus.STOPPED_VM, c.InstanceStatus.STOPPED_DEALLOCATED}


def snapshot(e: Estate) -> dict[str, Any]:
    out: dict[str, Any] = {name: [o.model_dump(mode="json") for o in getattr(e, name)] for name in e.CLASSIC_LISTS}
    out["subscription"] = e.subscription.model_dump(mode="json") if e.subscription else None
    out["notes"] = list(e.notes)
    return out


def blocker_notes(e: Estate) -> list[str]:
    return [n for n in e.notes if n.startswith("blocker")]


def account_and_key(media_link: str) -> tuple[str, str]:
    m = re.fullmatch(r"https://([a-z0-9]+)\.blob\.core\.windows\.net/(.+)", media_link)
    assert m, media_link
    return m.group(1), m.group(2)


# --------------------------------------------------------------------------- independent blocker detector


def _blocker_findings(e: Estate) -> list[str]:
    """Every blocker configuration present in the estate, as notes in the generator's format."""
    found: list[str] = []
    accounts = {a.name: a for a in e.storage_accounts}
    roles_by_dep: dict[tuple[str, str], list[c.Role]] = {}
    for r in e.roles:
        roles_by_dep.setdefault((r.service_name, r.deployment_name), []).append(r)
    for d in e.deployments:
        roles = roles_by_dep.get((d.service_name, d.name), [])
        vms = [r for r in roles if r.is_vm]
        hs = f"hosted-service {d.service_name}"
        if d.virtual_network_name is None and len(vms) < len(roles):
            found.append(f"blocker R07 {hs}")
        sets = {r.availability_set for r in vms}
        if len(sets - {None}) > 1:
            found.append(f"blocker R09 {hs}")
        if None in sets and len(sets) > 1 and len(sets - {None}) == 1:
            found.append(f"blocker R10 {hs}")
        if len({bool(r.secondary_nics) for r in vms}) > 1:
            found.append(f"blocker R11 {hs}")
        if not d.regional_scope:
            found.append(f"blocker R18 {hs}")
        if d.upgrade_in_progress:
            found.append(f"blocker R15 {hs}")
        for i, vip in enumerate(d.virtual_ips):
            used = any(ep.virtual_ip_name == vip.name or (ep.virtual_ip_name is None and i == 0)
                       for r in roles for ep in r.input_endpoints)
            if vip.is_reserved and not used:
                found.append(f"blocker R32 reserved-ip {vip.reserved_ip_name}")
        for vm in vms:
            found.extend(f"blocker {rule} vm {vm.service_name}/{vm.name}"
                         for rule in _vm_findings(vm, d, accounts))
    for v in e.virtual_networks:
        if v.peerings:
            found.append(f"blocker R30 virtual-network {v.name}")
        paas = any(not r.is_vm for d in e.deployments if d.virtual_network_name == v.name
                   for r in roles_by_dep.get((d.service_name, d.name), []))
        if paas or v.contains_app_service_environment or v.contains_hdinsight or v.contains_api_management \
                or v.contains_batch or v.contains_application_gateway:
            found.append(f"blocker R08 virtual-network {v.name}")
    return found


def _vm_findings(vm: c.Role, d: c.Deployment, accounts: dict[str, c.StorageAccount]) -> list[str]:
    rules: list[str] = []
    if d.virtual_network_name and not vm.subnet_names:
        rules.append("R13")
    subnets = set(vm.subnet_names) | {ip.subnet_name for n in vm.secondary_nics for ip in n.ip_configurations}
    if len(subnets) > 1:
        rules.append("R12")
    if vm.instance_status not in ALLOWED_STATES:
        rules.append("R16" if vm.instance_status == c.InstanceStatus.PROVISIONING_TIMEOUT else "R14")
    if vm.provisioned_on_legacy_fabric:
        rules.append("R17")
    if vm.instance_status == c.InstanceStatus.READY:  # extension/agent rules: running VMs only
        if any(x.is_xml_extension for x in vm.extensions):
            rules.append("R19")
        if any(x.is_backup for x in vm.extensions):
            rules.append("R20")
        if any(x.handler_status is None for x in vm.extensions):
            rules.append("R21")
        if any(x.handler_status not in (None, "Ready") for x in vm.extensions):
            rules.append("R22")
        if vm.guest_agent is not None and vm.guest_agent.status != "Ready" and vm.extensions:
            rules.append("R23")
    for disk in vm.data_disks:
        name, key = account_and_key(disk.media_link)
        if accounts[name].blobs[key].size_bytes != vhd_blob_size(disk.logical_size_gb):
            rules.append("R25")
    links = [vm.os_disk.media_link] if vm.os_disk else []
    if any("/" in account_and_key(link)[1].split("/", 1)[1] for link in links + [x.media_link for x in vm.data_disks]):
        rules.append("R27")
    diagnostics = vm.boot_diagnostics.storage_uri if vm.boot_diagnostics else None
    if diagnostics and accounts[account_and_key(diagnostics + "x")[0]].is_premium:
        rules.append("R28")
    if any(ep.acl for ep in vm.input_endpoints):
        rules.append("R29")
    return rules


# --------------------------------------------------------------------------- referential integrity


def check_integrity(e: Estate) -> None:
    assert e.subscription is not None and e.subscription.registered_for_migration
    services = {h.name: h for h in e.hosted_services}
    deployments = {(d.service_name, d.name): d for d in e.deployments}
    vnets = {v.name: v for v in e.virtual_networks}
    accounts = {a.name: a for a in e.storage_accounts}
    assert len(services) == len(e.hosted_services) and len(deployments) == len(e.deployments)
    assert len(vnets) == len(e.virtual_networks) and len(accounts) == len(e.storage_accounts)
    assert all(key[0] in services for key in deployments)
    noted = [NOTE.match(n) for n in blocker_notes(e)]
    assert all(noted), blocker_notes(e)
    noted_vms = {(m.group(1), m.group(3)) for m in noted if m}

    # VNets: disjoint address spaces, subnets inside them, referenced NSGs/route tables/sites exist.
    nsgs = {n.name for n in e.network_security_groups}
    tables = {t.name for t in e.route_tables}
    sites = {s.name for s in e.local_network_sites}
    spaces = [ipaddress.ip_network(p) for v in e.virtual_networks for p in v.address_space]
    assert not any(a.overlaps(b) for i, a in enumerate(spaces) for b in spaces[i + 1:])
    subnet_nets: dict[tuple[str, str], ipaddress.IPv4Network] = {}
    for v in e.virtual_networks:
        assert v.location and is_known(v.location)
        space = ipaddress.ip_network(v.address_space[0])
        nets = [ipaddress.ip_network(s.address_prefix) for s in v.subnets]
        assert all(isinstance(n, ipaddress.IPv4Network) and n.subnet_of(space) for n in nets)  # type: ignore[arg-type]
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
        for s, net in zip(v.subnets, nets, strict=True):
            assert s.network_security_group is None or s.network_security_group in nsgs
            assert s.route_table is None or s.route_table in tables
            subnet_nets[(v.name, s.name)] = net  # type: ignore[assignment]
        if v.gateway:
            assert "GatewaySubnet" in {s.name for s in v.subnets}
            assert all(conn.local_network_site in sites for conn in v.gateway.connections)

    # Roles: parents exist, VNet placement, private IPs inside their subnet and unique per VNet.
    vms_per_dep: Counter[tuple[str, str]] = Counter()
    dips: dict[str, set[str]] = {}
    for r in e.roles:
        d = deployments[(r.service_name, r.deployment_name)]
        assert r.service_name in services
        vms_per_dep[(r.service_name, r.deployment_name)] += 1
        if d.virtual_network_name is None:
            assert not r.subnet_names and not r.secondary_nics and r.static_ip is None
            continue
        v = vnets[d.virtual_network_name]
        assert services[d.service_name].location == v.location
        if r.is_vm and ("R13", f"{r.service_name}/{r.name}") not in noted_vms:
            assert len(r.subnet_names) == 1, r.name
        assert all(s in {x.name for x in v.subnets} and s != "GatewaySubnet" for s in r.subnet_names)
        if r.static_ip and r.ip_address:
            assert r.static_ip == r.ip_address
        nics = [(r.subnet_names, r.static_ip or r.ip_address)]
        nics += [([x.subnet_name for x in n.ip_configurations],
                  n.ip_address or n.ip_configurations[0].static_ip) for n in r.secondary_nics]
        for subnet_names, ip in nics:
            assert ip is not None, r.name
            addr = ipaddress.ip_address(ip)
            home = ([subnet_nets[(v.name, subnet_names[0])]] if subnet_names
                    else [ipaddress.ip_network(p) for p in v.address_space])
            assert any(addr in net for net in home), (r.name, ip)
            assert ip not in dips.setdefault(v.name, set()), f"duplicate DIP {ip} in {v.name}"
            dips[v.name].add(ip)
    assert set(vms_per_dep) == set(deployments)  # no empty deployment

    # Storage: names, every VHD reference resolves to a blob, Disk objects mirror role disks.
    assert all(re.fullmatch(r"[a-z0-9]{3,24}", a) for a in accounts)
    disks = {dk.name: dk for dk in e.disks}
    assert len(disks) == len(e.disks)
    assert len({dk.media_link for dk in e.disks}) == len(e.disks)
    mismatched = {m.group(3) for m in noted if m and m.group(1) == "R25"}
    for dk in e.disks:
        name, key = account_and_key(dk.media_link)
        assert key in accounts[name].blobs, dk.media_link
        if dk.role_name is not None:
            assert (dk.hosted_service_name, dk.deployment_name) in deployments
    for r in e.roles:
        if r.boot_diagnostics and r.boot_diagnostics.storage_uri:
            assert account_and_key(r.boot_diagnostics.storage_uri + "x")[0] in accounts
        if not r.is_vm:
            continue
        assert r.os_disk is not None
        for disk_name, link, size, is_data in [(r.os_disk.disk_name, r.os_disk.media_link,
                                                 r.os_disk.logical_size_gb, False)] + [
                (x.disk_name, x.media_link, x.logical_size_gb, True) for x in r.data_disks]:
            name, key = account_and_key(link)
            blob = accounts[name].blobs[key]
            assert disks[disk_name].media_link == link and disks[disk_name].role_name == r.name
            assert size is not None
            if not (is_data and f"{r.service_name}/{r.name}" in mismatched):
                assert blob.size_bytes == vhd_blob_size(size), link
        assert sorted(x.lun for x in r.data_disks) == list(range(len(r.data_disks)))
    for img in e.os_images:
        assert img.media_link is not None
        name, key = account_and_key(img.media_link)
        assert key in accounts[name].blobs

    # Public addresses are unique; NAT ports unique per VIP; reserved IPs linked both ways.
    publics = [vip.address for d in e.deployments for vip in d.virtual_ips]
    publics += [v.gateway.vip for v in e.virtual_networks if v.gateway and v.gateway.vip]
    publics += [p.address for r in e.roles for p in r.public_ips if p.address]
    publics += [rip.address for rip in e.reserved_ips if rip.service_name is None]
    assert len(publics) == len(set(publics))
    for d in e.deployments:
        assert d.virtual_ips[0].name == f"{d.service_name}ContractContract"
        ports = [(ep.vip, ep.port) for r in e.roles if (r.service_name, r.deployment_name) == (d.service_name, d.name)
                 for ep in r.input_endpoints if ep.load_balanced_endpoint_set_name is None]
        assert len(ports) == len(set(ports))
    rips = {rip.name: rip for rip in e.reserved_ips}
    assert len(rips) == len(e.reserved_ips)
    for rip in e.reserved_ips:
        assert is_known(rip.location)
        if rip.service_name is None:
            assert rip.deployment_name is None and rip.virtual_ip_name is None
            continue
        assert rip.deployment_name is not None
        d = deployments[(rip.service_name, rip.deployment_name)]
        vip = next(x for x in d.virtual_ips if x.name == rip.virtual_ip_name)
        assert vip.is_reserved and vip.reserved_ip_name == rip.name and vip.address == rip.address
        assert services[rip.service_name].location == rip.location
    for d in e.deployments:
        for vip in d.virtual_ips:
            if vip.is_reserved:
                assert vip.reserved_ip_name in rips and rips[vip.reserved_ip_name].service_name == d.service_name
        assert d.reserved_ip_name is None or rips[d.reserved_ip_name].deployment_name == d.name

    # Quotas cover every region in use.
    used = [h.location for h in e.hosted_services] + [v.location for v in e.virtual_networks]
    used += [a.location for a in e.storage_accounts] + [rip.location for rip in e.reserved_ips]
    regions = {arm_name(loc) for loc in used if loc}
    assert set(e.subscription.arm_quotas) == regions
    assert all(set(q) == QUOTA_KINDS and min(q.values()) > 0 for q in e.subscription.arm_quotas.values())


def check_revalidates(e: Estate) -> None:
    """Every object survives a dump/validate round trip unchanged (types and enums are right)."""
    for obj in [*e.classic_objects(), e.subscription]:
        assert obj is not None
        assert type(obj).model_validate(obj.model_dump()) == obj


# --------------------------------------------------------------------------- tests


def test_same_seed_gives_identical_estate() -> None:
    assert snapshot(generate(120, seed=7, blockers=0.3)) == snapshot(generate(120, seed=7, blockers=0.3))


def test_different_seed_gives_different_estate() -> None:
    assert snapshot(generate(120, seed=7)) != snapshot(generate(120, seed=8))


def test_generation_leaves_global_random_alone() -> None:
    import random

    random.seed(1)
    expected = random.random()
    random.seed(1)
    generate(50, seed=3)
    assert random.random() == expected


@pytest.mark.parametrize("vms", [0, 1, 2, 9, 250, 1001])
def test_exact_vm_count(vms: int) -> None:
    e = generate(vms, seed=vms, blockers=0.5)
    assert len(e.vms) == vms
    assert all(r.role_type == c.RoleType.PERSISTENT_VM for r in e.vms)
    assert all(1 <= n <= 8 for n in Counter((r.service_name, r.deployment_name) for r in e.vms).values())


@pytest.mark.parametrize(("vms", "vnets", "expected"), [(10, None, 1), (1000, None, 5), (50, 3, 3), (50, 0, 0)])
def test_vnet_count(vms: int, vnets: int | None, expected: int) -> None:
    assert len(generate(vms, vnets=vnets).virtual_networks) == expected


def test_realistic_shape() -> None:
    e = generate(3000, seed=11)
    deps = e.deployments
    in_vnet = sum(1 for d in deps if d.virtual_network_name) / len(deps)
    assert 0.6 < in_vnet < 0.8
    assert all(re.fullmatch(r"10\.\d+\.0\.0/16", v.address_space[0]) for v in e.virtual_networks)
    assert all(2 <= len([s for s in v.subnets if s.name != "GatewaySubnet"]) <= 4 for v in e.virtual_networks)
    assert any(v.gateway for v in e.virtual_networks) and any(v.dns_servers for v in e.virtual_networks)
    assert e.network_security_groups and e.route_tables and e.local_network_sites
    assert any(d.reserved_ip_name for d in deps) and any(rip.service_name is None for rip in e.reserved_ips)
    assert 20 <= len(e.storage_accounts) <= 45  # ~one per 100 VMs, rounded up per region
    states = Counter(r.instance_status for r in e.vms)
    assert states[c.InstanceStatus.READY] > states[c.InstanceStatus.STOPPED_DEALLOCATED] > 0
    assert states[c.InstanceStatus.STOPPED_VM] > 0
    assert any(r.availability_set for r in e.vms) and any(r.secondary_nics for r in e.vms)
    assert any(ep.load_balanced_endpoint_set_name and ep.probe for r in e.vms for ep in r.input_endpoints)
    assert {x.name for r in e.vms for x in r.extensions} >= {"BGInfo", "VMAccessAgent", "CustomScriptExtension",
                                                              "MicrosoftMonitoringAgent"}
    assert any(not dk.attached for dk in e.disks) and e.os_images
    assert all(r.name.startswith(f"vm{r.service_name[2:]}-") for r in e.vms)
    assert all(r.guest_agent is None for r in e.vms if not r.allocated)


def test_location_puts_everything_in_one_region() -> None:
    e = generate(300, seed=2, location="westus", blockers=0.2)
    locations = {h.location for h in e.hosted_services} | {v.location for v in e.virtual_networks} \
        | {a.location for a in e.storage_accounts} | {r.location for r in e.reserved_ips}
    assert locations == {"West US"}
    assert e.subscription is not None and list(e.subscription.arm_quotas) == ["westus"]


def test_subscription_id_is_used() -> None:
    e = generate(5, subscription_id="11111111-2222-3333-4444-555555555555")
    assert e.subscription is not None and e.subscription.id == "11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize("kwargs", [{"vms": -1}, {"vms": 1, "blockers": 1.5}, {"vms": 1, "blockers": -0.1},
                                    {"vms": 1, "vnets": -2}, {"vms": 1, "location": "Atlantis"}])
def test_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        generate(**kwargs)


@pytest.mark.parametrize("blockers", [0.0, 0.5])
def test_integrity(blockers: float) -> None:
    e = generate(800, seed=5, blockers=blockers)
    check_integrity(e)
    check_revalidates(e)


def test_no_blockers_means_no_blocker_notes_and_a_clean_estate() -> None:
    e = generate(2000, seed=4)
    assert blocker_notes(e) == []
    assert _blocker_findings(e) == []


def test_blocker_fraction_and_every_kind() -> None:
    e = generate(2000, seed=9, blockers=0.3)
    notes = blocker_notes(e)
    assert len(notes) == int(0.3 * len(e.deployments) + 0.5)
    assert all(NOTE.match(n) for n in notes)
    assert {n.split()[1] for n in notes} == set(BLOCKER_RULES)
    assert sorted(notes) == sorted(_blocker_findings(e))  # each note real, nothing else blocks
    check_integrity(e)


def test_every_deployment_blocked_at_fraction_one() -> None:
    e = generate(200, seed=1, blockers=1.0)
    notes = blocker_notes(e)
    assert len(notes) == len(e.deployments)
    assert sorted(notes) == sorted(_blocker_findings(e))
    check_integrity(e)


def test_ten_thousand_vms() -> None:
    e = generate(10_000, seed=0, blockers=0.1)
    assert len(e.vms) == 10_000
    assert len(e.virtual_networks) == 50


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vms=st.integers(0, 40), vnets=st.one_of(st.none(), st.integers(0, 4)), seed=st.integers(0, 2**32 - 1),
       blockers=st.floats(0.0, 1.0))
def test_integrity_property(vms: int, vnets: int | None, seed: int, blockers: float) -> None:
    e = generate(vms, vnets=vnets, seed=seed, blockers=blockers)
    assert len(e.vms) == vms
    check_integrity(e)
    check_revalidates(e)
    notes = blocker_notes(e)
    assert len(notes) == int(blockers * len(e.deployments) + 0.5)
    assert sorted(notes) == sorted(_blocker_findings(e))
