"""Fixtures of the console tests (the estate they use: console_kit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from console_kit import Estate, build


@pytest.fixture
def two_subs(tmp_path: Path) -> Iterator[Estate]:
    yield build(f"sqlite:///{tmp_path / 'console.db'}")
