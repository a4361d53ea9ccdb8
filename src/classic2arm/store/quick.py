"""Store-wide settings (the `meta` table) read with the standard library's sqlite3 alone.

Importing SQLAlchemy costs a command-line call about 0.25 s, more than the rest of `clock show` together. This
reader takes only the plain case — a `sqlite:///PATH` URL without a query, naming an existing classic2arm
database at the current schema revision — and answers None for anything else (another database, a URL with
options, a missing, foreign, corrupted or older file, any SQLite error): the caller then opens the full store,
which says precisely what is wrong, or upgrades. So no error message and no URL rule lives here twice."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .revision import HEAD

_PREFIX = "sqlite:///"


def plain_sqlite_file(url: str) -> Path | None:
    """The file of a URL SQLAlchemy would read as exactly `sqlite:///` + that path (no '%'-escapes to undo, no
    query, no NUL); None for any other URL."""
    if not url.startswith(_PREFIX):
        return None
    name = url[len(_PREFIX):]
    if not name or any(ch in name for ch in "%?\x00") or name in (":memory:", "file::memory:") \
            or name.startswith("file:"):
        return None
    return Path(name)


def read_meta(url: str, keys: Iterable[str]) -> dict[str, Any] | None:
    """The values of those `meta` keys that are set, or None when this reader does not take the URL (see the
    module's doc)."""
    file = plain_sqlite_file(url)
    if file is None or not file.is_file():
        return None
    wanted = list(keys)
    try:
        # Read-only, and never created: a missing file was ruled out above, and mode=ro could not create one.
        conn = sqlite3.connect(f"file:{quote(str(file.absolute()))}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return None
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        if revision != [(HEAD,)]:
            return None
        marks = ",".join("?" * len(wanted))
        rows = conn.execute(f"SELECT key, value FROM meta WHERE key IN ({marks})", wanted).fetchall()
        return {str(k): (v if isinstance(v, int | float) else json.loads(v)) for k, v in rows}
    except (sqlite3.Error, ValueError):
        return None
    finally:
        conn.close()
