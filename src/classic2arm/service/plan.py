"""`classic2arm plan`: the whole subscription in one look (issue 12).

One read transaction over the subscription's classic index, as `validate --all` reads it: every unit's snapshot
is loaded once, validated with the same rules and lock rule as `validate_many` (so the plan's blockers are
exactly `validate --all`'s Errors), and turned into a `PlannedUnit`; the domain (`domain/planning`) orders the
waves, groups the blockers, sums the quota and estimates the time. Nothing is written: no operation records.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime

from ..domain import catalogue as t
from ..domain import rules
from ..domain.classic import MigrationState as S
from ..domain.planning import estimate, facts, order, summary
from ..domain.planning.model import Plan, PlannedUnit, unit_key
from ..domain.state_machine import LOCKED_STATES
from ..domain.units import Phase, UnitKind, UnitRef
from ..gcpause import gc_paused
from ..store import Tx, UnitRecord
from . import clock, dangling, subscriptions
from .context import AppContext
from .migration import _lock_message, check_registered
from .snapshot import load_unit, unit_id
from .sources import IndexSource
from .status import UnitFilter, status


def cloned_into(records: Iterable[UnitRecord]) -> dict[str, tuple[str, ...]]:
    """The classic NSGs and route tables (row keys) that committed units cloned into ARM, with those units'
    plan keys: each unit's prepare records the rows it clones and keeps (`kept`); its commit unlocks them and
    leaves them in classic."""
    out: dict[str, list[str]] = {}
    for rec in records:
        if rec.state == S.COMMITTED.value:
            key = unit_key(UnitRef(UnitKind(rec.kind), rec.name, rec.service))
            for row_key in rec.doc.get("kept") or ():
                out.setdefault(str(row_key).lower(), []).append(key)
    return {k: tuple(sorted(v)) for k, v in out.items()}


# A unit as the plan evaluates it: its PlannedUnit (no `after`, no `cloned_into` yet: those need every unit) and,
# for a VNet or deployment, the storage accounts its VMs' disks are in.
_Evaluated = tuple[PlannedUnit, frozenset[str] | None]
_COMPUTE = (UnitKind.DEPLOYMENT, UnitKind.VNET)
FORK_MIN_UNITS = 400  # below this a second process costs more than it saves


@dataclass
class _Evaluator:
    tx: Tx
    sub_id: str
    now: datetime
    src: IndexSource
    records: dict[str, UnitRecord]

    def one(self, ref: UnitRef, state: str) -> _Evaluated:
        """Load, validate (as `validate_many`: the lock rule, else the rules) and plan one unit."""
        snap = load_unit(self.tx, self.sub_id, ref, self.now, self.src).snapshot
        rec = self.records.get(unit_id(self.sub_id, ref))
        messages = [_lock_message(ref)] if rec is not None and rec.state in LOCKED_STATES else \
            rules.validate(snap, Phase.VALIDATE)
        pu = facts.planned_unit(snap, messages, state)
        return pu, (frozenset(facts.disk_accounts(snap)) if ref.kind in _COMPUTE else None)

    def all(self, jobs: list[tuple[UnitRef, str]]) -> list[_Evaluated]:
        """Every job's result, in order. On a large estate the VNets and deployments (most of the work: their
        VMs' documents) are evaluated in a forked child while this process does the rest (storage accounts and
        the network objects), when that is safe: one thread, and nothing the child needs to read from the database
        (the index holds every row a VNet or deployment reads; usage is read beforehand): it never uses the
        connection, and if it tried it would fail and this process do its share instead."""
        compute = [i for i, (ref, _) in enumerate(jobs) if ref.kind in _COMPUTE]
        if (len(jobs) < FORK_MIN_UNITS or not hasattr(os, "fork") or threading.active_count() != 1
                or not compute or len(compute) == len(jobs) or not spare_core()):
            return [self.one(*j) for j in jobs]
        self.src.fresh_all()  # (a kept index: rows marked stale are read again now, not in the child)
        self.src.prepare_usage(self.src.subscription().arm_quotas)
        try:
            return self._forked(jobs, compute)
        finally:
            self.src.prepare_usage(None)

    def _forked(self, jobs: list[tuple[UnitRef, str]], compute: list[int]) -> list[_Evaluated]:
        out: list[_Evaluated | None] = [None] * len(jobs)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: evaluate, send, and leave without running any finaliser (the parent's
            code = 1  # connection and files are not ours to close)
            try:
                os.close(read_end)
                self.tx = _NO_DB  # type: ignore[assignment]  # (a database read here is a bug: fail, the parent
                self.src.tx = _NO_DB  # type: ignore[assignment]  # then does the work itself)
                data = pickle.dumps([self.one(*jobs[i]) for i in compute], pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as sink:
                    sink.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        theirs = set(compute)
        pipe = os.fdopen(read_end, "rb")
        try:
            for i, job in enumerate(jobs):
                if i not in theirs:
                    out[i] = self.one(*job)
            data = pipe.read()
        finally:
            pipe.close()  # (if this process failed first, the child's write then fails and it stops)
            _, status = os.waitpid(pid, 0)
        results: list[_Evaluated] | None = None
        if os.waitstatus_to_exitcode(status) == 0:
            with suppress(Exception):
                results = pickle.loads(data)  # (our own child's output)
        if results is None or len(results) != len(compute):
            results = [self.one(*jobs[i]) for i in compute]  # the child failed: do it here
        for i, r in zip(compute, results, strict=True):
            out[i] = r
        return [r for r in out if r is not None]


def spare_core() -> bool:
    """Whether a second process would get a core of its own: one more process on a machine whose cores are all
    busy (the load average counts the processes running or waiting to) only adds its start-up."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # (not on Linux)
        cores = os.cpu_count() or 1
    return cores >= 2 and os.getloadavg()[0] <= cores - 1


