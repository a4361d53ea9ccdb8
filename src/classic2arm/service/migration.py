"""The migration service: validate, prepare, commit, abort for every unit (spec §1–§4).

Prepare, commit and abort are durable operations: a record is written when the call is accepted, and the
work runs as idempotent steps (`steps.py`) through the one runner (`runner.py`), which commits them per step,
all in one transaction, or many units per batch (`execute_many`). A process killed at any point leaves a record
another run (or process) claims and finishes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..domain import catalogue as msg
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import rules
from ..domain.classic import MigrationState as S
from ..domain.state_machine import LOCKED_STATES, Decision, Op, decide
from ..domain.units import Category, Destination, Message, Phase, UnitKind, UnitRef
from ..gcpause import gc_paused
from ..store import OperationRecord, Tx, UnitRecord
from . import check, clock, faults, operations, runner, steps, subscriptions
from .context import AppContext
from .errors import ServiceError
from .operations import FAILED, IN_PROGRESS, SUCCEEDED, OperationView
from .runner import Progress
from .snapshot import load_unit, unit_id
from .sources import IndexSource, Source

STEPS = steps.NAMES


@dataclass(frozen=True, slots=True)
class ValidationResult:
    operation_id: str
    result: str
    messages: list[Message]

    @property
    def has_errors(self) -> bool:
        return rules.has_errors(self.messages)

    def to_json(self) -> dict[str, Any]:
        return {"operationId": self.operation_id, "result": self.result,
                "messages": [m.to_json() for m in self.messages]}


# --------------------------------------------------------------------------- request-level checks


def check_registered(sub: c.Subscription) -> None:
    if not sub.registered_for_migration:
        code, text = msg.R01_NOT_REGISTERED.render()
        raise ServiceError(code, text, 400)


def check_destination(ref: UnitRef) -> None:
    """R03/R04: the DeploymentNetworkResource of deployment validate/prepare."""
    if ref.kind != UnitKind.DEPLOYMENT:
        return
    dest = ref.destination
    kind = dest.normalized if dest else ""
    if kind == "default":
        raise ServiceError(*msg.R03_DEFAULT_NOT_IMPLEMENTED.render(), 400)
    if kind not in ("new", "existing"):
        raise ServiceError(*msg.R03_BAD_DESTINATION.render(), 400)
    if kind == "existing" and dest is not None:
        if not dest.vnet.strip():
            raise ServiceError(*msg.R04_VNET_NAME_EMPTY.render(), 400)
        if not dest.subnet.strip():
            raise ServiceError(*msg.R04_SUBNET_NAME_EMPTY.render(), 400)


def _lock_message(ref: UnitRef) -> Message:
    if ref.kind == UnitKind.DEPLOYMENT:
        text = msg.R50_DEPLOYMENT_LOCKED.text(dep=ref.name, hs=ref.service)
    else:
        text = msg.R50_LOCKED.text(kind=ref.kind.word, name=ref.name)
    return Message("R50", ref.kind.resource_type, ref.name, Category.ERROR, text)


# --------------------------------------------------------------------------- validate


def validate(ctx: AppContext, ref: UnitRef) -> ValidationResult:
    """Read-only: every reason the unit can't migrate (or what will migrate). Recorded as a succeeded
    operation so that Get Operation Status works with its request id (spec §5.3)."""
    with ctx.store.tx() as tx:
        sub_id = ctx.subscription_id(tx)
        check_registered(subscriptions.load(tx, sub_id))
        check_destination(ref)
        now = clock.now(tx)
        tx.now = now  # (the operation's timestamps are the world clock's, as every record's)
        unit = tx.units.get(unit_id(sub_id, ref))
        if unit and unit.state in LOCKED_STATES:
            messages = [_lock_message(ref)]
        else:
            messages = rules.validate(load_unit(tx, sub_id, ref, now).snapshot, Phase.VALIDATE)
        op_id = operations.new_id()
        tx.operations.insert(OperationRecord(op_id, sub_id, Op.VALIDATE.value, unit_id(sub_id, ref), SUCCEEDED,
                                             http_status=200, request=_request(ref)))
    return ValidationResult(op_id, rules.result_text(messages), messages)


def _request(ref: UnitRef) -> dict[str, Any]:
    dest = ref.destination
    return {"kind": ref.kind.value, "name": ref.name, "service": ref.service, "describe": ref.describe(),
            "destination": None if dest is None else {"kind": dest.kind, "resource_group": dest.resource_group,
                                                      "vnet": dest.vnet, "subnet": dest.subnet}}


def _ref_from(request: dict[str, Any]) -> UnitRef:
    dest = request.get("destination")
    return UnitRef(UnitKind(request["kind"]), request["name"], request.get("service"),
                   Destination(dest["kind"], dest["resource_group"], dest["vnet"], dest["subnet"]) if dest else None)


# --------------------------------------------------------------------------- starting operations


def start(ctx: AppContext, op: Op, ref: UnitRef) -> OperationView:
    """Accept a prepare/commit/abort (ASM answers 202 with the request id). The work runs in `run`."""
    with ctx.store.tx() as tx:
        sub_id = ctx.subscription_id(tx)
        check_registered(subscriptions.load(tx, sub_id))
        tx.now = clock.now(tx)  # (the operation's timestamps are the world clock's, as every record's)
        return _start_in(tx, sub_id, op, ref)


@dataclass
class _Batch:
    """What `execute_many` reads once per transaction instead of once per unit, and the unit records it keeps
    in memory until each unit's last step writes them (one statement per unit instead of four)."""

    now: datetime
    owner: str
    units: dict[str, UnitRecord]  # unit records of the batch's units, as this transaction has them
    stored: set[str]  # ids of those that exist in the database
    source: Source | None = None  # the subscription's classic index, current in this transaction (prepare)
    started: dict[str, tuple[OperationRecord, bool]] = field(default_factory=dict)  # op record, retrying?

    def put_unit(self, tx: Tx, unit: UnitRecord) -> None:
        tx.units.put(unit, exists=unit.id in self.stored)
        self.stored.add(unit.id)
        self.units[unit.id] = unit


