"""One function per addressed thing (resource groups, resources, providers, operations…), each answering
the HTTP methods ARM supports there. Synchronous (they call the store); the router runs them in a thread."""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...service import arm_api, arm_deploy, arm_reads, arm_templates, arm_vms, entra
from ...service.context import AppContext
from ...service.errors import NotFound, ServiceError
from ..graph import endpoint as graph
from . import paths
from .responses import empty, json_response, operation_headers, page_response

_FILTER = re.compile(r"\s*(resourceType|resourceGroup)\s+eq\s+'([^']{1,200})'\s*", re.IGNORECASE)
_AND = re.compile(r"and\s+", re.IGNORECASE)


class MethodNotAllowed(ServiceError):
    def __init__(self, method: str) -> None:
        super().__init__("MethodNotAllowed", f"The requested resource does not support http method '{method}'.",
                         405)


def _require(request: Request, *methods: str) -> None:
    if request.method not in methods:
        raise MethodNotAllowed(request.method)


def _body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ServiceError("InvalidRequestContent", "The request content was invalid and could not be "
                                                    "deserialized: a JSON object is required.", 400)
    return body


def subscriptions(request: Request, ctx: AppContext, caller: str) -> Response:
    _require(request, "GET")
    return json_response(request, {"value": [arm_reads.subscription_json(ctx, caller)]})


def tenants(request: Request, caller: str) -> Response:
    _require(request, "GET")
    return json_response(request, {"value": entra.tenants(caller)})


def subscription(request: Request, ctx: AppContext, t: paths.Subscription) -> Response:
    _require(request, "GET")
    return json_response(request, arm_reads.subscription_json(ctx, t.sub))


def groups(request: Request, ctx: AppContext, t: paths.Groups) -> Response:
    _require(request, "GET")
    return json_response(request, {"value": arm_reads.list_groups(ctx, t.sub)})


def group(request: Request, ctx: AppContext, t: paths.Group, body: Any) -> Response:
    _require(request, "GET", "HEAD", "PUT", "PATCH", "DELETE")
    if request.method == "HEAD":
        try:
            arm_reads.get_group(ctx, t.sub, t.rg)
        except ServiceError:
            return empty(request, 404)
        return empty(request, 204)
    if request.method == "GET":
        return json_response(request, arm_reads.get_group(ctx, t.sub, t.rg))
    if request.method == "PUT":
        doc, created = arm_api.put_group(ctx, t.sub, t.rg, _body(body))
        return json_response(request, doc, 201 if created else 200)
    if request.method == "PATCH":
        return json_response(request, arm_api.patch_group(ctx, t.sub, t.rg, _body(body)))
    location = arm_api.delete_group(ctx, t.sub, t.rg)
    return empty(request, 202, operation_headers(request, t.sub, "Microsoft.Resources", location,
                                                 async_op=False, location_header=True))


def group_export(request: Request, ctx: AppContext, t: paths.GroupExport, body: Any) -> Response:
    """exportTemplate: answered at once (200 with the result), which the SDK's poller takes as done."""
    _require(request, "POST")
    ids_, parameterize = arm_templates.export_options(body)
    return json_response(request, arm_templates.export_group(ctx, t.sub, t.rg, ids_, parameterize).to_json())


def deployments(request: Request, ctx: AppContext, t: paths.Deployments, body: Any) -> Response:
    """Template deployments of a resource group. Each finishes inside its request: a PUT answers 201/200 with the
    record and an Azure-AsyncOperation URL that reports it done; validate and whatIf answer 200 at once."""
    if t.name is None:
        _require(request, "GET")
        return json_response(request, {"value": arm_deploy.list_deployments(ctx, t.sub, t.rg)})
    if t.action is None:
        _require(request, "GET", "HEAD", "PUT", "DELETE")
        if request.method == "PUT":
            existed = _deployment_exists(ctx, t)
            doc = arm_deploy.create(ctx, t.sub, t.rg, t.name, body)
            return json_response(request, doc, 200 if existed else 201,
                                 operation_headers(request, t.sub, "Microsoft.Resources", "global"))
        if request.method == "DELETE":
            gone = arm_deploy.delete(ctx, t.sub, t.rg, t.name)
            return empty(request, 202 if gone else 204, operation_headers(
                request, t.sub, "Microsoft.Resources", "global", async_op=False, location_header=True)
                if gone else None)
        if request.method == "HEAD":
            return empty(request, 204 if _deployment_exists(ctx, t) else 404)
        return json_response(request, arm_deploy.get(ctx, t.sub, t.rg, t.name))
    if t.action == "operations":
        _require(request, "GET")
        return json_response(request, {"value": arm_deploy.operations(ctx, t.sub, t.rg, t.name)})
    if t.action == "validate":
        _require(request, "POST")
        return json_response(request, arm_deploy.validate(ctx, t.sub, t.rg, t.name, body))
    if t.action == "whatif":
        _require(request, "POST")
        return json_response(request, arm_deploy.what_if(ctx, t.sub, t.rg, t.name, body))
    raise ServiceError("NotFound", "The requested path does not exist.", 404)


def _deployment_exists(ctx: AppContext, t: paths.Deployments) -> bool:
    try:
        arm_deploy.get(ctx, t.sub, t.rg, t.name or "")
    except ServiceError as exc:
        if exc.http_status == 404 and exc.code == "DeploymentNotFound":
            return False
        raise
    return True


