"""The subscription a use case works on, as a model, and the retirement policy's refusals as errors."""

from __future__ import annotations

from typing import Any

from ..domain import classic as c
from ..domain import retirement
from ..store import Tx
from .errors import NotFound, ServiceError


def load(tx: Tx, sub_id: str) -> c.Subscription:
    """The stored subscription, or SubscriptionNotFound."""
    return c.Subscription.model_validate(_doc(tx, sub_id))


def require(tx: Tx, sub_id: str) -> None:
    """SubscriptionNotFound unless the store holds the subscription (without reading it into a model)."""
    _doc(tx, sub_id)


def _doc(tx: Tx, sub_id: str) -> dict[str, Any]:
    doc = tx.get_subscription(sub_id)
    if doc is None:
        raise NotFound(f"subscription '{sub_id}' is not in the store", code="SubscriptionNotFound")
    return doc


def refuse(denial: retirement.Denial | None) -> None:
    """Raise what the retirement policy decided, if it refused."""
    if denial is not None:
        raise ServiceError(denial.code, denial.message, denial.http_status)
