"""The ASGI application serving both APIs. Stateless: every request opens its own transaction on the shared
store, so several `classic2arm serve` processes can share one PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.middleware.base import BaseHTTPMiddleware

from ..service.context import AppContext


class RequestId(BaseHTTPMiddleware):
    """Every response carries `x-ms-request-id` (32 lower-case hex, as ASM sends it) unless a handler set one
    (an accepted operation's id, which clients poll with)."""

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.request_id = uuid.uuid4().hex
        response = await call_next(request)
        response.headers.setdefault("x-ms-request-id", request.state.request_id)
        return response


def create_app(ctx: AppContext, admin: bool = False, admin_token: str | None = None) -> FastAPI:
    app = FastAPI(title="classic2arm", version="0.1.0", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.admin = admin
    app.add_middleware(RequestId)
    # Order matters: /admin/… and ARM's literal /subscriptions/… and /providers/… before ASM's /{subscription-id}/….
    from .arm import routes as arm_routes
    from .asm import routes as asm_routes

    if admin:
        from . import admin as admin_api

        admin_api.install(app, admin_token or "")
    arm_routes.install(app)
    asm_routes.install(app)
    return app
