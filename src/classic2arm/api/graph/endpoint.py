"""Resource Graph: `POST /providers/Microsoft.ResourceGraph/resources?api-version=…` (called by the ARM router).

Request `{"subscriptions": [...], "query": "...", "options": {"$top", "$skip", "$skipToken", "resultFormat"}}`;
response `{"totalRecords", "count", "resultTruncated", "data", "facets"}` with `data` an array of objects
(`objectArray`, the default) or `{"columns", "rows"}` (`table`), as `azure-mgmt-resourcegraph` parses it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from ...service import arm_reads
from ...service.context import AppContext
from ...service.errors import ServiceError
from . import kql

MAX_TOP = 1000


class GraphRequestError(ServiceError):
    def __init__(self, message: str, code: str = "BadRequest", status: int = 400,
                 details: list[dict[str, str]] | None = None) -> None:
        super().__init__(code, message, status)
        self.details = details or []


def _support() -> str:
    """ARG's top-level message for a refused query; the details say what is wrong."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"Please provide below info when asking for support: timestamp = {now}, correlationId = {uuid.uuid4()}."


def _invalid_query(message: str) -> GraphRequestError:
    return GraphRequestError(_support(),
                             details=[{"code": "InvalidQuery", "message": "Query is invalid. Please refer to the "
                                       "documentation for the Azure Resource Graph service and fix the error "
                                       "before retrying."}, {"code": "ParserFailure", "message": message[:1000]}])


@dataclass(frozen=True, slots=True)
class GraphRequest:
    query: str
    top: int
    skip: int
    table_format: bool


def _int_option(options: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = options.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise GraphRequestError(f"The option '{name}' must be an integer from {low} to {high}.")
    return value


def _skip_token(token: Any) -> int:
    if token is None or token == "":
        return 0
    try:
        value = int(base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise GraphRequestError("The skip token is invalid.") from None
    if value < 0:
        raise GraphRequestError("The skip token is invalid.")
    return value


def parse_request(body: Any, caller_sub: str) -> GraphRequest:
    """Validate the body; every subscription asked for must be the caller's (403 otherwise, naming none)."""
    if not isinstance(body, dict):
        raise GraphRequestError("The request body must be a JSON object.", code="InvalidRequestContent")
    query = body.get("query")
    if not isinstance(query, str):
        raise _invalid_query("The 'query' property is required and must be a string.")
    subs = body.get("subscriptions")
    if subs is not None:
        if not isinstance(subs, list) or not all(isinstance(s, str) for s in subs):
            raise GraphRequestError("'subscriptions' must be an array of subscription ids.")
        if any(s.lower() != caller_sub.lower() for s in subs):
            raise GraphRequestError("The client does not have authorization to perform this action on the "
                                    "requested subscriptions.", code="AuthorizationFailed", status=403)
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise GraphRequestError("'options' must be an object.")
    top = _int_option(options, "$top", MAX_TOP, 1, MAX_TOP)
    token = _skip_token(options.get("$skipToken"))
    skip = _int_option(options, "$skip", 0, 0, 10**9) if options.get("$skip") is not None else token
    fmt = options.get("resultFormat", "objectArray")
    if not isinstance(fmt, str) or fmt.lower() not in ("objectarray", "table"):
        raise GraphRequestError("'resultFormat' must be 'objectArray' or 'table'.")
    return GraphRequest(query, top, skip, fmt.lower() == "table")


def query(ctx: AppContext, sub: str, body: Any) -> dict[str, Any]:
    """Run a Resource Graph query for the caller's subscription and shape the response page."""
    req = parse_request(body, sub)
    tables = arm_reads.graph_tables(ctx, sub)
    try:
        result = kql.run(tables, req.query)
    except kql.LimitExceeded as exc:  # valid, but over a bound: ARG names the bound in the details
        raise GraphRequestError(_support(), details=[{"code": exc.code, "message": exc.message}]) from None
    except kql.Busy as exc:
        raise GraphRequestError(exc.message, code="RateLimiting", status=429) from None
    except kql.QueryError as exc:
        raise _invalid_query(exc.message) from None
    rows = result.rows[req.skip:req.skip + req.top]
    out: dict[str, Any] = {"totalRecords": len(result.rows), "count": len(rows),
                           "resultTruncated": "true" if result.truncated else "false", "facets": []}
    if req.table_format:
        out["data"] = {"columns": [{"name": col.name, "type": col.type} for col in result.columns], "rows": rows}
    else:
        names = [col.name for col in result.columns]
        out["data"] = [dict(zip(names, r, strict=True)) for r in rows]
    if req.skip + req.top < len(result.rows):
        out["$skipToken"] = base64.urlsafe_b64encode(str(req.skip + req.top).encode()).decode().rstrip("=")
    return out
