"""Resource provider registration. Registering Microsoft.ClassicInfrastructureMigrate is what lets
migration calls work (spec §1.2)."""

from __future__ import annotations

from typing import Any

from ..domain import classic as c
from . import subscriptions
from .context import AppContext
from .errors import ServiceError

MIGRATION_PROVIDER = "Microsoft.ClassicInfrastructureMigrate"
KNOWN = (MIGRATION_PROVIDER, "Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage", "Microsoft.KeyVault",
         "Microsoft.Resources", "Microsoft.ClassicCompute", "Microsoft.ClassicNetwork", "Microsoft.ClassicStorage",
         "Microsoft.ResourceGraph")


def _canonical(namespace: str) -> str:
    for known in KNOWN:
        if known.lower() == namespace.lower():
            return known
    raise ServiceError("InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.", 404)


def _view(sub: c.Subscription, namespace: str) -> dict[str, Any]:
    registered = sub.registered_for_migration if namespace == MIGRATION_PROVIDER else True
    return {"namespace": namespace, "registrationState": "Registered" if registered else "NotRegistered",
            "subscription": sub.id}


def show(ctx: AppContext, namespace: str) -> dict[str, Any]:
    ns = _canonical(namespace)
    with ctx.store.read() as tx:
        sub = subscriptions.load(tx, ctx.subscription_id(tx))
    return _view(sub, ns)


def register(ctx: AppContext, namespace: str, registered: bool) -> dict[str, Any]:
    ns = _canonical(namespace)
    with ctx.store.tx() as tx:
        sub = subscriptions.load(tx, ctx.subscription_id(tx))
        if ns == MIGRATION_PROVIDER:
            sub.registered_for_migration = registered
            tx.put_subscription(sub.model_dump(mode="json"))
    return _view(sub, ns)
