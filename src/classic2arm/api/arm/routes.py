"""The ARM router: one route owning `/subscriptions/...`, `/providers/...` and `/openapi/arm.json`,
matched case-insensitively, ahead of the ASM API's `/{subscription_id}/...` routes.

Order of checks, as ARM does it: authentication and subscription access (401/403), then `api-version`
(400 when missing; any value is accepted), then the addressed thing and method.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

import orjson
import pyjson5
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Scope

from ...service.context import AppContext, store_unavailable
from ...service.errors import ServiceError
from ..auth import AuthError, authorize, principal
from ..graph.endpoint import GraphRequestError
from ..owned_route import OwnedPathRoute
from ..query import repeated_key, repeated_message
from . import handlers, openapi, paths
from .responses import error, json_response

log = logging.getLogger(__name__)
MAX_BODY = 4 * 1024 * 1024
_BODY_METHODS = ("PUT", "PATCH", "POST")


def _path_of(scope: Scope) -> str:
    """The request path with each segment decoded on its own (an encoded `/` stays inside its name)."""
    raw = scope.get("raw_path")
    if not isinstance(raw, bytes):
        return str(scope["path"])
    text = raw.decode("latin-1").split("?", 1)[0]
    return "/".join(unquote(seg, errors="replace").replace("/", "%2F") for seg in text.split("/"))


async def _read_body(request: Request) -> Any:
    if request.method not in _BODY_METHODS:
        return None
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ServiceError("RequestEntityTooLarge", "The request content is too large.", 413)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise ServiceError("RequestEntityTooLarge", "The request content is too large.", 413)
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    # ARM reads JSON leniently (Json.NET): `az deployment group create` sends its template under an unquoted
    # `template:` key to keep the file's text as it is. JSON5 accepts that (and comments, trailing commas).
    try:
        return pyjson5.loads(raw.decode("utf-8-sig"))
    except (pyjson5.Json5Exception, UnicodeDecodeError, ValueError):
        raise ServiceError("InvalidRequestContent", "The request content was invalid and could not be "
                                                    "deserialized.", 400) from None


def _subscription_of(target: paths.Target) -> str | None:
    if isinstance(target, paths.Resource | paths.VmAction):
        return target.addr.subscription
    return getattr(target, "sub", None)


def _call(request: Request, ctx: AppContext, target: paths.Target, caller: str, body: Any) -> Response:
    t = target
    if isinstance(t, paths.Subscriptions):
        return handlers.subscriptions(request, ctx, caller)
    if isinstance(t, paths.Tenants):
        return handlers.tenants(request, caller)
    if isinstance(t, paths.Subscription):
        return handlers.subscription(request, ctx, t)
    if isinstance(t, paths.Groups):
        return handlers.groups(request, ctx, t)
    if isinstance(t, paths.Group):
        return handlers.group(request, ctx, t, body)
    if isinstance(t, paths.GroupExport):
        return handlers.group_export(request, ctx, t, body)
    if isinstance(t, paths.Deployments):
        return handlers.deployments(request, ctx, t, body)
    if isinstance(t, paths.ResourceList):
        return handlers.resource_list(request, ctx, t)
    if isinstance(t, paths.Providers):
        return handlers.providers(request, ctx, t.sub or caller)
    if isinstance(t, paths.Provider):
        return handlers.provider(request, ctx, t.sub or caller, t.namespace)
    if isinstance(t, paths.ProviderAction):
        return handlers.provider_action(request, ctx, t)
    if isinstance(t, paths.TypeList):
        return handlers.type_list(request, ctx, t)
    if isinstance(t, paths.OperationStatus):
        return handlers.operation_status(request, ctx, t)
    if isinstance(t, paths.Resource):
        return handlers.resource(request, ctx, t, body)
    if isinstance(t, paths.VmAction):
        return handlers.vm_action(request, ctx, t)
    if isinstance(t, paths.GraphQuery):
        return handlers.graph_query(request, ctx, caller, body)
    raise ServiceError("NotFound", "The requested path does not exist.", 404)


async def dispatch(request: Request, path: str) -> Response:
    if path.lower() == "/openapi/arm.json":
        return json_response(request, openapi.document())
    ctx: AppContext = request.app.state.ctx
    target = paths.parse(path)
    try:
        sub = _subscription_of(target)

        def who() -> str:
            if sub is not None:
                return authorize(request, sub, False).subscription_id
            return principal(request, ctx, False).subscription_id

        body: Any = b""
        caller: str | None = None
        length = request.headers.get("content-length")
        if request.headers.get("transfer-encoding") or (length is not None and length.strip() != "0"):
            # Authorise before reading what may be a large body; body-less requests (most of them) make one
            # trip to the thread pool for everything.
            caller = await run_in_threadpool(who)
            try:
                body = await _read_body(request)
            except ServiceError as exc:  # reported after the api-version check, as before
                body = exc

        def work() -> Response:
            nonlocal caller
            if caller is None:
                caller = who()
            repeated = repeated_key(request.query_params)
            if repeated is not None:
                return error(request, 400, "InvalidQueryParameter", repeated_message(repeated))
            if not request.query_params.get("api-version"):
                return error(request, 400, "MissingApiVersionParameter",
                             "The api-version query parameter (?api-version=) is required for all requests.")
            if isinstance(body, ServiceError):
                raise body
            addressed = target if sub is None else paths.on_subscription(target, caller)
            return _call(request, ctx, addressed, caller, body)

        if not _one_read(request, target):
            return await run_in_threadpool(work)

        def read() -> Response:
            with ctx.snapshot():  # the token and the resource in one read transaction
                return work()

        # A GET of one resource from a store on this machine is two primary-key reads (tens of microseconds on
        # SQLite, one loopback round trip each on PostgreSQL, never a lock wait): answered on the event loop,
        # without the hop to the thread pool and back, which cost more than the reads (bench/RESULTS.md, "ARM
        # GET VM vs moto"). A database across a network, and anything that may write, wait or scan, goes to the
        # pool, as is the read when every pooled connection is busy (waiting for one would hold the loop).
        if caller is None and ctx.reads_without_waiting():
            return read()
        return await run_in_threadpool(read)
    except AuthError as exc:
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if exc.status == 401 else None
        return error(request, exc.status, exc.code, exc.message, headers=headers)
    except GraphRequestError as exc:
        return error(request, exc.http_status, exc.code, exc.message, exc.details)
    except ServiceError as exc:
        return error(request, exc.http_status, exc.code, exc.message)
    except ClientDisconnect:
        raise  # the body never came (gone, too slow, too large): api.limits.BodyGuard answers, if anyone
    except Exception as exc:
        down = store_unavailable(exc)
        if down is not None:  # the database failing (gone, read-only, full…): 503 with the reason
            log.error("ARM request failed: %s %s: %s", request.method, path, down.reason)
            return error(request, down.http_status, down.code, down.message)
        # a bug: answer as ARM does, keep the details in the log only
        log.exception("ARM request failed: %s %s", request.method, path)
        return error(request, 500, "InternalServerError", "The server encountered an internal error.")


def _one_read(request: Request, target: paths.Target) -> bool:
    """A GET or HEAD of one resource: it only reads, and reads little."""
    return request.method in ("GET", "HEAD") and isinstance(target, paths.Resource) \
        and not target.addr.is_collection


def install(app: FastAPI) -> None:
    """Register the ARM (and Resource Graph) surface; call before the ASM routes are added."""
    app.router.routes.append(OwnedPathRoute(paths.owns, lambda request: dispatch(request, _path_of(request.scope))))
