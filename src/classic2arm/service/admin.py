"""Administration of a store for tests and demos: management certificates (with their PEMs, which the TLS
server needs), emptying the store, importing a document, and the world clock in the admin API's shape."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..importers import detect
from ..store import schema
from . import clock, credentials, world_clock
from .context import AppContext
from .errors import ServiceError
from .estate import ImportReport, import_estate

CERTS_META_KEY = "management_certificates"  # {thumbprint: PEM}
# Kept by a reset: who may call the APIs is not part of the emulated estate.
_KEPT_META = frozenset({CERTS_META_KEY})


# --------------------------------------------------------------------------- management certificates


def _parse_certificate(cert_pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise ServiceError("InvalidCertificate", "the file is not a PEM X.509 certificate") from None


def register_certificate(ctx: AppContext, subscription_id: str, cert_pem: bytes, description: str = "") -> str:
    """Register a management certificate for `subscription_id` (by thumbprint, through
    `credentials.register_certificate`) and keep its PEM, so a TLS server can trust it; returns the
    thumbprint. `cert_pem` may also hold a private key (a both.pem): only the certificate is kept."""
    cert = _parse_certificate(cert_pem)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    thumb = credentials.register_certificate(ctx, subscription_id, pem, description)
    with ctx.store.tx() as tx:
        known = dict(tx.meta.get(CERTS_META_KEY) or {})
        known[thumb] = pem.decode()
        tx.meta.set(CERTS_META_KEY, known)
    return thumb


def management_certificates(ctx: AppContext) -> dict[str, str]:
    """Every registered management certificate's PEM, by thumbprint."""
    with ctx.store.read() as tx:
        return dict(tx.meta.get(CERTS_META_KEY) or {})


# --------------------------------------------------------------------------- reset and import


def reset(ctx: AppContext, keep_credentials: bool = True) -> None:
    """Empty the store: resources, subscriptions, units, operations, timeline, event log and settings (clock,
    faults, pacing). Tokens and management certificates are kept unless `keep_credentials` is False (they
    then refer to subscriptions a later import brings back)."""
    tables = [schema.resources, schema.arm_usage, schema.events, schema.operations, schema.units,
              schema.vm_timeline, schema.subscriptions]
    with ctx.store.tx() as tx:
        for table in tables:
            tx.conn.execute(sa.delete(table))
        meta = sa.delete(schema.meta)
        if keep_credentials:
            meta = meta.where(schema.meta.c.key.not_in(sorted(_KEPT_META)))
        else:
            tx.conn.execute(sa.delete(schema.credentials))
        tx.conn.execute(meta)


def import_document(ctx: AppContext, data: bytes, name: str = "request body",
                    subscription: str | None = None) -> ImportReport:
    """Import one file's bytes (any format `importers.detect` recognises) in one transaction. Raises
    InputError or ServiceError with the store unchanged."""
    estate = detect.load_bytes(data, name)
    target = AppContext(ctx.store, subscription) if subscription else ctx
    return import_estate(target, estate, source=name)


# --------------------------------------------------------------------------- clock


def set_clock(ctx: AppContext, body: dict[str, Any]) -> dict[str, Any]:
    """`{"mode": "real"}`, `{"mode": "fixed", "at": "2023-06-01"}` or `{"mode": "running", "at": …}`
    (time runs on from `at`)."""
    mode = str(body.get("mode", "fixed" if body.get("at") else "real"))
    if mode == "real":
        setting = clock.ClockSetting()
    elif mode in ("fixed", "running", "offset"):
        at = body.get("at")
        if not isinstance(at, str):
            raise ServiceError("InvalidClock", f"mode '{mode}' needs 'at', a date or date-time string")
        try:
            when = clock.parse_when(at)
        except ValueError as exc:
            raise ServiceError("InvalidClock", str(exc)) from None
        setting = clock.fixed(when) if mode == "fixed" else clock.running_from(when)
    else:
        raise ServiceError("InvalidClock", f"unknown mode '{mode}'; modes: real, fixed, running")
    setting, deallocated = world_clock.set_clock(ctx, setting)
    return {**world_clock.show_clock(ctx), "deallocatedForRetirement": deallocated}

