"""Fixtures for the store tests: an opened (migrated) `Store` on each backend of `store_url`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from classic2arm.store import Store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture
def backend(store_url: str) -> str:
    return "postgresql" if store_url.startswith("postgresql") else "sqlite"
