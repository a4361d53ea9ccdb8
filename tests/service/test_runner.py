"""The one migration runner (service/runner.py): whichever way it commits, an operation's row is read once and
its lease claimed once per run; step by step, each transaction renews the lease and saves the progress."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from invariants import check_invariants

from classic2arm.domain import generator
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.service import clock, estate, migration, status, world_clock
from classic2arm.service.context import AppContext


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    c = AppContext.open(f"sqlite:///{tmp_path / 'r.db'}")
    world_clock.set_clock(c, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(c, generator.generate(vms=40, vnets=1, seed=5, blockers=0.0), source="gen")
    yield c
    c.close()


class _Statements:
    """Statements on the operations table while active: reads, claims (attempts + 1) and lease renewals."""

    def __init__(self, ctx: AppContext) -> None:
        self.engine, self.seen = ctx.store.engine, []

    def __enter__(self) -> _Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: Any) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(" ".join(statement.split()))

    def count(self, start: str, *parts: str) -> int:
        return sum(1 for s in self.seen if s.startswith(start) and all(p in s for p in parts))


def _dep(ctx: AppContext) -> UnitRef:
    u = next(u for u in status.status(ctx) if u.kind == "deployment" and u.vms > 0)
    return UnitRef(UnitKind.DEPLOYMENT, u.name, u.service, Destination("New"))


@pytest.mark.parametrize("step_by_step", [False, True])
def test_one_read_and_one_claim_per_run(ctx: AppContext, monkeypatch: pytest.MonkeyPatch,
                                        step_by_step: bool) -> None:
    ref = _dep(ctx)
    for op in (Op.PREPARE, Op.COMMIT):
        view = migration.start(ctx, op, ref)
        if step_by_step:  # every unit is big: a transaction per step
            monkeypatch.setattr(migration, "_small", lambda *a: False)
        with _Statements(ctx) as st:
            done = migration.run(ctx, view.id)
        assert done.status == "Succeeded", done
        # the run's read, and the final view the caller gets back
        assert st.count("SELECT", "FROM operations") == 2, st.seen
        assert st.count("UPDATE operations", "attempts") == 1
        renewals = st.count("UPDATE operations", "lease_expires") - 1  # (less the claim)
        progress = st.count("UPDATE operations", "progress=")
        if step_by_step:  # one transaction per step, each renewing the lease and saving the progress
            assert renewals == len(migration.STEPS[op]) and progress == renewals
        else:
            assert renewals == 0 and progress == 1  # the one transaction's end (Succeeded)
        check_invariants(ctx)
        monkeypatch.undo()
