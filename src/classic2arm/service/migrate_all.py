"""`classic2arm migrate --all`: the whole plan, wave after wave, over the durable operations and the bulk path.

Each wave is prepared (`migration.execute_many`: several units per transaction, each its own operation), then,
with `commit`, committed before the next wave starts: storage accounts come in a wave after the units whose VMs
hold disks in them, and can only be prepared once those VMs have committed (R42). Transient failures (R47–R49,
and the refusals of a unit another operation is still working on) are retried with exponential backoff; any
other failure stops the run after the unit that failed (`keep_going`: the run goes on and reports it).

Nothing of the run is kept beside the migration's own records: where it is comes from the units' migration
states and the operations rows. A run killed at any point is started again the same way: it first finishes
the operations the dead process left (`migration.resume_all`), then plans again from the states — a batch in
flight was rolled back whole, so its units are simply run again; prepared units are committed, committed
ones are done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..domain import catalogue as msg
from ..domain import identity as ids
from ..domain.classic import MigrationState as S
from ..domain.media import account_of
from ..domain.planning.model import Plan
from ..domain.state_machine import LOCKED_STATES, Op
from ..domain.units import Destination, Message, UnitKind, UnitRef
from ..gcpause import gc_paused
from . import clock, faults, migration, status
from .context import AppContext
from .errors import ServiceError
from .inventory import NOT_PREPARED
from .operations import IN_PROGRESS, SUCCEEDED, OperationView
from .snapshot import load_unit

# --------------------------------------------------------------------------- request, progress, report

MIGRATED, PREPARED, BLOCKED, WAITING = "migrated", "prepared", "blocked", "waiting"
CLONED = "cloned"  # an NSG or route table cloned into ARM by the commit of its users; its classic copy stays
FAILED, NOT_RUN = "failed", "not run"
WOULD_MIGRATE, WOULD_PREPARE = "would migrate", "would prepare"
# States from which a prepare starts (or is retried); a unit whose classic side is being worked on by another
# operation (Preparing, Committing, Aborting) is left to it and waited for.
_TO_PREPARE = frozenset({NOT_PREPARED, S.ABORTED.value, S.PREPARE_FAILED.value})


@dataclass(frozen=True, slots=True)
class MigrateRequest:
    """What to run. `commit`: prepare and commit each wave before the next; otherwise prepare only (the reversible
    half, as `Move-Azure* -Prepare`: check, then commit or abort). `wave` / `units`: only those of the plan."""

    commit: bool
    wave: int | None = None
    units: tuple[UnitRef, ...] = ()
    dry_run: bool = False
    keep_going: bool = False
    retries: int = 4  # further attempts of a unit after a transient failure
    retry_delay: float = 2.0  # seconds before the first retry; doubled for each next one (capped at 60 s)

    def __post_init__(self) -> None:
        if self.retries < 0 or self.retry_delay < 0:
            raise ServiceError("InvalidArgument", "retries and retry delay must not be negative")


@dataclass(frozen=True, slots=True)
class MigrateProgress:
    units_done: int  # units at the run's target state (Committed with commit, else Prepared or Committed)
    units_total: int
    vms_done: int
    vms_total: int
    work_done: int  # operations finished, weighted by VMs (what the ETA is measured on)
    work_total: int
    doing: str  # what is running now ("wave 2: prepare")


ProgressFn = Callable[[MigrateProgress], None]


@dataclass(frozen=True, slots=True)
class UnitOutcome:
    ref: UnitRef
    wave: int | None  # None: a unit migrated before and no longer in the plan (its classic side is gone)
    vms: int
    outcome: str  # migrated, prepared, blocked, waiting, failed, not run (dry run: would migrate / would prepare)
    state: str  # its migration state after the run
    reasons: tuple[str, ...] = ()  # blockers, the failure, what it waits for
    operation_id: str | None = None
    attempts: int = 0  # operations this run started for it

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.ref.kind.value, "name": self.ref.name, "service": self.ref.service, "wave": self.wave,
                "vms": self.vms, "outcome": self.outcome, "migrationState": self.state,
                "reasons": list(self.reasons), "operationId": self.operation_id, "attempts": self.attempts}


@dataclass(frozen=True, slots=True)
class MigrateReport:
    commit: bool
    dry_run: bool
    units: tuple[UnitOutcome, ...]
    stopped: str | None  # why the run stopped early (the hard failure), if it did
    resumed: int  # operations of a killed run finished first
    seconds: float

    def count(self, outcome: str) -> int:
        return sum(1 for u in self.units if u.outcome == outcome)

    @property
    def complete(self) -> bool:
        """Every selected unit reached what the run was asked for."""
        goal = {MIGRATED} if self.commit else {MIGRATED, PREPARED}
        if self.dry_run:
            goal = {MIGRATED, WOULD_MIGRATE} if self.commit else {MIGRATED, PREPARED, WOULD_PREPARE}
        return all(u.outcome in goal for u in self.units)

    def to_json(self) -> dict[str, Any]:
        outcomes = (MIGRATED, PREPARED, CLONED, BLOCKED, WAITING, FAILED, NOT_RUN, WOULD_MIGRATE, WOULD_PREPARE)
        return {"mode": "commit" if self.commit else "prepare-only", "dryRun": self.dry_run,
                "complete": self.complete, "stopped": self.stopped, "resumedOperations": self.resumed,
                "seconds": round(self.seconds, 3),
                "summary": {o: self.count(o) for o in outcomes if self.count(o)},
                "vms": {o: sum(u.vms for u in self.units if u.outcome == o) for o in outcomes if self.count(o)},
                "units": [u.to_json() for u in self.units]}


# --------------------------------------------------------------------------- the use case


def migrate_all(ctx: AppContext, request: MigrateRequest, progress: ProgressFn | None = None,
                sleep: Callable[[float], None] = time.sleep) -> MigrateReport:
    """Plan the subscription and run the plan (or, with `dry_run`, say what running it would do)."""
    from .plan import build_plan

    started = time.monotonic()
    resumed = 0 if request.dry_run else len(migration.resume_all(ctx))
    return execute_plan(ctx, build_plan(ctx), request, progress, sleep, resumed=resumed, started=started)


def execute_plan(ctx: AppContext, plan: Plan, request: MigrateRequest, progress: ProgressFn | None = None,
                 sleep: Callable[[float], None] = time.sleep, resumed: int = 0,
                 started: float | None = None) -> MigrateReport:
    """Run (or, dry, predict) `plan` as `request` asks; see the module notes."""
    run = _Run(ctx, request, _select(plan, request), progress, sleep)
    run.go()
    if not request.dry_run:
        run.reread()
    return MigrateReport(request.commit, request.dry_run, tuple(run.outcomes()), run.stopped, resumed,
                         time.monotonic() - (started if started is not None else run.started))


# --------------------------------------------------------------------------- selection


def _key(ref: UnitRef) -> tuple[str, str, str]:
    return ref.kind.value, ref.name.lower(), (ref.service or "").lower()


@dataclass
class _Unit:
    ref: UnitRef
    wave: int | None
    vms: int
    blockers: tuple[Message, ...]
    state: str
    attempts: int = 0
    operation_id: str | None = None
    outcome: str | None = None  # decided during the run (failed, waiting, not run)
    reasons: tuple[str, ...] = ()
    moved: bool = False  # migrated as part of another unit (its classic side went with that one's commit)
    with_user: bool = False  # blocked only by being associated (R33): it moves with the unit that uses it
    cloned_into: tuple[str, ...] = ()  # (after the run) cloned into ARM by these committed users, used by no other

    @property
    def blocked(self) -> bool:
        # A unit some operation holds (Prepared, PrepareFailed, …) validates as R50 "being migrated": not a
        # blocker of carrying on with it.
        return bool(self.blockers) and self.state not in LOCKED_STATES and self.state != S.COMMITTED.value


def _select(plan: Plan, request: MigrateRequest) -> list[_Unit]:
    numbers = [w.number for w in plan.waves]
    if request.wave is not None and request.wave not in numbers:
        raise ServiceError("InvalidWave", f"the plan has no wave {request.wave}; its waves: "
                                          f"{', '.join(map(str, numbers)) or 'none'}")
    chosen: list[_Unit] = []
    for wave in plan.waves:
        if request.wave is not None and wave.number != request.wave:
            continue
        for p in wave.units:
            ref = p.ref
            if ref.kind == UnitKind.DEPLOYMENT and ref.destination is None:
                ref = replace(ref, destination=Destination("New"))  # as `validate --all` and the plan validate it
            chosen.append(_Unit(ref, wave.number, p.vms, tuple(p.blockers), p.migration_state or NOT_PREPARED,
                                with_user=p.moves_with_user))
    if request.wave is None:  # units committed earlier: part of "all", and done
        chosen.extend(_Unit(p.ref, None, p.vms, (), S.COMMITTED.value) for p in plan.done)
    if request.units:
        by_key = {_key(u.ref): u for u in chosen}
        missing = [r for r in request.units if _key(r) not in by_key]
        if missing:
            raise ServiceError("UnitNotFound", "not a unit of this subscription's plan: "
                               + ", ".join(r.describe() for r in missing), 404)
        wanted = {_key(r) for r in request.units}
        chosen = [u for u in chosen if _key(u.ref) in wanted]
    return chosen


# --------------------------------------------------------------------------- the run


@dataclass
class _Run:
    ctx: AppContext
    request: MigrateRequest
    units: list[_Unit]
    progress: ProgressFn | None
    sleep: Callable[[float], None]
    stopped: str | None = None
    started: float = field(default_factory=time.monotonic)
    work_done: int = 0
    work_total: int = 0
    optimistic: int = 0  # units reported done by the call in flight (made exact when it returns)
    optimistic_vms: int = 0
    optimistic_work: int = 0
    reported: float = 0.0  # when progress was last reported (monotonic)
    shown_work: int = 0

    @property
    def target(self) -> frozenset[str]:
        return frozenset({S.COMMITTED.value} if self.request.commit else {S.COMMITTED.value, S.PREPARED.value})

    def go(self) -> None:
        runnable = [u for u in self.units if not u.blocked and u.state not in self.target]
        self.work_total = sum(self._weight(u) * self._ops_left(u) for u in runnable)
        self._report("starting", force=True)
        waves = sorted({u.wave for u in runnable if u.wave is not None})
        for number in waves:
            wave = [u for u in runnable if u.wave == number]
            if self.stopped is not None:
                for u in wave:
                    if u.outcome is None:
                        u.outcome, u.reasons = NOT_RUN, (f"the run stopped: {self.stopped}",)
                continue
            self._wave(number, wave)
        self._report("done", force=True)

    @staticmethod
    def _weight(u: _Unit) -> int:
        return 1 + u.vms

    def _ops_left(self, u: _Unit) -> int:
        prepare = u.state in _TO_PREPARE or u.state == S.PREPARING.value
        return int(prepare) + int(self.request.commit)

    def _wave(self, number: int, wave: list[_Unit]) -> None:
        waits = _storage_waits(self.ctx, [u for u in wave if u.ref.kind == UnitKind.STORAGE])
        if self.request.dry_run and self.request.commit:  # the units this run would commit before are no wait
            will_commit = {_key(u.ref) for u in self.units
                           if u.wave is not None and u.wave < number and not u.blocked and u.outcome != WAITING}
            waits = {a: hs - will_commit for a, hs in waits.items()}
        ready: list[_Unit] = []
        for u in wave:
            holders = waits.get(u.ref.name.lower())
            if holders and u.state in _TO_PREPARE:
                u.outcome = WAITING
                u.reasons = ("its disks are attached to VMs not yet committed, of "
                             + ", ".join(sorted(_describe(h) for h in holders)),)
            else:
                ready.append(u)
        if self.request.dry_run:
            for u in ready:
                u.outcome = WOULD_MIGRATE if self.request.commit else WOULD_PREPARE
            return
        to_prepare = [u for u in ready if u.state in _TO_PREPARE or u.state == S.PREPARING.value]
        self._execute(number, Op.PREPARE, to_prepare)
        if self.request.commit and self.stopped is None:
            # with the units prepared before this run (a killed run's, or a --prepare-only run's) and failed
            # commits, which may only be retried
            to_commit = [u for u in ready if u.outcome is None
                         and u.state in (S.PREPARED.value, S.COMMITTING.value)]
            self._execute(number, Op.COMMIT, to_commit)
        if self.stopped is not None:
            for u in ready:
                if u.outcome is None and u.state not in self.target:
                    prepared = u.state == S.PREPARED.value
                    u.outcome = PREPARED if prepared else NOT_RUN
                    u.reasons = (f"{'not committed: ' if prepared else ''}the run stopped: {self.stopped}",)

    def _execute(self, number: int, op: Op, units: list[_Unit]) -> None:
        """Run `op` on `units` (in order), retrying transient failures with backoff; stops the run at a hard
        failure unless told to keep going."""
        pending = list(units)
        attempt = 0
        while pending and self.stopped is None:
            doing = f"wave {number}: {op.value}" + (f" (retry {attempt})" if attempt else "")
            self._report(doing)
            views = self._call(op, pending, doing)
            retry: list[_Unit] = []
            for u, view in zip(pending, views, strict=False):
                u.attempts += view.status != IN_PROGRESS or view.id != u.operation_id
                u.operation_id = view.id
                if view.status == SUCCEEDED:
                    u.state = {Op.PREPARE: S.PREPARED, Op.COMMIT: S.COMMITTED}[op].value
                    self.work_done += self._weight(u)
                    continue
                reason = _reason(op, view)
                if view.status == IN_PROGRESS or msg.is_transient(view.error_code, view.error_message):
                    if attempt < self.request.retries:
                        retry.append(u)
                        continue
                    reason += f" (still failing after {attempt + 1} attempts)"
                u.outcome, u.reasons = FAILED, (reason,)
                self.work_done += self._weight(u)  # (finished, for the ETA)
                if not self.request.keep_going:
                    self.stopped = f"{u.ref.describe()}: {reason}"
            self._settle()
            if self.stopped is not None:
                return
            pending = retry
            if pending:
                self._report(f"wave {number}: waiting to retry {len(pending)} {op.value}")
                self.sleep(min(60.0, self.request.retry_delay * 2 ** attempt))
                attempt += 1

    def _call(self, op: Op, units: list[_Unit], doing: str) -> list[OperationView]:
        refs = [u.ref for u in units]
        final = op == Op.COMMIT or not self.request.commit

        def step(_step: str, done: int, _total: int) -> None:
            u = units[done - 1]  # (counted for good, or not, once its view is in)
            self.optimistic_work += self._weight(u)
            if final:
                self.optimistic += 1
                self.optimistic_vms += u.vms
            self._report(doing)

        def hard(view: OperationView) -> bool:
            return (not self.request.keep_going and view.status not in (SUCCEEDED, IN_PROGRESS)
                    and not msg.is_transient(view.error_code, view.error_message))

        if any(k.startswith(f"{op.value}.") for k in faults.list_faults(self.ctx)):
            # Faults are tripped by the step-by-step runner only: run each unit on its own, as its verb would.
            views: list[OperationView] = []
            for i, ref in enumerate(refs, 1):
                views.append(migration.execute(self.ctx, op, ref))
                step(op.value, i, len(refs))
                if hard(views[-1]):
                    break
            return views
        return _bulk(self.ctx, op, refs, step, hard)

    def _settle(self) -> None:
        self.optimistic = self.optimistic_vms = self.optimistic_work = 0

    def _report(self, doing: str, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and now - self.reported < 0.1:  # a display needn't hear of every one of 2,000 units
            return
        self.reported = now
        # (never backwards: a unit to retry was counted by the call that failed it)
        self.shown_work = max(self.shown_work, min(self.work_done + self.optimistic_work, self.work_total))
        done = [u for u in self.units if u.state in self.target]
        self.progress(MigrateProgress(len(done) + self.optimistic, len(self.units),
                                      sum(u.vms for u in done) + self.optimistic_vms, sum(u.vms for u in self.units),
                                      self.shown_work, self.work_total, doing))

    def reread(self) -> None:
        """The units' states as the store has them now (what this run did, and anything done beside it). A
        unit whose classic side is gone without a record of its own moved with the unit that used it (a reserved
        IP with its cloud service, an NSG with its VNet)."""
        now = {_key(u.ref): u for u in status.status(self.ctx, vm_counts=False)}
        for u in self.units:
            found = now.get(_key(u.ref))
            if found is not None:
                u.state = found.state
            elif u.state != S.COMMITTED.value:
                u.state, u.moved = S.COMMITTED.value, True
        self._find_clones()

    def _find_clones(self) -> None:
        """NSGs and route tables the plan saw associated (R33) whose users have all committed since: cloned into
        ARM with them, their classic copies kept (spec §3) and now used by nothing (read again: an NSG two VNets
        use, one of them committed, is still waiting for the other)."""
        from .plan import cloned_into

        with_user = [u for u in self.units if u.with_user and u.blocked]
        if not with_user:
            return
        with self.ctx.store.read() as tx:
            sub = self.ctx.subscription_id(tx)
            clones = cloned_into(tx.units.all(sub))
            found = [(u, clones[u.ref.root_id(sub).lower()]) for u in with_user
                     if u.ref.root_id(sub).lower() in clones]
            if not found:
                return
            at = clock.now(tx)
            with self.ctx.classic_index(tx, sub) as src:
                for u, users in found:
                    snap = load_unit(tx, sub, u.ref, at, src).snapshot
                    if snap.exists and not snap.used_by:
                        u.cloned_into = users

    def outcomes(self) -> list[UnitOutcome]:
        out: list[UnitOutcome] = []
        for u in self.units:
            outcome, reasons = u.outcome, u.reasons
            if u.state == S.COMMITTED.value:
                outcome = MIGRATED
                reasons = ("migrated with the cloud service or virtual network that uses it",) if u.moved else ()
            elif u.blocked and u.cloned_into:  # what is true after the run, not what the plan foresaw
                outcome = CLONED
                reasons = (msg.CLONED_KEPT.format(units=", ".join(u.cloned_into), kind=u.ref.kind.word),)
            elif u.blocked and u.with_user:
                outcome = WAITING
                # (an NSG or route table is cloned into ARM with its user and its classic copy stays: the plan
                # before the run can't tell which users did migrate, so this says what it depends on)
                reasons = ("migrates with the cloud service or virtual network that uses it, not on its own: "
                           + " ".join(m.message for m in u.blockers),)
            elif u.blocked:
                outcome, reasons = BLOCKED, tuple(m.message for m in u.blockers)
            elif u.state == S.PREPARED.value and outcome in (None, PREPARED):
                outcome = PREPARED
            elif outcome is None:
                outcome = NOT_RUN
                reasons = (f"left {u.state} by another operation",)
            out.append(UnitOutcome(u.ref, u.wave, u.vms, outcome, u.state, reasons, u.operation_id, u.attempts))
        return out


@gc_paused()
def _bulk(ctx: AppContext, op: Op, refs: list[UnitRef], step: Callable[[str, int, int], None],
          hard: Callable[[OperationView], bool]) -> list[OperationView]:
    return migration.execute_many(ctx, op, refs, step, until=hard)


def _reason(op: Op, view: OperationView) -> str:
    if view.status == IN_PROGRESS:
        return f"{op.value}: another operation ({view.id}) is still working on the unit"
    return f"{op.value} failed: {view.error_code}: {view.error_message}"


def _storage_waits(ctx: AppContext, storage: list[_Unit]) -> dict[str, set[tuple[str, str, str]]]:
    """For each of these storage accounts (lower-case name) whose VHDs are still attached to classic VMs, the
    units (`_key`) of those VMs (R42: the account can only be prepared once they have committed)."""
    if not storage:
        return {}
    wanted = {u.ref.name.lower() for u in storage}
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        holders: dict[str, set[tuple[str, str]]] = {}
        for d in tx.resources.project(sub, [ids.T_DISK], ["media_link", "role_name", "hosted_service_name",
                                                            "deployment_name"]):
            account = account_of(d["doc_media_link"] or "")
            if account in wanted and d["doc_role_name"]:
                holders.setdefault(account, set()).add(((d["doc_hosted_service_name"] or "").lower(),
                                                        (d["doc_deployment_name"] or "").lower()))
        if not holders:
            return {}
        vnet_of = {((d["doc_service_name"] or "").lower(), d["name"].lower()): d["doc_virtual_network_name"]
                   for d in tx.resources.project(sub, [ids.T_DEPLOYMENT], ["service_name", "virtual_network_name"])}

    def unit(h: tuple[str, str]) -> tuple[str, str, str]:
        vnet = vnet_of.get(h)
        return (UnitKind.VNET.value, vnet.lower(), "") if vnet else (UnitKind.DEPLOYMENT.value, h[1], h[0])

    return {account: {unit(h) for h in hs} for account, hs in holders.items()}


def _describe(key: tuple[str, str, str]) -> str:
    kind, name, service = key
    return f"deployment {name} of cloud service {service}" if kind == UnitKind.DEPLOYMENT.value else f"{kind} {name}"
