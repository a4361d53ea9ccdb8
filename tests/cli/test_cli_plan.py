"""`classic2arm plan` through the CLI: every format parses (JSON loads, CSV reads, HTML is self-contained, Markdown
has its tables), `-o FILE` writes exactly what stdout gets, bad options are one-line errors with exit 2."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from classic2arm.domain.planning.report import CSV_COLUMNS


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})


def one_line(res: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    err = res.stderr.strip()
    assert res.returncode == code, (res.returncode, res.stderr[-1500:])
    assert "Traceback" not in err and len(err.splitlines()) == 1, err[-1500:]
    assert all(w in err for w in words), err


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = f"sqlite:///{tmp_path_factory.mktemp('cliplan') / 'c.db'}"
    for args in (("clock", "set", "2023-06-01"), ("generate", "--vms", "300", "--seed", "4", "--blockers", "0.3"),
                 ("provider", "register", "Microsoft.ClassicInfrastructureMigrate")):
        res = cli("--db", db, *args)
        assert res.returncode == 0, res.stderr
    return db


def test_json_is_the_whole_plan(url: str, tmp_path: Path) -> None:
    res = cli("--db", url, "plan", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["summary"]["units"] == sum(len(w["units"]) for w in data["waves"]) + len(data["done"])
    assert data["blockersByRule"] and all(g["mitigation"] for g in data["blockersByRule"])
    assert {"region", "kind", "usage", "needed", "quota", "ok"} <= set(data["quota"][0])
    assert data["assumptions"] and data["impacts"]
    out = tmp_path / "plan.json"
    assert cli("--db", url, "plan", "--json", "-o", str(out)).returncode == 0
    assert json.loads(out.read_text()) == data


def test_csv_reads_one_row_per_unit(url: str) -> None:
    res = cli("--db", url, "plan", "--format", "csv")
    assert res.returncode == 0, res.stderr
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS
    data = json.loads(cli("--db", url, "plan", "--json").stdout)
    assert len(rows) - 1 == data["summary"]["units"]
    assert sum(int(r[CSV_COLUMNS.index("blockers")]) for r in rows[1:]) == data["summary"]["blockers"]


def test_html_is_self_contained(url: str, tmp_path: Path) -> None:
    out = tmp_path / "plan.html"
    res = cli("--db", url, "plan", "--format", "html", "-o", str(out))
    assert res.returncode == 0 and res.stdout == "", res.stderr
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert not re.search(r"<link\b|<script\b[^>]*\bsrc\b|@import|url\(", html, re.I)
    assert "Blockers by VMs held back" in html and "ARM quota per region" in html


def test_markdown_has_the_tables(url: str) -> None:
    res = cli("--db", url, "plan", "--format", "markdown")
    assert res.returncode == 0, res.stderr
    md = res.stdout
    for header in ("| wave | title | units | VMs |", "| rule | code | VMs held back |",
                   "| region | kind | in use | the plan adds | quota | status |", "| VM | cloud service | impact |"):
        assert header in md
    separators = [line for line in md.splitlines() if re.fullmatch(r"\|(---\|)+", line)]
    assert len(separators) >= 5


def test_table_is_the_default(url: str) -> None:
    res = cli("--db", url, "plan")
    assert res.returncode == 0, res.stderr
    assert "waves" in res.stdout and "blockers by VMs held back" in res.stdout and "Assumptions" in res.stdout


def test_bad_options_are_one_line_errors(url: str, tmp_path: Path) -> None:
    one_line(cli("--db", url, "plan", "--format", "pdf"), 2, "--format", "pdf")
    one_line(cli("--db", url, "plan", "--json", "--format", "csv"), 2, "--json")
    one_line(cli("--db", url, "plan", "-o", str(tmp_path / "x.txt")), 2, "--output")
    one_line(cli("--db", url, "plan", "--format", "html", "-o", str(tmp_path)), 2, "directory")
    one_line(cli("--db", url, "plan", "--format", "html", "-o", str(tmp_path / "nope" / "p.html")), 2, "nope")
    assert list(tmp_path.iterdir()) == []
    missing = tmp_path / "missing.db"
    one_line(cli("--db", f"sqlite:///{missing}", "plan"), 1)
    assert not missing.exists()  # plan only reads: it never creates a database
