"""The test estate behind the ARM API tests: a generated estate (clock fixed 2023-06-01) with a second
subscription beside it, units prepared through the migration service, tokens minted by the credentials
service and a real server over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from arm_server import Running, serve

from classic2arm.domain import classic as c
from classic2arm.domain import generator
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.service import classic_writes, clock, credentials, estate, migration, status, world_clock
from classic2arm.service.context import AppContext

SUB = "00000000-0000-0000-0000-000000000001"
OTHER_SUB = "00000000-0000-0000-0000-0000000000bb"
API = "2024-07-01"
STORAGE = "armtestdata01"


@dataclass
class Env:
    ctx: AppContext
    url: str
    token: str
    other_token: str  # a valid token for OTHER_SUB
    ca_path: Path | None
    vnet: UnitRef | None = None
    deployment: UnitRef | None = None
    storage: UnitRef | None = None

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        verify: str | bool = str(self.ca_path) if self.ca_path else True
        return httpx.Client(base_url=self.url, headers=headers, verify=verify, timeout=60)


def open_estate(folder: Path) -> AppContext:
    ctx = AppContext.open(f"sqlite:///{folder / 'arm.db'}")
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(ctx, generator.generate(vms=60, vnets=2, seed=11, blockers=0.0), source="gen")
    estate.import_estate(AppContext(ctx.store, OTHER_SUB),
                         generator.generate(vms=3, vnets=1, seed=5, subscription_id=OTHER_SUB), source="other")
    return ctx


def prepare_units(ctx: AppContext) -> tuple[UnitRef, UnitRef, UnitRef]:
    scoped = AppContext(ctx.store, SUB)
    units = status.status(scoped)
    vnet = max((u for u in units if u.kind == "vnet"), key=lambda u: u.vms)
    dep = next(u for u in units if u.kind == "deployment" and u.vms > 0)
    # a storage account without disks or images (the generated ones hold VHDs of unmigrated VMs)
    classic_writes.create_storage_account(scoped, c.StorageAccount(name=STORAGE, location="West US"))
    refs = (UnitRef(UnitKind.VNET, vnet.name), UnitRef(UnitKind.DEPLOYMENT, dep.name, dep.service,
                                                       Destination("New")), UnitRef(UnitKind.STORAGE, STORAGE))
    for ref in refs:
        assert migration.execute(scoped, Op.PREPARE, ref).status == "Succeeded", ref
    return refs


def make_env(folder: Path, tls: bool, prepared: bool) -> Iterator[Env]:
    ctx = open_estate(folder)
    refs = prepare_units(ctx) if prepared else (None, None, None)
    token, _ = credentials.create_token(ctx, SUB)
    other, _ = credentials.create_token(ctx, OTHER_SUB)
    with serve(ctx, folder, tls=tls) as running:
        yield _make(ctx, running, token, other, refs)
    ctx.close()


def _make(ctx: AppContext, running: Running, token: str, other: str,
          refs: tuple[UnitRef | None, UnitRef | None, UnitRef | None]) -> Env:
    return Env(ctx, running.base_url, token, other, running.ca_path, *refs)
