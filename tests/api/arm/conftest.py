"""Fixtures for the ARM API tests. `arm` (module scope): the estate with a VNet unit, a non-VNet deployment
unit and a storage account prepared, served over HTTP (the `tls` fixture is the one switch to HTTPS);
`fresh` (function scope): an unprepared estate for tests that write freely."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from arm_env import Env, make_env


@pytest.fixture(scope="module", params=[pytest.param(False, id="http")])
def tls(request: pytest.FixtureRequest) -> bool:
    """Flip to True (or add a param) to run a module's tests over HTTPS with the throwaway CA."""
    return bool(request.param)


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory, tls: bool) -> Iterator[Env]:
    yield from make_env(tmp_path_factory.mktemp("arm"), tls, prepared=True)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path, False, prepared=False)
