"""The application context every entry point builds from its configuration (no global singletons)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..domain.usage import usage_of
from ..store import Store, Tx
from .errors import ServiceError
from .sources import IndexSource

DEFAULT_DB_URL = "sqlite:///classic2arm.db"
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def db_url_from_env(explicit: str | None = None) -> str:
    return explicit or os.environ.get("CLASSIC2ARM_DB") or DEFAULT_DB_URL


def database_error(exc: BaseException) -> str | None:
    """What went wrong, when `exc` is the database refusing to open or answer (a bad path, a server that
    is down, a file that is not a database); None for any other exception."""
    import sqlalchemy.exc

    if isinstance(exc, sqlalchemy.exc.DatabaseError):  # (OperationalError among them)
        return str(exc.orig) if exc.orig is not None else str(exc)
    return None


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
            if tx.get_subscription(self.subscription) is None:
                raise ServiceError("SubscriptionNotFound",
                                   f"subscription '{self.subscription}' is not in the store", 404)
            return self.subscription
        subs = tx.list_subscriptions()
        if not subs:
            raise ServiceError("SubscriptionNotFound",
                               "the store holds no subscription yet: import or generate an estate first", 404)
        if len(subs) > 1:
            names = ", ".join(s["id"] for s in subs)
            raise ServiceError("AmbiguousSubscription",
                               f"the store holds several subscriptions ({names}): choose one with --subscription")
        return str(subs[0]["id"])

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
