"""The ASM auth matrix, over HTTPS: every endpoint family of the classic API (every GET, every write, all 24
migration calls) tried

- without credentials → 401;
- with a valid token of another subscription → 403, in both directions, and the answer names neither
  subscription nor any resource of the subscription asked about;
- with expired tokens (minted already expired, and one that expires while we wait) → 401;
- with garbage (empty bearer, bare scheme, random string, 10 KB string, non-ASCII bytes, a well-formed
  token never minted, the token of a deleted credential, a Basic header) → 401;
- with a registered management certificate of another subscription (TLS client certificate) → 403, and
  with an unregistered certificate → 403 (or a failed handshake where the server can only trust registered
  certificates);

every refusal an ASM `<Error>` with a request id; the store unchanged at the end. Controls: the caller's
own credentials reach every endpoint (GETs answer 200; writes, sent without `x-ms-version`, get past auth
to the version check, so nothing runs).

The write bodies are the ones azure-servicemanagement-legacy sends: its methods run against a session that
records the request instead of sending it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from live import LOCATION, OTHER_SUB, SUB, LiveServer, ManagementCertificate
from lxml import etree

from classic2arm.domain import classic as c
from classic2arm.domain import generator
from classic2arm.domain import identity as ids
from classic2arm.domain.estate import Estate
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import admin, estate, migration
from classic2arm.service.context import AppContext
from classic2arm.store.schema import credentials as credentials_table

sm = pytest.importorskip("azure.servicemanagement")

NS = "http://schemas.microsoft.com/windowsazure"
VERSION = "2016-07-01"


# --------------------------------------------------------------------------- the other subscription's estate


def their_estate() -> Estate:
    """A small estate for OTHER_SUB, with standalone resources whose names appear nowhere in SUB's."""
    gen = generator.generate(vms=4, vnets=1, seed=3, blockers=0.0, subscription_id=OTHER_SUB, location=LOCATION)
    gen.merge(Estate(
        network_security_groups=[c.NetworkSecurityGroup(name="their-nsg", location=LOCATION)],
        route_tables=[c.RouteTable(name="their-routes", location=LOCATION)],
        storage_accounts=[c.StorageAccount(name="theirstore77", location=LOCATION)],
        os_images=[c.OSImage(name="their-image", os="Linux", location=LOCATION, label="theirs",
                             media_link="https://theirstore77.blob.core.windows.net/vhds/their-image.vhd")],
    ))
    return gen


@dataclass(frozen=True)
class Names:
    """Real resource names of one subscription (the paths ask for things that exist)."""

    sub: str
    svc: str
    dep: str
    role: str
    lun: int
    disk: str
    image: str
    vnet: str
    rip: str
    nsg: str
    rt: str
    storage: str
    op: str
    everything: frozenset[str]  # every resource name in the subscription (what must never leak)

    @classmethod
    def of(cls, live: LiveServer, sub: str) -> Names:
        scoped = AppContext(live.ctx.store, sub)
        with live.ctx.store.read() as tx:
            rows = tx.resources.query(sub)
        by_type: dict[str, list[Any]] = {}
        for row in sorted(rows, key=lambda r: r.name):
            by_type.setdefault(row.type, []).append(row)
        vms = [c.Role.model_validate(r.doc) for r in by_type[ids.T_VM]]
        vm = next((v for v in vms if v.data_disks), vms[0])
        vnet = by_type[ids.T_VNET][0].name
        op = migration.validate(scoped, UnitRef(UnitKind.VNET, vnet)).operation_id
        storage = "solostore" if sub == SUB else "theirstore77"
        return cls(sub, vm.service_name, vm.deployment_name, vm.name, vm.data_disks[0].lun if vm.data_disks else 0,
                   by_type[ids.T_DISK][0].name, by_type[ids.T_OS_IMAGE][0].name, vnet,
                   by_type[ids.T_RESERVED_IP][0].name, by_type[ids.T_NSG][0].name, by_type[ids.T_ROUTE_TABLE][0].name,
                   storage, op, frozenset(r.name for r in rows))


# --------------------------------------------------------------------------- requests as the SDK builds them


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


