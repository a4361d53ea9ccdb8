"""The one migration runner: runs an operation's steps (`steps.py`) behind a unit of work.

A step writes through `StepContext.tx` and yields a cursor wherever its work may be made durable; how that is
committed is the unit of work's business, not the step's:

- `StepByStep`: a transaction per step (and per batch a step yields), the operation's progress saved with each,
  the lease renewed at the start of each (big units, and any operation with faults armed): a process killed at
  any point leaves a record another run resumes from the last commit;
- `OneTransaction`: every step in the transaction that claimed the operation (small units: atomic, nothing to
  resume mid-way, one commit);
- `InBatch`: every step of many units in one transaction of `execute_many` (the operation record written once,
  finished, by the unit's end).

The operation row is read once per run (the runner keeps its progress), and the lease claimed once per run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..domain.classic import MigrationState as S
from ..domain.state_machine import Op
from ..domain.units import UnitRef
from ..store import OperationRecord, Row, Tx, UnitRecord
from . import clock, faults, operations
from .context import AppContext
from .snapshot import LoadedUnit
from .sources import Source

Progress = Callable[[str, int, int], None]
# A step: does its writes through `sc.tx`; yields a cursor (where it would resume) at each durable point.
Step = Callable[["StepContext"], Iterator[int] | None]

FINAL_STATE: dict[Op, str] = {Op.PREPARE: S.PREPARED.value, Op.COMMIT: S.COMMITTED.value,
                              Op.ABORT: S.ABORTED.value}


class Lost(Exception):
    """Another process took over the operation's lease."""