class _NoDatabase:
    def __getattr__(self, name: str) -> object:
        raise RuntimeError(f"the plan's worker process may not use the database ({name})")


_NO_DB = _NoDatabase()


@gc_paused()
def build_plan(ctx: AppContext) -> Plan:
    # (one listing: what `classic_units` filters; the order is the waves'. The VMs are counted from the snapshots)
    everything = status(ctx, UnitFilter(), vm_counts=False)
    units = [u for u in everything if u.classic]
    gone = [u for u in everything if not u.classic]  # committed units whose classic side is gone
    with ctx.store.read() as tx:
        sub_id = ctx.subscription_id(tx)
        sub = subscriptions.load(tx, sub_id)
        check_registered(sub)  # validate --all refuses an unregistered subscription the same way
        now = clock.now(tx)
        records = {r.id: r for r in tx.units.all(sub_id)}
        clones = cloned_into(records.values())
        notes = tuple(f.text for f in dangling.findings(tx, sub_id))
        regions: set[str] = set()
        with ctx.classic_index(tx, sub_id) as src:
            evaluated = _Evaluator(tx, sub_id, now, src, records).all([(u.ref, u.state) for u in units])
            quotas = {region: dict(q) for region, q in sub.arm_quotas.items()}
            planned_compute: dict[str, PlannedUnit] = {}
            holders: dict[str, list[str]] = {}  # storage account → compute units whose VMs have disks in it
            for pu, accounts in evaluated:
                if accounts is not None:
                    planned_compute[pu.key] = pu
                    for account in accounts:
                        holders.setdefault(account, []).append(pu.key)
            planned: list[PlannedUnit] = []
            for pu, accounts in evaluated:
                if accounts is not None:
                    planned.append(pu)
                    continue
                kind = pu.ref.kind
                after: tuple[str, ...] = ()
                if kind == UnitKind.STORAGE:
                    after = tuple(k for k in holders.get(pu.ref.name.lower(), []) if not planned_compute[k].done)
                if kind in (UnitKind.NSG, UnitKind.ROUTE_TABLE):
                    pu = replace(pu, cloned_into=clones.get(pu.ref.root_id(sub_id).lower(), ()))
                if after:  # a storage account waits for its VMs: production with them, held up by their blockers
                    waits = tuple(t.PREREQ_STORAGE_WAITS.format(unit=k, vms=planned_compute[k].vms) for k in after
                                  if planned_compute[k].blocked)
                    pu = replace(pu, after=after, prerequisites=pu.prerequisites + waits,
                                 production=pu.production or any(planned_compute[k].production for k in after))
                planned.append(pu)
            for pu in planned:
                if pu.location:
                    regions.add(pu.location)
            usage = {region: src.usage(region) for region in sorted(regions | set(quotas))}
    planned += [PlannedUnit(u.ref, u.state, u.vms, ()) for u in gone]
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

