"""The README's main job, `classic2arm demo` (what scripts/demo.sh runs after its set-up), on a small estate in a
temporary directory: it generates, plans, fixes, migrates and reports, exits 0, and its table of what did not
migrate is every unit left unmigrated (read back from the store), each with its reason."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from classic2arm.domain.units import UnitKind, UnitRef


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{tmp_path / 'demo.db'}", *args]
    # (wide, so that a table row's first line holds the start of every cell; run from the temporary directory, with
    # an import path that still names these sources)
    path = os.pathsep.join(str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "COLUMNS": "300", "PYTHONPATH": path})


def test_demo_generates_plans_fixes_migrates_and_says_what_did_not_migrate_and_why(tmp_path: Path) -> None:
    res = _cli(tmp_path, "demo", "--vms", "50", "--blockers", "0.3", "--seed", "7")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr and "error" not in res.stderr.lower()
    out = res.stdout
    steps = ["classic2arm demo — 50 classic VMs", "Inventory", "Plan:", "blockers by VMs held back", "Fixed:",
             "Migrated:", "did not migrate, and why", "estate before and after", "Data plane:", "units after the demo"]
    at = [out.find(s) for s in steps]
    assert all(i >= 0 for i in at) and at == sorted(at), list(zip(steps, at, strict=True))  # in this order
    assert re.search(r"Inventory .*: 50 VMs", out)
    fixed = re.search(r"Fixed: (\d+) changes applied", out)
    assert fixed and int(fixed.group(1)) > 0  # blockers 0.3: there was something to fix
    migrated = re.search(r"Migrated: (\d+) units migrated \((\d+) VMs\)", out)
    assert migrated and int(migrated.group(1)) > 0 and int(migrated.group(2)) > 0

    # what did not migrate: exactly the units the store has not committed, each row with its reason
    status = json.loads(_cli(tmp_path, "status", "--json").stdout)
    left = {UnitRef(UnitKind(u["kind"]), u["name"], u["service"]).describe(): u for u in status
            if u["state"] != "Committed"}
    assert left  # blockers no fix clears stay behind
    header = re.search(r"(\d+) units did not migrate, and why", out)
    assert header and int(header.group(1)) == len(left)
    table = out[header.end():out.find("estate before and after")]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 4 and cells[1] and cells[2] and cells[1] != "unit":
            rows[cells[1]] = (cells[2], cells[3])
    assert rows.keys() == left.keys()
    validated = json.loads(_cli(tmp_path, "validate", "--all", "--json").stdout)
    errors = {UnitRef(UnitKind(v["kind"]), v["name"], v["service"]).describe():
              [m["message"] for m in v["messages"] if m["category"] == "Error"] for v in validated}
    for unit, (outcome, why) in rows.items():
        assert why, unit
        if outcome == "blocked":  # its validation errors, the first one first
            assert errors[unit] and errors[unit][0].startswith(why[:40]), (unit, why)
        elif outcome == "waiting":
            assert why.startswith(("its disks are attached to VMs not yet committed", "migrates with")), (unit, why)
        else:
            assert outcome == "cloned" and why.startswith("cloned into Azure Resource Manager"), (unit, why)
