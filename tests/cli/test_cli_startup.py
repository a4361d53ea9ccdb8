"""What a command-line call loads: `clock show` on a plain SQLite file reads its setting with sqlite3 alone, and
anything unusual about the database still goes through the store, which names what is wrong. (The time it
takes is measured in bench/bench_cli.py, not asserted here.)"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from classic2arm.service import clock
from classic2arm.service.context import AppContext
from classic2arm.store import quick


def run(*args: str, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "classic2arm", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=dict(os.environ))


def imported(stderr: str) -> set[str]:
    """Module names from `-X importtime` lines ('import time: self | cumulative | name')."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")
            and "|" in line}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "c.db"
    res = run("--db", f"sqlite:///{path}", "clock", "set", "2023-06-01T12:00:00Z")
    assert res.returncode == 0, res.stderr
    return path


def test_clock_show_reads_a_plain_sqlite_file_without_sqlalchemy(db: Path) -> None:
    res = run("--db", f"sqlite:///{db}", "clock", "show", "--json", importtime=True)
    assert res.returncode == 0, res.stderr
    shown = json.loads(res.stdout)
    assert shown["mode"] == "fixed" and shown["now"] == "2023-06-01T12:00:00+00:00"
    assert shown["classicVmsRetired"] is False
    modules = imported(res.stderr)
    assert "classic2arm.service.world_clock" in modules  # (the check below would pass on a failed import too)
    assert not {m for m in modules if m.split(".")[0] in ("sqlalchemy", "alembic")}
    assert "classic2arm.domain.classic" not in modules


def test_help_loads_neither_the_store_nor_the_models() -> None:
    res = run("--help", importtime=True)
    assert res.returncode == 0 and "clock" in res.stdout
    modules = imported(res.stderr)
    assert "classic2arm.cli.main" in modules
    assert not {m for m in modules if m.split(".")[0] in ("sqlalchemy", "alembic", "fastapi", "uvicorn")}
    assert "classic2arm.domain.classic" not in modules


def test_the_quick_reader_and_the_store_agree(db: Path) -> None:
    url = f"sqlite:///{db}"
    assert quick.read_meta(url, [clock.META_KEY]) == {clock.META_KEY: {"mode": "fixed",
                                                                       "at": "2023-06-01T12:00:00+00:00"}}
    assert quick.read_meta(url, ["no-such-key"]) == {}
    opened = AppContext.open(url)
    try:
        with opened.store.read() as tx:
            assert clock.read(tx) == clock.read_setting(AppContext.deferred(url))
    finally:
        opened.close()


def _older(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0005'")


def _foreign(db: Path) -> None:
    db.unlink()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")


@pytest.mark.parametrize("spoil", [_older, _foreign, lambda db: db.write_bytes(b"not a database at all" * 100),
                                   lambda db: db.unlink()])
def test_the_quick_reader_leaves_every_unusual_database_to_the_store(db: Path, spoil: object) -> None:
    assert callable(spoil)
    spoil(db)
    assert quick.read_meta(f"sqlite:///{db}", [clock.META_KEY]) is None


@pytest.mark.parametrize("url", ["postgresql://u@h/d", "sqlite://", "sqlite:///:memory:", "sqlite:///x.db?mode=ro",
                                 "sqlite:///a%20b.db", "sqlite:///file:x.db", "notaurl", "sqlite:///x\x00.db"])
def test_the_quick_reader_takes_only_plain_sqlite_urls(url: str) -> None:
    assert quick.plain_sqlite_file(url) is None and quick.read_meta(url, [clock.META_KEY]) is None


def test_clock_show_on_an_unusual_database_still_says_what_is_wrong(db: Path, tmp_path: Path) -> None:
    _foreign(db)
    res = run("--db", f"sqlite:///{db}", "clock", "show")
    assert res.returncode == 1 and "not a classic2arm database" in res.stderr and "Traceback" not in res.stderr
    missing = run("--db", f"sqlite:///{tmp_path / 'nope.db'}", "clock", "show")
    assert missing.returncode == 1 and "no database at" in missing.stderr
    assert not (tmp_path / "nope.db").exists()
