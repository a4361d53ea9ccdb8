"""A real classic2arm server for the ASM tests: uvicorn in a background thread on 127.0.0.1 (free port),
over a store holding a generated estate, with the clock fixed at 2023-06-01 and a minted bearer token.

TLS is one parameter away: `LiveServer.start(..., tls=(certfile, keyfile))` serves HTTPS and the base URL
follows; the tests only ever use `server.base_url` / `server.host`.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from classic2arm.domain import classic as c
from classic2arm.domain import generator
from classic2arm.domain.estate import Estate
from classic2arm.service import clock, credentials, estate, world_clock
from classic2arm.service.context import AppContext
from classic2arm.store.schema import operations, resources, subscriptions, units

SUB = "00000000-0000-0000-0000-000000000001"
OTHER_SUB = "00000000-0000-0000-0000-0000000000b2"
LOCATION = "West US"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_app(ctx: AppContext) -> FastAPI:
    """The real application; if the ARM package is mid-construction, the ASM routes alone on the same app
    skeleton (what this suite tests is the ASM surface)."""
    try:
        from classic2arm.api.app import create_app

        return create_app(ctx)
    except (ImportError, AttributeError):
        from classic2arm.api.app import RequestId
        from classic2arm.api.asm import routes

        app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
        app.state.ctx = ctx
        app.state.admin = False
        app.add_middleware(RequestId)
        routes.install(app)
        return app


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


@dataclass
class LiveServer:
    ctx: AppContext
    port: int
    token: str
    other_token: str
    scheme: str = "http"
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    notes: list[str] = field(default_factory=list)

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
    def start(cls, db: Path, vms: int = 24, vnets: int = 2, seed: int = 7,
              tls: tuple[str, str] | None = None) -> LiveServer:
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
        live = cls(ctx, free_port(), token, other, scheme="https" if tls else "http")
        config = uvicorn.Config(make_app(ctx), host="127.0.0.1", port=live.port, log_level="warning",
                                ssl_certfile=tls[0] if tls else None, ssl_keyfile=tls[1] if tls else None)
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
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.ctx.close()

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
