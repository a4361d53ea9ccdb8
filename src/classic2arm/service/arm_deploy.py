"""Template deployments into a resource group (`…/providers/Microsoft.Resources/deployments/{name}`: PUT, GET,
list, DELETE, `validate`, `whatIf`, `operations`; `classic2arm arm deploy`).

A deployment evaluates the template (`domain/template_expr.py`: parameters, variables, copy loops, conditions,
nested child resources), orders its resources by `dependsOn` (children after their parent) and writes each
through the ARM API's own write use case (`arm_api.put_in`: the same checks, locks and inline children as a PUT),
all in one transaction: a deployment that fails leaves nothing behind but its Failed record. Incremental mode
only. `validate` and `whatIf` run the same deployment and roll it back, `whatIf` comparing each resource before
and after without its read-only properties (`domain/templates.comparable`).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from ..domain import arm as armt
from ..domain import identity as ids
from ..domain import templates
from ..domain.arm import ArmResource
from ..domain.template_expr import Scope, TemplateError, evaluate, resource_id
from ..store import Tx
from . import arm_api, arm_reads, arm_writes
from .arm_reads import ResourceAddress
from .context import AppContext
from .errors import NotFound, ServiceError

_NAME: Final = re.compile(r"^[-\w._()]{1,64}$")
_PARAM_TYPES: Final = {"string": str, "securestring": str, "int": int, "bool": bool, "object": dict,
                       "secureobject": dict, "array": list}


class _DryRun(Exception):
    """Raised to roll back a validate or what-if, carrying what it found."""

    def __init__(self, result: _Result) -> None:
        super().__init__("dry run")
        self.result = result


@dataclass
class _Planned:
    key: str  # the resource id, lower-case
    rid: str
    rtype: str
    name: str
    raw: dict[str, Any]  # the template's resource (unevaluated but for name/type)
    copy: dict[str, int]  # copy loop name -> index, for copyIndex()
    loop: str | None
    depends: list[str] = field(default_factory=list)  # keys


@dataclass
class _Change:
    rid: str
    rtype: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    created: bool


@dataclass
class _Result:
    changes: list[_Change]
    outputs: dict[str, Any]
    parameters: dict[str, Any]


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidTemplate", f"Deployment template validation failed: '{message}'", 400)


def _deployment_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{armt.DEPLOYMENT}/{name}"


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ServiceError("InvalidDeploymentName", f"The deployment name '{name[:80]}' is invalid: 1 to 64 letters, "
                                                    "digits, '-', '_', '.', '(' or ')'.", 400)


def _body_parts(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(template, given parameter values) of a deployment request."""
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise ServiceError("InvalidRequestContent", "The request content must be an object with 'properties'.", 400)
    props = body["properties"]
    mode = str(props.get("mode") or "Incremental")
    if mode.lower() != "incremental":
        raise ServiceError("InvalidDeploymentMode", f"Deployment mode '{mode[:20]}' is not supported by classic2arm; "
                                                    "only Incremental is.", 400)
    if "templateLink" in props:
        raise ServiceError("InvalidTemplate", "templateLink is not supported by classic2arm (no network access); "
                                              "send the template inline.", 400)
    template = props.get("template")
    if not isinstance(template, dict):
        raise ServiceError("InvalidTemplate", "The deployment has no template: properties.template must be an "
                                              "object.", 400)
    given = props.get("parameters") or {}
    if isinstance(given, dict) and isinstance(given.get("parameters"), dict) and "$schema" in given:
        given = given["parameters"]  # a whole parameters file
    if not isinstance(given, dict):
        raise ServiceError("InvalidTemplate", "properties.parameters must be an object.", 400)
    values: dict[str, Any] = {}
    for k, v in given.items():
        if not isinstance(v, dict) or "value" not in v:
            if isinstance(v, dict) and "reference" in v:
                raise ServiceError("InvalidTemplate", f"Parameter '{k}': Key Vault references are not supported.",
                                   400)
            raise ServiceError("InvalidTemplate", f"Parameter '{k}' must be given as {{\"value\": …}}.", 400)
        values[k] = v["value"]
    return template, values


