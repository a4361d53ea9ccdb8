"""Validate throughput: VMs validated per second on generated estates (not a test; prints numbers).

    .venv/bin/python bench/bench_validate.py [--vms 10000] [--blockers 0.0] [--repeat 5]

Two measurements on an estate from `classic2arm.domain.generator.generate`:
- one snapshot holding every cloud service of the estate (the brief's "10,000-VM snapshot"), as a VNet unit;
- every real VNet / deployment unit of the estate, one snapshot each (how the service calls it).
Both run validate and prepare; the best of `--repeat` runs is reported (the least disturbed by the machine).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

from classic2arm.domain import classic as c
from classic2arm.domain.estate import Estate
from classic2arm.domain.generator import generate
from classic2arm.domain.rules import validate
from classic2arm.domain.units import CloudService, Phase, UnitKind, UnitRef, UnitSnapshot

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _services(estate: Estate) -> list[CloudService]:
    hosted = {h.name.lower(): h for h in estate.hosted_services}
    by_dep: dict[tuple[str, str], CloudService] = {}
    for dep in estate.deployments:
        key = (dep.service_name.lower(), dep.name.lower())
        by_dep[key] = CloudService(hosted_service=hosted[dep.service_name.lower()], deployment=dep)
    for role in estate.roles:
        by_dep[(role.service_name.lower(), role.deployment_name.lower())].roles.append(role)
    return list(by_dep.values())


def _snapshot(estate: Estate, ref: UnitRef, services: list[CloudService],
              vnet: c.VirtualNetworkSite | None) -> UnitSnapshot:
    assert estate.subscription is not None
    return UnitSnapshot(
        subscription=estate.subscription, ref=ref, now=NOW, exists=True, location="West US", services=services,
        vnet=vnet, local_sites={s.name.lower(): s for s in estate.local_network_sites},
        nsgs={n.name.lower(): n for n in estate.network_security_groups},
        route_tables={r.name.lower(): r for r in estate.route_tables},
        reserved_ips={r.name.lower(): r for r in estate.reserved_ips},
        storage_accounts={s.name.lower(): s for s in estate.storage_accounts},
        er_circuits={e.service_key.lower(): e for e in estate.express_route_circuits},
    )


def _units(estate: Estate, services: list[CloudService]) -> list[UnitSnapshot]:
    vnets = {v.name.lower(): v for v in estate.virtual_networks}
    inside: dict[str, list[CloudService]] = {k: [] for k in vnets}
    out: list[UnitSnapshot] = []
    for cs in services:
        vnet = cs.deployment.virtual_network_name
        if vnet and vnet.lower() in inside:
            inside[vnet.lower()].append(cs)
        else:
            out.append(_snapshot(estate, UnitRef(UnitKind.DEPLOYMENT, cs.deployment.name, cs.name), [cs], None))
    for key, svcs in inside.items():
        out.append(_snapshot(estate, UnitRef(UnitKind.VNET, vnets[key].name), svcs, vnets[key]))
    return out


def _best(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - start)
    return best, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--blockers", type=float, default=0.0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    t0 = time.perf_counter()
    estate = generate(vms=args.vms, seed=1, blockers=args.blockers)
    services = _services(estate)
    print(f"generated {len(estate.vms)} VMs in {len(services)} cloud services, {len(estate.virtual_networks)} VNets "
          f"in {time.perf_counter() - t0:.2f}s (blockers={args.blockers})")

    first_vnet = estate.virtual_networks[0] if estate.virtual_networks else None
    big = _snapshot(estate, UnitRef(UnitKind.VNET, first_vnet.name if first_vnet else "all"), services, first_vnet)
    units = _units(estate, services)
    n_vms = len(big.vms)
    for phase in (Phase.VALIDATE, Phase.PREPARE):

        def one_snapshot(p: Phase = phase) -> int:
            return len(validate(big, p))

        def per_unit(p: Phase = phase) -> int:
            return sum(len(validate(u, p)) for u in units)

        seconds, messages = _best(one_snapshot, args.repeat)
        print(f"one snapshot   {phase.value:8} {n_vms} VMs: {seconds * 1000:7.1f} ms  {n_vms / seconds:10,.0f} VMs/s  "
              f"({messages} messages)")
        seconds, messages = _best(per_unit, args.repeat)
        print(f"{len(units):5} units    {phase.value:8} {n_vms} VMs: {seconds * 1000:7.1f} ms  "
              f"{n_vms / seconds:10,.0f} VMs/s  ({messages} messages)")


if __name__ == "__main__":
    main()
