"""What every ASM request goes through: credentials, `x-ms-version`, a size-capped body, and the mapping of
every failure to an ASM `<Error>` (never a 500 for bad input; a logged 500 only for genuine bugs)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
from starlette.background import BackgroundTask
from starlette.datastructures import Headers, QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ...importers.errors import InputError
from ...service.classic_reads import MANAGEMENT_URL
from ...service.context import AppContext, store_unavailable
from ...service.errors import ServiceError
from ..auth import AuthError, authorize
from ..query import repeated_key, repeated_message
from . import versions, xml_out

log = logging.getLogger("classic2arm.api.asm")

MAX_BODY = 1024 * 1024
_DRAIN_LIMIT = 64 * 1024 * 1024  # read (and drop) up to this much of an oversized body before answering


class AsmError(Exception):
    """A refusal the adapter itself decides (bad header, bad body, unknown path)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_request(message: str, code: str = "BadRequest") -> AsmError:
    return AsmError(400, code, message)


@dataclass
class AsmRequest:
    ctx: AppContext  # bound to the caller's subscription
    sub: str
    method: str
    params: Mapping[str, str]
    query: QueryParams
    headers: Headers
    body: bytes = b""
    background: list[BackgroundTask] = field(default_factory=list)
    base_url: str = MANAGEMENT_URL  # the request's own base URL: what `Url` elements name

    def param(self, name: str) -> str:
        return self.params[name]


Handler = Callable[[AsmRequest], Response]


def error_response(status: int, code: str, message: str) -> Response:
    return Response(xml_out.error(code, message), status_code=status, media_type=xml_out.XML_CONTENT_TYPE)


def xml(body: bytes, status: int = 200, request_id: str | None = None, media_type: str | None = None) -> Response:
    headers = {"x-ms-request-id": request_id} if request_id else None
    return Response(body, status_code=status, media_type=media_type or xml_out.XML_CONTENT_TYPE, headers=headers)


def accepted(request_id: str, status: int = 202) -> Response:
    """An accepted (or finished) write: empty body, the operation id to poll in `x-ms-request-id`."""
    return Response(b"", status_code=status, headers={"x-ms-request-id": request_id})


def check_version(headers: Headers) -> None:
    version = headers.get("x-ms-version", "").strip()
    if not version:
        raise bad_request("The versioning header is not specified: send x-ms-version (a Service Management "
                          f"version from {versions.OLDEST} to {versions.NEWEST}, e.g. 2016-07-01).",
                          "MissingOrIncorrectVersionHeader")
    if not versions.known(version):
        raise bad_request(f"The versioning header x-ms-version '{version[:40]}' is not a Service Management "
                          f"version: use one from {versions.OLDEST} to {versions.NEWEST}, e.g. 2016-07-01 (known: "
                          f"{', '.join(versions.KNOWN)}).", "MissingOrIncorrectVersionHeader")


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > _DRAIN_LIMIT:
        raise bad_request(f"The request body is {declared} bytes; the limit is {MAX_BYTES_TEXT}.",
                          "RequestBodyTooLarge")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
        elif size > _DRAIN_LIMIT:
            break
    if size > MAX_BODY:
        raise bad_request(f"The request body is {size} bytes; the limit is {MAX_BYTES_TEXT}.", "RequestBodyTooLarge")
    return b"".join(chunks)


MAX_BYTES_TEXT = f"{MAX_BODY} bytes (1 MB)"


def _authorize(request: Request, sub: str) -> AppContext:
    who = authorize(request, sub, allow_certificate=True)
    base: AppContext = request.app.state.ctx
    return replace(base, subscription=who.subscription_id)


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(request.headers.get("transfer-encoding")) or (length is not None and length.strip() != "0")


def endpoint(handlers: Mapping[str, Handler]) -> Callable[[Request], object]:
    """A Starlette endpoint for one path: dispatches on the method and answers every failure as `<Error>`."""
    allowed = ", ".join(sorted(handlers))

    async def run(request: Request) -> Response:
        try:
            sub = str(request.path_params.get("subscription_id", ""))
            body: bytes | AsmError = b""
            authorized: AppContext | None = None
            if _has_body(request):
                # Authorise before reading what may be a large body; a body-less request (most of them) makes
                # one trip to the thread pool for everything.
                authorized = await anyio.to_thread.run_sync(_authorize, request, sub)
                try:
                    body = await read_body(request)
                except AsmError as exc:  # reported after the version check, as before
                    body = exc
            background: list[Any] = []

            def work() -> Response:
                ctx = authorized or _authorize(request, sub)
                check_version(request.headers)
                repeated = repeated_key(request.query_params)
                if repeated is not None:
                    raise bad_request(repeated_message(repeated), "InvalidQueryParameterValue")
                handler = handlers.get(request.method.upper())
                if handler is None:
                    raise AsmError(405, "MethodNotAllowed", f"The method {request.method[:16]} is not allowed "
                                                            f"here; use {allowed}.")
                if isinstance(body, AsmError):
                    raise body
                areq = AsmRequest(ctx, ctx.subscription or sub, request.method.upper(),
                                  {k: str(v) for k, v in request.path_params.items()}, request.query_params,
                                  request.headers, body, base_url=str(request.base_url).rstrip("/"))
                result = handler(areq)
                background.extend(areq.background)
                return result

            response = await anyio.to_thread.run_sync(work)
            areq_background = background
            for task in areq_background:
                response.background = task
            return response
        except AuthError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except AsmError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except ServiceError as exc:
            return error_response(exc.http_status, exc.code, exc.message)
        except InputError as exc:
            return error_response(400, "BadRequest", f"{exc.where}: {exc.message}")
        except ClientDisconnect:
            raise  # the body never came (gone, too slow, too large): api.limits.BodyGuard answers, if anyone
        except Exception as exc:
            down = store_unavailable(exc)
            if down is not None:  # the database failing (gone, read-only, full…): 503 with the reason
                log.error("%s %s failed: %s", request.method, request.url.path, down.reason)
                return error_response(down.http_status, down.code, down.message)
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            return error_response(500, "InternalError", "The server encountered an internal error. Please retry "
                                                        "the request.")

    return run
