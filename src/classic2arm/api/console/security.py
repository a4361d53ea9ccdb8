"""Who is looking at the console, and the protections of its pages.

The credential is an API bearer token: sent as `Authorization: Bearer` (scripts) or entered once on the sign-in
page and kept in an HttpOnly, SameSite=Strict cookie. Either way it is verified on every request the way the
APIs verify it (`credentials.verify_token`), and the pages show that token's subscription only. A request that
changes something carries a CSRF token: an HMAC of the credential under a secret of this server process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from fastapi import Request

from ...domain import catalogue as t
from ...service import credentials
from ...service.context import AppContext
from ..auth import AuthError, principal

COOKIE = "c2a_console"
CSRF_FIELD = "csrf"
# default-src 'self' forbids inline scripts and styles; the rest forbid framing and posting elsewhere.
CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
           "x-frame-options": "DENY", "cache-control": "no-store"}


@dataclass(frozen=True, slots=True)
class Viewer:
    ctx: AppContext  # bound to the credential's subscription
    subscription_id: str
    csrf: str
    from_cookie: bool
    token: str = ""  # the credential itself, for the in-process ASM GET of a resource page (never rendered)


class SignInRequired(Exception):
    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class Secret:
    """A random key per server process (CSRF tokens of a restarted server are refused: reload the page), and the
    per-subscription contexts of the signed-in viewers."""

    def __init__(self) -> None:
        self.key = secrets.token_bytes(32)
        self._contexts: dict[str, AppContext] = {}
        self._lock = threading.Lock()

    def context(self, base: AppContext, subscription_id: str) -> AppContext:
        """The context of one subscription, kept across requests: the classic index a bulk read (the plan) builds
        stays with it and is refreshed from the event log instead of being read again."""
        key = subscription_id.lower()
        with self._lock:
            found = self._contexts.get(key)  # (one Secret per app, and one base context per app)
            if found is None:
                found = self._contexts[key] = base.for_subscription(subscription_id)
            return found

    def csrf_for(self, token: str) -> str:
        return hmac.new(self.key, hashlib.sha256(token.encode()).digest(), hashlib.sha256).hexdigest()


def _token(request: Request) -> tuple[str | None, bool]:
    header = request.headers.get("authorization", "")
    if header:
        return None, False
    return request.cookies.get(COOKIE) or None, True


def viewer(request: Request, secret: Secret) -> Viewer:
    """The signed-in viewer, or SignInRequired (never any data without a valid credential)."""
    base: AppContext = request.app.state.ctx
    cookie_token, from_cookie = _token(request)
    if from_cookie:
        if cookie_token is None:
            raise SignInRequired()
        who = credentials.verify_token(base, cookie_token)
        if who is None:
            raise SignInRequired(t.CONSOLE_TOKEN_GONE.text())
        token = cookie_token
    else:
        try:
            who = principal(request, base, allow_certificate=False)
        except AuthError as exc:
            raise SignInRequired(exc.message) from None
        token = request.headers["authorization"].partition(" ")[2].strip()
    return Viewer(secret.context(base, who.subscription_id), who.subscription_id, secret.csrf_for(token), from_cookie,
                  token)


def csrf_ok(v: Viewer, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(v.csrf, given or "")
