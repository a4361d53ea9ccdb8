"""The migration verbs of the CLI, as a user runs them (real processes, real SQLite file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SUB = "00000000-0000-0000-0000-000000000001"


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{db}", *args],
                          capture_output=True, text=True, timeout=180, env=dict(os.environ))


def ok_json(db: Path, *args: str) -> object:
    res = run(db, *args, "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def estate_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("mig") / "base.db"
    assert run(db, "clock", "set", "2023-06-01").returncode == 0
    assert run(db, "generate", "--vms", "40", "--vnets", "2", "--seed", "4", "--blockers", "0.2").returncode == 0
    return db


@pytest.fixture
def db(estate_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "m.db"
    copy.write_bytes(estate_db.read_bytes())
    return copy


def _units(db: Path) -> list[dict[str, object]]:
    data = ok_json(db, "status")
    assert isinstance(data, list)
    return data


def test_validate_exit_codes_and_json_shape(db: Path) -> None:
    blocked = good = None
    for u in _units(db):
        if u["kind"] != "deployment":
            continue
        res = run(db, "deployment", "validate", "--service", str(u["service"]), "--deployment", str(u["name"]),
                  "--new-vnet", "--json")
        body = json.loads(res.stdout)
        assert set(body) >= {"result", "messages"}
        for m in body["messages"]:
            assert set(m) == {"resourceType", "resourceName", "category", "message", "virtualMachineName"}
        if any(m["category"] == "Error" for m in body["messages"]):
            assert res.returncode == 3
            blocked = body
        else:
            assert res.returncode == 0
            good = body
    assert blocked is not None and blocked["result"].startswith("Validation Failed")
    assert good is not None and good["result"].startswith("Validation Passed")


def test_prepare_commit_abort_and_status(db: Path) -> None:
    units = [u for u in _units(db) if u["kind"] == "deployment"]
    clean = []
    for u in units:
        res = run(db, "deployment", "validate", "--service", str(u["service"]), "--deployment", str(u["name"]),
                  "--new-vnet", "--json")
        if res.returncode == 0:
            clean.append(u)
    first, second = clean[0], clean[1]
    args1 = ["--service", str(first["service"]), "--deployment", str(first["name"])]
    op = ok_json(db, "deployment", "prepare", *args1, "--new-vnet")
    assert isinstance(op, dict) and op["status"] == "Succeeded"
    shown = ok_json(db, "operation", "show", str(op["id"]))
    assert isinstance(shown, dict) and shown["status"] == "Succeeded"
    state = {(u["kind"], u["name"]): u["state"] for u in _units(db)}
    assert state[("deployment", first["name"])] == "Prepared"
    # commit before prepare: exit 1 with the documented text
    args2 = ["--service", str(second["service"]), "--deployment", str(second["name"])]
    res = run(db, "deployment", "commit", *args2)
    assert res.returncode == 1 and "has not been prepared for Migration." in res.stderr
    assert ok_json(db, "deployment", "commit", *args1)["status"] == "Succeeded"  # type: ignore[index]
    # abort path on the second one
    assert ok_json(db, "deployment", "prepare", *args2, "--new-vnet")["status"] == "Succeeded"  # type: ignore[index]
    assert ok_json(db, "deployment", "abort", *args2)["status"] == "Succeeded"  # type: ignore[index]
    state = {(u["kind"], u["name"]): u["state"] for u in _units(db)}
    assert state[("deployment", first["name"])] == "Committed"
    assert state[("deployment", second["name"])] == "Aborted"
    down = ok_json(db, "downtime")
    assert isinstance(down, list) and all(d["windows"] in (1, 2) for d in down)


def test_usage_errors(db: Path) -> None:
    assert run(db, "deployment", "prepare", "--service", "x", "--deployment", "y").returncode == 2  # no destination
    assert run(db, "deployment", "prepare", "--service", "x", "--deployment", "y", "--new-vnet",
               "--vnet", "v").returncode == 2
    res = run(db, "deployment", "prepare", "--service", "x", "--deployment", "y", "--destination", "Sideways")
    assert res.returncode == 1 and "DestinationVirtualNetwork must be set" in res.stderr
    assert run(db, "vnet", "frobnicate", "v").returncode == 2
    res = run(db, "vnet", "prepare", "no-such-vnet")
    assert res.returncode == 1 and "Virtual network 'no-such-vnet' not found." in res.stderr
    assert run(db, "check", "bogus:thing", "--before", "x.json").returncode == 2


def test_no_wait_runs_in_background(db: Path) -> None:
    vnet = next(u for u in _units(db) if u["kind"] == "vnet")
    res = run(db, "vnet", "validate", str(vnet["name"]), "--json")
    if res.returncode != 0:
        pytest.skip("the generated VNet has a blocker")
    op = ok_json(db, "vnet", "prepare", str(vnet["name"]), "--no-wait")
    assert isinstance(op, dict)
    deadline = time.monotonic() + 60
    while True:
        shown = ok_json(db, "operation", "show", str(op["operationId"]))
        assert isinstance(shown, dict)
        if shown["status"] != "InProgress" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shown["status"] == "Succeeded"


def test_snapshot_and_check(db: Path, tmp_path: Path) -> None:
    vnet = next(u for u in _units(db) if u["kind"] == "vnet")
    if run(db, "vnet", "validate", str(vnet["name"])).returncode != 0:
        pytest.skip("the generated VNet has a blocker")
    before = tmp_path / "before.json"
    snap = run(db, "snapshot", f"vnet:{vnet['name']}")
    assert snap.returncode == 0
    before.write_text(snap.stdout)
    assert run(db, "check", f"vnet:{vnet['name']}", "--before", str(before)).returncode == 1  # not prepared
    assert run(db, "vnet", "prepare", str(vnet["name"])).returncode == 0
    findings = ok_json(db, "check", f"vnet:{vnet['name']}", "--before", str(before))
    assert isinstance(findings, list) and findings
    assert all(f["asDocumented"] for f in findings), [f for f in findings if not f["asDocumented"]]
    aspects = {f["aspect"] for f in findings}
    assert {"address space", "subnets", "private IP", "name"} <= aspects
