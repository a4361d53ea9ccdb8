"""Credentials for the HTTP APIs: bearer tokens (ASM and ARM) and management certificates (ASM).

Tokens are shown once and stored only as SHA-256 hashes; certificates by their SHA-1 thumbprint, as the
classic portal lists management certificates. Nothing secret is ever logged.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from . import subscriptions
from .context import AppContext
from .errors import ServiceError

TOKEN_PREFIX = "c2a."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def thumbprint(cert_der: bytes) -> str:
    return hashlib.sha1(cert_der).hexdigest().upper()


@dataclass(frozen=True, slots=True)
class Principal:
    subscription_id: str
    kind: str  # token | certificate


def _check_subscription(ctx: AppContext, subscription_id: str) -> None:
    with ctx.store.read() as tx:
        subscriptions.require(tx, subscription_id)


MAX_TOKEN_LIFETIME = timedelta(days=3650)


def token_lifetime(seconds: float | None) -> timedelta | None:
    """A token's lifetime from a caller's seconds (None: never expires). Zero, negative (an already expired
    token), NaN, infinite and astronomically long lifetimes are refused rather than overflowing a date."""
    if seconds is None:
        return None
    limit = MAX_TOKEN_LIFETIME.total_seconds()
    if isinstance(seconds, bool) or not 0 < seconds <= limit:  # NaN fails every comparison
        raise ServiceError("InvalidTokenLifetime", f"a token lifetime must be more than 0 and at most {int(limit)} "
                                                   f"seconds ({MAX_TOKEN_LIFETIME.days} days); got "
                                                   f"{str(seconds)[:40]}")
    return timedelta(seconds=seconds)


def create_token(ctx: AppContext, subscription_id: str, ttl: timedelta | None = timedelta(days=1),
                 description: str = "") -> tuple[str, datetime | None]:
    _check_subscription(ctx, subscription_id)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + ttl if ttl is not None else None
    with ctx.store.tx() as tx:
        tx.credentials.add(_hash(token), subscription_id, "token", expires, description)
    return token, expires


def verify_token(ctx: AppContext, token: str) -> Principal | None:
    # Looked up on every request (no cache): a deleted or reset credential stops working at once.
    if not token or len(token) > 512:
        return None
    with ctx.store.read() as tx:
        return _live(tx.credentials.get(_hash(token)), "token")


def register_certificate(ctx: AppContext, subscription_id: str, cert_pem: bytes, description: str = "") -> str:
    _check_subscription(ctx, subscription_id)
    cert = x509.load_pem_x509_certificate(cert_pem)
    thumb = thumbprint(cert.public_bytes(serialization.Encoding.DER))
    with ctx.store.tx() as tx:
        if tx.credentials.get(thumb) is None:
            tx.credentials.add(thumb, subscription_id, "certificate", cert.not_valid_after_utc, description)
    return thumb


def verify_certificate(ctx: AppContext, cert_der: bytes) -> Principal | None:
    with ctx.store.read() as tx:
        return _live(tx.credentials.get(thumbprint(cert_der)), "certificate")


def _live(cred: dict[str, Any] | None, kind: str) -> Principal | None:
    """Whom a stored credential of this kind stands for, unless it is missing, of another kind or expired."""
    if cred is None or cred["kind"] != kind:
        return None
    expires = cred.get("expires_at")
    if expires is not None and expires <= datetime.now(UTC):
        return None
    return Principal(cred["subscription_id"], kind)


def make_certificate(common_name: str, days: int = 365, key_type: str = "rsa") -> tuple[bytes, bytes]:
    """A self-signed client certificate and its key (PEM), as `New-SelfSignedCertificate` would make: RSA-2048 by
    default (the only key the classic xplat CLI loads from a publishsettings file), EC P-256 on request."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif key_type == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ServiceError("InvalidKeyType", f"key type must be rsa or ec, not '{key_type[:20]}'")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def publish_settings(cert_pem: bytes, key_pem: bytes, subscription_id: str, subscription_name: str,
                     management_url: str) -> bytes:
    """A `.publishsettings` file (schema 2.0) for one subscription: the certificate and its RSA key as the
    base64 PKCS#12 with an empty password that Azure's downloads carried, and the server's URL."""
    from xml.sax.saxutils import quoteattr

    from . import pkcs12

    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ServiceError("InvalidKeyType", "a publishsettings file needs an RSA certificate (the classic CLI "
                                             "loads no other): make it with --key-type rsa")
    cert_der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    blob = base64.b64encode(pkcs12.pfx(cert_der, key)).decode()
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<PublishData>\n'
            f'  <PublishProfile SchemaVersion="2.0" PublishMethod="AzureServiceManagementAPI">\n'
            f"    <Subscription ServiceManagementUrl={quoteattr(management_url)} Id={quoteattr(subscription_id)} "
            f"Name={quoteattr(subscription_name)} ManagementCertificate={quoteattr(blob)} />\n"
            f"  </PublishProfile>\n</PublishData>\n").encode()
