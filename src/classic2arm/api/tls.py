"""HTTPS for `classic2arm serve`: a throwaway CA and server certificate, the server's SSLContext, and the
uvicorn protocol that hands the client (management) certificate to the application.

How a management certificate reaches the app:

1. The server SSLContext asks every client for a certificate (`CERT_OPTIONAL`). Python's ssl module then
   verifies a presented certificate against the context's trusted CAs, and management certificates are
   self-signed. Two trust modes:

   - ``any`` (default where available): OpenSSL is told to accept any client certificate (a verify callback
     that returns 1, installed through ctypes on the context's `SSL_CTX`). The TLS handshake still proves the
     client holds the certificate's private key (CertificateVerify is checked regardless); *which*
     certificates are allowed is decided by the app from the thumbprint, as Azure does: an unregistered
     certificate gets 403, not a failed handshake.
   - ``registered`` (fallback, or forced with env ``CLASSIC2ARM_TLS_CLIENT_TRUST=registered``): the trusted
     set is the registered management certificates themselves (their PEMs are kept in store meta by
     `service.admin.register_certificate`), refreshed by polling; an unregistered certificate fails the
     handshake. OpenSSL finds a trusted certificate by its subject name, so registered certificates need
     distinct subjects (`classic2arm cert create` makes them so).

2. `ClientCertMixin.connection_made` (h11 or httptools; called once the handshake is complete) reads the peer
   certificate (DER) from the transport's `ssl_object` and wraps the connection's ASGI app so that every
   request on the connection carries it as ``scope["extensions"][CLIENT_CERT_KEY]``
   (`api.auth.CLIENT_CERT_KEY`), where `api.auth.principal` looks for it.
"""

from __future__ import annotations

import ctypes
import ipaddress
import logging
import os
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from uvicorn.protocols.http.h11_impl import H11Protocol

from .auth import CLIENT_CERT_KEY
from .limit_settings import Limits
from .limits import GuardMixin

log = logging.getLogger("classic2arm.tls")

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
TRUST_ENV = "CLASSIC2ARM_TLS_CLIENT_TRUST"


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca: Path | None  # the CA clients must trust (None: a given certificate, trust is the caller's business)
    cert: Path
    key: Path


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _still_valid(path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.not_valid_after_utc > datetime.now(UTC) + timedelta(days=1)


def throwaway_ca(directory: Path) -> TlsFiles:
    """A CA and a server certificate for 127.0.0.1, ::1 and localhost signed by it, in `directory`
    (ca.pem, server.pem, server-key.pem). Files left by an earlier run are reused while valid, so clients
    keep trusting the same CA across restarts."""
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    assert files.ca is not None
    if files.key.exists() and _still_valid(files.ca) and _still_valid(files.cert):
        return files
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "classic2arm throwaway CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
          .not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alt = x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                       x509.IPAddress(ipaddress.ip_address("::1"))])
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=825))
            .add_extension(alt, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write_private(files.key, _pem_key(key))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return files


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


# --------------------------------------------------------------------------- accepting any client certificate

_VERIFY_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
_accept_all = _VERIFY_CB(lambda _ok, _store: 1)  # module-level: OpenSSL keeps calling it


def _libssl() -> ctypes.CDLL | None:
    """The libssl the `_ssl` module is linked to (found in this process's mappings)."""
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "libssl" in line and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def accept_any_client_certificate(context: ssl.SSLContext) -> bool:
    """Make `context` accept any client certificate (see the module docstring). Returns False, leaving the
    context as it was, where this can't be done safely (no libssl found, or the SSL_CTX pointer fails the
    check below); callers then fall back to trusting the registered certificates."""
    lib = _libssl()
    if lib is None or not hasattr(lib, "SSL_CTX_set_verify") or not hasattr(lib, "SSL_CTX_get_verify_mode"):
        return False
    lib.SSL_CTX_get_verify_mode.argtypes = [ctypes.c_void_p]
    lib.SSL_CTX_get_verify_mode.restype = ctypes.c_int
    lib.SSL_CTX_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VERIFY_CB]
    lib.SSL_CTX_set_verify.restype = None
    # CPython's PySSLContext starts with PyObject_HEAD followed by the SSL_CTX pointer.
    ptr = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not ptr:
        return False
    mode = context.verify_mode
    try:  # the pointer is right only if OpenSSL sees each verify mode Python sets
        for probe, expected in ((ssl.CERT_NONE, 0), (ssl.CERT_REQUIRED, 3), (ssl.CERT_OPTIONAL, 1)):
            context.verify_mode = probe
            if lib.SSL_CTX_get_verify_mode(ptr) != expected:
                return False
    finally:
        context.verify_mode = mode
    context.verify_mode = ssl.CERT_OPTIONAL
    lib.SSL_CTX_set_verify(ptr, 1, _accept_all)  # SSL_VERIFY_PEER; CPython keeps the callback if mode changes
    return True


