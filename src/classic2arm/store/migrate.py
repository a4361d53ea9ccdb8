"""Run the Alembic migrations shipped inside the package against a live connection.

Alembic is imported only to upgrade: opening a database whose schema is current reads `alembic_version`
with one query (importing Alembic would cost a command-line call about 0.2 s)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import exc, inspect, text
from sqlalchemy.engine import Connection, Engine

from .revision import HEAD as HEAD  # (re-exported: the store's callers know it as migrate.HEAD)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The head as Alembic finds it in migrations/versions."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: no schema yet), read from Alembic's own table."""
    with engine.connect() as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except (exc.OperationalError, exc.ProgrammingError) as e:
            if _no_such_table(e):
                return None
            raise
    return str(rows[0][0]) if len(rows) == 1 else None


def known_revisions() -> set[str]:
    """The revisions shipped (by file name: 0001_initial.py is '0001'), without importing Alembic."""
    return {p.name.partition("_")[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py")}


def has_tables(engine: Engine) -> bool:
    """Whether the database holds any table (in its default schema)."""
    return bool(inspect(engine).get_table_names())


def _no_such_table(e: exc.DBAPIError) -> bool:
    text_ = str(e.orig).lower()
    return "no such table" in text_ or "does not exist" in text_ or "undefinedtable" in type(e.orig).__name__.lower()


# Any constant: the advisory lock that serialises schema upgrades of one PostgreSQL database.
_UPGRADE_LOCK = 0x636C_3261


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade in place. On PostgreSQL several processes may open a fresh database at once: an advisory lock
    lets one of them upgrade while the others wait, and Alembic then finds nothing left to do for them."""
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _UPGRADE_LOCK})
        command.upgrade(_config(conn), revision)
