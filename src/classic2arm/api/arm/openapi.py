"""The OpenAPI 3.0 document of the ARM surface this server implements (served at `/openapi/arm.json`).

Generated from the same type catalogue the router uses, so every writable ARM type, every child
collection and every classic read-only type is described with its real path, methods and bodies.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ...domain import arm as armt
from ...service import arm_api, arm_reads

_REF = "#/components/schemas/"


def _p(name: str, where: str = "path", schema: dict[str, Any] | None = None, required: bool = True,
       description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": where, "required": required,
                           "schema": schema or {"type": "string", "minLength": 1}}
    if description:
        out["description"] = description
    return out


_API_VERSION = {"$ref": "#/components/parameters/ApiVersion"}
_SUB = {"$ref": "#/components/parameters/SubscriptionId"}
_RG = {"$ref": "#/components/parameters/ResourceGroupName"}
_TOP = _p("$top", "query", {"type": "integer", "minimum": 1}, False)
_SKIP = _p("$skiptoken", "query", {"type": "string"}, False)


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF + schema}}}


def _responses(ok: dict[str, tuple[str, str | None]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, (text, schema) in ok.items():
        out[status] = {"description": text, **({"content": _json(schema)} if schema else {})}
    out["default"] = {"description": "Error", "content": _json("ErrorResponse")}
    return out


def _op(op_id: str, params: list[dict[str, Any]], ok: dict[str, tuple[str, str | None]],
        body: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op_id, "parameters": [*params, _API_VERSION], "responses": _responses(ok)}
    if body:
        out["requestBody"] = {"required": True, "content": _json(body)}
    return out


def _type_paths(rtype: str) -> dict[str, Any]:
    ns, *types = rtype.split("/")
    opname = "".join(t[:1].upper() + t[1:] for t in types)
    name_params = [_p(f"name{i}") for i in range(len(types))]
    chain = "".join(f"/{t}/{{name{i}}}" for i, t in enumerate(types))
    base = f"/subscriptions/{{subscriptionId}}/resourceGroups/{{resourceGroupName}}/providers/{ns}"
    item = f"{base}{chain}"
    collection = item.rsplit("/", 1)[0]
    scope = [_SUB, _RG]
    writable = rtype in arm_api.WRITABLE
    item_ops: dict[str, Any] = {
        "get": _op(f"{ns}_{opname}_Get", [*scope, *name_params], {"200": ("The resource", "Resource")}),
        "head": _op(f"{ns}_{opname}_CheckExistence", [*scope, *name_params],
                    {"204": ("Exists", None), "404": ("Not found", None)}),
    }
    if writable:
        item_ops["put"] = _op(f"{ns}_{opname}_CreateOrUpdate", [*scope, *name_params],
                              {"200": ("Updated", "Resource"), "201": ("Created", "Resource")}, "ResourceInput")
        item_ops["patch"] = _op(f"{ns}_{opname}_Update", [*scope, *name_params], {"200": ("Updated", "Resource")},
                                "ResourcePatch")
        item_ops["delete"] = _op(f"{ns}_{opname}_Delete", [*scope, *name_params],
                                 {"202": ("Accepted", None), "204": ("Nothing to delete", None)})
    out = {item: item_ops, collection: {"get": _op(f"{ns}_{opname}_List", [*scope, *name_params[:-1], _TOP, _SKIP],
                                                   {"200": ("A page of resources", "ResourceList")})}}
    if len(types) == 1:
        out[f"/subscriptions/{{subscriptionId}}/providers/{ns}/{types[0]}"] = {
            "get": _op(f"{ns}_{opname}_ListAll", [_SUB, _TOP, _SKIP], {"200": ("A page of resources", "ResourceList")})}
    return out


def _core_paths() -> dict[str, Any]:
    sub = "/subscriptions/{subscriptionId}"
    rg = f"{sub}/resourcegroups/{{resourceGroupName}}"
    ns = _p("resourceProviderNamespace")
    return {
        "/subscriptions": {"get": _op("Subscriptions_List", [], {"200": ("Subscriptions", "ValueList")})},
        sub: {"get": _op("Subscriptions_Get", [_SUB], {"200": ("The subscription", "Subscription")})},
        f"{sub}/resourcegroups": {"get": _op("ResourceGroups_List", [_SUB], {"200": ("Groups", "ValueList")})},
        rg: {
            "get": _op("ResourceGroups_Get", [_SUB, _RG], {"200": ("The group", "Resource")}),
            "head": _op("ResourceGroups_CheckExistence", [_SUB, _RG], {"204": ("Exists", None),
                                                                      "404": ("Not found", None)}),
            "put": _op("ResourceGroups_CreateOrUpdate", [_SUB, _RG], {"200": ("Updated", "Resource"),
                                                                     "201": ("Created", "Resource")},
                       "ResourceGroupInput"),
            "patch": _op("ResourceGroups_Update", [_SUB, _RG], {"200": ("Updated", "Resource")}, "ResourcePatch"),
            "delete": _op("ResourceGroups_Delete", [_SUB, _RG], {"202": ("Accepted", None)}),
        },
        f"{rg}/resources": {"get": _op("Resources_ListByResourceGroup", [_SUB, _RG, _TOP, _SKIP, _p(
            "$filter", "query", {"type": "string"}, False)], {"200": ("A page of resources", "ResourceList")})},
        f"{sub}/resources": {"get": _op("Resources_List", [_SUB, _TOP, _SKIP, _p(
            "$filter", "query", {"type": "string"}, False)], {"200": ("A page of resources", "ResourceList")})},
        "/providers": {"get": _op("Providers_ListAtTenantScope", [], {"200": ("Providers", "ValueList")})},
        f"{sub}/providers": {"get": _op("Providers_List", [_SUB], {"200": ("Providers", "ValueList")})},
        f"{sub}/providers/{{resourceProviderNamespace}}": {
            "get": _op("Providers_Get", [_SUB, ns], {"200": ("The provider", "Provider")})},
        f"{sub}/providers/{{resourceProviderNamespace}}/register": {
            "post": _op("Providers_Register", [_SUB, ns], {"200": ("The provider", "Provider")})},
        f"{sub}/providers/{{resourceProviderNamespace}}/unregister": {
            "post": _op("Providers_Unregister", [_SUB, ns], {"200": ("The provider", "Provider")})},
        f"{sub}/providers/{{resourceProviderNamespace}}/locations/{{location}}/operations/{{operationId}}": {
            "get": _op("Operations_GetStatus", [_SUB, ns, _p("location"), _p("operationId")],
                       {"200": ("Operation status", "OperationStatus")})},
        f"{sub}/providers/{{resourceProviderNamespace}}/locations/{{location}}/operationResults/{{operationId}}": {
            "get": _op("Operations_GetResult", [_SUB, ns, _p("location"), _p("operationId")],
                       {"204": ("Finished", None)})},
        "/providers/Microsoft.ResourceGraph/resources": {
            "post": _op("ResourceGraph_Resources", [], {"200": ("Query result", "QueryResponse")},
                        "QueryRequest")},
    }


_OBJ: dict[str, Any] = {"type": "object", "additionalProperties": True}
_TAGS: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 256},
                         "maxProperties": 50}


def _schemas() -> dict[str, Any]:
    resource = {"type": "object", "required": ["id", "name"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"},
        "location": {"type": "string"}, "tags": _TAGS, "sku": _OBJ, "kind": {"type": "string"},
        "properties": _OBJ, "etag": {"type": "string"}, "managedBy": {"type": "string"}}}
    return {
        "Resource": resource,
        "ResourceList": {"type": "object", "required": ["value"], "properties": {
            "value": {"type": "array", "items": {"$ref": _REF + "Resource"}}, "nextLink": {"type": "string"}}},
        "ValueList": {"type": "object", "required": ["value"], "properties": {
            "value": {"type": "array", "items": _OBJ}}},
        "ResourceInput": {"type": "object", "properties": {
            "location": {"type": "string", "example": "westus"}, "tags": _TAGS, "sku": _OBJ,
            "kind": {"type": "string"}, "properties": _OBJ}},
        "ResourcePatch": {"type": "object", "properties": {"tags": _TAGS, "sku": _OBJ, "properties": _OBJ}},
        "ResourceGroupInput": {"type": "object", "required": ["location"], "properties": {
            "location": {"type": "string", "example": "westus"}, "tags": _TAGS}},
        "Subscription": {"type": "object", "properties": {"id": {"type": "string"},
                                                          "subscriptionId": {"type": "string"},
                                                          "state": {"type": "string"}}},
        "Provider": {"type": "object", "required": ["namespace", "registrationState"], "properties": {
            "id": {"type": "string"}, "namespace": {"type": "string"},
            "registrationState": {"type": "string", "enum": ["Registered", "NotRegistered"]},
            "resourceTypes": {"type": "array", "items": _OBJ}}},
        "OperationStatus": {"type": "object", "required": ["status"], "properties": {
            "status": {"type": "string"}, "name": {"type": "string"}}},
        "QueryRequest": {"type": "object", "required": ["query"], "properties": {
            "subscriptions": {"type": "array", "items": {"type": "string"}},
            "query": {"type": "string", "example": "resources | summarize count() by type"},
            "options": {"type": "object", "properties": {
                "$top": {"type": "integer", "minimum": 1, "maximum": 1000},
                "$skip": {"type": "integer", "minimum": 0}, "$skipToken": {"type": "string"},
                "resultFormat": {"type": "string", "enum": ["objectArray", "table"]}}}}},
        "QueryResponse": {"type": "object", "required": ["totalRecords", "count", "resultTruncated", "data"],
                          "properties": {"totalRecords": {"type": "integer"}, "count": {"type": "integer"},
                                         "resultTruncated": {"type": "string", "enum": ["true", "false"]},
                                         "$skipToken": {"type": "string"}, "data": {},
                                         "facets": {"type": "array", "items": _OBJ}}},
        "ErrorResponse": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "details": {"type": "array", "items": _OBJ}}}}},
    }


@cache
def document() -> dict[str, Any]:
    path_items: dict[str, Any] = _core_paths()
    for rtype in sorted(set(arm_reads.KNOWN_TYPES.values())):
        if rtype == armt.RESOURCE_GROUP:
            continue
        for path, ops in _type_paths(rtype).items():
            path_items.setdefault(path, {}).update(ops)
    return {
        "openapi": "3.0.3",
        "info": {"title": "classic2arm Azure Resource Manager API", "version": "1.0.0",
                 "description": "ARM and Resource Graph as served by classic2arm: resource groups, the resource "
                                "types the classic→ARM migration creates (writable unless a migration holds "
                                "them), classic resources read-only under Microsoft.Classic*, providers and "
                                "long-running operation status. Any api-version is accepted."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": path_items,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "ApiVersion": _p("api-version", "query", {"type": "string", "example": "2024-07-01"}),
                "SubscriptionId": _p("subscriptionId"),
                "ResourceGroupName": _p("resourceGroupName", schema={"type": "string", "minLength": 1,
                                                                      "maxLength": 90}),
            },
            "schemas": _schemas(),
        },
    }
