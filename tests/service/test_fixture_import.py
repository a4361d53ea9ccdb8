"""Every real third-party file in ../shared/fixtures imports into a store (issue 2), and a second import of the
same file changes nothing. Network configurations that bind VNets to affinity groups name groups that lived in
the subscription they came from; they are defined on the side, as `--affinity-group NAME=LOCATION` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from classic2arm.domain import identity as ids
from classic2arm.importers import load_file
from classic2arm.service import clock, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.errors import BadInput
from classic2arm.service.estate import import_estate

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md")
AFFINITY_GROUPS = {"WestUsAffinityGroup": "West US", "LUC-AFFINITYGROUP": "West Europe",
                   "affinityGroupName": "East US", "agname": "North Europe", "jm-affinity-group": "West US",
                   "test": "East Asia"}

pytestmark = pytest.mark.skipif(not FILES, reason=f"no fixtures at {FIXTURES}")


@pytest.fixture
def ctx(tmp_path: Path) -> AppContext:
    c = AppContext.open(f"sqlite:///{tmp_path / 'f.db'}")
    world_clock.set_clock(c, clock.fixed(clock.parse_when("2019-06-01")))
    return c


@pytest.mark.parametrize("path", FILES, ids=[p.name[:60] for p in FILES])
def test_fixture_imports_into_the_store(ctx: AppContext, path: Path) -> None:
    estate = load_file(path)
    report = import_estate(ctx, estate, source=str(path), affinity_groups=AFFINITY_GROUPS)
    expected = {type(o).__name__ for o in estate.classic_objects()}  # incl. parents a body only names
    assert sum(report.counts.values()) == report.created
    with ctx.store.read() as tx:
        stored = tx.resources.query(report.subscription_id)
        assert len(stored) == report.created
        assert {ids.MODEL_BY_TYPE[r.type].__name__ for r in stored} == expected
    again = import_estate(ctx, load_file(path), source=str(path), affinity_groups=AFFINITY_GROUPS)
    assert again.created == 0  # (parents a body only names are now in the store and aren't rewritten)
    with ctx.store.read() as tx:
        assert [(r.id, r.doc) for r in tx.resources.query(report.subscription_id)] == [(r.id, r.doc) for r in stored]
    ctx.close()


def test_all_fixtures_import_in_one_transaction(ctx: AppContext) -> None:
    merged = load_file(FILES[0])
    for path in FILES[1:]:
        merged.merge(load_file(path))
    report = import_estate(ctx, merged, source="all fixtures", affinity_groups=AFFINITY_GROUPS)
    assert report.counts[ids.T_VNET] >= 10 and report.counts[ids.T_VM] >= 3
    ctx.close()


def test_netcfg_with_an_undefined_affinity_group_says_how_to_define_it(ctx: AppContext) -> None:
    path = FIXTURES / "netcfg" / "Azure__azure-powershell__vnetconfig.netcfg"
    with pytest.raises(BadInput) as err:
        import_estate(ctx, load_file(path), source=str(path))
    assert "affinity group 'WestUsAffinityGroup' is not defined" in str(err.value)
    assert "--affinity-group 'WestUsAffinityGroup=<location>'" in str(err.value)
    with ctx.store.read() as tx:
        assert tx.resources.count() == 0
    ctx.close()