def _start_in(tx: Tx, sub_id: str, op: Op, ref: UnitRef, batch: _Batch | None = None) -> OperationView:
    if op == Op.PREPARE:
        check_destination(ref)
    uid = unit_id(sub_id, ref)
    unit = batch.units.get(uid) if batch is not None else tx.units.get(uid, for_update=True)
    state = unit.state if unit else None
    active_op = tx.operations.get(unit.operation_id) if unit and unit.operation_id else None
    active = bool(active_op and active_op.status == IN_PROGRESS)
    root = batch.source.get(ref.root_id(sub_id)) if batch and batch.source else tx.resources.get(ref.root_id(sub_id))
    attempted = bool(unit and unit.commit_attempted)
    if state == S.COMMITTED.value:
        if op == Op.COMMIT:
            # an idempotent repeat of a finished commit
            return operations.view(_record(tx, sub_id, uid, op, ref, SUCCEEDED))
        if root is not None:
            state, attempted = None, False  # a new classic resource of the same name: a fresh unit
    if root is None and state != S.COMMITTING.value:  # a failed commit may already have removed classic
        raise steps.not_found(ref)
    verdict = decide(op, state, ref, active=active, commit_attempted=attempted)
    if op == Op.PREPARE and verdict.decision in (Decision.JOIN, Decision.NOOP) and unit is not None:
        _refuse_other_destination(unit.doc.get("request"), ref)
    if verdict.decision == Decision.REFUSE:
        raise ServiceError(verdict.code, verdict.message, 400)
    if verdict.decision == Decision.JOIN and active_op is not None:
        return operations.view(active_op)
    if verdict.decision == Decision.NOOP:
        return operations.view(_record(tx, sub_id, uid, op, ref, SUCCEEDED))
    # In a batch the record is written by the unit's last step, already finished: one statement, not two.
    rec = _record(tx, sub_id, uid, op, ref, IN_PROGRESS, lease_owner=batch.owner if batch else None,
                  write=batch is None)
    view = operations.view(rec)
    new_state = {Op.PREPARE: S.PREPARING, Op.COMMIT: S.COMMITTING, Op.ABORT: S.ABORTING}[op].value
    doc = dict(unit.doc) if unit else {}
    if op == Op.PREPARE:
        if state != S.PREPARE_FAILED.value:  # a fresh prepare; a retry keeps what the first attempt saw
            doc.pop("power_before", None)
            doc.pop(check.SEEN_KEY, None)
            doc["state_before"] = state
        doc["request"] = _request(ref)
    record = UnitRecord(uid, sub_id, ref.kind.value, root.key if root is not None else ref.root_id(sub_id).lower(),
                        ref.name, ref.service, new_state, view.id, attempted or op == Op.COMMIT, doc)
    if batch is None:
        tx.units.put(record)
    else:  # written by the unit's last step, in this same transaction
        batch.units[uid] = record
        batch.started[view.id] = (rec, state == S.PREPARE_FAILED.value)
    return view