def resource_list(request: Request, ctx: AppContext, t: paths.ResourceList) -> Response:
    _require(request, "GET")
    q = request.query_params
    types, rg = None, t.rg
    flt = q.get("$filter")
    if flt:
        clauses = _filter_clauses(flt)
        if "resourcetype" in clauses:
            types = [clauses["resourcetype"]]
        if "resourcegroup" in clauses:
            if rg is not None and rg.lower() != clauses["resourcegroup"].lower():
                return page_response(request, arm_reads.Page([], None))
            if rg is None:  # (a group the filter names that does not exist: nothing in it, as ARM answers)
                try:
                    rg = arm_reads.get_group(ctx, t.sub, clauses["resourcegroup"])["name"]
                except NotFound:
                    return page_response(request, arm_reads.Page([], None))
    if rg is not None:
        rg = arm_reads.get_group(ctx, t.sub, rg)["name"]
    page = arm_reads.list_page(ctx, t.sub, types=types, resource_group=rg, top=q.get("$top"),
                             skiptoken=q.get("$skiptoken"))
    return page_response(request, page)


def _filter_clauses(flt: str) -> dict[str, str]:
    """`resourceType eq '…'` and/or `resourceGroup eq '…'` joined by `and` (what `az resource list` sends)."""
    out: dict[str, str] = {}
    rest = flt.strip()
    while True:
        m = _FILTER.match(rest)
        if m is None or m.group(1).lower() in out:
            raise ServiceError("InvalidFilter", "Only $filter=resourceType eq '{type}' and/or resourceGroup eq "
                                                "'{group}' (joined by 'and') is supported.", 400)
        out[m.group(1).lower()] = m.group(2)
        rest = rest[m.end():]
        if not rest.strip():
            return out
        joined = _AND.match(rest)
        if joined is None:
            raise ServiceError("InvalidFilter", "Only $filter=resourceType eq '{type}' and/or resourceGroup eq "
                                                "'{group}' (joined by 'and') is supported.", 400)
        rest = rest[joined.end():]


def providers(request: Request, ctx: AppContext, sub: str) -> Response:
    _require(request, "GET")
    return json_response(request, {"value": arm_api.list_providers(ctx, sub)})


def provider(request: Request, ctx: AppContext, sub: str, namespace: str) -> Response:
    _require(request, "GET")
    return json_response(request, arm_api.get_provider(ctx, sub, namespace))


def provider_action(request: Request, ctx: AppContext, t: paths.ProviderAction) -> Response:
    _require(request, "POST")
    return json_response(request, arm_api.register_provider(ctx, t.sub, t.namespace, t.register))


def type_list(request: Request, ctx: AppContext, t: paths.TypeList) -> Response:
    _require(request, "GET")
    q = request.query_params
    return page_response(request, arm_reads.list_type(ctx, t.sub, t.namespace, t.type, q.get("$top"),
                                                    q.get("$skiptoken")))


def operation_status(request: Request, ctx: AppContext, t: paths.OperationStatus) -> Response:
    """Writes finish inside their request, so every operation this server handed out has succeeded."""
    _require(request, "GET")
    try:
        op = uuid.UUID(t.operation_id)
    except ValueError:
        raise ServiceError("OperationNotFound", "The operation could not be found.", 404) from None
    arm_api.get_provider(ctx, t.sub, t.namespace)
    if t.result:
        return empty(request, 204)
    return json_response(request, {"id": request.url.path, "name": str(op), "status": "Succeeded"})


def resource(request: Request, ctx: AppContext, t: paths.Resource, body: Any) -> Response:
    addr = t.addr
    q = request.query_params
    if addr.is_collection:
        _require(request, "GET")
        return page_response(request, arm_reads.list_collection(ctx, addr, q.get("$top"), q.get("$skiptoken")))
    _require(request, "GET", "HEAD", "PUT", "PATCH", "DELETE")
    if request.method == "HEAD":
        try:
            arm_reads.get_resource(ctx, addr)
        except ServiceError as exc:
            if exc.http_status == 404:
                return empty(request, 404)
            raise
        return empty(request, 204)
    if request.method == "GET":
        return json_response(request, arm_vms.get_expanded(ctx, addr, q.get("$expand")))
    if request.method == "PUT":
        doc, created = arm_api.put_resource(ctx, addr, _body(body))
        return json_response(request, doc, 201 if created else 200,
                             operation_headers(request, addr.subscription, addr.namespace, doc.get("location", "")))
    if request.method == "PATCH":
        doc = arm_api.patch_resource(ctx, addr, _body(body))
        return json_response(request, doc, 200,
                             operation_headers(request, addr.subscription, addr.namespace, doc.get("location", "")))
    location = arm_api.delete_resource(ctx, addr)
    if location is None:
        return empty(request, 204)
    return empty(request, 202, operation_headers(request, addr.subscription, addr.namespace, location,
                                                 location_header=True))


def vm_action(request: Request, ctx: AppContext, t: paths.VmAction) -> Response:
    """A VM's instance view (GET), or a power action (POST), answered as ARM does: 202 with both the
    Azure-AsyncOperation and the Location URL of an operation that has already succeeded."""
    if t.action == "instanceview":
        _require(request, "GET")
        return json_response(request, arm_vms.instance_view(ctx, t.addr))
    _require(request, "POST")
    done = arm_vms.act(ctx, t.addr, t.action)
    return empty(request, 202, operation_headers(request, t.addr.subscription, t.addr.namespace, done.location,
                                                 location_header=True, operation_id=done.operation_id))


def graph_query(request: Request, ctx: AppContext, caller: str, body: Any) -> Response:
    _require(request, "POST")
    return json_response(request, graph.query(ctx, caller, body))
