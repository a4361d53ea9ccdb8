"""The migration service: validate, prepare, commit, abort for every unit (spec §1–§4).

Prepare, commit and abort are durable operations: a record is written when the call is accepted, and the
work runs as idempotent steps, each in its own transaction together with the operation's progress. A
process killed at any point leaves a record another run (or process) claims and finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..domain import catalogue as msg
from ..domain import classic as c
from ..domain import dataplane, rules
from ..domain import identity as ids
from ..domain.classic import MigrationState as S
from ..domain.state_machine import LOCKED_STATES, Decision, Op, decide
from ..domain.translate import translate
from ..domain.units import Category, Message, Phase, UnitKind, UnitRef
from ..gcpause import gc_paused
from ..store import Row, Tx
from . import addressing, clock, codec, faults, locks, operations, subscriptions
from . import power as vm_power
from .context import AppContext
from .errors import ServiceError
from .operations import FAILED, IN_PROGRESS, SUCCEEDED, OperationView
from .snapshot import LoadedUnit, load_unit, unit_id
from .sources import IndexSource, Source

BATCH = 2000
Progress = Callable[[str, int, int], None]

STEPS: dict[str, tuple[str, ...]] = {
    Op.PREPARE: ("validate", "lock", "create", "dataplane", "finish"),
    Op.COMMIT: ("remove_classic", "unlock_arm", "finish"),
    Op.ABORT: ("remove_arm", "restore", "finish"),
}


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


def _not_found(ref: UnitRef) -> ServiceError:
    code, text = ref.kind.not_found.render(dep=ref.name, name=ref.name)
    return ServiceError(code, text, 400 if code == "BadRequest" else 404)


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
        unit = tx.get_unit(unit_id(sub_id, ref))
        if unit and unit["state"] in LOCKED_STATES:
            messages = [_lock_message(ref)]
        else:
            messages = rules.validate(load_unit(tx, sub_id, ref, now).snapshot, Phase.VALIDATE)
        op_id = operations.new_id()
        tx.insert_operation({"id": op_id, "subscription_id": sub_id, "kind": Op.VALIDATE.value,
                             "unit_key": unit_id(sub_id, ref), "status": SUCCEEDED, "http_status": 200,
                             "request": _request(ref)})
    return ValidationResult(op_id, rules.result_text(messages), messages)


def _request(ref: UnitRef) -> dict[str, Any]:
    dest = ref.destination
    return {"kind": ref.kind.value, "name": ref.name, "service": ref.service, "describe": ref.describe(),
            "destination": None if dest is None else {"kind": dest.kind, "resource_group": dest.resource_group,
                                                      "vnet": dest.vnet, "subnet": dest.subnet}}


def _ref_from(request: dict[str, Any]) -> UnitRef:
    from ..domain.units import Destination

    dest = request.get("destination")
    return UnitRef(UnitKind(request["kind"]), request["name"], request.get("service"),
                   Destination(dest["kind"], dest["resource_group"], dest["vnet"], dest["subnet"]) if dest else None)


# --------------------------------------------------------------------------- starting operations


def start(ctx: AppContext, op: Op, ref: UnitRef) -> OperationView:
    """Accept a prepare/commit/abort (ASM answers 202 with the request id). The work runs in `run`."""
    with ctx.store.tx() as tx:
        sub_id = ctx.subscription_id(tx)
        check_registered(subscriptions.load(tx, sub_id))
        return _start_in(tx, sub_id, op, ref)


@dataclass
class _Batch:
    """What `execute_many` reads once per transaction instead of once per unit, and the unit records it keeps
    in memory until each unit's last step writes them (one statement per unit instead of four)."""

    now: datetime
    owner: str
    units: dict[str, dict[str, Any]]  # unit records of the batch's units, as this transaction has them
    stored: set[str]  # ids of those that exist in the database
    source: Source | None = None  # the subscription's classic index, current in this transaction (prepare)
    started: dict[str, tuple[dict[str, Any], bool]] = field(default_factory=dict)  # op record, retrying?

    def put_unit(self, tx: Tx, unit: dict[str, Any]) -> None:
        tx.put_unit(unit, exists=unit["id"] in self.stored)
        self.stored.add(unit["id"])
        self.units[unit["id"]] = unit