def _parameter_values(template: dict[str, Any], given: dict[str, Any], scope: Scope) -> dict[str, Any]:
    declared = template.get("parameters") or {}
    if not isinstance(declared, dict):
        raise _invalid("'parameters' must be an object")
    lower = {k.lower(): k for k in declared}
    extra = [k for k in given if k.lower() not in lower]
    if extra:
        raise _invalid(f"The template parameters '{', '.join(extra)}' in the parameters file are not valid; they "
                       "are not present in the original template")
    values: dict[str, Any] = {}
    by_lower = {k.lower(): v for k, v in given.items()}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        if name.lower() in by_lower:
            value = by_lower[name.lower()]
        elif "defaultValue" in spec:
            scope.parameters = values
            value = evaluate(spec["defaultValue"], scope)
        else:
            raise _invalid(f"The value for the template parameter '{name}' is not provided")
        ptype = str(spec.get("type", "string")).lower()
        want = _PARAM_TYPES.get(ptype)
        if want is None:
            raise _invalid(f"The template parameter '{name}' has an unknown type '{spec.get('type')}'")
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise _invalid(f"Template parameter '{name}' was provided an invalid value: expected a value of type "
                           f"'{spec.get('type')}'")
        allowed = spec.get("allowedValues")
        if isinstance(allowed, list) and value not in allowed:
            raise _invalid(f"The provided value for the template parameter '{name}' is not valid: it must be one "
                           f"of {json.dumps(allowed)[:200]}")
        values[name] = value
    return values


