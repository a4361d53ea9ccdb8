"""Routes of the admin API. Every answer is JSON; errors are `{"error": {"code", "message"}}`.

Admin routes need `Authorization: Bearer <admin token>` (wrong or missing → 401). `GET /admin/whoami` is
the exception: it takes a subscription's credentials (bearer token or management certificate) and says
whose they are — handy to check a client's auth set-up before the real APIs.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ...importers.errors import InputError
from ...importers.safe_xml import MAX_BYTES
from ...service import admin, credentials, faults, pacing, world_clock
from ...service.context import AppContext, store_unavailable
from ...service.errors import ServiceError, StoreUnavailable
from ..auth import AuthError, authorize, principal


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class _JsonErrors(APIRoute):
    """Errors of the admin routes as JSON (scoped to these routes: the ASM/ARM APIs map errors their way)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except AuthError as exc:
                return _error(exc.status, exc.code, exc.message)
            except InputError as exc:
                return _error(400, "InvalidInput", str(exc))
            except StoreUnavailable as exc:
                return _error(exc.http_status, exc.code, exc.message)
            except ServiceError as exc:
                status = exc.http_status if 400 <= exc.http_status < 500 else 400
                return _error(status, exc.code, exc.message)
            except Exception as exc:
                down = store_unavailable(exc)  # the database failing (gone, read-only, full…): 503 with the reason
                if down is None:
                    raise
                return _error(down.http_status, down.code, down.message)

        return route


def _ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def require_admin(request: Request) -> None:
    expected: str = request.app.state.admin_token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise AuthError(401, "AdminAuthenticationFailed",
                        "The admin API needs 'Authorization: Bearer <admin token>' with the token the server "
                        "printed at start (or was given with --admin-token).")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def _json_body(request: Request, limit: int = 1 << 20) -> Any:
    data = await _read_limited(request, limit)
    try:
        # NaN and Infinity are not JSON (Python's parser takes them by default).
        return json.loads(data or b"null", parse_constant=_no_constant)
    except RecursionError:
        raise ServiceError("InvalidJson", "the request body is nested too deeply") from None
    except ValueError as exc:
        raise ServiceError("InvalidJson", f"the request body is not valid JSON: {str(exc)[:120]}") from None


async def _read_limited(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ServiceError("RequestTooLarge", f"the request body is larger than {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _need_dict(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ServiceError("InvalidJson", "the request body must be a JSON object")
    return body


router = APIRouter(prefix="/admin", route_class=_JsonErrors)
admin_only = [Depends(require_admin)]


@router.get("/whoami")
def whoami(request: Request, subscription: str | None = None) -> dict[str, Any]:
    """Whose credentials these are; with ?subscription=ID, also whether they may act on it (else 403)."""
    ctx = _ctx(request)
    who = authorize(request, subscription, True) if subscription else principal(request, ctx, True)
    return {"subscriptionId": who.subscription_id, "kind": who.kind}


@router.post("/reset", dependencies=admin_only)
def reset(request: Request, keep_credentials: bool = True) -> dict[str, Any]:
    admin.reset(_ctx(request), keep_credentials=keep_credentials)
    return {"reset": True, "keptCredentials": keep_credentials}


@router.post("/import", dependencies=admin_only)
async def import_(request: Request, subscription: str | None = None, name: str = "request body") -> Any:
    data = await _read_limited(request, MAX_BYTES)
    report = await run_in_threadpool(admin.import_document, _ctx(request), data, name[:200], subscription)
    return report.to_json()


@router.get("/clock", dependencies=admin_only)
def get_clock(request: Request) -> dict[str, object]:
    return world_clock.show_clock(_ctx(request))


@router.put("/clock", dependencies=admin_only)
async def put_clock(request: Request) -> Any:
    body = _need_dict(await _json_body(request))
    return await run_in_threadpool(admin.set_clock, _ctx(request), body)


@router.get("/faults", dependencies=admin_only)
def get_faults(request: Request) -> dict[str, Any]:
    return {"faults": faults.list_faults(_ctx(request)), "steps": list(faults.STEPS), "errors": list(faults.TEXTS)}


@router.put("/faults", dependencies=admin_only)
async def put_faults(request: Request) -> Any:
    """One fault `{"step", "error"?, "times"?}` or several: `{"faults": [...]}` (times 0 removes one)."""
    body = _need_dict(await _json_body(request))
    items = body.get("faults", [body])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ServiceError("InvalidFault", "'faults' must be a list of objects")

    def apply() -> dict[str, Any]:
        ctx = _ctx(request)
        current: dict[str, Any] = faults.list_faults(ctx)
        for item in items:
            current = faults.set_fault(ctx, str(item.get("step")), str(item.get("error", "R47")),
                                       item.get("times", 1))
        return {"faults": current}

    return await run_in_threadpool(apply)


@router.delete("/faults", dependencies=admin_only)
def delete_faults(request: Request) -> dict[str, Any]:
    faults.clear(_ctx(request))
    return {"faults": {}}


@router.get("/pacing", dependencies=admin_only)
def get_pacing(request: Request) -> dict[str, Any]:
    return pacing.get(_ctx(request)).to_json()


@router.put("/pacing", dependencies=admin_only)
async def put_pacing(request: Request) -> Any:
    setting = pacing.parse(await _json_body(request))
    return (await run_in_threadpool(pacing.set_pacing, _ctx(request), setting)).to_json()


@router.post("/tokens", dependencies=admin_only)
async def create_token(request: Request) -> Any:
    """`{"subscription": ID, "expiresIn": seconds (default 86400; null: never)}` → the token, shown once."""
    body = _need_dict(await _json_body(request))
    sub = body.get("subscription")
    ttl_s = body.get("expiresIn", 86_400)
    if not isinstance(sub, str) or not sub:
        raise ServiceError("InvalidRequest", "'subscription' is required")
    if ttl_s is not None and (not isinstance(ttl_s, int | float) or isinstance(ttl_s, bool)):
        raise ServiceError("InvalidRequest", "'expiresIn' must be a number of seconds or null")
    ttl = credentials.token_lifetime(ttl_s)
    token, expires = await run_in_threadpool(credentials.create_token, _ctx(request), sub, ttl, "admin api")
    return {"token": token, "subscription": sub, "expiresOn": expires.isoformat() if expires else None}


@router.post("/certificates", dependencies=admin_only)
async def register_certificate(request: Request, subscription: str) -> Any:
    """Body: a PEM certificate (a cert+key PEM is fine; the key is ignored) → its thumbprint."""
    data = await _read_limited(request, 64 * 1024)
    thumb = await run_in_threadpool(admin.register_certificate, _ctx(request), subscription, data, "admin api")
    return {"thumbprint": thumb, "subscription": subscription}


def install(app: FastAPI, token: str) -> None:
    """Mount the admin routes ahead of every other route: the ASM API's `/{subscription-id}/…` patterns
    would otherwise take `/admin/…` (e.g. `/admin/certificates` as List Management Certificates)."""
    app.state.admin_token = token
    before = list(app.router.routes)
    app.include_router(router)
    added = [r for r in app.router.routes if r not in before]
    app.router.routes[:] = added + before
