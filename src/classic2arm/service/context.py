"""The application context every entry point builds from its configuration (no global singletons)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ServiceError, StoreUnavailable

if TYPE_CHECKING:
    from ..store import Store, Tx
    from .sources import IndexSource

DEFAULT_DB_URL = "sqlite:///classic2arm.db"
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def db_url_from_env(explicit: str | None = None) -> str:
    return explicit or os.environ.get("CLASSIC2ARM_DB") or DEFAULT_DB_URL


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for another database or a URL the store refuses."""
    from ..store import Unavailable
    from ..store.repository import parse_url, sqlite_path

    try:
        return sqlite_path(parse_url(url))
    except Unavailable:
        return None


def shown_url(url: str) -> str:
    """A database URL as it may be shown to a user: without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url
    return url if parsed.password is None else parsed.render_as_string(hide_password=True)


# SQLite's words for a store it cannot work with, and what they mean to a user.
_SQLITE_MEANINGS = {
    "file is not a database": "not a database file (or an encrypted one)",
    "database disk image is malformed": "the database file is corrupted",
    "attempt to write a readonly database": "the database is read-only",
    "database or disk is full": "the disk is full",
    "unable to open database file": "the database file cannot be opened (does its directory exist?)",
    "disk i/o error": "the disk failed to read or write the database file (was it deleted or moved?)",
}


def store_failure(exc: BaseException) -> str | None:
    """What went wrong, when `exc` is the database refusing to work at all (not a database, corrupted, gone,
    read-only, full, unreachable, a URL the store can't use); None for any other exception (a constraint
    violated is a bug or a conflict, not the store failing). Lets an entry point report it without knowing the
    driver."""
    from sqlalchemy.exc import DatabaseError, IntegrityError

    from ..store import Unavailable

    if isinstance(exc, Unavailable):
        return str(exc)
    if not isinstance(exc, DatabaseError) or isinstance(exc, IntegrityError):
        return None
    detail = str(exc.orig) if exc.orig is not None else str(exc).partition("\n")[0]
    meaning = next((m for words, m in _SQLITE_MEANINGS.items() if words in detail.lower()), None)
    return f"{meaning} ({detail})" if meaning else detail


def store_unavailable(exc: BaseException) -> StoreUnavailable | None:
    """`store_failure` as the service error an API answers with (503 and the reason)."""
    detail = store_failure(exc)
    return None if detail is None else StoreUnavailable(detail)


@dataclass
class AppContext:
    """The store a caller works on and the subscription it chose. Made with `open` (the store opened now) or
    `deferred` (opened when first needed: a command-line call that only reads a setting — `clock show` — then
    reads it from a plain SQLite file without loading SQLAlchemy at all, see `setting`). Positionally
    `AppContext(store, subscription)`."""

    _store: Store | None = None
    subscription: str | None = None  # as chosen by the caller (--subscription); resolved lazily
    # The classic index of the subscription last migrated or validated in bulk, kept up to date from the event
    # log so that the next bulk call (a server's, a session's) needn't read and parse every row again.
    _index: IndexSource | None = field(default=None, repr=False)
    _index_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _url: str | None = field(default=None, repr=False)  # of a store not opened yet
    _create: bool = field(default=True, repr=False)

    @classmethod
    def open(cls, url: str | None = None, subscription: str | None = None, create: bool = True) -> AppContext:
        """`create=False`: a missing SQLite file is an error (store_failure says which) instead of a new store."""
        ctx = cls.deferred(url, subscription, create)
        _ = ctx.store  # opened now: its errors surface here
        return ctx

    @classmethod
    def deferred(cls, url: str | None = None, subscription: str | None = None, create: bool = True) -> AppContext:
        return cls(None, subscription, _url=db_url_from_env(url), _create=create)

    @property
    def store(self) -> Store:
        if self._store is None:
            from ..domain.usage import usage_of
            from ..store import Store

            if self._url is None:
                raise ValueError("AppContext needs a store or the URL of one")
            self._store = Store.open(self._url, usage=usage_of, create=self._create)
        return self._store

    def setting(self, key: str) -> Any:
        """A store-wide setting (a `meta` row; None when unset). Before the store is opened, a plain SQLite
        file is read with sqlite3 alone (`store.quick`); any other case opens the store, which also reports
        what is wrong with it."""
        if self._store is None and self._url is not None:
            from ..store import quick

            found = quick.read_meta(self._url, [key])
            if found is not None:
                return found.get(key)
        with self.store.read() as tx:
            return tx.meta.get(key)

    def subscription_id(self, tx: Tx) -> str:
        """The subscription a command works on: the one given, else the only one in the store."""
        from . import subscriptions

        if self.subscription:
            subscriptions.require(tx, self.subscription)
            return self.subscription
        subs = tx.subscriptions.all()
        if not subs:
            raise ServiceError("SubscriptionNotFound",
                               "the store holds no subscription yet: import or generate an estate first", 404)
        if len(subs) > 1:
            names = ", ".join(s["id"] for s in subs)
            raise ServiceError("AmbiguousSubscription",
                               f"the store holds several subscriptions ({names}): choose one with --subscription")
        return str(subs[0]["id"])

    def for_subscription(self, subscription_id: str) -> AppContext:
        """The same store bound to one subscription, with a classic index of its own (the console keeps one per
        subscription it shows, so that the index outlives a request)."""
        return AppContext(self.store, subscription_id)

    def chosen_subscription(self) -> str:
        """`subscription_id` in a read transaction of its own, for a caller that needs just the id."""
        with self.store.read() as tx:
            return self.subscription_id(tx)

    @contextmanager
    def classic_index(self, tx: Tx, sub: str) -> Iterator[IndexSource]:
        """The subscription's classic index as `tx` sees it, held by this caller for the block."""
        from .sources import IndexSource

        with self._index_lock:
            idx = self._index
            if idx is not None and idx.sub == sub and idx.exact_refresh:
                idx.refresh(tx)
            else:
                idx = IndexSource(tx, sub)
                self._index = idx if idx.exact_refresh else None
            yield idx

    def snapshot(self) -> AbstractContextManager[None]:
        """Every read of this thread in the block in one transaction (`Store.snapshot`), for a request that
        only reads."""
        return self.store.snapshot()

    def reads_without_waiting(self) -> bool:
        """A one-row read of the store now takes well under a millisecond: the store is on this machine (a
        SQLite file, or PostgreSQL over a socket or loopback) and a pooled connection is free."""
        return self.store.reads_without_waiting()

    def forget_index(self) -> None:
        with self._index_lock:
            self._index = None

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
