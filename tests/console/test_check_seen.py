"""`check` without a snapshot taken beforehand: prepare keeps what it saw (the console's classic-beside-ARM view
and `classic2arm check UNIT` without `--before` compare against it), the same findings as with a snapshot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from console_kit import GEN_SUB, Estate


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", "--db", url, "--subscription", GEN_SUB, *args],
                          capture_output=True, text=True, timeout=180, env=dict(os.environ))


def test_check_compares_with_what_prepare_saw(two_subs: Estate, tmp_path: Path) -> None:
    url = two_subs.url
    snap = _cli(url, "snapshot", "deployment:cs00002/cs00002")
    assert snap.returncode == 0, snap.stderr
    before = tmp_path / "before.json"
    before.write_text(snap.stdout)
    unprepared = _cli(url, "check", "deployment:cs00002/cs00002")
    assert unprepared.returncode == 1 and "not Prepared" in unprepared.stderr
    prep = _cli(url, "deployment", "prepare", "--service", "cs00002", "--deployment", "cs00002", "--new-vnet")
    assert prep.returncode == 0, prep.stderr
    with_snapshot = _cli(url, "check", "deployment:cs00002/cs00002", "--before", str(before), "--json")
    without = _cli(url, "check", "deployment:cs00002/cs00002", "--json")
    assert with_snapshot.returncode == without.returncode == 0, without.stderr
    findings = json.loads(without.stdout)
    assert findings == json.loads(with_snapshot.stdout)
    assert {f["outcome"] for f in findings} == {"kept", "changed"}  # the private IPs and the dynamic VIP change
    assert all(f["asDocumented"] for f in findings)
    (tmp_path / "list.json").write_text("[]")
    bad = _cli(url, "check", "deployment:cs00002/cs00002", "--before", str(tmp_path / "list.json"))
    said = " ".join(bad.stderr.replace("│", " ").split())  # (rich boxes and wraps the usage error)
    assert bad.returncode == 2 and "not a classic2arm snapshot" in said
