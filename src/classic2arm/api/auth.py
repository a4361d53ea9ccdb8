"""Who is calling, and may they touch this subscription?

ASM accepts a management certificate (the TLS client certificate's thumbprint registered to the
subscription) or a bearer token; ARM accepts bearer tokens. No credentials → 401; credentials for another
subscription → 403 that says nothing about the subscription asked for.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ..service import credentials
from ..service.context import AppContext
from ..service.credentials import Principal

# Set by the TLS-aware server protocol (api/tls.py) when the client presented a certificate.
CLIENT_CERT_KEY = "classic2arm.client_cert_der"


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _client_cert(request: Request) -> bytes | None:
    ext: dict[str, Any] = request.scope.get("extensions") or {}
    value = ext.get(CLIENT_CERT_KEY)
    return value if isinstance(value, bytes) else None


def principal(request: Request, ctx: AppContext, allow_certificate: bool) -> Principal:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        found = credentials.verify_token(ctx, token.strip())
        if found is None:
            raise AuthError(401, "InvalidAuthenticationToken",
                            "The access token is invalid or has expired.")
        return found
    if allow_certificate:
        der = _client_cert(request)
        if der is not None:
            found = credentials.verify_certificate(ctx, der)
            if found is None:
                raise AuthError(403, "ForbiddenError", "The server failed to authenticate the request. Verify "
                                                       "that the certificate is valid and is associated with "
                                                       "this subscription.")
            return found
    raise AuthError(401, "AuthenticationFailed", "No credentials were given: send a bearer token"
                    + (" or a registered management certificate." if allow_certificate else "."))


def authorize(request: Request, subscription_id: str, allow_certificate: bool) -> Principal:
    """The principal, if it may act on `subscription_id`; raises AuthError otherwise."""
    ctx: AppContext = request.app.state.ctx
    who = principal(request, ctx, allow_certificate)
    if who.subscription_id.lower() != subscription_id.lower():
        # Same answer whether or not the other subscription exists: nothing about it leaks.
        raise AuthError(403, "AuthorizationFailed", "The client does not have authorization to perform this "
                                                    "action on the requested subscription.")
    return who
