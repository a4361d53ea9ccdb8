"""What the service context offers entry points about their database, so that they need not know the driver."""

from __future__ import annotations

from pathlib import Path

import pytest

from classic2arm.service.context import AppContext, sqlite_file, store_failure


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:///c2a.db", Path("c2a.db")),
    ("sqlite:////var/lib/c2a/x.db", Path("/var/lib/c2a/x.db")),
    ("sqlite://", None),
    ("sqlite:///:memory:", None),
    ("postgresql+psycopg://u@localhost/c2a", None),
    ("not a url", None),
])
def test_sqlite_file(url: str, path: Path | None) -> None:
    assert sqlite_file(url) == path


def test_store_failure_names_what_the_database_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception) as err:
        AppContext.open(f"sqlite:///{tmp_path / 'missing-dir' / 'c2a.db'}")
    detail = store_failure(err.value)
    assert detail is not None and "unable to open database file" in detail
    assert store_failure(ValueError("something else")) is None


def test_store_failure_leaves_constraint_violations_alone() -> None:
    """A violated constraint is a conflict or a bug for the caller to handle, not the store failing (503)."""
    import sqlalchemy as sa

    from classic2arm.service.context import store_unavailable
    from classic2arm.store import Unavailable

    assert store_failure(sa.exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))) is None
    full = sa.exc.OperationalError("INSERT", {}, Exception("database or disk is full"))
    assert store_failure(full) == "the disk is full (database or disk is full)"
    down = store_unavailable(Unavailable("the file is gone"))
    assert down is not None and down.http_status == 503 and down.message == "The store is unavailable: the file is gone"


def test_shown_url_hides_only_a_password() -> None:
    from classic2arm.service.context import shown_url

    assert shown_url("postgresql://u:hunter2@h/db") == "postgresql://u:***@h/db"
    assert shown_url("sqlite:///:memory:") == "sqlite:///:memory:" and shown_url("notaurl") == "notaurl"
