"""Durable operation records (ASM Get Operation Status) and the leases that let any process finish an
operation whose process died.

An operation's times (`created_at`, `updated_at`: what every surface shows) are the world clock's
(`clock.now`, read once per transaction and passed in); its leases are real time (a lease guards a live process);
and it keeps the real time it was accepted at (`created_real_at`, for the admin pacing's "seconds" mode)."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..store import OperationRecord, Tx
from . import clock
from .context import AppContext
from .errors import NotFound

IN_PROGRESS, SUCCEEDED, FAILED = "InProgress", "Succeeded", "Failed"
HOST = socket.gethostname()


def lease_seconds() -> float:
    return float(os.environ.get("CLASSIC2ARM_LEASE_SECONDS", "30"))


def new_owner() -> str:
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def new_id() -> str:
    """ASM request ids are 32 lower-case hex characters."""
    return uuid.uuid4().hex


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def owner_alive(owner: str | None) -> bool:
    """A lease owner on this host whose process is gone holds nothing (a restart needn't wait out the lease)."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":")[0]
    if host != HOST or not pid_text.isdigit():
        return True  # another machine: only the lease expiry tells
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed child not yet reaped) is dead too
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


@dataclass(frozen=True, slots=True)
class OperationView:
    id: str
    kind: str
    unit: str
    status: str
    http_status: int | None
    error_code: str | None
    error_message: str | None
    created_at: datetime  # world clock
    updated_at: datetime  # world clock
    attempts: int
    created_real_at: datetime  # real time (not shown: what the admin pacing measures from)

    @property
    def dashed_id(self) -> str:
        return str(uuid.UUID(self.id))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "operation": self.kind, "unit": self.unit, "status": self.status}
        if self.http_status is not None:
            out["httpStatusCode"] = self.http_status
        if self.error_code:
            out["error"] = {"code": self.error_code, "message": self.error_message}
        out["createdAt"] = self.created_at.isoformat()
        out["updatedAt"] = self.updated_at.isoformat()
        return out


def view(op: OperationRecord) -> OperationView:
    request = op.request or {}
    return OperationView(id=op.id, kind=op.kind, unit=str(request.get("describe", op.unit_key)), status=op.status,
                         http_status=op.http_status, error_code=op.error_code, error_message=op.error_message,
                         created_at=utc(op.created_at) or datetime.now(UTC),
                         updated_at=utc(op.updated_at) or datetime.now(UTC), attempts=op.attempts or 0,
                         created_real_at=utc(op.created_real_at) or datetime.now(UTC))


def lease_until() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=lease_seconds())


def get_many(ctx: AppContext, op_ids: list[str]) -> list[OperationView]:
    """The views of several operations, in the order asked, read in one go."""
    with ctx.store.read() as tx:
        found = tx.operations.get_many(op_ids)
    return [view(found[i]) for i in op_ids]


def get(ctx: AppContext, op_id: str) -> OperationView:
    with ctx.store.read() as tx:
        op = find(tx, op_id)
    return view(op)


def find(tx: Tx, op_id: str) -> OperationRecord:
    """By 32-hex id or dashed GUID form (Get Operation Status accepts either)."""
    normalized = op_id.replace("-", "").lower()
    op = tx.operations.get(normalized)
    if op is None:
        raise NotFound(f"The operation '{op_id}' was not found.", code="ResourceNotFound")
    return op


def claim(tx: Tx, op_id: str, owner: str, op: OperationRecord | None = None, at: datetime | None = None) -> bool:
    """Take the operation's lease (`op`: its record, if just read in this transaction; `at`: the world-clock
    time, if this transaction has read it)."""
    real_now = datetime.now(UTC)
    at = at or clock.now(tx)
    if op is None:
        op = tx.operations.get(op_id)
    if op is None or op.status != IN_PROGRESS:
        return False
    holder = op.lease_owner
    expires = utc(op.lease_expires)
    if holder and holder != owner and expires and expires > real_now and owner_alive(holder):
        return False
    if holder and holder != owner and not owner_alive(holder):
        # free the dead owner's lease so the conditional update below can take it
        tx.operations.update(op_id, at, lease_expires=real_now - timedelta(seconds=1))
    return tx.operations.claim(op_id, owner, lease_until(), real_now, at)


def renew(tx: Tx, op_id: str, owner: str, at: datetime) -> bool:
    """Extend the lease `owner` holds (a step's transaction never runs for a process that lost it); `at`: the
    world-clock time."""
    return tx.operations.renew(op_id, owner, lease_until(), at)


def claimable(tx: Tx) -> list[str]:
    real_now = datetime.now(UTC)
    ids = set(tx.operations.claimable(real_now, limit=50))
    for op in tx.operations.all(status=IN_PROGRESS):
        if not owner_alive(op.lease_owner):
            ids.add(op.id)
    return sorted(ids)


def pending(ctx: AppContext) -> list[str]:
    """`claimable` in a read transaction of its own (what a server's resumer polls)."""
    with ctx.store.read() as tx:
        return claimable(tx)
