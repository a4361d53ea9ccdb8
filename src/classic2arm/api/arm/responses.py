"""ARM response conventions: JSON bodies, `{"error": {"code", "message"}}`, request/correlation ids,
long-running-operation headers and `nextLink` paging."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ...service.arm_reads import Page

JSON = "application/json; charset=utf-8"


def ids_headers(request: Request) -> dict[str, str]:
    correlation = request.headers.get("x-ms-correlation-request-id", "")
    try:
        correlation = str(uuid.UUID(correlation))
    except ValueError:
        correlation = str(uuid.uuid4())
    return {"x-ms-request-id": str(uuid.uuid4()), "x-ms-correlation-request-id": correlation}


def json_response(request: Request, body: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    content = b"" if request.method == "HEAD" else orjson.dumps(body)
    return Response(content, status, headers={**ids_headers(request), **(headers or {})}, media_type=JSON)


def empty(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(b"", status, headers={**ids_headers(request), **(headers or {})})


def error(request: Request, status: int, code: str, message: str, details: list[dict[str, str]] | None = None,
          headers: dict[str, str] | None = None) -> Response:
    err: dict[str, Any] = {"code": code, "message": message}
    if details:
        err["details"] = details
    return json_response(request, {"error": err}, status, headers)


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def api_version(request: Request) -> str:
    return request.query_params.get("api-version", "")


def operation_headers(request: Request, sub: str, namespace: str, location: str, *, async_op: bool = True,
                      location_header: bool = False, operation_id: str | None = None) -> dict[str, str]:
    """Headers of an accepted long-running operation, pointing at the status URLs this server serves."""
    op = str(uuid.UUID(operation_id)) if operation_id else str(uuid.uuid4())
    root = f"{base_url(request)}/subscriptions/{sub}/providers/{namespace}/locations/{quote(location or 'global')}"
    query = urlencode({"api-version": api_version(request)})
    out = {"Retry-After": "0"}
    if async_op:
        out["Azure-AsyncOperation"] = f"{root}/operations/{op}?{query}"
    if location_header:
        out["Location"] = f"{root}/operationResults/{op}?{query}"
    return out


def page_response(request: Request, page: Page) -> Response:
    body: dict[str, Any] = {"value": page.items}
    if page.next_token:
        params = {k: v for k, v in request.query_params.items() if k.lower() != "$skiptoken"}
        params["$skiptoken"] = page.next_token
        body["nextLink"] = f"{base_url(request)}{request.url.path}?{urlencode(params)}"
    return json_response(request, body)
