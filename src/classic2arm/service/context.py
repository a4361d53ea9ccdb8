"""The application context every entry point builds from its configuration (no global singletons)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.usage import usage_of
from ..store import Store, Tx
from . import subscriptions
from .errors import ServiceError
from .sources import IndexSource

DEFAULT_DB_URL = "sqlite:///classic2arm.db"
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def db_url_from_env(explicit: str | None = None) -> str:
    return explicit or os.environ.get("CLASSIC2ARM_DB") or DEFAULT_DB_URL


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for another database, an in-memory one or a URL that is not one."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def store_failure(exc: BaseException) -> str | None:
    """What went wrong, when `exc` is the database refusing to work at all (e.g. a SQLite path whose directory
    does not exist); None for any other exception. Lets an entry point report it without knowing the driver."""
    from sqlalchemy.exc import DatabaseError

    if not isinstance(exc, DatabaseError):  # (OperationalError among them; also a file that is not a database)
        return None
    return str(exc.orig) if exc.orig is not None else str(exc)


@dataclass
class AppContext:
    store: Store
    subscription: str | None = None  # as chosen by the caller (--subscription); resolved lazily
    # The classic index of the subscription last migrated or validated in bulk, kept up to date from the event
    # log so that the next bulk call (a server's, a session's) needn't read and parse every row again.
    _index: IndexSource | None = field(default=None, repr=False)
    _index_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, url: str | None = None, subscription: str | None = None) -> AppContext:
        return cls(Store.open(db_url_from_env(url), usage=usage_of), subscription)

    def subscription_id(self, tx: Tx) -> str:
        """The subscription a command works on: the one given, else the only one in the store."""
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

    def chosen_subscription(self) -> str:
        """`subscription_id` in a read transaction of its own, for a caller that needs just the id."""
        with self.store.read() as tx:
            return self.subscription_id(tx)

    @contextmanager
    def classic_index(self, tx: Tx, sub: str) -> Iterator[IndexSource]:
        """The subscription's classic index as `tx` sees it, held by this caller for the block."""
        with self._index_lock:
            idx = self._index
            if idx is not None and idx.sub == sub and idx.exact_refresh:
                idx.refresh(tx)
            else:
                idx = IndexSource(tx, sub)
                self._index = idx if idx.exact_refresh else None
            yield idx

    def forget_index(self) -> None:
        with self._index_lock:
            self._index = None

    def close(self) -> None:
        self.store.dispose()