class Recorder(requests.Session):
    """A session that records what azure-servicemanagement-legacy would send and answers 202 itself."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        path = str(url).split("://", 1)[1].split("/", 1)[1]
        headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() == "content-type"}
        data = kwargs.get("data") or b""
        self.calls.append(Call(str(method), "/" + path, data.encode() if isinstance(data, str) else data,
                               tuple(headers.items())))
        resp = requests.Response()
        resp.status_code, resp.reason, resp._content = 202, "Accepted", b""
        resp.headers["x-ms-request-id"] = "0" * 32
        return resp


def _linux(host: str) -> Any:
    config = sm.LinuxConfigurationSet(host, "azureuser", "Passw0rd!Passw0rd", True)
    config.ssh = None
    return config


def _network(port: int) -> Any:
    net = sm.ConfigurationSet()
    net.configuration_set_type = "NetworkConfiguration"
    net.input_endpoints.input_endpoints.append(sm.ConfigurationSetInputEndpoint("SSH", "tcp", str(port), "22"))
    return net


def write_calls(n: Names, media: bytes) -> dict[str, Call]:
    """Every ASM write as the SDK sends it (on `n`'s real resources, or new names where it creates one)."""
    rec = Recorder()
    client = sm.ServiceManagementService(n.sub, host="recorder.invalid", request_session=rec)
    disk = sm.OSVirtualHardDisk(n.image, f"https://{n.storage}.blob.core.windows.net/vhds/authvm.vhd")
    steps: dict[str, Any] = {
        "create-hosted-service": lambda: client.create_hosted_service("authsvc1", "auth", location=LOCATION),
        "delete-hosted-service": lambda: client.delete_hosted_service(n.svc),
        "create-vm-deployment": lambda: client.create_virtual_machine_deployment(
            n.svc, "authdep", "production", "authdep", "authvm", _linux("authvm"), disk,
            network_config=_network(22), role_size="Small"),
        "delete-deployment": lambda: client.delete_deployment(n.svc, n.dep, delete_vhd=True),
        "add-role": lambda: client.add_role(n.svc, n.dep, "authvm2", _linux("authvm2"), disk,
                                            network_config=_network(2222), role_size="Small"),
        "update-role": lambda: client.update_role(n.svc, n.dep, n.role, role_size="Large"),
        "delete-role": lambda: client.delete_role(n.svc, n.dep, n.role, complete=True),
        "add-data-disk": lambda: client.add_data_disk(
            n.svc, n.dep, n.role, 9, host_caching="ReadOnly", logical_disk_size_in_gb=20,
            media_link=f"https://{n.storage}.blob.core.windows.net/vhds/auth-data9.vhd"),
        "shutdown-role": lambda: client.shutdown_role(n.svc, n.dep, n.role, "StoppedDeallocated"),
        "start-role": lambda: client.start_role(n.svc, n.dep, n.role),
        "create-storage-account": lambda: client.create_storage_account(
            "authstore01", "auth", "auth", location=LOCATION, account_type="Standard_LRS"),
        "delete-storage-account": lambda: client.delete_storage_account(n.storage),
        "create-reserved-ip": lambda: client.create_reserved_ip_address("auth-rip", label="auth", location=LOCATION),
        "delete-reserved-ip": lambda: client.delete_reserved_ip_address(n.rip),
        "associate-reserved-ip": lambda: client.associate_reserved_ip_address(n.rip, n.svc, n.dep),
        "disassociate-reserved-ip": lambda: client.disassociate_reserved_ip_address(n.rip, n.svc, n.dep),
    }
    calls: dict[str, Call] = {}
    for family, step in steps.items():
        step()
        calls[family] = rec.calls[-1]
    new_site = (b'<VirtualNetworkSite name="authvnet" Location="West US"><AddressSpace><AddressPrefix>10.250.0.0/16'
                b'</AddressPrefix></AddressSpace><Subnets><Subnet name="s"><AddressPrefix>10.250.0.0/24</AddressPrefix>'
                b"</Subnet></Subnets></VirtualNetworkSite></VirtualNetworkSites>")
    calls["set-network-configuration"] = Call("PUT", f"/{n.sub}/services/networking/media",
                                              media.replace(b"</VirtualNetworkSites>", new_site, 1),
                                              (("Content-Type", "text/plain"),))
    return calls


def read_calls(n: Names) -> dict[str, Call]:
    s, hs, net, stg = f"/{n.sub}", f"/{n.sub}/services/hostedservices", f"/{n.sub}/services/networking", \
        f"/{n.sub}/services/storageservices"
    dep = f"{hs}/{n.svc}/deployments/{n.dep}"
    paths = {
        "subscription": s, "locations": f"{s}/locations", "role-sizes": f"{s}/rolesizes",
        "affinity-groups": f"{s}/affinitygroups", "management-certificates": f"{s}/certificates",
        "operations-list": f"{s}/operations", "operation-status": f"{s}/operations/{n.op}",
        "hosted-services": hs, "hosted-service": f"{hs}/{n.svc}",
        "hosted-service-embed-detail": f"{hs}/{n.svc}?embed-detail=true",
        "service-certificates": f"{hs}/{n.svc}/certificates",
        "deployment-by-slot": f"{hs}/{n.svc}/deploymentslots/Production", "deployment-by-name": dep,
        "role": f"{dep}/roles/{n.role}", "data-disk": f"{dep}/roles/{n.role}/DataDisks/{n.lun}",
        "disks": f"{s}/services/disks", "disk": f"{s}/services/disks/{n.disk}",
        "os-images": f"{s}/services/images", "os-image": f"{s}/services/images/{n.image}",
        "os-image-details": f"{s}/services/images/{n.image}/details", "vm-images": f"{s}/services/vmimages",
        "resource-extensions": f"{s}/services/resourceextensions",
        "virtual-network-sites": f"{net}/virtualnetwork", "network-configuration": f"{net}/media",
        "reserved-ips": f"{net}/reservedips", "reserved-ip": f"{net}/reservedips/{n.rip}",
        "nsgs": f"{net}/networksecuritygroups", "nsg": f"{net}/networksecuritygroups/{n.nsg}",
        "route-tables": f"{net}/routetables", "route-table": f"{net}/routetables/{n.rt}",
        "storage-accounts": stg, "storage-account": f"{stg}/{n.storage}", "storage-keys": f"{stg}/{n.storage}/keys",
        "storage-name-available": f"{stg}/operations/isavailable/{n.storage}",
        "unknown-path": f"{s}/services/{n.svc}/nothing-here",  # the catch-all: 404 past auth
    }
    return {family: Call("GET", path) for family, path in paths.items()}


def migration_calls(n: Names) -> dict[str, Call]:
    units = {
        "deployment": f"/{n.sub}/services/hostedservices/{n.svc}/deployments/{n.dep}",
        "vnet": f"/{n.sub}/services/networking/virtualnetwork/{n.vnet}",
        "storage": f"/{n.sub}/services/storageservices/{n.storage}",
        "reserved-ip": f"/{n.sub}/services/networking/reservedips/{n.rip}",
        "nsg": f"/{n.sub}/services/networking/networksecuritygroups/{n.nsg}",
        "route-table": f"/{n.sub}/services/networking/routetables/{n.rt}",
    }
    destination = (f'<DeploymentNetworkResource xmlns="{NS}"><ResourceGroupName></ResourceGroupName>'
                   "<VirtualNetworkName></VirtualNetworkName><SubNetName></SubNetName>"
                   "<DestinationVirtualNetwork>New</DestinationVirtualNetwork></DeploymentNetworkResource>").encode()
    out: dict[str, Call] = {}
    for unit, path in units.items():
        for comp in ("validate", "prepare", "commit", "abort"):
            body = destination if unit == "deployment" and comp in ("validate", "prepare") else b""
            headers = (("Content-Type", "application/xml"),) if body else ()
            out[f"migrate-{unit}-{comp}"] = Call("POST", f"{path}/migration?comp={comp}", body, headers)
    return out


READS = list(read_calls(Names("s", "svc", "dep", "role", 0, "disk", "image", "vnet", "rip", "nsg", "rt", "storage",
                              "op", frozenset())))
WRITES = ["create-hosted-service", "delete-hosted-service", "create-vm-deployment", "delete-deployment", "add-role",
          "update-role", "delete-role", "add-data-disk", "shutdown-role", "start-role", "create-storage-account",
          "delete-storage-account", "create-reserved-ip", "delete-reserved-ip", "associate-reserved-ip",
          "disassociate-reserved-ip", "set-network-configuration"]
MIGRATIONS = [f"migrate-{u}-{c}" for u in ("deployment", "vnet", "storage", "reserved-ip", "nsg", "route-table")
              for c in ("validate", "prepare", "commit", "abort")]
FAMILIES = READS + WRITES + MIGRATIONS


# --------------------------------------------------------------------------- fixtures


@dataclass
class World:
    live: LiveServer
    names: dict[str, Names]  # by subscription
    calls: dict[str, dict[str, Call]]  # by subscription, by family
    tokens: dict[str, str]  # by subscription: a valid token
    certs: dict[str, ManagementCertificate]  # by subscription: a registered management certificate
    stranger: ManagementCertificate  # registered nowhere
    expired_cert: ManagementCertificate  # registered to SUB, validity over
    bad_headers: dict[str, str | bytes]  # garbage and expired Authorization headers, by kind
    before: dict[str, Any]
    plain: requests.Session = field(init=False)  # no client certificate
    sessions: dict[str, requests.Session] = field(init=False)  # by certificate

    def send(self, call: Call, auth: str | bytes | None = None, cert: ManagementCertificate | None = None,
             version: bool = True) -> requests.Response:
        headers: dict[str, str | bytes] = dict(call.headers)
        if version:
            headers["x-ms-version"] = VERSION
        if auth is not None:
            headers["Authorization"] = auth
        session = self.sessions[cert.thumbprint or str(cert.cert)] if cert else self.plain
        return session.request(call.method, self.live.base_url + call.path, data=call.body or None,
                               headers=headers, timeout=30)

    def __post_init__(self) -> None:
        self.plain = self.live.session(version=None)
        self.sessions = {(cert.thumbprint or str(cert.cert)): self.live.session(cert=cert, version=None)
                         for cert in [*self.certs.values(), self.stranger, self.expired_cert]}


def expired_certificate(live: LiveServer, folder: Path) -> ManagementCertificate:
    """A management certificate registered to SUB whose validity ended yesterday."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"expired {uuid.uuid4().hex[:8]}")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=30))
            .not_valid_after(now - timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "cert.pem", folder / "key.pem", folder / "both.pem")
    for path, data in zip(paths, (cert_pem, key_pem, cert_pem + key_pem), strict=True):
        path.write_bytes(data)
    thumb = admin.register_certificate(live.ctx, SUB, cert_pem)
    live.refresh_trust()
    return ManagementCertificate(*paths, thumb)


def _delete_credential(live: LiveServer, token: str) -> None:
    with live.ctx.store.engine.begin() as conn:
        gone = conn.execute(sa.delete(credentials_table).where(
            credentials_table.c.id == hashlib.sha256(token.encode()).hexdigest()))
    assert gone.rowcount == 1


@pytest.fixture(scope="module")
def world(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    estate.import_estate(AppContext(live.ctx.store, OTHER_SUB), their_estate(), source="theirs")
    names = {sub: Names.of(live, sub) for sub in (SUB, OTHER_SUB)}
    assert not ({n for n in names[OTHER_SUB].everything if len(n) > 6} & {"solostore", "nsg-solo", "rt-solo"})
    tokens = {SUB: live.token, OTHER_SUB: live.other_token}
    media: dict[str, bytes] = {}
    with live.session(live.token) as mine, live.session(live.other_token) as theirs:
        for sub, s in ((SUB, mine), (OTHER_SUB, theirs)):
            r = s.get(f"{live.base_url}/{sub}/services/networking/media")
            assert r.status_code == 200, r.text
            media[sub] = r.content
    calls = {sub: {**read_calls(n), **write_calls(n, media[sub]), **migration_calls(n)} for sub, n in names.items()}
    assert all(sorted(c) == sorted(FAMILIES) for c in calls.values())
    folder = tmp_path_factory.mktemp("auth-certs")
    certs = {sub: live.management_certificate(folder / sub[-2:], sub) for sub in (SUB, OTHER_SUB)}
    stranger = live.management_certificate(folder / "stranger", register=False)
    expired_cert = expired_certificate(live, folder / "expired")
    # expired: one minted already expired, one that expires while we wait
    expired = live.mint_token(SUB, ttl=timedelta(seconds=-1))
    short = live.mint_token(SUB, ttl=timedelta(seconds=1))
    deleted = live.mint_token(SUB)
    with live.session(deleted) as s:
        assert s.get(f"{live.base_url}/{SUB}/locations").status_code == 200
    _delete_credential(live, deleted)
    time.sleep(1.1)
    bad: dict[str, str | bytes] = {
        "expired": f"Bearer {expired}",
        "expired-after-wait": f"Bearer {short}",
        "empty-bearer": "Bearer ",
        "bare-scheme": "Bearer",
        "random-string": "Bearer " + secrets.token_hex(24),
        "huge-10k": "Bearer " + secrets.token_urlsafe(7700)[:10 * 1024],
        "non-ascii": "Bearer jeton-été-ключ-令牌".encode(),
        "unknown-well-formed": "Bearer c2a." + secrets.token_urlsafe(32),
        "deleted-credential": f"Bearer {deleted}",
        "basic-scheme": "Basic dXNlcjpwYXNzd29yZA==",
        "token-with-suffix": f"Bearer {live.token}x",
    }
    w = World(live, names, calls, tokens, certs, stranger, expired_cert, bad, before={})
    w.before = live.dump()
    yield w
    w.plain.close()
    for s in w.sessions.values():
        s.close()


# --------------------------------------------------------------------------- checks


def assert_asm_error(resp: requests.Response, status: int, *secrets_: str) -> str:
    """An ASM <Error> with Code and Message, a request id, nothing secret or foreign in it; returns the text."""
    assert resp.status_code == status, (resp.status_code, resp.text[:400])
    assert resp.headers.get("content-type", "").startswith("application/xml"), resp.headers
    root = etree.fromstring(resp.content)
    assert root.tag == f"{{{NS}}}Error", resp.text[:300]
    assert [child.tag for child in root] == [f"{{{NS}}}Code", f"{{{NS}}}Message"], resp.text[:300]
    assert root.findtext(f"{{{NS}}}Code") and root.findtext(f"{{{NS}}}Message")
    assert len(resp.headers.get("x-ms-request-id", "")) >= 32
    shown = resp.text + " ".join(f"{k}: {v}" for k, v in resp.headers.items())
    for secret in secrets_:
        assert secret not in shown, secret[:60]
    return shown


def assert_no_leak(shown: str, asked: Names) -> None:
    """Nothing about the subscription asked about (nor the caller's): ids, names in the path, any resource."""
    for sub in (SUB, OTHER_SUB):
        assert sub not in shown and sub.replace("-", "") not in shown
    leaked = {n for n in asked.everything if len(n) >= 5 and n in shown}
    assert not leaked, leaked
    for word in (asked.svc, asked.dep, asked.role, asked.vnet, asked.rip, asked.nsg, asked.rt, asked.storage,
                 asked.disk, asked.image, asked.op):
        assert word not in shown, word


# --------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize("family", FAMILIES)
def test_own_credentials_reach_the_endpoint(world: World, family: str) -> None:
    """Control: the paths are real. Token and certificate of the right subscription get past auth."""
    call = world.calls[SUB][family]
    if family == "unknown-path":
        for resp in (world.send(call, f"Bearer {world.tokens[SUB]}"), world.send(call, cert=world.certs[SUB])):
            assert_asm_error(resp, 404)
    elif call.method == "GET":
        assert world.send(call, f"Bearer {world.tokens[SUB]}").status_code == 200, family
        assert world.send(call, cert=world.certs[SUB]).status_code == 200, family
    else:  # without x-ms-version: past auth, stopped by the version check before anything runs
        for resp in (world.send(call, f"Bearer {world.tokens[SUB]}", version=False),
                     world.send(call, cert=world.certs[SUB], version=False)):
            assert_asm_error(resp, 400)
            assert b"<Code>MissingOrIncorrectVersionHeader</Code>" in resp.content


@pytest.mark.parametrize("family", FAMILIES)
def test_no_credentials_401(world: World, family: str) -> None:
    call = world.calls[SUB][family]
    shown = assert_asm_error(world.send(call), 401)
    assert_no_leak(shown, world.names[SUB])
    # and without x-ms-version either: auth comes first
    assert_asm_error(world.send(call, version=False), 401)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("caller", [OTHER_SUB, SUB], ids=["theirs-on-ours", "ours-on-theirs"])
def test_another_subscriptions_token_403(world: World, family: str, caller: str) -> None:
    asked = OTHER_SUB if caller == SUB else SUB
    token = world.tokens[caller]
    shown = assert_asm_error(world.send(world.calls[asked][family], f"Bearer {token}"), 403, token)
    assert_no_leak(shown, world.names[asked])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("kind", ["expired", "expired-after-wait", "empty-bearer", "bare-scheme", "random-string",
                                  "huge-10k", "non-ascii", "unknown-well-formed", "deleted-credential",
                                  "basic-scheme", "token-with-suffix"])
def test_expired_and_garbage_tokens_401(world: World, family: str, kind: str) -> None:
    header = world.bad_headers[kind]
    secret = header.decode() if isinstance(header, bytes) else header
    token = secret.partition(" ")[2]
    shown = assert_asm_error(world.send(world.calls[SUB][family], header), 401, *([token] if len(token) > 3 else []))
    assert_no_leak(shown, world.names[SUB])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("holder", [OTHER_SUB, SUB], ids=["theirs-on-ours", "ours-on-theirs"])
def test_another_subscriptions_management_certificate_403(world: World, family: str, holder: str) -> None:
    asked = OTHER_SUB if holder == SUB else SUB
    cert = world.certs[holder]
    assert cert.thumbprint is not None
    shown = assert_asm_error(world.send(world.calls[asked][family], cert=cert), 403, cert.thumbprint)
    assert_no_leak(shown, world.names[asked])


@pytest.mark.parametrize("family", FAMILIES)
def test_unregistered_management_certificate_refused(world: World, family: str) -> None:
    call = world.calls[SUB][family]
    if not world.live.any_client_certificate:  # "registered" trust: refused at the TLS layer
        with pytest.raises(requests.exceptions.ConnectionError):  # SSLError, or a reset under TLS 1.3
            world.send(call, cert=world.stranger)
        return
    shown = assert_asm_error(world.send(call, cert=world.stranger), 403)
    assert_no_leak(shown, world.names[SUB])


@pytest.mark.parametrize("family", FAMILIES)
def test_expired_management_certificate_refused(world: World, family: str) -> None:
    """Registered to the subscription asked about, but its validity is over."""
    call = world.calls[SUB][family]
    if not world.live.any_client_certificate:
        with pytest.raises(requests.exceptions.ConnectionError):  # SSLError, or a reset under TLS 1.3
            world.send(call, cert=world.expired_cert)
        return
    shown = assert_asm_error(world.send(call, cert=world.expired_cert), 403)
    assert_no_leak(shown, world.names[SUB])


def _refusal(resp: requests.Response) -> tuple[int, str | None, str | None]:
    root = etree.fromstring(resp.content)
    return resp.status_code, root.findtext(f"{{{NS}}}Code"), root.findtext(f"{{{NS}}}Message")


@pytest.mark.parametrize("family", FAMILIES)
def test_refusal_does_not_reveal_what_exists(world: World, family: str) -> None:
    """Another subscription's real resources, a made-up subscription with made-up names: the same answer."""
    ghost_sub = str(uuid.uuid4())
    real = world.calls[OTHER_SUB][family]
    ghost = Call(real.method, real.path.replace(OTHER_SUB, ghost_sub), real.body, real.headers)
    for name in sorted(n for n in world.names[OTHER_SUB].everything if len(n) >= 5):
        ghost = Call(ghost.method, ghost.path.replace(f"/{name}", f"/ghost{name[::-1]}"), ghost.body, ghost.headers)
    mine = f"Bearer {world.tokens[SUB]}"
    answers = {_refusal(world.send(real, mine)), _refusal(world.send(ghost, mine)),
               _refusal(world.send(real, cert=world.certs[SUB])), _refusal(world.send(ghost, cert=world.certs[SUB]))}
    assert len(answers) == 1 and next(iter(answers))[0] == 403, answers


def test_a_token_header_wins_over_a_valid_certificate(world: World) -> None:
    """A bad bearer token is not rescued by a good certificate (no silent fallback)."""
    call = world.calls[SUB]["subscription"]
    assert_asm_error(world.send(call, "Bearer nope", cert=world.certs[SUB]), 401)
    assert_asm_error(world.send(call, f"Bearer {world.tokens[OTHER_SUB]}", cert=world.certs[SUB]), 403)


def test_store_unchanged_and_server_up(world: World) -> None:
    assert world.live.dump() == world.before
    assert world.send(world.calls[SUB]["subscription"], f"Bearer {world.tokens[SUB]}").status_code == 200
    assert world.live.alive()


def test_matrix_size() -> None:
    assert len(READS) == 35 and len(WRITES) == 17 and len(MIGRATIONS) == 24 and len(FAMILIES) == 76


def test_secrets_not_in_server_state(world: World) -> None:
    """Tokens and certificates are stored hashed / by thumbprint only."""
    with world.live.ctx.store.engine.connect() as conn:
        stored = " ".join(str(tuple(r)) for r in conn.execute(sa.select(credentials_table)))
    for token in world.tokens.values():
        assert token not in stored and token.removeprefix("c2a.") not in stored
    for cert in world.certs.values():
        assert cert.key.read_text().splitlines()[1] not in stored
