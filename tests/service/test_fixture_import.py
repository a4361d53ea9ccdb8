"""Every real third-party file in ../shared/fixtures imports into a store with no extra option (issues 2 and 14),
a second import of the same file changes nothing, and all of them import together in one run with notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from classic2arm.domain import identity as ids
from classic2arm.importers import load_file
from classic2arm.importers.detect import load_files
from classic2arm.service import clock, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.estate import import_estate

# ../shared/fixtures beside the checkout (or the machine's copy, from a worktree elsewhere)
FIXTURES = next((p for p in (Path(__file__).resolve().parents[3] / "shared" / "fixtures",
                             Path("/work/shared/fixtures")) if p.is_dir()), Path("/work/shared/fixtures"))
FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md")
UNPLACED_GROUPS = ["affinityGroupName", "agname", "jm-affinity-group", "LUC-AFFINITYGROUP", "test",
                   "WestUsAffinityGroup"]

pytestmark = pytest.mark.skipif(not FILES, reason=f"no fixtures at {FIXTURES}")


@pytest.fixture
def ctx(tmp_path: Path) -> AppContext:
    c = AppContext.open(f"sqlite:///{tmp_path / 'f.db'}")
    world_clock.set_clock(c, clock.fixed(clock.parse_when("2019-06-01")))
    return c


@pytest.mark.parametrize("path", FILES, ids=[p.name[:60] for p in FILES])
def test_fixture_imports_into_the_store(ctx: AppContext, path: Path) -> None:
    estate = load_file(path)
    report = import_estate(ctx, estate, source=str(path))
    # (incl. parents a body only names, groups it only names, and storage accounts inferred from disks)
    expected = {type(o).__name__ for o in estate.classic_objects()}
    if any(n.startswith("storage account '") and "inferred" in n for n in report.notes):
        expected.add("StorageAccount")
    assert sum(report.counts.values()) == report.created
    with ctx.store.read() as tx:
        stored = tx.resources.query(report.subscription_id)
        assert len(stored) == report.created
        assert {ids.MODEL_BY_TYPE[r.type].__name__ for r in stored} == expected
    again = import_estate(ctx, load_file(path), source=str(path))
    assert again.created == 0  # (what a body only names is now in the store and isn't rewritten)
    with ctx.store.read() as tx:
        assert [(r.id, r.doc) for r in tx.resources.query(report.subscription_id)] == [(r.id, r.doc) for r in stored]
    ctx.close()


def test_all_fixtures_import_in_one_run_with_notes(ctx: AppContext) -> None:
    merged = load_files(FILES)
    report = import_estate(ctx, merged, source=f"{len(FILES)} files")
    assert report.counts[ids.T_VNET] >= 10 and report.counts[ids.T_VM] >= 3
    groups = [n for n in report.notes if n.startswith("affinity groups ")]
    assert len(groups) == 1  # every unplaced group in ONE note, with the command for each
    for name in UNPLACED_GROUPS:
        assert f"'{name}'" in groups[0] and f"classic2arm affinity-group set {name} --location LOCATION" in groups[0]
    assert any("'Group Group-2 myservice', which no imported file describes" in n for n in report.notes)
    assert any("reserved IP 'jclouds_ip1' is associated with hosted service 'jclouds_s'" in n for n in report.notes)
    assert any(n.startswith("storage account 'mtlytics' holds disks") for n in report.notes)
    with ctx.store.read() as tx:
        ags = {r.name: r.doc["location"] for r in tx.resources.query(types=[ids.T_AFFINITY_GROUP])}
    assert ags == dict.fromkeys(UNPLACED_GROUPS)
    ctx.close()
