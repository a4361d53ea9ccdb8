"""Fixtures of the ASM API tests: one live server per module, over HTTPS with a throwaway test CA (see
live.py). Clients trust that CA explicitly (`live.ca`); nothing relies on the system trust store."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from live import LiveServer


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("asm")
    server = LiveServer.start_tls(folder / "store.db", folder / "tls")
    assert server.base_url.startswith("https://") and server.ca is not None
    try:
        yield server
    finally:
        server.stop()
