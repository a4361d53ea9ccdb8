"""Issue 11 items 7 and 8 from the command line: store faults and the inputs that used to end in a traceback
are each one line on stderr with exit 1 (or 2, a usage error); a command that only reads never creates a
database; an unexpected error is one line too, with the traceback behind --debug."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-estate.yaml"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def one_line(res: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    err = res.stderr.strip()
    assert res.returncode == code, (res.returncode, res.stderr[-1500:])
    assert "Traceback" not in err and len(err.splitlines()) == 1, err[-1500:]
    assert all(w in err for w in words), err
    return err


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "c.db"
    assert cli("--db", f"sqlite:///{path}", "import", str(SAMPLE)).returncode == 0
    return path


def test_read_commands_never_create_a_database(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    url = f"sqlite:///{path}"
    for args in (["inventory"], ["show", "web1"], ["status"], ["clock", "show"], ["arm", "list"], ["export"],
                 ["fault", "list"]):
        one_line(cli("--db", url, *args), 1, f"no database at {path}")
        assert not path.exists(), args
    res = cli("clock", "show", env={"CLASSIC2ARM_DB": url})  # the environment's URL is the same
    one_line(res, 1, str(path))
    assert cli("--db", url, "clock", "set", "2023-06-01").returncode == 0 and path.exists()  # a write creates it
    assert cli("--db", url, "fault", "list").returncode == 0


def test_database_urls_that_cannot_be_used(tmp_path: Path) -> None:
    text = tmp_path / "some-text-file"
    text.write_text("hello\n" * 200)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    cases = [
        (f"sqlite:///{text}", "not a database file"),
        (f"sqlite:///{foreign}", "not a classic2arm database"),
        ("mysql://user:hunter2@localhost/db", "mysql databases are not supported"),
        ("notaurl", "'notaurl' is not a database URL"),
        ("sqlite://", "in-memory SQLite database"),
        ("sqlite:///:memory:", "in-memory SQLite database"),
        (f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}", "cannot use the database"),
    ]
    for url, words in cases:
        for args in (["inventory"], ["generate", "--vms", "1"]):
            err = one_line(cli("--db", url, *args), 1, words)
            assert "hunter2" not in err
    assert text.read_text() == "hello\n" * 200
    one_line(cli("--db", f"sqlite:///{text}", "serve", "--port", "0"), 1, "not a database file")


def test_mode_ro_reads_and_refuses_writes(db: Path) -> None:
    url = f"sqlite:///{db}?mode=ro"
    before = cli("--db", f"sqlite:///{db}", "inventory", "--json")
    assert before.returncode == 0
    got = cli("--db", url, "inventory", "--json")
    assert got.returncode == 0 and got.stdout == before.stdout, got.stderr
    one_line(cli("--db", url, "clock", "set", "2024-01-01"), 1, "read-only", "writes are refused")
    one_line(cli("--db", url, "generate", "--vms", "2"), 1, "read-only")


def test_bad_options_are_usage_errors(db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{db}"
    fresh = tmp_path / "fresh.db"
    err = cli("--db", f"sqlite:///{fresh}", "generate", "--vms", "3", "--location", "Mars North")
    assert err.returncode == 2 and "unknown region 'Mars North'" in err.stderr and "Traceback" not in err.stderr
    assert not fresh.exists()
    err = cli("--db", url, "serve", "--log-level", "bogus")
    assert err.returncode == 2 and "'bogus' is not one of" in err.stderr and "Traceback" not in err.stderr
    out = tmp_path / "outdir"
    out.mkdir()
    err = cli("--db", url, "export", "-o", str(out), env={"COLUMNS": "400"})  # (a long path in typer's box)
    assert err.returncode == 2 and "is a directory" in err.stderr and "Traceback" not in err.stderr
    assert not (tmp_path / "outdir.tmp").exists() and list(out.iterdir()) == []
    res = cli("--db", url, "export", "-o", str(tmp_path / "no-such-dir" / "estate.yaml"))
    one_line(res, 1, "no-such-dir")


_BROKEN = """
import sys
from classic2arm.service import world_clock
def broken(ctx):
    raise RuntimeError("boom\\nsecond line")
world_clock.show_clock = broken
from classic2arm.cli import main
sys.argv = ["classic2arm", *sys.argv[1:]]
main.main()
"""


def test_an_unexpected_error_is_one_line_unless_debug(db: Path) -> None:
    res = subprocess.run([sys.executable, "-c", _BROKEN, "--db", f"sqlite:///{db}", "clock", "show"],
                         capture_output=True, text=True, timeout=120)
    one_line(res, 1, "unexpected RuntimeError: boom", "--debug")
    res = subprocess.run([sys.executable, "-c", _BROKEN, "--debug", "--db", f"sqlite:///{db}", "clock", "show"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "Traceback" in res.stderr and "boom" in res.stderr
