"""The CLI contract, exercised as a user would: a real `classic2arm` process per call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-estate.yaml"
FIXTURES = ROOT.parent / "shared" / "fixtures"


def run(db: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{db}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def ok_json(db: Path, *args: str) -> object:
    res = run(db, *args, "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"
    assert run(path, "clock", "set", "2023-06-01").returncode == 0
    return path


def test_help_and_usage_errors(db: Path) -> None:
    assert run(db, "--help").returncode == 0
    assert run(db, "no-such-command").returncode == 2
    assert run(db, "generate").returncode == 2  # --vms missing
    assert run(db, "generate", "--vms", "-3").returncode == 2
    bad = run(db, "clock", "set", "someday")
    assert bad.returncode == 2 and "not a date" in bad.stderr
    bad = run(db, "import", str(SAMPLE), "--affinity-group", "noequals")
    assert bad.returncode == 2 and "NAME=LOCATION" in bad.stderr


def test_import_inventory_show(db: Path) -> None:
    report = ok_json(db, "import", str(SAMPLE))
    assert isinstance(report, dict) and report["counts"]["Microsoft.ClassicCompute/virtualMachines"] == 4
    items = ok_json(db, "inventory")
    assert isinstance(items, list) and {i["name"] for i in items} == {"web1", "web2", "db1", "jump"}
    assert all(i["type"] == "microsoft.classiccompute/virtualmachines" for i in items)
    one = ok_json(db, "show", items[0]["id"])
    assert isinstance(one, dict) and one["type"] == "Microsoft.ClassicCompute/virtualMachines"
    listed = ok_json(db, "arm", "list", "--type", "Microsoft.ClassicStorage/storageAccounts")
    assert isinstance(listed, dict) and [v["name"] for v in listed["value"]] == ["contosovhds"]
    got = ok_json(db, "arm", "show", listed["value"][0]["id"])
    assert isinstance(got, dict) and got["properties"]["accountType"] == "Standard_LRS"
    human = run(db, "inventory")
    assert human.returncode == 0 and "web1" in human.stdout
    missing = run(db, "show", "/nope/services/hostedservices/x")
    assert missing.returncode == 1 and "no resource" in missing.stderr


def test_show_by_name_and_the_shared_arm_listing(db: Path) -> None:
    ok_json(db, "import", str(SAMPLE))
    web1 = ok_json(db, "show", "web1")
    assert isinstance(web1, dict) and web1["id"].endswith("/roles/web1")
    ambiguous = run(db, "show", "shop")  # the hosted service and its deployment
    assert ambiguous.returncode == 1 and "2 resources are named 'shop'" in ambiguous.stderr
    assert "/services/hostedservices/shop/deployments/shop" in ambiguous.stderr and "Traceback" not in ambiguous.stderr
    missing = run(db, "show", "nope")
    assert missing.returncode == 1 and "no resource 'nope'" in missing.stderr
    listed = ok_json(db, "arm", "list")
    assert isinstance(listed, dict) and {"web1", "contoso-vnet", "contosovhds"} <= {v["name"] for v in listed["value"]}
    assert not any(v["type"] == "Microsoft.Resources/resourceGroups" for v in listed["value"])
    bad = run(db, "arm", "show", "/not/an/arm/id")
    assert bad.returncode == 1 and "is not an ARM resource id" in bad.stderr


def test_bad_file_exit_1_and_database_unchanged(db: Path, tmp_path: Path) -> None:
    ok_json(db, "import", str(SAMPLE))
    before = ok_json(db, "inventory", "--type", "all")
    bad = tmp_path / "evil.xml"
    bad.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                   '<NetworkConfiguration xmlns="http://schemas.microsoft.com/ServiceHosting/2011/07/'
                   'NetworkConfiguration">&e;</NetworkConfiguration>')
    res = run(db, "import", str(SAMPLE), str(bad))
    assert res.returncode == 1 and "evil.xml" in res.stderr
    for codec in ("rot13", "base64", "zlib"):
        coded = tmp_path / f"{codec}.xml"
        coded.write_text(f'<?xml version="1.0" encoding="{codec}"?><HostedService '
                         'xmlns="http://schemas.microsoft.com/windowsazure"><ServiceName>x</ServiceName>'
                         '</HostedService>')
        res = run(db, "import", str(coded))
        assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1 and f"{codec}.xml: line 1: encoding '{codec}'" in res.stderr
    res = run(db, "import", str(tmp_path / "does-not-exist.xml"))
    assert res.returncode in (1, 2) and "does-not-exist.xml" in res.stderr
    assert ok_json(db, "inventory", "--type", "all") == before


def test_generate_export_reimport(db: Path, tmp_path: Path) -> None:
    report = ok_json(db, "generate", "--vms", "60", "--seed", "3", "--blockers", "0.2")
    assert isinstance(report, dict) and report["counts"]["Microsoft.ClassicCompute/virtualMachines"] >= 60
    out = tmp_path / "estate.json"
    assert run(db, "export", "--format", "json", "-o", str(out)).returncode == 0
    other = tmp_path / "other.db"
    run(other, "clock", "set", "2023-06-01")
    ok_json(other, "import", str(out))
    assert ok_json(other, "inventory", "--type", "all") == ok_json(db, "inventory", "--type", "all")


def test_clock_and_retirement_via_cli(db: Path) -> None:
    ok_json(db, "import", str(SAMPLE))
    shown = ok_json(db, "clock", "show")
    assert isinstance(shown, dict) and shown["now"].startswith("2023-06-01")
    moved = ok_json(db, "clock", "set", "2023-09-01")
    assert isinstance(moved, dict) and moved["deallocatedForRetirement"] == 3
    res = run(db, "vm", "start", "web1", "--service", "shop", "--deployment", "shop")
    assert res.returncode == 1 and "retired" in res.stderr


def test_database_url_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "env.db"
    res = subprocess.run([sys.executable, "-m", "classic2arm", "clock", "set", "real", "--json"], capture_output=True,
                         text=True, env={**os.environ, "CLASSIC2ARM_DB": f"sqlite:///{path}"}, timeout=60)
    assert res.returncode == 0 and path.exists()


def test_several_subscriptions_need_a_choice(db: Path) -> None:
    ok_json(db, "import", str(SAMPLE))
    run(db, "--subscription", "99999999-0000-0000-0000-000000000000", "generate", "--vms", "3")
    res = run(db, "inventory")
    assert res.returncode == 1 and "--subscription" in res.stderr
    items = ok_json(db, "--subscription", "99999999-0000-0000-0000-000000000000", "inventory")
    assert isinstance(items, list) and len(items) == 3


def test_database_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    res = run(tmp_path / "missing-dir" / "x.db", "inventory")
    assert res.returncode == 1 and "cannot use the database" in res.stderr and "Traceback" not in res.stderr


def test_absurd_values_are_one_line_errors(db: Path, tmp_path: Path) -> None:
    """Issue 11: values the services bound (token lifetimes, fault counts, nesting depth) give one clear line."""
    ok_json(db, "import", str(SAMPLE))
    sub = "11111111-2222-3333-4444-555555555555"
    deep_yaml = tmp_path / "deep.yaml"
    deep_yaml.write_bytes(b"classic2arm: estate/v1\nsubscription: " + b"[" * 50_000 + b"]" * 50_000 + b"\n")
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 50_000 + "]" * 50_000)
    cases = [
        (("token", "create", "--subscription", sub, "--expires-in", "99999999999999999999"), "token lifetime"),
        (("fault", "set", "prepare.lock", "--times", "99999999999999999999999"), "times must be"),
        (("import", str(deep_yaml)), "nested more than 100 levels deep"),
        (("check", "vnet:nope", "--before", str(deep_json)), "nested too deeply"),
    ]
    for args, text in cases:
        res = run(db, *args)
        assert res.returncode in (1, 2) and "Traceback" not in res.stderr, (args, res.stderr[-500:])
        assert text in res.stderr, (args, res.stderr[-500:])