def _flatten(resources: Any, parent: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """Template resources with nested child resources brought to the top (type and name completed)."""
    if not isinstance(resources, list):
        raise _invalid("'resources' must be an array")
    out: list[dict[str, Any]] = []
    for r in resources:
        if not isinstance(r, dict):
            raise _invalid("every item of 'resources' must be an object")
        item = {k: v for k, v in r.items() if k != "resources"}
        if parent is not None:
            ptype, pname = parent
            if "/" not in str(item.get("type", "")):
                item["type"] = f"{ptype}/{item.get('type')}"
            item["name"] = f"[concat({_as_expr(pname)}, '/', {_as_expr(str(item.get('name', '')))})]"
        out.append(item)
        if "resources" in r:
            out += _flatten(r["resources"], (str(item.get("type")), str(item.get("name"))))
    return out


def _as_expr(value: str) -> str:
    return value[1:-1] if value.startswith("[") and value.endswith("]") else "'" + value.replace("'", "''") + "'"


def _plan(template: dict[str, Any], scope: Scope, sub: str, rg: str) -> list[_Planned]:
    planned: list[_Planned] = []
    raw_deps: list[tuple[_Planned, list[Any], str | None]] = []
    for item in _flatten(template.get("resources", [])):
        copy = item.get("copy")
        loops: list[tuple[str | None, int | None]] = [(None, None)]
        if copy is not None:
            if not isinstance(copy, dict) or not isinstance(copy.get("name"), str):
                raise _invalid("a copy loop needs a name and a count")
            count = evaluate(copy.get("count"), scope)
            if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 800:
                raise _invalid(f"The copy count of '{copy['name']}' must be an integer from 0 to 800")
            loops = [(copy["name"], i) for i in range(count)]
        for loop, index in loops:
            scope.copy_index = {"": index, loop: index} if loop is not None and index is not None else {}
            if "condition" in item and not evaluate(item["condition"], scope):
                continue
            rtype, name = evaluate(item.get("type"), scope), evaluate(item.get("name"), scope)
            if not isinstance(rtype, str) or not isinstance(name, str) or not rtype or not name:
                raise _invalid("every resource needs a type and a name")
            if not item.get("apiVersion"):
                raise _invalid(f"The resource '{rtype}/{name}' has no apiVersion")
            names = name.split("/")
            try:
                rid = resource_id(sub, rg, rtype, names)
            except TemplateError:
                raise _invalid(f"The template resource '{name}' for type '{rtype}' has incorrect segment lengths. A "
                               "nested resource type must have identical number of segments as its resource "
                               "name") from None
            p = _Planned(rid.lower(), rid, rtype, name, item, dict(scope.copy_index), loop)
            deps = [evaluate(d, scope) for d in item.get("dependsOn") or []]
            parent = resource_id(sub, rg, "/".join(rtype.split("/")[:-1]), names[:-1]) if len(names) > 1 else None
            raw_deps.append((p, deps, parent))
            planned.append(p)
        scope.copy_index = {}
    by_key = {p.key: p for p in planned}
    if len(by_key) != len(planned):
        dup = next(p.rid for p in planned if sum(q.key == p.key for q in planned) > 1)
        raise _invalid(f"The resource '{dup}' is defined multiple times in a template")
    aliases: dict[str, list[str]] = {}  # what a dependsOn entry may say: id, name, type/name or loop name
    for p in planned:
        for alias in {p.key, p.name.lower(), f"{p.rtype}/{p.name}".lower(), (p.loop or "").lower()} - {""}:
            aliases.setdefault(alias, []).append(p.key)
    for p, deps, parent in raw_deps:
        for d in deps:
            if not isinstance(d, str):
                raise _invalid("dependsOn entries must be strings")
            hits = aliases.get(d.lower())
            if not hits:
                raise _invalid(f"The resource '{d[:300]}' is not defined in the template")
            p.depends += hits
        if parent is not None and parent.lower() in by_key:
            p.depends.append(parent.lower())
    return _ordered(planned)


def _ordered(planned: list[_Planned]) -> list[_Planned]:
    by_key = {p.key: p for p in planned}
    state: dict[str, int] = {}
    out: list[_Planned] = []

    def visit(p: _Planned) -> None:
        if state.get(p.key) == 2:
            return
        if state.get(p.key) == 1:
            raise _invalid(f"Circular dependency detected on resource: '{p.rid}'")
        state[p.key] = 1
        for d in p.depends:
            if d != p.key:
                visit(by_key[d])
        state[p.key] = 2
        out.append(p)

    for p in planned:
        visit(p)
    return out


def _address(sub: str, rg: str, p: _Planned) -> ResourceAddress:
    parts = p.rtype.split("/")
    return ResourceAddress(sub, rg, parts[0], tuple(parts[1:]), tuple(p.name.split("/")))


def _run(tx: Tx, sub: str, rg: str, template: dict[str, Any], given: dict[str, Any]) -> _Result:
    group = arm_reads.group_in(tx, sub, rg)
    if not isinstance(template.get("resources", []), list):
        raise _invalid("'resources' must be an array")

    def reference(target: str) -> dict[str, Any] | None:
        row = arm_reads.row_of(tx, target)
        return arm_reads.arm_json(tx, row) if row is not None else None

    variables = template.get("variables") or {}
    if not isinstance(variables, dict):
        raise _invalid("'variables' must be an object")
    scope = Scope(sub, ids.tenant_id(sub), group, {}, variables, reference)
    try:
        scope.parameters = _parameter_values(template, given, scope)
        changes: list[_Change] = []
        for p in _plan(template, scope, sub, group["name"]):
            scope.copy_index = p.copy
            body = {k: evaluate(v, scope) for k, v in p.raw.items()
                    if k in ("location", "tags", "sku", "kind", "properties")}
            row = arm_reads.row_of(tx, p.rid)
            before = arm_reads.arm_json(tx, row) if row is not None else None
            try:
                after, created = arm_api.put_in(tx, _address(sub, group["name"], p), body)
            except ServiceError as exc:
                raise ServiceError("DeploymentFailed", f"At least one resource deployment operation failed: "
                                                       f"{p.rtype} '{p.name}': {exc.code}: {exc.message}",
                                   exc.http_status if exc.http_status < 500 else 400) from None
            changes.append(_Change(after.get("id", p.rid), p.rtype, before, after, created))
        scope.copy_index = {}
        outputs = {}
        for name, spec in (template.get("outputs") or {}).items():
            spec = spec if isinstance(spec, dict) else {}
            outputs[name] = {"type": spec.get("type", "String"), "value": evaluate(spec.get("value"), scope)}
        return _Result(changes, outputs, scope.parameters)
    except TemplateError as exc:
        raise ServiceError(exc.code, f"Deployment template validation failed: '{exc.message}'", 400) from None


def _template_hash(template: dict[str, Any]) -> str:
    return str(int(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:15], 16))