def _start_in(tx: Tx, sub_id: str, op: Op, ref: UnitRef, batch: _Batch | None = None) -> OperationView:
    if op == Op.PREPARE:
        check_destination(ref)
    uid = unit_id(sub_id, ref)
    unit = batch.units.get(uid) if batch is not None else tx.get_unit(uid, for_update=True)
    state = unit["state"] if unit else None
    active_op = tx.get_operation(unit["operation_id"]) if unit and unit.get("operation_id") else None
    active = bool(active_op and active_op["status"] == IN_PROGRESS)
    root = batch.source.get(ref.root_id(sub_id)) if batch and batch.source else tx.get(ref.root_id(sub_id))
    attempted = bool(unit and unit["commit_attempted"])
    if state == S.COMMITTED.value:
        if op == Op.COMMIT:
            # an idempotent repeat of a finished commit
            return operations.view(_record(tx, sub_id, uid, op, ref, SUCCEEDED))
        if root is not None:
            state, attempted = None, False  # a new classic resource of the same name: a fresh unit
    if root is None and state != S.COMMITTING.value:  # a failed commit may already have removed classic
        raise _not_found(ref)
    verdict = decide(op, state, ref, active=active, commit_attempted=attempted)
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
    doc = dict(unit["doc"]) if unit else {}
    if op == Op.PREPARE:
        if state != S.PREPARE_FAILED.value:  # a fresh prepare; a retry keeps what the first attempt saw
            doc.pop("power_before", None)
            doc["state_before"] = state
        doc["request"] = _request(ref)
    record = {"id": uid, "subscription_id": sub_id, "kind": ref.kind.value,
              "root_key": root.key if root is not None else ref.root_id(sub_id).lower(),
              "name": ref.name, "service": ref.service, "state": new_state, "operation_id": view.id,
              "doc": doc, "commit_attempted": attempted or op == Op.COMMIT}
    if batch is None:
        tx.put_unit(record)
    else:  # written by the unit's last step, in this same transaction
        batch.units[uid] = record
        batch.started[view.id] = (rec, state == S.PREPARE_FAILED.value)
    return view


def _record(tx: Tx, sub_id: str, uid: str, op: Op, ref: UnitRef, status: str,
            lease_owner: str | None = None, write: bool = True) -> dict[str, Any]:
    """The durable operation record. With `lease_owner` it is created already claimed by that owner."""
    op_id = operations.new_id()
    rec: dict[str, Any] = {"id": op_id, "subscription_id": sub_id, "kind": op.value, "unit_key": uid,
                           "status": status, "http_status": 200 if status == SUCCEEDED else None,
                           "request": _request(ref), "progress": {"step": 0, "cursor": 0}}
    if lease_owner is not None:
        rec.update(lease_owner=lease_owner, lease_expires=operations.lease_until(), attempts=1)
    if write:
        tx.insert_operation(rec)
    return {"created_at": tx.now, "updated_at": tx.now, "attempts": 0, **rec}


# --------------------------------------------------------------------------- running operations


class _Lost(Exception):
    """Another process took over the operation's lease."""


