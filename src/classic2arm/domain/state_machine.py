"""The per-unit migration state machine and its allowed-operation matrix (spec §2.3).

States are the classic `MigrationState` values; `None` means never prepared (or aborted).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from . import catalogue as msg
from .classic import MigrationState as S
from .units import UnitKind, UnitRef


class Op(StrEnum):
    VALIDATE = "validate"
    PREPARE = "prepare"
    COMMIT = "commit"
    ABORT = "abort"


class Decision(StrEnum):
    RUN = "run"  # start a new operation
    JOIN = "join"  # the same operation is running: answer with its id
    NOOP = "noop"  # already done: succeed without doing anything (idempotent repeat)
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    code: str = ""
    message: str = ""


def _refuse(text: msg.Text, ref: UnitRef, deployment_text: msg.Text | None = None) -> Verdict:
    if ref.kind == UnitKind.DEPLOYMENT and deployment_text is not None:
        code, message = deployment_text.render(ref.name, ref.service)
    else:
        code, message = text.render(kind=ref.kind.word, name=ref.name)
    return Verdict(Decision.REFUSE, code, message)


def decide(op: Op, state: str | None, ref: UnitRef, active: bool = False, commit_attempted: bool = False) -> Verdict:
    """What to do with `op` on a unit in `state` (None = not prepared / aborted).

    `active`: an operation of the unit is still in progress (a durable record, resumed after crashes).
    `commit_attempted`: a commit was ever started — from then on abort is refused (spec §2.1).
    """
    if op == Op.VALIDATE:
        return Verdict(Decision.RUN)
    if state in (None, S.ABORTED.value):
        if op == Op.PREPARE:
            return Verdict(Decision.RUN)
        return _refuse(msg.R45_NOT_PREPARED_UNIT, ref, msg.R45_NOT_PREPARED)
    if state == S.PREPARING.value:
        if op == Op.PREPARE:
            return Verdict(Decision.JOIN if active else Decision.RUN)
        return _refuse(msg.R46_PREPARING_UNIT, ref)
    if state == S.PREPARE_FAILED.value:
        if op in (Op.PREPARE, Op.ABORT):
            return Verdict(Decision.RUN)
        return _refuse(msg.R45_NOT_PREPARED_UNIT, ref, msg.R45_NOT_PREPARED)
    if state == S.PREPARED.value:
        if op == Op.PREPARE:
            return Verdict(Decision.NOOP)
        if op == Op.ABORT and commit_attempted:
            return _refuse(msg.R46_COMMITTED_NO_ABORT, ref)
        return Verdict(Decision.RUN)
    if state == S.ABORTING.value:
        if op == Op.ABORT:
            return Verdict(Decision.JOIN if active else Decision.RUN)
        return _refuse(msg.R46_ABORTING_UNIT, ref, msg.R46_ABORTING)
    if state == S.COMMITTING.value:
        if op == Op.COMMIT:
            return Verdict(Decision.JOIN if active else Decision.RUN)  # a failed commit may only be retried
        if op == Op.ABORT:
            return _refuse(msg.R46_COMMITTED_NO_ABORT, ref)
        return _refuse(msg.R46_COMMITTING_UNIT, ref, msg.R46_COMMITTING)
    if state == S.COMMITTED.value:
        if op == Op.COMMIT:
            return Verdict(Decision.NOOP)
        if op == Op.ABORT:
            return _refuse(msg.R46_COMMITTED_NO_ABORT, ref)
        return _refuse(msg.R46_COMMITTING_UNIT, ref, msg.R46_COMMITTING)
    raise ValueError(f"unknown migration state {state!r}")


# States in which the classic management plane of the unit is locked.
LOCKED_STATES = frozenset({S.PREPARING.value, S.PREPARE_FAILED.value, S.PREPARED.value, S.ABORTING.value,
                           S.COMMITTING.value})
