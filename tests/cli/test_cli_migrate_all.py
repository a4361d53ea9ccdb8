"""`classic2arm migrate --all|--wave|--unit (--prepare-only|--commit)`: real processes over a generated estate
with blockers (issue 12, item 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from classic2arm.service.context import AppContext


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{db}", *args],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})


def as_json(res: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def estate_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("migrate_all") / "base.db"
    assert run(db, "clock", "set", "2023-06-01").returncode == 0
    assert run(db, "generate", "--vms", "300", "--seed", "1", "--blockers", "0.2").returncode == 0
    return db


@pytest.fixture
def db(estate_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "m.db"
    copy.write_bytes(estate_db.read_bytes())
    return copy


def _rows(db: Path) -> tuple[int, ...]:
    """What a write would move: the event log's end, the operations, the unit records, the resources."""
    ctx = AppContext.open(f"sqlite:///{db}")
    try:
        with ctx.store.read() as tx:
            return tx.events.last_seq(), len(tx.operations.all()), len(tx.units.all()), tx.resources.count()
    finally:
        ctx.close()


@pytest.mark.parametrize(("args", "words"), [
    (["--all"], "--prepare-only"),
    (["--all", "--commit", "--prepare-only"], "exclude each other"),
    (["--commit"], "--all"),
    (["--all", "--wave", "1", "--commit"], "excludes"),
    (["--unit", "vnet", "--commit"], "names no resource"),
    (["--wave", "0", "--commit"], "--wave"),
])
def test_usage_errors(db: Path, args: list[str], words: str) -> None:
    before = _rows(db)
    res = run(db, "migrate", *args)
    assert res.returncode == 2 and words in res.stderr and "Traceback" not in res.stderr
    assert _rows(db) == before


def test_unknown_wave_or_unit_is_one_line_exit_1(db: Path) -> None:
    res = run(db, "migrate", "--wave", "99", "--commit")
    assert res.returncode == 1 and "no wave 99" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = run(db, "migrate", "--unit", "vnet:nosuch", "--prepare-only")
    assert res.returncode == 1 and "vnet nosuch" in res.stderr and "Traceback" not in res.stderr


def test_help_says_the_modes() -> None:
    res = subprocess.run([sys.executable, "-m", "classic2arm", "migrate", "--help"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert res.returncode == 0
    for word in ("--prepare-only", "--commit", "--dry-run", "--keep-going", "--wave", "--unit", "Move-Azure"):
        assert word in res.stdout


def test_dry_run_writes_nothing(db: Path) -> None:
    before = _rows(db)
    res = run(db, "migrate", "--all", "--commit", "--dry-run", "--json")
    assert res.returncode == 3, res.stderr  # some units are blocked
    data = as_json(res)
    assert data["dryRun"] and data["summary"]["would migrate"] > 20 and data["summary"]["blocked"]
    assert _rows(db) == before


def test_commit_migrates_what_can_and_says_why_not_for_the_rest(db: Path) -> None:
    res = run(db, "migrate", "--all", "--commit", "--keep-going", "--json")
    data = as_json(res)
    assert res.returncode == 1, res.stderr  # storage accounts holding unattached disks or images fail (R42)
    assert data["stopped"] is None and data["summary"]["migrated"] > 20
    units = data["units"]
    assert all(u["reasons"] for u in units if u["outcome"] in ("blocked", "waiting", "failed"))
    assert {u["kind"] for u in units if u["outcome"] == "failed"} == {"storage"}
    status = {(u["kind"], u["name"]): u["state"] for u in as_json(run(db, "status", "--json"))}
    for u in units:
        if u["outcome"] == "migrated" and (u["kind"], u["name"]) in status:
            assert status[(u["kind"], u["name"])] == "Committed"
        if u["outcome"] == "blocked":
            assert status[(u["kind"], u["name"])] == "NotPrepared"

    # the text report: a summary line and the table of what did not migrate, with the reasons
    text = run(db, "migrate", "--all", "--commit", "--keep-going")
    assert text.returncode == 1
    assert "did not migrate" in text.stdout and "blocked" in text.stdout and "StorageAccount" not in text.stderr


def test_without_keep_going_the_first_hard_failure_stops_the_run(db: Path) -> None:
    res = run(db, "migrate", "--all", "--commit", "--json")
    data = as_json(res)
    assert res.returncode == 1 and data["stopped"]
    failed = [u for u in data["units"] if u["outcome"] == "failed"]
    assert len(failed) == 1 and failed[0]["name"] in data["stopped"]
    later = [u for u in data["units"] if u["wave"] is not None and u["wave"] > failed[0]["wave"]]
    assert all(u["outcome"] in ("not run", "blocked", "waiting") for u in later)


def test_prepare_only_then_commit(db: Path) -> None:
    res = run(db, "migrate", "--all", "--prepare-only", "--keep-going", "--json")
    data = as_json(res)
    assert data["mode"] == "prepare-only" and data["summary"]["prepared"] > 20 and data["summary"]["waiting"]
    assert "migrated" not in data["summary"] or all(u["kind"] == "reserved-ip" or u["wave"] is None
                                                    for u in data["units"] if u["outcome"] == "migrated")
    res = run(db, "migrate", "--all", "--commit", "--keep-going", "--json")
    after = as_json(res)
    went = {(u["kind"], u["name"]) for u in after["units"] if u["outcome"] == "migrated"}
    assert {(u["kind"], u["name"]) for u in data["units"] if u["outcome"] == "prepared"} <= went


def test_wave_and_unit(db: Path) -> None:
    plan = as_json(run(db, "migrate", "--all", "--commit", "--dry-run", "--json"))["units"]
    first = next(u for u in plan if u["outcome"] == "would migrate" and u["kind"] == "deployment")
    res = run(db, "migrate", "--unit", f"deployment:{first['service']}/{first['name']}", "--commit", "--json")
    assert res.returncode == 0, res.stderr
    assert [(u["name"], u["outcome"]) for u in as_json(res)["units"]] == [(first["name"], "migrated")]
    res = run(db, "migrate", "--wave", "1", "--prepare-only", "--json")
    assert {u["wave"] for u in as_json(res)["units"]} == {1}


def test_transient_faults_are_retried(db: Path) -> None:
    assert run(db, "fault", "set", "prepare.create", "R48", "--times", "2").returncode == 0
    assert run(db, "fault", "set", "commit.unlock_arm", "R47", "--times", "1").returncode == 0
    res = run(db, "migrate", "--wave", "2", "--commit", "--retry-delay", "0", "--json")
    data = as_json(res)
    assert res.returncode in (0, 3), res.stderr  # (3: the wave's blocked units)
    assert as_json(run(db, "fault", "list", "--json")) == {}
    ready = [u for u in data["units"] if u["outcome"] != "blocked"]
    assert ready and all(u["outcome"] == "migrated" for u in ready)
    assert sum(u["attempts"] for u in ready) == 2 * len(ready) + 3
