"""`validate --all`, the inventory/status filters and output formats, --version, completion and --json:
real `classic2arm` processes, plus typer's CliRunner where one call per unit of an estate is wanted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from classic2arm import __version__
from classic2arm.cli import main as cli_main
from classic2arm.cli import verbs
from classic2arm.domain.units import UnitKind


def run(db: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{db}", *args],
                          capture_output=True, text=True, timeout=180, env={**os.environ, **(env or {})})


def ok_json(db: Path, *args: str) -> Any:
    res = run(db, *args, "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def estate_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Half the deployments blocked: every kind of unit but storage has a unit that fails validation (the
    generator's storage accounts pass, some with warnings); a prepared unit adds the lock error (R50)."""
    db = tmp_path_factory.mktemp("bulk") / "base.db"
    assert run(db, "clock", "set", "2023-06-01").returncode == 0
    assert run(db, "generate", "--vms", "80", "--vnets", "2", "--seed", "5", "--blockers", "0.5").returncode == 0
    return db


@pytest.fixture
def db(estate_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "b.db"
    copy.write_bytes(estate_db.read_bytes())
    return copy


@pytest.fixture
def runner() -> Iterator[CliRunner]:
    cli_main.state._ctx = None  # (the CLI's context is per process; CliRunner calls share this one)
    yield CliRunner()
    if cli_main.state._ctx is not None:
        cli_main.state._ctx.close()
    cli_main.state._ctx = None


def invoke(runner: CliRunner, db: Path, *args: str) -> tuple[int, Any]:
    res = runner.invoke(cli_main.app, ["--db", f"sqlite:///{db}", *args, "--json"])
    return res.exit_code, json.loads(res.stdout)


def test_version_completion_and_help() -> None:
    res = subprocess.run([sys.executable, "-m", "classic2arm", "--version"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == f"classic2arm {__version__}"
    top = subprocess.run([sys.executable, "-m", "classic2arm", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert top.returncode == 0
    for word in ("--install-completion", "--show-completion", "validate", "vnet", "route-table"):
        assert word in top.stdout
    group = subprocess.run([sys.executable, "-m", "classic2arm", "storage", "--help"], capture_output=True,
                           text=True, timeout=60)
    assert group.returncode == 0 and all(v in group.stdout for v in ("validate", "prepare", "commit", "abort"))


def test_lazy_groups_are_the_unit_kinds() -> None:
    """`verbs.GROUPS` repeats the unit kinds' names and help words so `--help` needn't import the domain."""
    assert {k.value: f"{k.help_title} ({k.cmdlet})" for k in UnitKind} == verbs.GROUPS


def _options_without_help(cmd: Any, path: str) -> list[str]:
    out = [f"{path} {p.name}" for p in cmd.params if not getattr(p, "help", None) and not p.hidden
           and p.name not in ("help", "install_completion", "show_completion")]
    if not (cmd.help or "").strip():
        out.append(f"{path} (the command)")
    for name in getattr(cmd, "list_commands", lambda ctx: [])(None):
        out += _options_without_help(cmd.get_command(None, name), f"{path} {name}")
    return out


def test_every_command_and_option_has_help() -> None:
    import typer

    assert _options_without_help(typer.main.get_command(cli_main.app), "classic2arm") == []


def test_validate_all_equals_the_unit_verbs(db: Path, runner: CliRunner) -> None:
    code, before = invoke(runner, db, "validate", "--all")
    rip = next(u["name"] for u in before if u["kind"] == "reserved-ip" and u["result"].startswith("Validation Passed"))
    assert invoke(runner, db, "reserved-ip", "prepare", rip)[0] == 0
    code, results = invoke(runner, db, "validate", "--all")
    assert code == 3  # errors, as the unit verbs exit
    failed = {u["kind"] for u in results if u["result"].startswith("Validation Failed")}
    assert failed == {k.value for k in UnitKind} - {"storage"}
    assert any(m["category"] == "Warning" for u in results if u["kind"] == "storage" for m in u["messages"])
    locked = next(u for u in results if u["name"] == rip)
    assert [m["message"] for m in locked["messages"]] == \
        [f"Reserved IP {rip} is in the process of being migrated and is in Prepared state."] or locked["messages"]
    assert len({u["operationId"] for u in results}) == len(results)
    for unit in results:
        if unit["kind"] == "deployment":
            args = ["deployment", "validate", "--service", unit["service"], "--deployment", unit["name"], "--new-vnet"]
        else:
            args = [unit["kind"], "validate", unit["name"]]
        one_code, one = invoke(runner, db, *args)
        assert (one["result"], one["messages"]) == (unit["result"], unit["messages"]), unit["name"]
        assert one_code == (3 if unit["result"].startswith("Validation Failed") else 0)
        assert {k: unit[k] for k in one} .keys() == one.keys()  # the unit verb's fields, and kind/name/service
    code, only = invoke(runner, db, "validate", "--all", "--kind", "nsg")
    assert [u["name"] for u in only] == [u["name"] for u in results if u["kind"] == "nsg"]


def test_validate_all_usage_errors(db: Path) -> None:
    assert run(db, "validate").returncode == 2
    bad = run(db, "validate", "--all", "--kind", "vm")
    assert bad.returncode == 2 and "--kind" in bad.stderr


def test_inventory_filters_and_summary(db: Path) -> None:
    items = ok_json(db, "inventory")
    some = items[0]
    for flag, field in (("--location", "location"), ("--cloud-service", "cloudService"),
                        ("--power-state", "powerState"), ("--migration-state", "migrationState")):
        value = some[field] or "NotPrepared"
        got = ok_json(db, "inventory", flag, value.lower())
        expect = [i for i in items if (i[field] or "NotPrepared").lower() == value.lower()]
        assert got == expect and got, flag
    in_vnet = next(i for i in items if i["virtualNetwork"])
    assert ok_json(db, "inventory", "--vnet", in_vnet["virtualNetwork"]) == \
        [i for i in items if i["virtualNetwork"] == in_vnet["virtualNetwork"]]
    spaced = ok_json(db, "inventory", "--location", some["location"].replace(" ", "").lower())
    assert spaced == [i for i in items if i["location"] == some["location"]]
    assert ok_json(db, "inventory", "--location", "Mars") == []
    summary = ok_json(db, "inventory", "--summary")
    assert summary["total"] == len(items) == sum(summary["byPowerState"].values())
    assert summary["inVirtualNetwork"] == sum(1 for i in items if i["virtualNetwork"])


def test_inventory_output_formats(db: Path) -> None:
    items = ok_json(db, "inventory")
    piped = run(db, "inventory")  # not a terminal: tab-separated rows under one header line
    lines = piped.stdout.splitlines()
    assert piped.returncode == 0 and lines[0].split("\t")[:2] == ["type", "name"]
    assert [line.split("\t")[1] for line in lines[1:]] == [i["name"] for i in items]
    table = run(db, "inventory", "--format", "table", env={"COLUMNS": "250"})
    assert table.returncode == 0 and all(i["name"] in table.stdout for i in items) and "\t" not in table.stdout
    assert run(db, "inventory", "--format", "xml").returncode == 2


def test_status_filters_and_summary(db: Path) -> None:
    units = ok_json(db, "status")
    vnet = next(u for u in units if u["kind"] == "vnet")
    assert ok_json(db, "status", "--vnet", vnet["name"].upper()) == [vnet]
    assert {u["kind"] for u in ok_json(db, "status", "--kind", "storage")} == {"storage"}
    dep = next(u for u in units if u["kind"] == "deployment")
    got = ok_json(db, "status", "--cloud-service", dep["service"])
    assert dep in got and all(u["kind"] in ("deployment", "vnet") for u in got)
    located = ok_json(db, "status", "--location", dep["location"])
    assert dep in located and all(u["location"] == dep["location"] for u in located)
    power = dep["powerStates"][0]
    assert all(power in u["powerStates"] for u in ok_json(db, "status", "--power-state", power.lower()))
    assert ok_json(db, "status", "--migration-state", "prepared") == []
    summary = ok_json(db, "status", "--summary")
    assert summary["units"] == len(units) and summary["byMigrationState"] == {"NotPrepared": len(units)}
    lines = run(db, "status").stdout.splitlines()
    assert lines[0].split("\t")[0] == "kind" and len(lines) == len(units) + 1


def test_json_on_export_snapshot_and_faults(db: Path) -> None:
    doc = ok_json(db, "export")
    assert "virtual_networks" in doc or doc  # the estate document, as JSON
    vnet = next(u for u in ok_json(db, "status") if u["kind"] == "vnet")
    snap = ok_json(db, "snapshot", f"vnet:{vnet['name']}")
    assert isinstance(snap, dict)
    assert ok_json(db, "fault", "set", "prepare.create", "R47", "--times", "2") == \
        {"prepare.create": {"error": "R47", "times": 2}}
    assert ok_json(db, "fault", "list") == {"prepare.create": {"error": "R47", "times": 2}}
    assert "prepare.create" in ok_json(db, "fault", "steps")
    assert ok_json(db, "fault", "clear") == {} and ok_json(db, "fault", "list") == {}