def _record(sub: str, rg: str, name: str, template: dict[str, Any], result: _Result | None, started: datetime,
            error: ServiceError | None) -> ArmResource:
    ended = datetime.now(UTC)
    params = {}
    if result is not None:
        declared = template.get("parameters") or {}
        for k, v in result.parameters.items():
            ptype = str((declared.get(k) or {}).get("type", "string"))
            params[k] = {"type": ptype, "value": "" if ptype.lower().startswith("secure") else v}
    props: dict[str, Any] = {
        "templateHash": _template_hash(template), "parameters": params, "mode": "Incremental",
        "provisioningState": "Failed" if error else "Succeeded",
        "timestamp": ended.isoformat().replace("+00:00", "Z"),
        "duration": f"PT{(ended - started).total_seconds():.3f}S", "correlationId": str(uuid.uuid4()),
        "outputs": result.outputs if result else {},
        "outputResources": [{"id": c.rid} for c in result.changes] if result else [],
        "dependencies": [],
    }
    if error is not None:
        props["error"] = {"code": error.code, "message": error.message}
    ops = [{"id": f"{_deployment_id(sub, rg, name)}/operations/{uuid.uuid4().hex[:16].upper()}",
            "operationId": uuid.uuid4().hex[:16].upper(),
            "properties": {"provisioningOperation": "Create", "provisioningState": "Succeeded",
                           "timestamp": props["timestamp"], "duration": props["duration"],
                           "statusCode": "Created" if c.created else "OK",
                           "targetResource": {"id": c.rid, "resourceType": c.rtype,
                                              "resourceName": c.rid.rsplit("/", 1)[-1]}}}
           for c in (result.changes if result else [])]
    return ArmResource(id=_deployment_id(sub, rg, name), name=name, type=armt.DEPLOYMENT, properties=props,
                       operations=ops)


def create(ctx: AppContext, sub: str, rg: str, name: str, body: Any) -> dict[str, Any]:
    """PUT a deployment: the resources and the record in one transaction; a failure is recorded on its own."""
    check_name(name)
    template, given = _body_parts(body)
    started = datetime.now(UTC)
    try:
        with ctx.store.tx() as tx:
            group = arm_reads.group_in(tx, sub, rg)
            result = _run(tx, sub, rg, template, given)
            record = _record(sub, group["name"], name, template, result, started, None)
            arm_writes.put_in(tx, record)
    except ServiceError as exc:
        if exc.code in ("DeploymentFailed", "InvalidTemplate", "InvalidTemplateFunction", "ResourceNotFound") \
                and exc.http_status < 500:
            with ctx.store.tx() as tx:
                group = arm_reads.group_in(tx, sub, rg)
                arm_writes.put_in(tx, _record(sub, group["name"], name, template, None, started, exc))
        raise
    return record.to_json()


def _dry_run(ctx: AppContext, sub: str, rg: str, name: str, body: Any) -> tuple[dict[str, Any], _Result]:
    check_name(name)
    template, given = _body_parts(body)
    try:
        with ctx.store.tx() as tx:
            raise _DryRun(_run(tx, sub, rg, template, given))
    except _DryRun as done:
        return template, done.result


