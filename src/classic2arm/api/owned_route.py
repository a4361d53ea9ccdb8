"""A route owning every path a predicate accepts (whatever its case), answered by one dispatch function: the ARM
API's and the Entra ID stand-in's way into the application, ahead of the ASM API's `/{subscription_id}/…`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send


class OwnedPathRoute(BaseRoute):
    def __init__(self, owns: Callable[[str], bool], dispatch: Callable[[Request], Awaitable[Response]]) -> None:
        self.owns = owns
        self.dispatch = dispatch

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and self.owns(str(scope["path"])):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.dispatch(Request(scope, receive))
        await response(scope, receive, send)
