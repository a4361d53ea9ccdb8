"""The Entra ID stand-in and the cloud metadata on the same server (`service/entra.py`):
`GET /metadata/endpoints`, `GET /{tenant}/v2.0/.well-known/openid-configuration` and
`POST /{tenant}/oauth2/v2.0/token`. Installed ahead of the ASM API, whose `/{subscription-id}/…` routes would
otherwise take the tenant paths."""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any
from urllib.parse import parse_qsl, unquote

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..service import entra
from ..service.context import AppContext, store_unavailable
from .arm.responses import base_url, error, json_response
from .owned_route import OwnedPathRoute

log = logging.getLogger(__name__)
MAX_FORM = 64 * 1024
_OPENID = ["v2.0", ".well-known", "openid-configuration"]
_TOKEN = ["oauth2", "v2.0", "token"]


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def owns(path: str) -> bool:
    segs = [s.lower() for s in _segments(path)]
    return segs == ["metadata", "endpoints"] or (len(segs) == 4 and segs[1:] in (_OPENID, _TOKEN))


def _aad_error(request: Request, exc: entra.EntraError) -> Response:
    body = exc.to_json(request.headers.get("client-request-id"))
    return json_response(request, body, exc.status)


async def _form(request: Request) -> dict[str, str]:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM:
            raise entra.EntraError(400, "invalid_request", 900144, "The request body is too large.")
    form = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":  # client_secret_basic: the id and secret, form-encoded, in the header
        try:
            app_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise entra.EntraError(401, "invalid_client", 7000215, "Invalid client secret provided.") from None
        form.setdefault("client_id", unquote(app_id))
        form.setdefault("client_secret", unquote(secret))
    return form


async def dispatch(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    segs = _segments(request.url.path)
    low = [s.lower() for s in segs]
    try:
        if low == ["metadata", "endpoints"]:
            if request.method != "GET":
                return error(request, 405, "MethodNotAllowed", "Only GET is supported here.")
            if not request.query_params.get("api-version"):
                return error(request, 400, "MissingApiVersionParameter",
                             "The api-version query parameter (?api-version=) is required for all requests.")
            return json_response(request, entra.metadata_endpoints(base_url(request)))
        tenant = segs[0]
        if low[1:] == _OPENID:
            if request.method != "GET":
                return error(request, 405, "MethodNotAllowed", "Only GET is supported here.")
            doc: dict[str, Any] = await run_in_threadpool(entra.openid_configuration, ctx, tenant, base_url(request))
            return json_response(request, doc)
        if request.method != "POST":
            raise entra.EntraError(400, "invalid_request", 900561,
                                   "The endpoint only accepts POST requests. Received a "
                                   f"{request.method[:10]} request.")
        form = await _form(request)
        issued = await run_in_threadpool(entra.token, ctx, tenant, form)
        return json_response(request, issued, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
    except entra.EntraError as exc:
        return _aad_error(request, exc)
    except Exception as exc:
        down = store_unavailable(exc)
        if down is None:
            log.exception("Entra ID stand-in request failed: %s %s", request.method, request.url.path)
            return error(request, 500, "InternalServerError", "The server encountered an internal error.")
        return error(request, down.http_status, down.code, down.message)


def install(app: FastAPI) -> None:
    """Register the stand-in; call before the ASM routes are added."""
    app.router.routes.append(OwnedPathRoute(owns, dispatch))
