"""Operation times follow the world clock (issue 14): an operation started while the clock is fixed at, or runs
from, a past date shows times on that date through the service, the ASM API's List Subscription Operations and
the CLI, on every path that stamps operations (one transaction, step by step, a failure, many units per batch).
The admin pacing's "seconds" mode still counts real seconds, from the real time the operation was accepted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from starlette.testclient import TestClient

from classic2arm.api.app import create_app
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import UnitKind, UnitRef
from classic2arm.service import (
    classic_reads,
    clock,
    console,
    credentials,
    faults,
    migration,
    operations,
    pacing,
    world_clock,
)
from classic2arm.service.context import AppContext
from classic2arm.service.operations import IN_PROGRESS, SUCCEEDED, OperationView

WHEN = datetime(2023, 6, 1, tzinfo=UTC)  # sample_ctx's world clock
SUB = "11111111-2222-3333-4444-555555555555"  # the sample estate's subscription
UNIT = UnitRef(UnitKind.RESERVED_IP, "spare-ip")  # nothing blocks it
BLOCKED = UnitRef(UnitKind.STORAGE, "contosovhds")  # its disks are in use: its prepare fails
NS = "{http://schemas.microsoft.com/windowsazure}"


def _on_the_world_clock(view: OperationView, real_before: datetime) -> None:
    assert (view.created_at, view.updated_at) == (WHEN, WHEN), view
    assert view.created_real_at >= real_before - timedelta(seconds=1), view  # (real time: today, not 2023)


def test_prepare_and_commit_show_the_fixed_world_clock(sample_ctx: AppContext,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    real_before = datetime.now(UTC)
    prepared = migration.execute(sample_ctx, Op.PREPARE, UNIT)  # one transaction
    assert prepared.status == SUCCEEDED, prepared
    monkeypatch.setattr(migration, "SMALL_ROWS", -1)  # the commit runs step by step: a transaction per step
    committed = migration.execute(sample_ctx, Op.COMMIT, UNIT)
    assert committed.status == SUCCEEDED, committed
    for op_id in (prepared.id, committed.id):
        _on_the_world_clock(operations.get(sample_ctx, op_id), real_before)
    assert [v.id for v in classic_reads.operations_of(sample_ctx, SUB)] == [prepared.id, committed.id]  # real order


def test_a_failed_operation_shows_the_world_clock(sample_ctx: AppContext) -> None:
    real_before = datetime.now(UTC)
    faults.set_fault(sample_ctx, "prepare.create", "R47")
    failed = migration.execute(sample_ctx, Op.PREPARE, UNIT)
    assert failed.status == "Failed", failed
    _on_the_world_clock(operations.get(sample_ctx, failed.id), real_before)


def test_many_units_per_batch_and_validations_show_the_world_clock(sample_ctx: AppContext) -> None:
    real_before = datetime.now(UTC)
    refs = [UNIT, BLOCKED]
    validated = migration.validate_many(sample_ctx, refs)
    views = migration.execute_many(sample_ctx, Op.PREPARE, refs)
    assert [v.status for v in views] == [SUCCEEDED, "Failed"], views
    for view in [*views, *(operations.get(sample_ctx, v.operation_id) for v in validated)]:
        _on_the_world_clock(view, real_before)


def test_the_console_lists_a_units_operations_newest_first_on_the_fixed_clock(sample_ctx: AppContext) -> None:
    started = [migration.execute(sample_ctx, op, UNIT).id for op in (Op.PREPARE, Op.ABORT, Op.PREPARE)]
    shown = console.unit_view(sample_ctx, UNIT).operations
    assert [v.id for v in shown] == started[::-1]  # (all at the same world-clock time: in real order)
    assert {(v.created_at, v.updated_at) for v in shown} == {(WHEN, WHEN)}


def test_a_running_world_clock_stamps_its_own_time(sample_ctx: AppContext) -> None:
    world_clock.set_clock(sample_ctx, clock.running_from(WHEN))
    view = migration.execute(sample_ctx, Op.PREPARE, UNIT)
    assert WHEN <= view.created_at <= view.updated_at < WHEN + timedelta(hours=1), view
    assert view.created_real_at.year >= 2024, view


def test_the_asm_api_and_the_cli_show_the_world_clock(sample_ctx: AppContext) -> None:
    view = migration.execute(sample_ctx, Op.PREPARE, UNIT)
    token = credentials.create_token(sample_ctx, SUB)[0]
    with TestClient(create_app(sample_ctx)) as c:
        r = c.get(f"/{SUB}/operations", headers={"Authorization": f"Bearer {token}", "x-ms-version": "2016-07-01"})
    assert r.status_code == 200, r.text
    listed = next(o for o in ElementTree.fromstring(r.content).iter(f"{NS}SubscriptionOperation")
                  if o.findtext(f"{NS}OperationId") == view.id)
    for tag in ("OperationStartedTime", "OperationCompletedTime"):
        assert (listed.findtext(f"{NS}{tag}") or "").startswith("2023-06-01T00:00:00"), ElementTree.tostring(listed)

    url = str(sample_ctx.store.engine.url)
    res = subprocess.run([sys.executable, "-m", "classic2arm", "--db", url, "operation", "show", view.id, "--json"],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert res.returncode == 0, res.stderr
    shown = json.loads(res.stdout)
    assert (shown["createdAt"], shown["updatedAt"]) == (WHEN.isoformat(), WHEN.isoformat()), shown


def test_pacing_seconds_counts_real_seconds_under_a_fixed_world_clock(sample_ctx: AppContext) -> None:
    seconds = 1.0
    pacing.set_pacing(sample_ctx, pacing.Pacing("seconds", seconds=seconds))
    done = migration.execute(sample_ctx, Op.PREPARE, UNIT)  # really finished at once
    assert done.status == SUCCEEDED and done.created_at == WHEN, done
    start = done.created_real_at
    # measured from the real start, not from the world clock's 2023 (which would have released it long ago)
    assert pacing.observed_status(sample_ctx, done, real_now=start + timedelta(seconds=0.5)) == IN_PROGRESS
    assert pacing.observed_status(sample_ctx, done, real_now=start + timedelta(seconds=seconds)) == SUCCEEDED
    # polled for real (Get Operation Status): InProgress only while less than `seconds` really passed, then done
    deadline = time.monotonic() + 60  # (a hang guard only)
    while True:
        asked = datetime.now(UTC)
        status = classic_reads.operation(sample_ctx, SUB, done.id).status
        answered = datetime.now(UTC)
        if status == IN_PROGRESS:
            assert asked < start + timedelta(seconds=seconds)
        else:
            assert status == SUCCEEDED and answered >= start + timedelta(seconds=seconds)
            break
        assert time.monotonic() < deadline, "pacing never released the operation"
        time.sleep(0.05)