def validate(ctx: AppContext, sub: str, rg: str, name: str, body: Any) -> dict[str, Any]:
    """POST …/validate: the deployment as it would be, nothing written."""
    started = datetime.now(UTC)
    template, result = _dry_run(ctx, sub, rg, name, body)
    group = arm_reads.get_group(ctx, sub, rg)
    out = _record(sub, group["name"], name, template, result, started, None).to_json()
    out["properties"]["validatedResources"] = [{"id": c.rid} for c in result.changes]
    out["properties"].pop("outputResources", None)
    return out


def _delta(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for k in sorted(set(before) | set(after)):
            sub = f"{path}.{k}" if path else k
            if k not in before:
                out.append({"path": sub, "propertyChangeType": "Create", "after": after[k]})
            elif k not in after:
                out.append({"path": sub, "propertyChangeType": "Delete", "before": before[k]})
            else:
                out += _delta(before[k], after[k], sub)
        return out
    if before != after:
        return [{"path": path, "propertyChangeType": "Modify", "before": before, "after": after}]
    return []


def what_if(ctx: AppContext, sub: str, rg: str, name: str, body: Any) -> dict[str, Any]:
    """POST …/whatIf: per resource Create, Modify (with the property changes) or NoChange; the group's other
    resources Ignore (incremental mode leaves them)."""
    _, result = _dry_run(ctx, sub, rg, name, body)
    changes: list[dict[str, Any]] = []
    touched = set()
    for c in result.changes:
        touched.add(c.rid.lower())
        after = templates.comparable(c.rtype, c.after)
        if c.before is None:
            changes.append({"resourceId": c.rid, "changeType": "Create", "after": c.after})
            continue
        delta = _delta(templates.comparable(c.rtype, c.before), after)
        changes.append({"resourceId": c.rid, "changeType": "Modify" if delta else "NoChange", "before": c.before,
                        "after": c.after, **({"delta": delta} if delta else {})})
    group = arm_reads.get_group(ctx, sub, rg)
    page = arm_reads.list_resources(ctx, sub, resource_group=group["name"], classic=False, include_children=True)
    for r in page.items:
        if str(r["id"]).lower() not in touched and r.get("type") not in (armt.SUBNET,):
            changes.append({"resourceId": r["id"], "changeType": "Ignore"})
    return {"status": "Succeeded", "properties": {"changes": changes}}


def _row(tx: Tx, sub: str, rg: str, name: str) -> ArmResource:
    row = tx.resources.get(_deployment_id(sub, rg, name))
    if row is None or row.type != armt.DEPLOYMENT:
        raise NotFound(f"Deployment '{name[:64]}' could not be found.", code="DeploymentNotFound")
    return ArmResource.model_validate(row.doc)


def get(ctx: AppContext, sub: str, rg: str, name: str) -> dict[str, Any]:
    with ctx.store.read() as tx:
        group = arm_reads.group_in(tx, sub, rg)
        return _row(tx, sub, group["name"], name).to_json()


def operations(ctx: AppContext, sub: str, rg: str, name: str) -> list[dict[str, Any]]:
    with ctx.store.read() as tx:
        group = arm_reads.group_in(tx, sub, rg)
        return list(_row(tx, sub, group["name"], name).operations or [])


def list_deployments(ctx: AppContext, sub: str, rg: str) -> list[dict[str, Any]]:
    with ctx.store.read() as tx:
        group = arm_reads.group_in(tx, sub, rg)
        rows = tx.resources.query(sub, model=ids.ARM, types=[armt.DEPLOYMENT], resource_group=group["name"])
        return [armt.wire(r.doc) for r in rows]


def delete(ctx: AppContext, sub: str, rg: str, name: str) -> bool:
    """DELETE a deployment's record (its resources stay, as in ARM); False when there was none."""
    with ctx.store.tx() as tx:
        group = arm_reads.group_in(tx, sub, rg)
        row = tx.resources.get(_deployment_id(sub, group["name"], name))
        if row is None:
            return False
        tx.resources.delete([row.key])
        return True
