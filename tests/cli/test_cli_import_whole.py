"""`classic2arm import` of a real estate whole, as a user runs it (issue 14): every shared fixture in one run with
no option, the one affinity-group note and its command, `--as-of`, and every unreadable file named at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = next((p for p in (Path(__file__).resolve().parents[3] / "shared" / "fixtures",
                             Path("/work/shared/fixtures")) if p.is_dir()), Path("/work/shared/fixtures"))
FILES = sorted(str(p) for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md")

pytestmark = pytest.mark.skipif(not FILES, reason=f"no fixtures at {FIXTURES}")


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{db}", *args],
                          capture_output=True, text=True, timeout=180, env=dict(os.environ))


def test_every_fixture_in_one_run_then_place_a_group(tmp_path: Path) -> None:
    db = tmp_path / "all.db"
    res = run(db, "import", *FILES, "--as-of", "2023-06-01", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["deallocatedForRetirement"] == 0 and report["retirementNote"] is None
    [groups] = [n for n in report["notes"] if n.startswith("affinity groups ")]
    assert "classic2arm affinity-group set WestUsAffinityGroup --location LOCATION" in groups
    placed = run(db, "affinity-group", "set", "WestUsAffinityGroup", "--location", "West US", "--json")
    assert placed.returncode == 0, placed.stderr
    assert len(json.loads(placed.stdout)["placed"]) == 3  # the netcfg's three VNets
    missing = run(db, "affinity-group", "set", "no-such-group", "--location", "West US")
    assert missing.returncode == 1 and "no-such-group" in missing.stderr
    plan = run(db, "provider", "register", "Microsoft.ClassicInfrastructureMigrate")
    assert plan.returncode == 0, plan.stderr
    plan = run(db, "plan", "--json")
    assert plan.returncode == 0, plan.stderr
    assert any("which no imported file describes" in n for n in json.loads(plan.stdout)["notes"])


def test_unreadable_files_are_all_named_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text("<Nonsense/>")
    (tmp_path / "b.json").write_text("{")
    res = run(tmp_path / "x.db", "import", str(tmp_path / "a.xml"), FILES[0], str(tmp_path / "b.json"))
    assert res.returncode == 1
    assert "2 files could not be imported" in res.stderr
    assert f"{tmp_path / 'a.xml'}: " in res.stderr and f"{tmp_path / 'b.json'}: " in res.stderr