@dataclass
class StepContext:
    """What a step is given: the operation and unit records, the current transaction, what earlier steps of the
    same transaction left (forgotten at each commit)."""

    ctx: AppContext
    op: OperationRecord
    unit: UnitRecord
    uow: UnitOfWork
    ref: UnitRef
    progress: Progress | None = None
    source: Source | None = None  # a preloaded index of the subscription (many units in one batch)
    fresh: bool = False  # started in this very transaction, nothing written before: inserts need no look-up
    cursor: int = 0  # where the current step resumes (saved progress)
    loaded: LoadedUnit | None = None  # the unit as loaded in this transaction
    locked_vms: dict[str, Row] | None = None  # the unit's VMs as the lock step left them, in this transaction
    unit_dirty: bool = False

    @property
    def tx(self) -> Tx:
        return self.uow.tx(self)

    @property
    def now(self) -> datetime:
        return self.uow.now(self)

    @property
    def sub(self) -> str:
        return self.op.subscription_id

    @property
    def uid(self) -> str:
        return self.op.unit_key

    def reading(self) -> AbstractContextManager[Tx]:
        """A transaction to read in (before the writes of a step that reads much and writes in batches)."""
        return self.uow.reading(self)

    def interim(self, interim: str, final: str) -> str:
        """The state to stamp now on rows that end in `final`: `interim` if anyone can see them before the
        operation ends, else `final` itself."""
        return final if self.uow.atomic else interim

    def save_unit(self) -> None:
        """The unit record changed: the unit of work writes it with the step's writes (or the operation's end)."""
        self.unit_dirty = True

    def report(self, step: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(step, done, total)

    def forget(self) -> None:
        """A transaction ended: what was read in it may change."""
        self.loaded, self.locked_vms = None, None


def _finished(steps: int) -> dict[str, Any]:
    return {"status": operations.SUCCEEDED, "http_status": 200, "lease_owner": None,
            "progress": {"step": steps, "cursor": 0}}


class UnitOfWork:
    """How a run's writes are committed. `atomic`: every step of the operation commits together."""

    atomic = True

    def tx(self, sc: StepContext) -> Tx:
        raise NotImplementedError

    def now(self, sc: StepContext) -> datetime:
        raise NotImplementedError

    @contextmanager
    def reading(self, sc: StepContext) -> Iterator[Tx]:
        yield self.tx(sc)

    def checkpoint(self, sc: StepContext, step: int, cursor: int) -> None:
        """A durable point: the next thing to do is `step` from `cursor`. (Atomic: nothing to save.)"""

    def complete(self, sc: StepContext, kind: Op, steps: int) -> None:
        """The last step is done: the operation succeeds and the unit takes its final state, with its writes."""
        raise NotImplementedError

    def abandon(self, exc: BaseException | None) -> None:
        """The run stopped early (an error, a lost lease): roll back what is not committed."""


class OneTransaction(UnitOfWork):
    """Every step in one given transaction (the one that claimed the operation)."""

    def __init__(self, tx: Tx, now: datetime) -> None:
        self._tx, self._now = tx, now

    def tx(self, sc: StepContext) -> Tx:
        return self._tx

    def now(self, sc: StepContext) -> datetime:
        return self._now

    def complete(self, sc: StepContext, kind: Op, steps: int) -> None:
        sc.unit.state = FINAL_STATE[kind]
        self._tx.operations.update(sc.op.id, self._now, **_finished(steps))
        self._tx.units.put(sc.unit)


class InBatch(OneTransaction):
    """A unit of `execute_many`'s batch: its operation record and unit record are written once, at its end."""

    def __init__(self, tx: Tx, now: datetime, put_unit: Callable[[Tx, UnitRecord], None]) -> None:
        super().__init__(tx, now)
        self._put_unit = put_unit

    def complete(self, sc: StepContext, kind: Op, steps: int) -> None:
        sc.unit.state = FINAL_STATE[kind]
        self._tx.operations.insert(replace(sc.op, **_finished(steps)))
        self._put_unit(self._tx, sc.unit)


class StepByStep(UnitOfWork):
    """A transaction per durable point; each renews the lease first and saves the progress with its writes."""

    atomic = False

    def __init__(self, ctx: AppContext, owner: str) -> None:
        self.ctx, self.owner = ctx, owner
        self._open: tuple[AbstractContextManager[Tx], Tx] | None = None
        self._now: datetime | None = None

    def tx(self, sc: StepContext) -> Tx:
        if self._open is None:
            cm = self.ctx.store.tx()
            tx = cm.__enter__()
            self._open = (cm, tx)
            try:
                self._now = tx.now = clock.now(tx)  # the world clock, read once per transaction
                if not operations.renew(tx, sc.op.id, self.owner, self._now):
                    raise Lost(sc.op.id)
                tx.operation_id = sc.op.id
            except BaseException as exc:
                self.abandon(exc)
                raise
        return self._open[1]

    def now(self, sc: StepContext) -> datetime:
        if self._now is None:
            self.tx(sc)
        assert self._now is not None
        return self._now

    @contextmanager
    def reading(self, sc: StepContext) -> Iterator[Tx]:
        if self._open is not None:
            yield self._open[1]
            return
        with self.ctx.store.read() as tx:
            if self._now is None:
                self._now = clock.now(tx)
            yield tx

    def _commit(self, sc: StepContext) -> None:
        assert self._open is not None
        cm, _ = self._open
        self._open = None
        cm.__exit__(None, None, None)
        sc.forget()

    def checkpoint(self, sc: StepContext, step: int, cursor: int) -> None:
        tx = self.tx(sc)
        sc.op.progress = {"step": step, "cursor": cursor}
        tx.operations.update(sc.op.id, self.now(sc), progress=sc.op.progress)
        if sc.unit_dirty:
            tx.units.put(sc.unit, exists=True)
            sc.unit_dirty = False
        self._commit(sc)

    def complete(self, sc: StepContext, kind: Op, steps: int) -> None:
        tx = self.tx(sc)
        sc.unit.state = FINAL_STATE[kind]
        tx.operations.update(sc.op.id, self.now(sc), **_finished(steps))
        tx.units.put(sc.unit, exists=True)
        self._commit(sc)

    def abandon(self, exc: BaseException | None) -> None:
        if self._open is not None:
            cm, _ = self._open
            self._open = None
            cm.__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)


@dataclass
class Plan:
    """An operation's steps, by name, and the function of each (`steps.py`)."""

    names: dict[Op, tuple[str, ...]]
    funcs: dict[tuple[Op, str], Step] = field(default_factory=dict)


def run_steps(sc: StepContext, plan: Plan, armed: frozenset[str] | set[str] = frozenset()) -> None:
    """Run the operation's remaining steps from its saved progress, then complete it."""
    kind = Op(sc.op.kind)
    names = plan.names[kind]
    saved = sc.op.progress or {}
    first, sc.cursor = int(saved.get("step", 0)), int(saved.get("cursor", 0))
    try:
        for index in range(first, len(names)):
            name = f"{kind.value}.{names[index]}"
            if name in armed:
                faults.trip(sc.ctx.store, name)
            checkpoints = plan.funcs[(kind, names[index])](sc)
            for cursor in checkpoints or ():
                sc.uow.checkpoint(sc, index, cursor)
            sc.cursor = 0
            if index + 1 < len(names):
                sc.uow.checkpoint(sc, index + 1, 0)
        sc.uow.complete(sc, kind, len(names))
    except BaseException as exc:
        sc.uow.abandon(exc)
        raise