@dataclass
class _Run:
    ctx: AppContext
    op: dict[str, Any]
    owner: str
    progress: Progress | None
    shared: Tx | None = None  # set while a small unit runs all its steps in one transaction
    loaded: LoadedUnit | None = None  # the unit as loaded inside the shared transaction
    claimed_in: Tx | None = None  # the transaction the lease was last renewed in
    now: datetime | None = None
    unit_doc: dict[str, Any] | None = None  # the unit record while a shared transaction runs
    source: Source | None = None  # a preloaded index when many units run in one batch
    batch: _Batch | None = None  # set when the operation was started by `execute_many` in this transaction
    retry: bool = False  # a prepare retried after a failed one (which may have left ARM rows)
    locked_vms: dict[str, Row] | None = None  # the unit's VMs as the lock step left them (same transaction)

    @property
    def op_id(self) -> str:
        return str(self.op["id"])

    @property
    def sub(self) -> str:
        return str(self.op["subscription_id"])

    @property
    def uid(self) -> str:
        return str(self.op["unit_key"])

    @property
    def ref(self) -> UnitRef:
        return _ref_from(self.op["request"])

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        if self.shared is not None:
            yield self.shared
        else:
            with self.ctx.store.tx() as tx:
                yield tx

    @contextmanager
    def reader(self) -> Iterator[Tx]:
        if self.shared is not None:
            yield self.shared
        else:
            with self.ctx.store.read() as tx:
                yield tx

    def begin(self, tx: Tx) -> datetime:
        """Renew the lease inside the step's transaction: a step never runs for a process that lost it.
        (Once per transaction: inside one transaction the lease can't be lost.)"""
        if self.claimed_in is not tx:
            if not operations.claim(tx, self.op_id, self.owner):
                raise _Lost(self.op_id)
            self.claimed_in = tx
            self.now = clock.now(tx)  # the world clock, read once per transaction
        tx.operation_id = self.op_id
        assert self.now is not None
        tx.now = self.now
        return self.now

    def unit(self, tx: Tx) -> dict[str, Any]:
        """The unit record; inside a shared transaction it is kept in memory and written once at the end."""
        if self.batch is not None:
            return self.batch.units[self.uid]
        if self.shared is not None and self.unit_doc is not None:
            return self.unit_doc
        unit = tx.get_unit(self.uid)
        assert unit is not None, self.uid
        if self.shared is not None:
            self.unit_doc = unit
        return unit

    def save_unit(self, tx: Tx, unit: dict[str, Any], final: bool = False) -> None:
        if self.batch is not None:
            if final:
                self.batch.put_unit(tx, unit)
            else:
                self.batch.units[self.uid] = unit
        elif self.shared is None or final:
            tx.put_unit(unit)
        else:
            self.unit_doc = unit

    def report(self, step: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(step, done, total)


def run(ctx: AppContext, op_id: str, progress: Progress | None = None, owner: str | None = None) -> OperationView:
    """Run (or resume) an operation to its end. Returns its final view; if another live process holds it,
    returns the current view without doing anything."""
    owner = owner or operations.new_owner()
    with ctx.store.tx() as tx:
        op = operations.find(tx, op_id)
        if op["status"] != IN_PROGRESS or not operations.claim(tx, op["id"], owner):
            return operations.view(op)
        op = tx.get_operation(op["id"]) or op
    r = _Run(ctx, op, owner, progress)
    kind = Op(op["kind"])
    armed = {k for k in faults.list_faults(ctx) if k.startswith(f"{kind.value}.")}
    try:
        if not armed and _small(ctx, r, kind):
            # One transaction for the whole operation: atomic, so a crash leaves nothing to resume mid-way,
            # and a unit of a few VMs doesn't pay for a dozen commits.
            with ctx.store.tx() as tx:
                r.shared = tx
                try:
                    _steps(r, kind, armed)
                finally:
                    r.shared, r.loaded = None, None
        else:
            _steps(r, kind, armed)
    except _Lost:
        pass
    except faults.TransientFault as exc:
        _fail(r, kind, exc.code, exc.message, 500)
    except ServiceError as exc:
        _fail(r, kind, exc.code, exc.message, exc.http_status)
    return operations.get(ctx, op_id)


SMALL_ROWS = 3000  # units below this run in one transaction


def _small(ctx: AppContext, r: _Run, kind: Op) -> bool:
    with ctx.store.read() as tx:
        if kind != Op.PREPARE:
            return len(tx.keys(lock_holder=r.uid)) <= SMALL_ROWS
        ref = r.ref
        if ref.kind != UnitKind.VNET:
            return True
        deps = [d for d in tx.project(r.sub, [ids.T_DEPLOYMENT], ["virtual_network_name"])
                if (d["doc_virtual_network_name"] or "").lower() == ref.name.lower()]
        return len(deps) <= 100


def _steps(r: _Run, kind: Op, armed: set[str]) -> None:
    """Run the remaining steps from the saved progress (each step saves its own advance)."""
    steps = STEPS[kind]
    if r.batch is not None:
        current = r.op  # created a moment ago in this transaction
    else:
        with r.reader() as tx:
            current = tx.get_operation(r.op_id) or {}
    if current.get("status") != IN_PROGRESS:
        return
    for index in range(int((current.get("progress") or {}).get("step", 0)), len(steps)):
        step = steps[index]
        if f"{kind.value}.{step}" in armed:
            faults.trip(r.ctx.store, f"{kind.value}.{step}")
        _STEP_FUNCS[(kind, step)](r, index)


def _advance(tx: Tx, r: _Run, index: int, cursor: int = 0, **extra: Any) -> None:
    if r.shared is not None:
        return  # one transaction for every step: there is no partial progress to resume from
    tx.update_operation(r.op_id, progress={"step": index + 1, "cursor": cursor, **extra})


def _fail(r: _Run, kind: Op, code: str, message: str, http_status: int) -> None:
    with r.ctx.store.tx() as tx:
        unit = tx.get_unit(r.uid)
        tx.update_operation(r.op_id, status=FAILED, http_status=http_status, error_code=code, error_message=message,
                            lease_owner=None)
        if unit is not None and kind == Op.PREPARE:
            locked = bool(tx.keys(lock_holder=r.uid))
            unit["state"] = S.PREPARE_FAILED.value if locked else unit["doc"].get("state_before")
            tx.put_unit(unit)
        # commit and abort failures leave the unit Committing / Aborting: only a retry moves it on


def _succeed(tx: Tx, r: _Run, state: str | None) -> None:
    unit = r.unit(tx)
    unit["state"] = state
    final = {"status": SUCCEEDED, "http_status": 200, "lease_owner": None,
             "progress": {"step": len(STEPS[Op(r.op["kind"])]), "cursor": 0}}
    if r.batch is not None:  # its record isn't written yet (see _start_in)
        tx.insert_operation({k: v for k, v in {**r.op, **final}.items() if k not in ("created_at", "updated_at")})
    else:
        tx.update_operation(r.op_id, **final)
    r.save_unit(tx, unit, final=True)


def _load(tx: Tx, r: _Run, now: datetime) -> LoadedUnit:
    if r.loaded is not None:
        return r.loaded
    lu = load_unit(tx, r.sub, r.ref, now, r.source)
    if lu.root is None:
        raise _not_found(r.ref)
    if r.shared is not None:  # nothing else can change the unit inside this transaction
        r.loaded = lu
    return lu


# ---- prepare


def _prepare_validate(r: _Run, index: int) -> None:
    with r.tx() as tx:
        now = r.begin(tx)
        lu = _load(tx, r, now)
        messages = rules.validate(lu.snapshot, Phase.PREPARE)
        errors = [m for m in messages if m.category == Category.ERROR]
        if errors:
            raise ServiceError("BadRequest", " ".join(m.message for m in errors), 400)
        _advance(tx, r, index)


def _non_vnet_deployment(lu: LoadedUnit) -> bool:
    return lu.snapshot.ref.kind == UnitKind.DEPLOYMENT and all(
        not cs.deployment.virtual_network_name for cs in lu.snapshot.services)


def _prepare_lock(r: _Run, index: int) -> None:
    with r.tx() as tx:
        now = r.begin(tx)
        lu = _load(tx, r, now)
        rows = [*lu.members, *lu.kept]
        # Inside one transaction for every step nobody can see "Preparing": go straight to what finish would set.
        state = S.PREPARED.value if r.shared is not None else S.PREPARING.value
        locked = tx.set_columns([m.key for m in rows], rows=rows, lock_holder=r.uid, migration_state=state)
        if r.shared is not None and locked == len(rows):  # the VMs as they now are, for the data-plane step
            r.locked_vms = {m.key: replace(m, version=m.version + 1, lock_holder=r.uid, migration_state=state)
                            for m in lu.members if m.type == ids.T_VM}
        unit = r.unit(tx)
        doc = dict(unit["doc"])
        doc["kept"] = [k.key for k in lu.kept]
        if _non_vnet_deployment(lu) and "power_before" not in doc:  # a retried prepare keeps the original states
            doc["power_before"] = {m.key: [m.doc.get("instance_status"), m.doc.get("power_state")]
                                   for m in lu.members if m.type == ids.T_VM}
        unit["doc"] = doc
        r.save_unit(tx, unit)
        _advance(tx, r, index)


def _translated_rows(tx: Tx, r: _Run, now: datetime) -> list[Row]:
    lu = _load(tx, r, now)
    result = translate(lu.snapshot)
    resources = [*result.resource_groups, *result.resources]
    existing_subnets: dict[str, str] = {}
    taken: dict[str, set[str]] = {}
    vnet = lu.snapshot.arm.existing_vnet
    if vnet is not None:
        for sn in vnet.properties.get("subnets", []):
            existing_subnets[str(sn.get("id", "")).lower()] = str(sn.get("properties", {}).get("addressPrefix"))
        for nic in tx.query(r.sub, types=["Microsoft.Network/networkInterfaces"]):
            if nic.lock_holder == r.uid:
                continue
            for cfg in nic.doc.get("properties", {}).get("ipConfigurations", []):
                props = cfg.get("properties", {})
                sid = str((props.get("subnet") or {}).get("id", "")).lower()
                if props.get("privateIPAddress"):
                    taken.setdefault(sid, set()).add(props["privateIPAddress"])
    addressing.allocate(resources, existing_subnets, taken)
    return [codec.arm_row(res, migration_state=S.PREPARED.value, lock_holder=r.uid) for res in resources]


def _prepare_create(r: _Run, index: int) -> None:
    """Create the ARM side in batches; the cursor is saved with each batch, and upserts make a batch that was
    running when the process died harmless to repeat."""
    with r.reader() as tx:
        rows = _translated_rows(tx, r, r.now or clock.now(tx))
        op = r.op if r.batch is not None else tx.get_operation(r.op_id) or {}
        cursor = int((op.get("progress") or {}).get("cursor", 0))
    total = len(rows)
    while cursor < total:
        batch = rows[cursor:cursor + BATCH]
        with r.tx() as tx:
            r.begin(tx)
            # A first attempt has nothing to replace: skip the upsert's look-up.
            first = r.batch is not None and not r.retry
            if cursor == 0 and (first or not tx.keys(lock_holder=r.uid, model=ids.ARM)):
                tx.insert(batch)
            else:
                tx.upsert(batch)
            cursor += len(batch)
            if r.shared is None:  # (one transaction for every step has no partial progress to save)
                tx.update_operation(r.op_id, progress={"step": index, "cursor": cursor})
        r.report("create", cursor, total)
    with r.tx() as tx:
        r.begin(tx)
        _advance(tx, r, index)


def _prepare_dataplane(r: _Run, index: int) -> None:
    """VMs outside a VNet are stopped and deallocated, and restarted on the ARM side (spec §1.1 unit A)."""
    with r.tx() as tx:
        now = r.begin(tx)
        before = r.unit(tx)["doc"].get("power_before") or {}
        if r.locked_vms is not None and before.keys() <= r.locked_vms.keys():
            rows = {k: r.locked_vms[k] for k in before}  # locked a moment ago in this transaction: no need to read
        else:
            rows = tx.get_many(before)
        changed, events = [], []
        real = datetime.now(UTC)
        for key, row in rows.items():
            status, _power = before[key]
            if row.doc.get("instance_status") == c.InstanceStatus.STOPPED_DEALLOCATED.value:
                continue
            changed.append(row)
            if status not in (c.InstanceStatus.STOPPED_VM.value, c.InstanceStatus.STOPPED_DEALLOCATED.value):
                # a running VM: one window from the classic stop/deallocate to the start on the ARM side
                events.append(_event(r, key, "down", now, real, "prepare: stop and deallocate (classic)"))
                events.append(_event(r, key, "up", now + dataplane.restart_window(), datetime.now(UTC),
                                     "prepare: started in ARM"))
        vm_power.change(tx, r.sub, [(row, c.InstanceStatus.STOPPED_DEALLOCATED, c.PowerState.STOPPED)
                                    for row in changed])
        tx.add_timeline(events)
        _advance(tx, r, index)


def _event(r: _Run, key: str, event: str, at: datetime, real: datetime, reason: str) -> dict[str, Any]:
    return {"subscription_id": r.sub, "vm_key": key.lower(), "event": event, "at": at, "real_at": real,
            "operation_id": r.op_id, "reason": reason}


def _prepare_finish(r: _Run, index: int) -> None:
    with r.tx() as tx:
        r.begin(tx)
        if r.shared is None:  # (in a shared transaction, lock already set Prepared)
            tx.set_columns(tx.keys(lock_holder=r.uid, model=ids.CLASSIC), migration_state=S.PREPARED.value)
        _succeed(tx, r, S.PREPARED.value)


# ---- commit


def _commit_remove_classic(r: _Run, index: int) -> None:
    """Remove the classic representation (kept: cloned NSGs/route tables, which are only unlocked), the disks
    attached to its VMs with them (they hold their VM's lock, see locks.py)."""
    while True:
        with r.tx() as tx:
            r.begin(tx)
            cloned = set(r.unit(tx)["doc"].get("kept", []))  # NSGs/route tables cloned, not moved
            keys = tx.keys(lock_holder=r.uid, model=ids.CLASSIC)
            kept = [k for k in keys[:BATCH] if k in cloned]
            gone = [k for k in keys[:BATCH] if k not in cloned]
            rows = kept + gone
            tx.set_columns(kept, lock_holder=None, migration_state=None)
            tx.delete(locks.attached_disks(tx, gone) + gone)
            done = len(keys) <= BATCH
            if done:
                _advance(tx, r, index)
        r.report("remove classic", len(rows), len(keys))
        if done:
            return


def _unlock_arm(r: _Run, index: int) -> None:
    while True:
        with r.tx() as tx:
            r.begin(tx)
            keys = tx.keys(lock_holder=r.uid, model=ids.ARM)
            tx.set_columns(keys[:BATCH], lock_holder=None, migration_state=None)
            done = len(keys) <= BATCH
            if done:
                _advance(tx, r, index)
        if done:
            return


def _commit_finish(r: _Run, index: int) -> None:
    with r.tx() as tx:
        r.begin(tx)
        _succeed(tx, r, S.COMMITTED.value)


# ---- abort


def _abort_remove_arm(r: _Run, index: int) -> None:
    while True:
        with r.tx() as tx:
            r.begin(tx)
            keys = tx.keys(lock_holder=r.uid, model=ids.ARM)
            tx.delete(keys[:BATCH])
            done = len(keys) <= BATCH
            if done:
                _advance(tx, r, index)
        r.report("remove ARM resources", min(BATCH, len(keys)), len(keys))
        if done:
            return


def _abort_restore(r: _Run, index: int) -> None:
    """Give VMs that prepare deallocated their power state back (their ARM twin stops, classic restarts)."""
    with r.tx() as tx:
        now = r.begin(tx)
        before = r.unit(tx)["doc"].get("power_before") or {}
        rows = tx.get_many(before)
        changed, events = [], []
        for key, row in rows.items():
            status, power = before[key]
            if row.doc.get("instance_status") == status:
                continue
            down_in_arm = status not in (c.InstanceStatus.STOPPED_VM.value, c.InstanceStatus.STOPPED_DEALLOCATED.value)
            changed.append((row, status, power))
            if down_in_arm:
                events.append(_event(r, key, "down", now, datetime.now(UTC), "abort: ARM VM removed"))
                events.append(_event(r, key, "up", now + dataplane.restart_window(), datetime.now(UTC),
                                     "abort: restarted (classic)"))
        vm_power.change(tx, r.sub, changed)
        tx.add_timeline(events)
        _advance(tx, r, index)


def _abort_finish(r: _Run, index: int) -> None:
    """Unlock the classic side; the last batch marks the unit Aborted in the same transaction, so classic
    writes stay refused for as long as the unit says Aborting (spec §2.3)."""
    while True:
        with r.tx() as tx:
            r.begin(tx)
            keys = tx.keys(lock_holder=r.uid, model=ids.CLASSIC)
            tx.set_columns(keys[:BATCH], lock_holder=None, migration_state=None)
            if len(keys) <= BATCH:
                _succeed(tx, r, S.ABORTED.value)
                return


_STEP_FUNCS: dict[tuple[Op, str], Callable[[_Run, int], None]] = {
    (Op.PREPARE, "validate"): _prepare_validate, (Op.PREPARE, "lock"): _prepare_lock,
    (Op.PREPARE, "create"): _prepare_create, (Op.PREPARE, "dataplane"): _prepare_dataplane,
    (Op.PREPARE, "finish"): _prepare_finish,
    (Op.COMMIT, "remove_classic"): _commit_remove_classic, (Op.COMMIT, "unlock_arm"): _unlock_arm,
    (Op.COMMIT, "finish"): _commit_finish,
    (Op.ABORT, "remove_arm"): _abort_remove_arm, (Op.ABORT, "restore"): _abort_restore,
    (Op.ABORT, "finish"): _abort_finish,
}


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
        now = clock.now(tx)
        units = {u["id"]: u for u in tx.list_units(sub_id)}
        locked = [(units.get(unit_id(sub_id, ref)) or {}).get("state") in LOCKED_STATES for ref in refs]
        op_ids = [operations.new_id() for _ in refs]
        tx.insert_operations([{"id": op_id, "subscription_id": sub_id, "kind": Op.VALIDATE.value,
                               "unit_key": unit_id(sub_id, ref), "status": SUCCEEDED, "http_status": 200,
                               "request": _request(ref)} for op_id, ref in zip(op_ids, refs, strict=True)])
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
                 batch_rows: int = 60_000) -> list[OperationView]:
    """Prepare, commit or abort many units, several per transaction (each unit still gets its own durable
    operation record and goes through the same steps). A batch is atomic: a crash loses at most the batch in
    flight, whose units are then simply not started. Units that fail are rolled back on their own (savepoint)
    and reported Failed, as `execute` would."""
    many = _Many(ctx, op, operations.new_owner(), progress, len(refs), batch_rows)
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
            src.written(touched, tx.last_event_seq())  # the next batch needn't read its own writes back

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
                found = tx.get_units(window, for_update=True)
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
                        r = _Run(self.ctx, rec, self.owner, None, shared=tx, source=src, batch=batch,
                                 retry=retry, claimed_in=tx, now=now)
                        _steps(r, self.op, set())
                        if r.loaded is not None:
                            touched.update(row.key for row in [*r.loaded.members, *r.loaded.kept])
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
        return touched


def _failed_view(tx: Tx, sub_id: str, op: Op, ref: UnitRef, exc: ServiceError) -> OperationView:
    """A unit of a batch that failed: its own (rolled back) work leaves a Failed operation, as `run` would."""
    uid = unit_id(sub_id, ref)
    rec = {"id": operations.new_id(), "subscription_id": sub_id, "kind": op.value, "unit_key": uid,
           "status": FAILED, "http_status": exc.http_status, "error_code": exc.code, "error_message": exc.message,
           "request": _request(ref), "progress": {"step": 0, "cursor": 0}}
    tx.insert_operation(rec)
    return operations.view({**rec, "created_at": tx.now, "updated_at": tx.now, "attempts": 0})
