"""Shared fixtures.

- `pg_cluster` (session): a throwaway PostgreSQL cluster (see tests/pg.py), started on first use. Skips only
  when no PostgreSQL server binaries exist; any other failure to start is an error.
- `store_url`: a fresh, empty database URL, parametrised over `sqlite` and `postgresql` (the latter marked
  `postgres`, so `-m "not postgres"` never starts a server).
- `sqlite_url`: a fresh SQLite file URL.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg import PgCluster, PostgresUnavailable, find_bindir

_db_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    try:
        bindir = find_bindir()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    cluster = PgCluster.start(bindir=bindir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def _db_name(node_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", node_name.lower()).strip("_")
    return f"t{next(_db_counter)}_{slug}"[:63]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(_db_name(request.node.name))
