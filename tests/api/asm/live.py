"""A real classic2arm server for the ASM tests: uvicorn in a background thread on 127.0.0.1 (free port),
over a store holding a generated estate, with the clock fixed at 2023-06-01 and a minted bearer token.

HTTPS: `LiveServer.start_tls(db, folder)` makes a throwaway CA and server certificate in `folder`
(`classic2arm.api.tls.throwaway_ca`) and serves them the way `classic2arm serve --tls` does: the server's
`ServerTLS` context (asks for a client certificate, accepts any, the app matches its thumbprint) and the
uvicorn protocol that hands the management certificate to the app. `start(..., tls=(cert, key), ca=...)`
does the same with given files. Tests use `server.base_url` / `server.host`, `server.ca` (the CA to trust),
`server.session(...)` (a requests session trusting only that CA) and `server.management_certificate(...)`.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
import uvicorn

from classic2arm.api import tls as tlsmod
from classic2arm.api.app import create_app
from classic2arm.domain import classic as c
from classic2arm.domain import generator
from classic2arm.domain.estate import Estate
from classic2arm.service import admin, clock, credentials, estate, world_clock
from classic2arm.service.context import AppContext
from classic2arm.store.schema import operations, resources, subscriptions, units

SUB = "00000000-0000-0000-0000-000000000001"
OTHER_SUB = "00000000-0000-0000-0000-0000000000b2"
LOCATION = "West US"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sdk_client(live: LiveServer) -> Any:
    """The Azure SDK's ServiceManagementService over HTTPS: a requests session trusting the test CA (verify=ca,
    trust_env off, since REQUESTS_CA_BUNDLE may point at the system bundle) with the bearer token; the library
    sets x-ms-version."""
    import azure.servicemanagement as sm

    session = live.session(live.token, version=None)
    client = sm.ServiceManagementService(SUB, host=live.host, request_session=session)
    assert client._httpclient.protocol == live.scheme == "https"  # the library's default protocol
    return client


def extras() -> Estate:
    """Standalone units the node scenario migrates on their own: an NSG, a route table and a storage account
    that nothing uses (a generated estate attaches its NSGs/route tables to subnets)."""
    return Estate(
        network_security_groups=[c.NetworkSecurityGroup(name="nsg-solo", location=LOCATION, rules=[
            c.NsgRule(name="allow-https", priority=100, destination_port_range="443", protocol="TCP")])],
        route_tables=[c.RouteTable(name="rt-solo", location=LOCATION, routes=[
            c.Route(name="to-fw", address_prefix="0.0.0.0/0", next_hop_type="VirtualAppliance",
                    next_hop_ip_address="10.9.9.9")])],
        storage_accounts=[c.StorageAccount(name="solostore", location=LOCATION, account_type="Standard_GRS",
                                           primary_key="cHJpbWFyeQ==", secondary_key="c2Vjb25kYXJ5")],
        os_images=[c.OSImage(name="golden-ubuntu", os="Linux", location=LOCATION, label="Golden Ubuntu",
                             media_link="https://imagestore.blob.core.windows.net/vhds/golden-ubuntu.vhd")],
        vm_images=[c.VMImage(name="web-tier", os="Windows", location=LOCATION, label="Web tier",
                             media_links=["https://imagestore.blob.core.windows.net/vhds/web-os.vhd",
                                          "https://imagestore.blob.core.windows.net/vhds/web-data.vhd"])],
    )


@dataclass(frozen=True)
class ManagementCertificate:
    """A self-signed client certificate: cert.pem, key.pem and both.pem (cert + key, what
    azure-servicemanagement-legacy's `cert_file` and the node clients' `pem` take)."""

    cert: Path
    key: Path
    both: Path
    thumbprint: str | None  # None: not registered

    @property
    def pem(self) -> str:
        return self.both.read_text()


@dataclass
class LiveServer:
    ctx: AppContext
    port: int
    token: str
    other_token: str
    scheme: str = "http"
    ca: Path | None = None  # the CA clients trust (HTTPS only)
    server_tls: tlsmod.ServerTLS | None = None
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    notes: list[str] = field(default_factory=list)
    sessions: list[requests.Session] = field(default_factory=list)  # closed by stop()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "x-ms-version": "2016-07-01"}

    @classmethod
    def start_tls(cls, db: Path, folder: Path, **kwargs: int) -> LiveServer:
        """HTTPS with a throwaway CA (made in `folder`, which should be fresh for each server)."""
        files = tlsmod.throwaway_ca(folder)
        return cls.start(db, tls=(str(files.cert), str(files.key)), ca=files.ca, **kwargs)

    @classmethod
    def start(cls, db: Path, vms: int = 24, vnets: int = 2, seed: int = 7,
              tls: tuple[str, str] | None = None, ca: Path | None = None) -> LiveServer:
        ctx = AppContext.open(f"sqlite:///{db}")
        world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
        generated = generator.generate(vms=vms, vnets=vnets, seed=seed, blockers=0.0, subscription_id=SUB,
                                       location=LOCATION)
        generated.merge(extras())
        estate.import_estate(AppContext(ctx.store, SUB), generated, source="generated")
        estate.import_estate(AppContext(ctx.store, OTHER_SUB), Estate(subscription=c.Subscription(
            id=OTHER_SUB, registered_for_migration=True)), source="other")
        token, _ = credentials.create_token(ctx, SUB)
        other, _ = credentials.create_token(ctx, OTHER_SUB)
        live = cls(ctx, free_port(), token, other, scheme="https" if tls else "http", ca=ca)
        if tls is None:
            config = uvicorn.Config(create_app(ctx), host="127.0.0.1", port=live.port, log_level="warning")
        else:
            server_tls = tlsmod.ServerTLS(tlsmod.TlsFiles(ca, Path(tls[0]), Path(tls[1])))
            live.server_tls = server_tls
            live.refresh_trust()
            config = uvicorn.Config(create_app(ctx), host="127.0.0.1", port=live.port, log_level="warning",
                                    http=tlsmod.protocol_class(),
                                    ssl_context_factory=lambda _config, _default: server_tls.context)
        live.server = uvicorn.Server(config)
        live.thread = threading.Thread(target=live.server.run, name="asm-live-server", daemon=True)
        live.thread.start()
        deadline = time.monotonic() + 20
        while not live.server.started:
            if time.monotonic() > deadline or not live.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return live

    def stop(self) -> None:
        for session in self.sessions:
            session.close()
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=2)
            if self.thread.is_alive() and self.server is not None:
                # a client still holds a keep-alive TLS connection (a library-built session): don't wait
                # for it to go away
                self.server.force_exit = True
                self.thread.join(timeout=10)
        self.ctx.close()

    def refresh_trust(self) -> None:
        """What `classic2arm serve` does every ~2 s: in "registered" client-trust mode, trust newly registered
        management certificates at the TLS layer (a no-op in the default "any" mode)."""
        if self.server_tls is not None:
            self.server_tls.trust_certificates(admin.management_certificates(self.ctx))

    @property
    def any_client_certificate(self) -> bool:
        """Whether an unregistered client certificate gets through the handshake (and is refused by the app)."""
        return self.server_tls is not None and self.server_tls.trust == "any"

    def management_certificate(self, folder: Path, subscription: str | None = SUB,
                               register: bool = True) -> ManagementCertificate:
        """A new management certificate in `folder` (distinct subject), registered for `subscription` the way
        `classic2arm cert create` does (`service.admin.register_certificate`, which keeps the PEM for the
        server's trust store) unless `register` is False."""
        cert_pem, key_pem = credentials.make_certificate(f"asm test {folder.name} {time.monotonic_ns()}"[:64])
        folder.mkdir(parents=True, exist_ok=True)
        paths = (folder / "cert.pem", folder / "key.pem", folder / "both.pem")
        for path, data in zip(paths, (cert_pem, key_pem, cert_pem + key_pem), strict=True):
            path.write_bytes(data)
        thumb = admin.register_certificate(self.ctx, subscription, cert_pem) if register and subscription else None
        self.refresh_trust()
        return ManagementCertificate(*paths, thumb)

    def session(self, token: str | None = None, cert: ManagementCertificate | None = None,
                version: str | None = "2016-07-01") -> requests.Session:
        """A requests session for this server: trusts only its CA (trust_env off, so a REQUESTS_CA_BUNDLE in the
        environment can't win), optionally with a bearer token or a client certificate and x-ms-version."""
        s = requests.Session()
        self.sessions.append(s)
        s.trust_env = False
        if self.ca is not None:
            s.verify = str(self.ca)
        if token is not None:
            s.headers["Authorization"] = f"Bearer {token}"
        if cert is not None:
            s.cert = (str(cert.cert), str(cert.key))
        if version is not None:
            s.headers["x-ms-version"] = version
        return s

    def mint_token(self, subscription: str = SUB, ttl: timedelta | None = timedelta(hours=1)) -> str:
        return credentials.create_token(self.ctx, subscription, ttl)[0]

    def alive(self) -> bool:
        return bool(self.thread and self.thread.is_alive())

    def dump(self) -> dict[str, Any]:
        """Every resource row (key, version, document), subscription, unit and operation: the whole store
        state a request could change."""
        with self.ctx.store.engine.connect() as conn:
            rows = {r.key: (r.version, r.migration_state, r.lock_holder, str(r.doc))
                    for r in conn.execute(sa.select(resources))}
            subs = {r.id: str(r.doc) for r in conn.execute(sa.select(subscriptions))}
            unit_rows = {r.id: (r.state, r.operation_id) for r in conn.execute(sa.select(units))}
            ops = {r.id: r.status for r in conn.execute(sa.select(operations))}
        return {"resources": rows, "subscriptions": subs, "units": unit_rows, "operations": ops}