def _destination_key(d: Destination) -> tuple[str, ...]:
    return d.normalized, d.resource_group.lower(), d.vnet.lower(), d.subnet.lower()


def _refuse_other_destination(was: dict[str, Any] | None, ref: UnitRef) -> None:
    """A repeated prepare is idempotent only for the same request: another destination is refused, not ignored."""
    if ref.kind != UnitKind.DEPLOYMENT or not was or ref.destination is None:
        return
    old = _ref_from(was).destination
    if old is None or _destination_key(old) == _destination_key(ref.destination):
        return
    described = old.kind if old.normalized != "existing" else \
        f"{old.kind} ({old.resource_group}/{old.vnet}/{old.subnet})"
    raise ServiceError("BadRequest", msg.R46_OTHER_DESTINATION.text(dep=ref.name, hs=ref.service, was=described), 400)


def _record(tx: Tx, sub_id: str, uid: str, op: Op, ref: UnitRef, status: str,
            lease_owner: str | None = None, write: bool = True) -> OperationRecord:
    """The durable operation record, stamped with the transaction's (world-clock) time and the real time. With
    `lease_owner` it is created already claimed by that owner."""
    op_id = operations.new_id()
    rec = OperationRecord(op_id, sub_id, op.value, uid, status, http_status=200 if status == SUCCEEDED else None,
                          request=_request(ref), progress={"step": 0, "cursor": 0}, created_at=tx.now,
                          updated_at=tx.now, created_real_at=datetime.now(UTC))
    if lease_owner is not None:
        rec.lease_owner, rec.lease_expires, rec.attempts = lease_owner, operations.lease_until(), 1
    if write:
        tx.operations.insert(rec)
    return rec


# --------------------------------------------------------------------------- running operations


def run(ctx: AppContext, op_id: str, progress: Progress | None = None, owner: str | None = None) -> OperationView:
    """Run (or resume) an operation to its end. Returns its final view; if another live process holds it,
    returns the current view without doing anything."""
    owner = owner or operations.new_owner()
    op: OperationRecord | None = None
    unit: UnitRecord | None = None
    armed: set[str] = set()
    try:
        with ctx.store.tx() as tx:
            op = operations.find(tx, op_id)  # (the one read of the operation row: the runner keeps its progress)
            if op.status != IN_PROGRESS:
                return operations.view(op)
            now = tx.now = clock.now(tx)
            if not operations.claim(tx, op.id, owner, op, now):
                return operations.view(op)
            op.lease_owner = owner
            unit = tx.units.get(op.unit_key)
            assert unit is not None, op.unit_key
            kind = Op(op.kind)
            armed = {k for k in faults.list_faults(ctx) if k.startswith(f"{kind.value}.")}
            if not armed and _small(tx, op, kind):
                # One transaction for the whole operation, the one that claimed it: atomic, so a crash leaves
                # nothing to resume mid-way, and a unit of a few VMs doesn't pay for a dozen commits.
                tx.operation_id = op.id
                runner.run_steps(_context(ctx, op, unit, runner.OneTransaction(tx, now), progress), steps.PLAN)
                op = None  # done
        if op is not None:
            runner.run_steps(_context(ctx, op, unit, runner.StepByStep(ctx, owner), progress), steps.PLAN, armed)
    except runner.Lost:
        pass
    except faults.TransientFault as exc:
        _fail(ctx, op_id, exc.code, exc.message, 500)
    except ServiceError as exc:
        _fail(ctx, op_id, exc.code, exc.message, exc.http_status)
    return operations.get(ctx, op_id)


def _context(ctx: AppContext, op: OperationRecord, unit: UnitRecord | None, uow: runner.UnitOfWork,
             progress: Progress | None) -> runner.StepContext:
    assert unit is not None
    return runner.StepContext(ctx, op, unit, uow, _ref_from(op.request or {}), progress)


