"""`classic2arm.cli.main.run`, the process entry point: it leaves with `os._exit` after `main` (no heap
teardown), so what it owes at exit is checked here: every byte of a large output reaches a pipe, the exit codes
are main's (0, 2 usage, 3 validation errors, 1 errors), and a SQLite store it wrote is whole."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from test_cli import run


def test_output_and_exit_codes_survive_the_fast_exit(tmp_path: Path) -> None:
    db = tmp_path / "exit.db"
    assert run(db, "clock", "set", "2023-06-01").returncode == 0
    gen = run(db, "generate", "--vms", "300", "--seed", "3", "--blockers", "0.3", "--json")
    assert gen.returncode == 0 and json.loads(gen.stdout)["created"] > 300
    # (the store is whole in its file: nothing left only in a -wal beside it)
    assert not (tmp_path / "exit.db-wal").exists() or (tmp_path / "exit.db-wal").stat().st_size == 0
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM resources").fetchone()[0] > 300
    assert run(db, "provider", "register", "Microsoft.ClassicInfrastructureMigrate").returncode == 0
    plan = run(db, "plan", "--json")
    assert plan.returncode == 0 and len(plan.stdout) > 100_000
    assert json.loads(plan.stdout)["summary"]["vms"] == 300  # (all of it: flushed before leaving)
    assert run(db, "validate", "--all", "--json").returncode == 3  # blockers: exit 3
    usage = run(db, "plan", "--format", "nope")
    assert usage.returncode == 2 and "--format" in usage.stderr
    missing = run(db, "show", "no-such-resource")
    assert missing.returncode == 1 and missing.stderr.strip() and "Traceback" not in missing.stderr
