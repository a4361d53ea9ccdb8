from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from classic2arm.importers import estate_doc
from classic2arm.service import clock, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.estate import import_estate

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-estate.yaml"


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    c = AppContext.open(f"sqlite:///{tmp_path / 'c2a.db'}")
    yield c
    c.close()


@pytest.fixture
def sample_ctx(ctx: AppContext) -> AppContext:
    """The sample estate, as of a date before the classic VM retirement."""
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    import_estate(ctx, estate_doc.load(SAMPLE.read_bytes(), str(SAMPLE)), source=str(SAMPLE))
    return ctx
