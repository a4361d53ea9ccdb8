"""Operation pacing: how soon Get Operation Status lets a client see that an operation has finished.

Real prepare/commit/abort calls take minutes; the emulator's usually finish before the client's first poll,
so a client's "still in progress" code path would never run. The admin API (PUT /admin/pacing) chooses:

- ``{"mode": "immediate"}`` (the default): the true status.
- ``{"mode": "polls", "polls": N}``: the first N status polls of each operation answer ``InProgress``, even
  if it is done; poll N+1 onward tells the truth.
- ``{"mode": "seconds", "seconds": S}``: ``InProgress`` until S real seconds after the operation was
  accepted, measured from the real time it was accepted at (its `created_real_at`), not from its world-clock
  `created_at`: a world clock fixed in the past does not advance, and an offset one needn't match.

Only the *reported* status changes: the work itself runs as fast as ever, and an operation that is really
still running always reads ``InProgress``. Validate operations (synchronous, registered as already
succeeded) are never paced. The setting is stored in meta ``pacing``; the poll count of an operation in
meta ``pacing:<operation id>``, so every server process sharing the store counts the same polls.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ..store import Tx
from .context import AppContext
from .errors import ServiceError
from .operations import IN_PROGRESS, OperationView

META_KEY = "pacing"
COUNTER_PREFIX = "pacing:"
MODES = ("immediate", "polls", "seconds")
PACED_KINDS = frozenset({"prepare", "commit", "abort"})


@dataclass(frozen=True, slots=True)
class Pacing:
    mode: str = "immediate"
    polls: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode}
        if self.mode == "polls":
            out["polls"] = self.polls
        if self.mode == "seconds":
            out["seconds"] = self.seconds
        return out


def parse(body: Any) -> Pacing:
    """The admin API's body: "immediate", {"mode": "immediate"}, {"polls": N} or {"seconds": S}."""
    if body == "immediate" or body == {"mode": "immediate"} or body == {}:
        return Pacing()
    if not isinstance(body, dict):
        raise ServiceError("InvalidPacing", 'pacing is "immediate", {"polls": N} or {"seconds": S}')
    mode = body.get("mode") or ("polls" if "polls" in body else "seconds" if "seconds" in body else None)
    if mode == "polls":
        n = body.get("polls")
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 10_000:
            raise ServiceError("InvalidPacing", "polls must be a whole number from 0 to 10000")
        return Pacing("polls", polls=n)
    if mode == "seconds":
        s = body.get("seconds")
        if not isinstance(s, int | float) or isinstance(s, bool) or not 0 <= s <= 86_400:
            raise ServiceError("InvalidPacing", "seconds must be a number from 0 to 86400")
        return Pacing("seconds", seconds=float(s))
    if mode == "immediate":
        return Pacing()
    raise ServiceError("InvalidPacing", f"unknown pacing mode; modes: {', '.join(MODES)}")


def _read(tx: Tx) -> Pacing:
    data = tx.meta.get(META_KEY) or {}
    return Pacing(str(data.get("mode", "immediate")), int(data.get("polls", 0)), float(data.get("seconds", 0.0)))


def get(ctx: AppContext) -> Pacing:
    with ctx.store.read() as tx:
        return _read(tx)


def set_pacing(ctx: AppContext, pacing: Pacing) -> Pacing:
    with ctx.store.tx() as tx:
        tx.meta.set(META_KEY, pacing.to_json())
    return pacing


def observed_status(ctx: AppContext, op: OperationView, real_now: datetime | None = None) -> str:
    """The status Get Operation Status should report for `op` under the current pacing: "InProgress",
    "Succeeded" or "Failed".

    Call it once per status poll (GET /{sub}/operations/{id}): in "polls" mode every call counts as one
    poll of `op`, durably (its own small transaction). When it returns "InProgress" for an operation that
    is really done, answer exactly as for a running operation — no error body, no final HTTP status code.
    `observed_view` does that substitution on the view.

    Concurrent polls of the same operation from several processes may be counted once (a read-modify-write
    of one meta row); that only ever shows InProgress one poll longer.
    """
    if op.kind not in PACED_KINDS:
        return op.status
    with ctx.store.tx() as tx:
        pacing = _read(tx)
        if pacing.mode == "polls":
            key = COUNTER_PREFIX + op.id
            seen = int(tx.meta.get(key) or 0) + 1
            tx.meta.set(key, seen)
            if seen <= pacing.polls:
                return IN_PROGRESS
        elif pacing.mode == "seconds":
            now = real_now or datetime.now(UTC)
            if now < op.created_real_at + timedelta(seconds=pacing.seconds):
                return IN_PROGRESS
    return op.status


def observed_view(ctx: AppContext, op: OperationView, real_now: datetime | None = None) -> OperationView:
    """`op` as a status poll should see it: with InProgress (and no result) while pacing holds it back."""
    status = observed_status(ctx, op, real_now)
    if status == op.status:
        return op
    return replace(op, status=status, http_status=None, error_code=None, error_message=None)
