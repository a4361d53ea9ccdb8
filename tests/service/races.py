"""Racing the operations of one unit (issue 11 item 3): release many callers at once, then judge their answers
against the store — every caller joined the one operation, got the idempotent no-op of a finished one, or got
the state machine's refusal, and exactly one operation ran. Shared by tests/service/test_race.py (threads) and
tests/api/test_race_servers.py (two server processes)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from classic2arm.domain import catalogue as msg
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import operations
from classic2arm.service.context import AppContext
from classic2arm.store import OperationRecord, UnitRecord

HANG_GUARD = 300  # seconds; only against a deadlock, never a measure

# An answer: the id of the operation accepted (HTTP 202), or the refusal's (code, message).
Answer = str | tuple[str, str]
T = TypeVar("T")


def race(n: int, call: Callable[[int], T]) -> list[T]:
    """`call(i)` for i in range(n) on n threads released at once. Whatever `call` raises fails the test."""
    barrier = threading.Barrier(n)

    def one(i: int) -> T:
        barrier.wait(timeout=HANG_GUARD)
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(one, i) for i in range(n)]
        return [f.result(timeout=HANG_GUARD) for f in futures]


def vnet_unit(ctx: AppContext, name: str) -> UnitRecord:
    with ctx.store.read() as tx:
        return next(u for u in tx.units.all() if u.kind == UnitKind.VNET.value and u.name == name)


def unit_ops(ctx: AppContext, name: str) -> dict[str, OperationRecord]:
    unit_key = vnet_unit(ctx, name).id
    with ctx.store.read() as tx:
        return {op.id: op for op in tx.operations.all(unit_key=unit_key)}


def _the_one_that_ran(ops: dict[str, OperationRecord], kinds: set[Op]) -> OperationRecord:
    """Exactly one operation of these kinds was claimed and run (no-op answers and refusals never are), once,
    and it succeeded."""
    [one] = [op for op in ops.values() if Op(op.kind) in kinds and (op.attempts or 0) > 0]
    assert one.status == operations.SUCCEEDED and one.attempts == 1, one
    return one


def _noop(ops: dict[str, OperationRecord], op_id: str, kind: Op) -> bool:
    """The idempotent repeat of a finished operation: recorded succeeded, never run."""
    op = ops.get(op_id)
    return op is not None and op.kind == kind.value and op.status == operations.SUCCEEDED and not op.attempts


def check_prepare_race(answers: list[Answer], ops: dict[str, OperationRecord]) -> None:
    assert all(isinstance(a, str) for a in answers), answers  # prepare after prepare is never refused
    one = _the_one_that_ran(ops, {Op.PREPARE})
    assert one.id in answers
    # Those that came after it finished got the idempotent no-op (spec §2.3: Prepared + prepare).
    late = [a for a in answers if a != one.id]
    assert all(isinstance(a, str) and _noop(ops, a, Op.PREPARE) for a in late), [ops.get(str(a)) for a in late]


def refusals(ref: UnitRef, winner: Op) -> set[tuple[str, str]]:
    """What the state machine answers the losers of a commit/abort race once `winner` is under way or done."""
    kind, name = ref.kind.word, ref.name
    if winner == Op.COMMIT:  # aborts: a commit was attempted; once committed, the classic unit is gone
        return {msg.R46_COMMITTED_NO_ABORT.render(kind=kind, name=name), ref.kind.not_found.render(name=name)}
    # commits while it is aborting or after it; aborts after it
    return {msg.R46_ABORTING_UNIT.render(kind=kind, name=name), msg.R45_NOT_PREPARED_UNIT.render(kind=kind, name=name)}


def check_commit_abort_race(ref: UnitRef, answers: list[Answer], ops: dict[str, OperationRecord]) -> Op:
    """Returns which of commit and abort won."""
    one = _the_one_that_ran(ops, {Op.COMMIT, Op.ABORT})
    winner = Op(one.kind)
    allowed = refusals(ref, winner)
    assert one.id in answers
    for a in answers:
        if isinstance(a, tuple):
            assert a in allowed, (a, winner)
        elif a != one.id:  # only a commit has an idempotent repeat once finished (spec §2.3: Committed + commit)
            assert winner == Op.COMMIT and _noop(ops, a, Op.COMMIT), (ops.get(a), winner)
    return winner
