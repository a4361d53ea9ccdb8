"""The ASGI application serving both APIs. Stateless: every request opens its own transaction on the shared
store, so several `classic2arm serve` processes can share one PostgreSQL database."""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..service.context import AppContext
from .limit_settings import Limits
from .limits import BodyGuard


class RequestId:
    """Every response carries `x-ms-request-id` (32 lower-case hex, as ASM sends it) unless a handler set one
    (an accepted operation's id, which clients poll with). Plain ASGI: Starlette's BaseHTTPMiddleware costs a
    task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-ms-request-id" for k, _ in headers):
                    headers.append((b"x-ms-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(ctx: AppContext, admin: bool = False, admin_token: str | None = None,
               limits: Limits | None = None) -> FastAPI:
    app = FastAPI(title="classic2arm", version="0.1.0", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.admin = admin
    app.add_middleware(BodyGuard, limits=limits or Limits())
    app.add_middleware(RequestId)
    # Order matters: /admin/… and ARM's literal /subscriptions/… and /providers/… before ASM's /{subscription-id}/….
    from . import aad
    from .arm import routes as arm_routes
    from .asm import routes as asm_routes

    if admin:
        from . import admin as admin_api

        admin_api.install(app, admin_token or "")
    arm_routes.install(app)
    aad.install(app)  # (its /{tenant}/… paths before ASM's /{subscription-id}/…)
    asm_routes.install(app)
    from . import console

    console.install(app)  # first of all the routes: its paths would otherwise look like ASM subscription ids
    app.add_exception_handler(StarletteHTTPException, _unrouted)
    return app


async def _unrouted(request: Request, exc: Exception) -> Response:
    """What no route matched (e.g. a path with a control character): answered in the surface's own error
    format instead of the framework's JSON."""
    from .arm.responses import error as arm_error
    from .asm.guard import error_response as asm_error

    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 404
    code, message = ("NotFound", "The requested path does not exist.") if status == 404 else \
        ("MethodNotAllowed", "The method is not allowed for the requested path.")
    if request.url.path.lower().startswith(("/subscriptions", "/providers")):
        return arm_error(request, status, code, message)
    return asm_error(status, "ResourceNotFound" if status == 404 else code, message)
