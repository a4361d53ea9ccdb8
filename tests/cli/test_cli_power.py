"""`vm stop` / `vm start` as a user runs them: the sample estate's VMs keep, give back and regain their
addresses (a real `classic2arm` process per call)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_cli import SAMPLE, ok_json, run

VM = "/services/hostedservices/shop/deployments/shop/roles/"


def role(db: Path, name: str) -> dict[str, Any]:
    shown = ok_json(db, "show", VM + name)
    assert isinstance(shown, dict)
    props: dict[str, Any] = shown["properties"]
    return props


def power(db: Path, verb: str, name: str, *flags: str) -> None:
    res = run(db, "vm", verb, name, "--service", "shop", "--deployment", "shop", *flags)
    assert res.returncode == 0, res.stderr


def test_stop_start_keeps_releases_and_regains_addresses(tmp_path: Path) -> None:
    db = tmp_path / "power.db"
    assert run(db, "clock", "set", "2023-06-01").returncode == 0
    ok_json(db, "import", str(SAMPLE))
    power(db, "stop", "web2", "--stay-provisioned")
    assert (role(db, "web2")["instance_status"], role(db, "web2")["ip_address"]) == ("StoppedVM", "10.1.1.5")
    power(db, "stop", "web1")
    assert (role(db, "web1")["instance_status"], role(db, "web1")["ip_address"]) == ("StoppedDeallocated", None)
    power(db, "start", "web1")  # the first free address of subnet web (10.1.1.0/24): .5 is web2's
    assert (role(db, "web1")["instance_status"], role(db, "web1")["ip_address"]) == ("ReadyRole", "10.1.1.4")
    power(db, "stop", "db1")
    assert role(db, "db1")["ip_address"] is None and role(db, "db1")["static_ip"] == "10.1.2.5"
    power(db, "start", "db1")
    assert role(db, "db1")["ip_address"] == "10.1.2.5"
