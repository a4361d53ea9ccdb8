"""`classic2arm plan`: the whole subscription in one look (issue 12).

One read transaction over the subscription's classic index, as `validate --all` reads it: every unit's snapshot
is loaded once, validated with the same rules and lock rule as `validate_many` (so the plan's blockers are
exactly `validate --all`'s Errors), and turned into a `PlannedUnit`; the domain (`domain/planning`) orders the
waves, groups the blockers, sums the quota and estimates the time. Nothing is written: no operation records.
"""

from __future__ import annotations

from dataclasses import replace

from ..domain import catalogue as t
from ..domain import rules
from ..domain.planning import estimate, facts, order, summary
from ..domain.planning.model import Plan, PlannedUnit, unit_key
from ..domain.state_machine import LOCKED_STATES
from ..domain.units import Message, Phase, UnitKind, UnitSnapshot
from ..gcpause import gc_paused
from . import clock, dangling, subscriptions
from .context import AppContext
from .migration import _lock_message, check_registered
from .snapshot import load_unit, unit_id
from .status import UnitFilter, status


@gc_paused()
def build_plan(ctx: AppContext) -> Plan:
    everything = status(ctx, UnitFilter())  # (one listing: what `classic_units` filters; the order is the waves')
    units = [u for u in everything if u.classic]
    gone = [u for u in everything if not u.classic]  # committed units whose classic side is gone
    with ctx.store.read() as tx:
        sub_id = ctx.subscription_id(tx)
        sub = subscriptions.load(tx, sub_id)
        check_registered(sub)  # validate --all refuses an unregistered subscription the same way
        now = clock.now(tx)
        records = {r.id: r for r in tx.units.all(sub_id)}
        notes = tuple(f.text for f in dangling.findings(tx, sub_id))
        loaded: list[tuple[UnitSnapshot, list[Message], str]] = []
        regions: set[str] = set()
        with ctx.classic_index(tx, sub_id) as src:
            for u in units:
                ref = u.ref
                snap = load_unit(tx, sub_id, ref, now, src).snapshot
                rec = records.get(unit_id(sub_id, ref))
                if rec is not None and rec.state in LOCKED_STATES:
                    messages = [_lock_message(ref)]
                else:
                    messages = rules.validate(snap, Phase.VALIDATE)
                loaded.append((snap, messages, u.state))
            quotas = {region: dict(q) for region, q in sub.arm_quotas.items()}
            planned_compute: dict[str, PlannedUnit] = {}
            holders: dict[str, list[str]] = {}  # storage account → compute units whose VMs have disks in it
            for snap, messages, state in loaded:
                if snap.ref.kind in (UnitKind.DEPLOYMENT, UnitKind.VNET):
                    pu = facts.planned_unit(snap, messages, state)
                    planned_compute[pu.key] = pu
                    for account in facts.disk_accounts(snap):
                        holders.setdefault(account, []).append(pu.key)
            planned: list[PlannedUnit] = []
            for snap, messages, state in loaded:
                key = unit_key(snap.ref)
                if key in planned_compute:
                    planned.append(planned_compute[key])
                    continue
                after: tuple[str, ...] = ()
                if snap.ref.kind == UnitKind.STORAGE:
                    after = tuple(k for k in holders.get(snap.ref.name.lower(), []) if not planned_compute[k].done)
                pu = facts.planned_unit(snap, messages, state, after)
                if after:  # a storage account waits for its VMs: production with them, held up by their blockers
                    waits = tuple(t.PREREQ_STORAGE_WAITS.format(unit=k, vms=planned_compute[k].vms) for k in after
                                  if planned_compute[k].blocked)
                    pu = replace(pu, prerequisites=pu.prerequisites + waits,
                                 production=pu.production or any(planned_compute[k].production for k in after))
                planned.append(pu)
            for pu in planned:
                if pu.location:
                    regions.add(pu.location)
            usage = {region: src.usage(region) for region in sorted(regions | set(quotas))}
    planned += [PlannedUnit(u.ref, u.state, 0, ()) for u in gone]
    waves, done = order.waves(planned)
    waves, total = estimate.estimate(waves)
    groups = summary.blocker_groups(planned)
    remaining = [u for w in waves for u in w.units]
    return Plan(
        waves=waves, done=done, blockers_by_rule=groups, ranking=summary.ranking(groups),
        quota=summary.quota_lines(remaining, usage, quotas),
        impacts=tuple(i for u in remaining for i in u.impacts), total_minutes=total,
        assumptions=estimate.MODEL.assumptions(), notes=notes, production_marker=t.PRODUCTION_MARKER,
        subscription=sub_id,
        summary={"units": len(planned), "remaining": len(remaining), "done": len(done),
                 "blocked": sum(u.blocked for u in remaining), "vms": sum(u.vms for u in remaining),
                 "blockedVms": sum(u.vms for u in remaining if u.blocked), "waves": len(waves),
                 "blockers": sum(len(u.blockers) for u in planned),
                 "vmsDown": sum(1 for u in remaining for i in u.impacts if i.restart)})

