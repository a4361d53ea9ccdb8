"""What the console tests share (imported by their conftest and the tests): a store holding two subscriptions
(a generated estate with blockers of every sort, and the sample estate with a resource named like a script) and a
token for each.

ESTATE (subscription GEN_SUB), `generate(vms=80, seed=5, blockers=0.4, vnets=4)`, as of 2023-06-01:
- vnet001, vnet004: VNets without blockers (prepare, abort, commit);
- deployment cs00009/cs00009: outside a VNet, blocked only by R14, which `fix` clears;
- deployment cs00002/cs00002: outside a VNet, two running VMs, no blockers (the downtime chart).
`check_facts` checks these through the service layer (test_console_http.py runs it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from classic2arm.importers import estate_doc
from classic2arm.service import bulk, credentials, estate, providers
from classic2arm.service.context import AppContext

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-estate.yaml"
GEN_SUB = "00000000-0000-0000-0000-000000000001"
SAMPLE_SUB = "11111111-2222-3333-4444-555555555555"
SCRIPT_NAME = "<script>alert(1)</script>"
GENERATE = {"vms": 80, "seed": 5, "blockers": 0.4, "vnets": 4}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class Estate:
    url: str
    gen_token: str
    sample_token: str


def build(db_url: str) -> Estate:
    ctx = AppContext.open(db_url)
    try:
        bulk.fresh_generated_estate(ctx, "2023-06-01", **GENERATE)
        # The sample estate as a second subscription; its spare reserved IP renamed to a script.
        text = SAMPLE.read_text().replace("{name: spare-ip,", '{name: "' + SCRIPT_NAME + '",')
        assert SCRIPT_NAME in text
        estate.import_estate(ctx, estate_doc.load(text.encode(), "sample-with-script.yaml"), source="test")
        for sub in (GEN_SUB, SAMPLE_SUB):
            sctx = AppContext(ctx.store, sub)
            providers.register(sctx, "Microsoft.ClassicInfrastructureMigrate", True)
        gen_token, _ = credentials.create_token(ctx, GEN_SUB)
        sample_token, _ = credentials.create_token(ctx, SAMPLE_SUB)
    finally:
        ctx.close()
    return Estate(db_url, gen_token, sample_token)


def check_facts(db_url: str) -> None:
    """The generated estate is what the journeys assume (see the module's docstring)."""
    from classic2arm.domain import fixes
    from classic2arm.service.plan import build_plan

    ctx = AppContext(AppContext.open(db_url).store, GEN_SUB)
    try:
        units = {u.key: u for u in build_plan(ctx).units}
    finally:
        ctx.close()
    assert not units["vnet:vnet001"].blockers and not units["vnet:vnet004"].blockers
    blocked = units["deployment:cs00009/cs00009"].blockers
    assert blocked and all(fixes.fix_for(m) is not None for m in blocked)
    clean = units["deployment:cs00002/cs00002"]
    assert not clean.blockers and clean.vms == 2 and all(i.restart for i in clean.impacts)