SMALL_ROWS = 3000  # units below this run in one transaction


def _small(tx: Tx, op: OperationRecord, kind: Op) -> bool:
    if kind != Op.PREPARE:
        return len(tx.resources.keys(lock_holder=op.unit_key)) <= SMALL_ROWS
    ref = _ref_from(op.request or {})
    if ref.kind != UnitKind.VNET:
        return True
    deps = [d for d in tx.resources.project(op.subscription_id, [ids.T_DEPLOYMENT], ["virtual_network_name"])
            if (d["doc_virtual_network_name"] or "").lower() == ref.name.lower()]
    return len(deps) <= 100


def _fail(ctx: AppContext, op_id: str, code: str, message: str, http_status: int) -> None:
    with ctx.store.tx() as tx:
        op = operations.find(tx, op_id)
        unit = tx.units.get(op.unit_key)
        tx.now = clock.now(tx)
        tx.operations.update(op.id, tx.now, status=FAILED, http_status=http_status, error_code=code,
                             error_message=message, lease_owner=None)
        if unit is not None and op.kind == Op.PREPARE.value:
            locked = bool(tx.resources.keys(lock_holder=op.unit_key))
            unit.state = S.PREPARE_FAILED.value if locked else unit.doc.get("state_before")
            tx.units.put(unit)
        # commit and abort failures leave the unit Committing / Aborting: only a retry moves it on


# --------------------------------------------------------------------------- conveniences


def execute(ctx: AppContext, op: Op, ref: UnitRef, progress: Progress | None = None) -> OperationView:
    """Start and run to the end (what the CLI does without --no-wait)."""
    view = start(ctx, op, ref)
    if view.status == IN_PROGRESS:
        view = run(ctx, view.id, progress)
    return view


def resume_all(ctx: AppContext, owner: str | None = None) -> list[OperationView]:
    """Finish every operation whose process died (or that nobody started)."""
    with ctx.store.read() as tx:
        pending = operations.claimable(tx)
    return [run(ctx, op_id, owner=owner) for op_id in pending]


# --------------------------------------------------------------------------- many units at once


@gc_paused()  # (as a decorator, so the function's locals are freed before the collector is back on)
def validate_many(ctx: AppContext, refs: list[UnitRef]) -> list[ValidationResult]:
    """Validate many units against one preloaded index of the subscription (no per-unit queries); the same
    results as calling `validate` on each."""
    with ctx.store.tx() as tx:
        sub_id = ctx.subscription_id(tx)
        check_registered(subscriptions.load(tx, sub_id))
        for ref in refs:
            check_destination(ref)
        now = tx.now = clock.now(tx)  # (the operations' timestamps are the world clock's)
        units = {u.id: u for u in tx.units.all(sub_id)}
        locked = [getattr(units.get(unit_id(sub_id, ref)), "state", None) in LOCKED_STATES for ref in refs]
        op_ids = [operations.new_id() for _ in refs]
        tx.operations.insert_many([OperationRecord(op_id, sub_id, Op.VALIDATE.value, unit_id(sub_id, ref), SUCCEEDED,
                                                   http_status=200, request=_request(ref))
                                   for op_id, ref in zip(op_ids, refs, strict=True)])
        out: list[ValidationResult] = []
        with ctx.classic_index(tx, sub_id) as src:
            for op_id, ref, is_locked in zip(op_ids, refs, locked, strict=True):
                if is_locked:
                    messages = [_lock_message(ref)]
                else:
                    messages = rules.validate(load_unit(tx, sub_id, ref, now, src).snapshot, Phase.VALIDATE)
                out.append(ValidationResult(op_id, rules.result_text(messages), messages))
    return out


@gc_paused()  # for the whole run: re-enabled between batches, it would walk the index each time
def execute_many(ctx: AppContext, op: Op, refs: list[UnitRef], progress: Progress | None = None,
                 batch_rows: int = 60_000, until: Callable[[OperationView], bool] | None = None
                 ) -> list[OperationView]:
    """Prepare, commit or abort many units, several per transaction (each unit still gets its own durable
    operation record and goes through the same steps). A batch is atomic: a crash loses at most the batch in
    flight, whose units are then simply not started. Units that fail are rolled back on their own (savepoint)
    and reported Failed, as `execute` would. With `until`, no unit is started after one whose view it is
    true of (the views returned are then those of `refs[:len(views)]`)."""
    many = _Many(ctx, op, operations.new_owner(), progress, len(refs), batch_rows, until)
    pending = list(refs)
    while pending:
        with ctx.store.tx() as tx:
            many.batch(tx, pending)
    return operations.get_many(ctx, [v.id for v in many.views])


