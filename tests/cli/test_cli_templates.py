"""`classic2arm arm export-template` and `classic2arm arm deploy` as a user runs them (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from classic2arm.domain import generator
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.service import arm_api, estate, migration, status
from classic2arm.service.context import AppContext

SUB = "00000000-0000-0000-0000-000000000001"


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{db}", *args],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


def test_export_then_deploy(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    ctx = AppContext.open(f"sqlite:///{db}")
    estate.import_estate(ctx, generator.generate(vms=6, vnets=0, seed=4), source="gen")
    scoped = AppContext(ctx.store, SUB)
    unit = next(u for u in status.status(scoped) if u.kind == "deployment" and u.vms > 0)
    ref = UnitRef(UnitKind.DEPLOYMENT, unit.name, unit.service, Destination("New"))
    for op in (Op.PREPARE, Op.COMMIT):
        assert migration.execute(scoped, op, ref).status == "Succeeded"
    arm_api.put_group(ctx, SUB, "cli-copy", {"location": "westus"})
    ctx.close()
    rg = f"{unit.name}-Migrated"
    out = tmp_path / "t.json"
    res = run(db, "arm", "export-template", "--resource-group", rg, "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert "warning:" in res.stderr and "unmanaged disk" in res.stderr
    template = json.loads(out.read_text())
    assert template["parameters"] and template["resources"]
    literal = run(db, "arm", "export-template", "-g", rg, "--skip-parameterization")
    assert literal.returncode == 0 and json.loads(literal.stdout)["parameters"] == {}
    done = run(db, "arm", "deploy", "--resource-group", "cli-copy", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["properties"]["provisioningState"] == "Succeeded"
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"$schema": "x", "contentVersion": "1.0.0.0", "parameters": {
        "nope": {"value": 1}}}))
    bad = run(db, "arm", "deploy", "-g", "cli-copy", str(out), "--parameters", str(params))
    assert bad.returncode == 1 and "'nope'" in bad.stderr and "Traceback" not in bad.stderr
    missing = run(db, "arm", "export-template", "-g", "no-such-group")
    assert missing.returncode == 1 and "no-such-group" in missing.stderr
    garbage = tmp_path / "g.json"
    garbage.write_text("{not json")
    assert run(db, "arm", "deploy", "-g", "cli-copy", str(garbage)).returncode == 2