# --------------------------------------------------------------------------- the server context


def check_files(files: TlsFiles) -> None:
    """An OSError naming the files when they are not a certificate and its key in PEM: said before the server
    listens, not by a worker after it has. (An encrypted key is refused the same way, rather than asking for
    its pass phrase on the terminal.)"""
    shown = str(files.cert) if files.key == files.cert else f"{files.cert} with the key {files.key}"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(files.cert), str(files.key), password=b"")
    except ssl.SSLError as exc:
        raise OSError(f"cannot use {shown} as the server's TLS certificate: not a PEM certificate and matching "
                      f"unencrypted private key ({exc.reason or exc})") from None
    except OSError as exc:
        raise OSError(f"cannot read the TLS certificate {shown}: {exc.strerror or exc}") from None


class ServerTLS:
    """The server's SSLContext and its client-certificate trust (see the module docstring)."""

    def __init__(self, files: TlsFiles, trust: str | None = None) -> None:
        self.files = files
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(str(files.cert), str(files.key))
        self.context.verify_mode = ssl.CERT_OPTIONAL
        wanted = trust or os.environ.get(TRUST_ENV, "any")
        self.trust = "any" if wanted == "any" and accept_any_client_certificate(self.context) else "registered"
        self._loaded: set[str] = set()

    def trust_certificates(self, pems: dict[str, str]) -> int:
        """Add registered management certificates (thumbprint → PEM) to the trusted set; returns how many
        were new. New handshakes see them at once. (OpenSSL can't forget a trusted certificate: one that is
        removed stays trusted for TLS until restart, but the app no longer accepts its thumbprint.)"""
        if self.trust != "registered":
            return 0
        added = 0
        for thumb, pem in sorted(pems.items()):
            if thumb in self._loaded:
                continue
            try:
                self.context.load_verify_locations(cadata=pem)
            except (ssl.SSLError, ValueError) as exc:
                log.warning("management certificate %s could not be trusted: %s", thumb, exc)
            self._loaded.add(thumb)
            added += 1
        return added


# --------------------------------------------------------------------------- the uvicorn protocol


def _with_client_cert(app: ASGIApp, der: bytes) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Callable[[], Awaitable[Any]],
                      send: Callable[[Any], Awaitable[None]]) -> None:
        if scope.get("type") == "http":
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), CLIENT_CERT_KEY: der}}
        await app(scope, receive, send)

    return wrapped


def peer_certificate(transport: Any) -> bytes | None:
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None
    try:
        der = ssl_object.getpeercert(binary_form=True)
    except (ValueError, ssl.SSLError):
        return None
    return der if isinstance(der, bytes) and der else None


class ClientCertMixin:
    """Adds the client certificate to each request's scope extensions; mixed into a uvicorn HTTP protocol.

    The handshake is complete when asyncio calls `connection_made`, so the certificate is known for the
    whole connection; the connection's ASGI app (`self.app`, which uvicorn's protocols run every request
    with) wraps the shared one."""

    app: Any

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        der = peer_certificate(transport)
        if der is not None:
            self.app = _with_client_cert(self.app, der)


class ClientCertH11Protocol(ClientCertMixin, H11Protocol):
    """uvicorn's h11 protocol with the client certificate in the scope."""


def protocol_class(limits: Limits | None = None) -> type[Any]:
    """The fastest HTTP protocol available (httptools if installed, else h11), with the client certificate
    and the connection limits of `api.limits` (defaults unless given)."""
    base: type[Any]
    try:
        import httptools  # noqa: F401
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
        base = HttpToolsProtocol
    except ImportError:
        base = H11Protocol
    return type(f"Guarded{base.__name__}", (ClientCertMixin, GuardMixin, base), {"limits": limits or Limits()})