_WINDOW = 256  # unit records read per statement by a batch


@dataclass
class _Many:
    ctx: AppContext
    op: Op
    owner: str
    progress: Progress | None
    total: int
    batch_rows: int
    until: Callable[[OperationView], bool] | None = None
    views: list[OperationView] = field(default_factory=list)
    done: int = 0

    def batch(self, tx: Tx, pending: list[UnitRef]) -> None:
        """Run units from the front of `pending` in this transaction until they have written `batch_rows`
        resource rows (the unit that crosses the line finishes)."""
        sub_id = self.ctx.subscription_id(tx)
        check_registered(subscriptions.load(tx, sub_id))
        if self.op != Op.PREPARE:
            self._units(tx, sub_id, pending, None)
            return
        with self.ctx.classic_index(tx, sub_id) as src:  # (commit and abort read only what units locked)
            touched = self._units(tx, sub_id, pending, src)
            tx.flush()
            src.written(touched, tx.events.last_seq())  # the next batch needn't read its own writes back

    def _units(self, tx: Tx, sub_id: str, pending: list[UnitRef], src: IndexSource | None) -> set[str]:
        """Run the units; returns the keys of the classic rows they wrote."""
        touched: set[str] = set()
        now = tx.now = clock.now(tx)
        tx.write_behind = True  # the inserts of all the batch's units go in a few statements
        batch = _Batch(now, self.owner, {}, set(), src)
        ahead: set[str] = set()  # units whose records were read (and on PostgreSQL locked) in this batch
        while pending and tx.writes < self.batch_rows:
            uid = unit_id(sub_id, pending[0])
            if uid not in ahead:  # the records of the next units, a window at a time
                window = {unit_id(sub_id, ref) for ref in pending[:_WINDOW]} - ahead
                found = tx.units.get_many(window, for_update=True)
                batch.units.update(found)
                batch.stored.update(found)
                ahead |= window
            ref = pending.pop(0)
            before, was_stored = batch.units.get(uid), uid in batch.stored
            try:
                with tx.savepoint():
                    view = _start_in(tx, sub_id, self.op, ref, batch)
                    if view.id in batch.started:
                        rec, retry = batch.started.pop(view.id)
                        tx.operation_id = rec.id
                        sc = runner.StepContext(self.ctx, rec, batch.units[rec.unit_key],
                                                runner.InBatch(tx, now, batch.put_unit), ref, source=src,
                                                fresh=not retry)
                        runner.run_steps(sc, steps.PLAN)
                        if sc.loaded is not None:
                            touched.update(row.key for row in [*sc.loaded.members, *sc.loaded.kept])
                self.views.append(view)
            except ServiceError as exc:  # the savepoint undid the unit's writes; undo what the batch kept of it
                if before is None:
                    batch.units.pop(uid, None)
                else:
                    batch.units[uid] = before
                if not was_stored:
                    batch.stored.discard(uid)
                self.views.append(_failed_view(tx, sub_id, self.op, ref, exc))
            self.done += 1
            if self.progress is not None:
                self.progress(self.op.value, self.done, self.total)
            if self.until is not None and self.until(self.views[-1]):
                pending.clear()
        return touched


def _failed_view(tx: Tx, sub_id: str, op: Op, ref: UnitRef, exc: ServiceError) -> OperationView:
    """A unit of a batch that failed: its own (rolled back) work leaves a Failed operation, as `run` would."""
    uid = unit_id(sub_id, ref)
    rec = OperationRecord(operations.new_id(), sub_id, op.value, uid, FAILED, http_status=exc.http_status,
                          error_code=exc.code, error_message=exc.message, request=_request(ref),
                          progress={"step": 0, "cursor": 0}, created_at=tx.now, updated_at=tx.now)
    tx.operations.insert(rec)
    return operations.view(rec)
