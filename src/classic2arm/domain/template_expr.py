"""ARM template expressions (`"[concat(parameters('a'), '-x')]"`): a small evaluator of the template functions
exported and common templates use. No maintained Python library evaluates ARM expressions (PyPI has
deployers and comparers, not evaluators; PSRule's is .NET), hence this module.

Semantics as documented for ARM templates: a string starting with `[` and ending with `]` is an expression,
`[[` escapes a literal `[`; string literals are single-quoted with `''` for a quote; integers; function calls with
`.property` and `[index]` access on their results. Functions: `parameters`, `variables`, `resourceId`,
`subscriptionResourceId`, `resourceGroup`, `subscription`, `concat`, `format` (`{0}`-style), `uniqueString`,
`reference`, `copyIndex`, `toLower`, `toUpper`, `string`, `int`, `bool`, `length`, `equals`, `if`, `not`, `and`,
`or`, `empty`, `true`, `false`, `null`. Any other is refused by name (`TemplateError`), never guessed.

`uniqueString` is deterministic and 13 characters of [a-z0-9] as documented, but not byte-identical to Azure's
(its hash is not published).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final


class TemplateError(Exception):
    """A template that cannot be evaluated: the code and message ARM would answer (400)."""

    def __init__(self, message: str, code: str = "InvalidTemplate") -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Scope:
    """What functions read: the deployment's subscription and group, parameter values, raw variables, the copy
    loop being expanded, and `reference` (an id → the resource's JSON, None when it does not exist)."""

    subscription_id: str
    tenant_id: str
    resource_group: dict[str, Any]
    parameters: dict[str, Any]
    variables: dict[str, Any]
    reference: Callable[[str], dict[str, Any] | None]
    copy_index: dict[str, int] = field(default_factory=dict)  # loop name -> index ("" : the current loop)
    _variable_values: dict[str, Any] = field(default_factory=dict)
    _evaluating: set[str] = field(default_factory=set)


_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<sym>[(),.\[\]]))")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise TemplateError(f"The template language expression '{text[:200]}' is not valid: unexpected "
                                f"character at position {pos}.")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


@dataclass
class _Parser:
    text: str
    toks: list[tuple[str, str]]
    pos: int = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self, sym: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (sym is not None and tok != ("sym", sym)):
            want = f"'{sym}'" if sym else "more"
            raise TemplateError(f"The template language expression '{self.text[:200]}' is not valid: expected "
                                f"{want}.")
        self.pos += 1
        return tok

    def expr(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            node: Any = ("lit", value[1:-1].replace("''", "'"))
        elif kind == "num":
            node = ("lit", int(value))
        elif kind == "name":
            self.take("(")
            args = []
            if self.peek() != ("sym", ")"):
                args.append(self.expr())
                while self.peek() == ("sym", ","):
                    self.take(",")
                    args.append(self.expr())
            self.take(")")
            node = ("call", value, args)
        else:
            raise TemplateError(f"The template language expression '{self.text[:200]}' is not valid: unexpected "
                                f"'{value}'.")
        while self.peek() in (("sym", "."), ("sym", "[")):
            if self.take()[1] == ".":
                kind, prop = self.take()
                if kind != "name":
                    raise TemplateError(f"The template language expression '{self.text[:200]}' is not valid: a "
                                        "property name must follow '.'.")
                node = ("get", node, ("lit", prop))
            else:
                index = self.expr()
                self.take("]")
                node = ("get", node, index)
        return node


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def evaluate(value: Any, scope: Scope) -> Any:
    """A template value with every expression in it evaluated (objects and arrays walked)."""
    if isinstance(value, dict):
        return {k: evaluate(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, scope) for v in value]
    if isinstance(value, str):
        if value.startswith("[["):
            return value[1:]
        if is_expression(value):
            return expression(value[1:-1], scope)
    return value


def expression(text: str, scope: Scope) -> Any:
    return _eval(_parse(text), scope)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Any:
    """The syntax tree of an expression, kept: a copy loop evaluates the same texts over and over."""
    parser = _Parser(text, _tokens(text))
    node = parser.expr()
    if parser.peek() is not None:
        raise TemplateError(f"The template language expression '{text[:200]}' is not valid: unexpected "
                            f"'{parser.peek()[1]}' after the end of the expression.")  # type: ignore[index]
    return node


def _eval(node: Any, scope: Scope) -> Any:
    if node[0] == "lit":
        return node[1]
    if node[0] == "get":
        base, key = _eval(node[1], scope), _eval(node[2], scope)
        if isinstance(base, dict) and isinstance(key, str):
            found = next((v for k, v in base.items() if k.lower() == key.lower()), _MISSING)
            if found is _MISSING:
                raise TemplateError(f"The language expression property '{key}' doesn't exist, available "
                                    f"properties are '{', '.join(base)}'.")
            return found
        if isinstance(base, list) and isinstance(key, int) and not isinstance(key, bool):
            if not -len(base) <= key < len(base):
                raise TemplateError(f"The language expression index {key} is out of range (length {len(base)}).")
            return base[key]
        raise TemplateError(f"The language expression cannot index a {type(base).__name__} with {key!r}.")
    name, args = node[1], node[2]
    fn = FUNCTIONS.get(name.lower())
    if fn is None:
        raise TemplateError(f"The template function '{name}' is not supported by classic2arm. Supported: "
                            f"{', '.join(SUPPORTED)}.", "InvalidTemplateFunction")
    if name.lower() == "if":  # only the branch taken is evaluated
        _arity(name, args, 3, 3)
        return _eval(args[1] if _bool(_eval(args[0], scope)) else args[2], scope)
    return fn(scope, [_eval(a, scope) for a in args])


_MISSING: Final = object()


def _arity(name: str, args: list[Any], low: int, high: int | None) -> None:
    if len(args) < low or (high is not None and len(args) > high):
        want = f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
        raise TemplateError(f"The template function '{name}' expects {want} argument(s), got {len(args)}.")


def _str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TemplateError(f"The template function '{name}' expects a string, got {json.dumps(value)[:80]}.")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TemplateError(f"A boolean was expected, got {json.dumps(value)[:80]}.")
    return value


def _parameters(scope: Scope, args: list[Any]) -> Any:
    _arity("parameters", args, 1, 1)
    key = _str("parameters", args[0])
    for k, v in scope.parameters.items():
        if k.lower() == key.lower():
            return v
    raise TemplateError(f"The template parameter '{key}' is not found. Please see https://aka.ms/arm-syntax-"
                        "parameters for usage details.")


def _variables(scope: Scope, args: list[Any]) -> Any:
    _arity("variables", args, 1, 1)
    key = _str("variables", args[0])
    name = next((k for k in scope.variables if k.lower() == key.lower()), None)
    if name is None:
        raise TemplateError(f"The template variable '{key}' is not found. Please see https://aka.ms/arm-syntax-"
                            "variables for usage details.")
    if name not in scope._variable_values:
        if name in scope._evaluating:
            raise TemplateError(f"The template variable '{name}' refers to itself.")
        scope._evaluating.add(name)
        try:
            scope._variable_values[name] = evaluate(scope.variables[name], scope)
        finally:
            scope._evaluating.discard(name)
    return scope._variable_values[name]


def resource_id(sub: str, rg: str, rtype: str, names: list[str]) -> str:
    parts = rtype.split("/")
    if len(parts) < 2 or len(names) != len(parts) - 1:
        raise TemplateError(f"Unable to evaluate template language function 'resourceId': the type '{rtype}' "
                            f"requires {max(len(parts) - 1, 1)} resource name argument(s).")
    chain = "/".join(f"{t}/{n}" for t, n in zip(parts[1:], names, strict=True))
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{parts[0]}/{chain}"


def _resource_id(scope: Scope, args: list[Any]) -> str:
    _arity("resourceId", args, 2, None)
    values = [_str("resourceId", a) for a in args]
    type_at = next((i for i, v in enumerate(values) if "/" in v and "." in v.split("/")[0]), None)
    if type_at is None or type_at > 2:
        raise TemplateError("Unable to evaluate template language function 'resourceId': no resource type "
                            "('Namespace/type') among its arguments.")
    sub, rg = scope.subscription_id, str(scope.resource_group["name"])
    if type_at == 1:
        rg = values[0]
    elif type_at == 2:
        sub, rg = values[0], values[1]
    return resource_id(sub, rg, values[type_at], values[type_at + 1:])


def _subscription_resource_id(scope: Scope, args: list[Any]) -> str:
    _arity("subscriptionResourceId", args, 2, None)
    values = [_str("subscriptionResourceId", a) for a in args]
    parts = values[0].split("/")
    chain = "/".join(f"{t}/{n}" for t, n in zip(parts[1:], values[1:], strict=False))
    return f"/subscriptions/{scope.subscription_id}/providers/{parts[0]}/{chain}"


def _concat(scope: Scope, args: list[Any]) -> Any:
    _arity("concat", args, 1, None)
    if all(isinstance(a, list) for a in args):
        return [x for a in args for x in a]
    return "".join(a if isinstance(a, str) else json.dumps(a) if isinstance(a, dict | list) else _text(a)
                   for a in args)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


_FORMAT_ITEM = re.compile(r"\{\{|\}\}|\{(\d+)(?:[,:][^}]*)?\}")


def _format(scope: Scope, args: list[Any]) -> str:
    _arity("format", args, 1, None)
    fmt, values = _str("format", args[0]), args[1:]

    def item(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        i = int(m.group(1))
        if i >= len(values):
            raise TemplateError(f"The template function 'format': index {i} is beyond the {len(values)} "
                                "argument(s) given.")
        return _text(values[i]) if not isinstance(values[i], dict | list) else json.dumps(values[i])

    return _FORMAT_ITEM.sub(item, fmt)


def _unique_string(scope: Scope, args: list[Any]) -> str:
    _arity("uniqueString", args, 1, None)
    digest = hashlib.sha256("\x1f".join(_str("uniqueString", a) for a in args).encode()).digest()
    return base64.b32encode(digest).decode().lower()[:13].replace("=", "0")


def _reference(scope: Scope, args: list[Any]) -> Any:
    _arity("reference", args, 1, 3)
    target = _str("reference", args[0])
    full = len(args) == 3 and isinstance(args[2], str) and args[2].lower() == "full"
    if not target.startswith("/"):
        raise TemplateError(f"The template function 'reference' needs a resource id here (use resourceId(…)); "
                            f"'{target[:100]}' is not one.")
    found = scope.reference(target)
    if found is None:
        raise TemplateError(f"The Resource '{target[:300]}' was not found.", "ResourceNotFound")
    return found if full else found.get("properties", {})


def _copy_index(scope: Scope, args: list[Any]) -> int:
    _arity("copyIndex", args, 0, 2)
    loop, offset = "", 0
    for a in args:
        if isinstance(a, int) and not isinstance(a, bool):
            offset = a
        else:
            loop = _str("copyIndex", a)
    key = next((k for k in scope.copy_index if k.lower() == loop.lower()), None)
    if key is None:
        raise TemplateError("The template function 'copyIndex' is not expected at this location: no copy loop "
                            f"{('named ' + repr(loop)) if loop else ''} is being expanded.")
    return scope.copy_index[key] + offset


def _length(scope: Scope, args: list[Any]) -> int:
    _arity("length", args, 1, 1)
    if not isinstance(args[0], str | list | dict):
        raise TemplateError("The template function 'length' expects a string, array or object.")
    return len(args[0])


def _int(scope: Scope, args: list[Any]) -> int:
    _arity("int", args, 1, 1)
    try:
        return int(args[0])
    except (TypeError, ValueError):
        raise TemplateError(f"The template function 'int' cannot convert {json.dumps(args[0])[:80]}.") from None


def _string(scope: Scope, args: list[Any]) -> str:
    _arity("string", args, 1, 1)
    v = args[0]
    return v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict | list) else _text(v)


def _to_bool(scope: Scope, args: list[Any]) -> bool:
    _arity("bool", args, 1, 1)
    v = args[0]
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    if isinstance(v, bool | int):
        return bool(v)
    raise TemplateError(f"The template function 'bool' cannot convert {json.dumps(v)[:80]}.")


def _fixed(name: str, n: int, fn: Callable[..., Any]) -> Callable[[Scope, list[Any]], Any]:
    def call(scope: Scope, args: list[Any]) -> Any:
        _arity(name, args, n, n)
        return fn(*args)
    return call


def _no_args(name: str, args: list[Any], value: Any) -> Any:
    _arity(name, args, 0, 0)
    return value


def _logic(name: str, args: list[Any], combine: Callable[[Any], bool]) -> bool:
    _arity(name, args, 2, None)
    return combine(_bool(a) for a in args)


FUNCTIONS: Final[dict[str, Callable[[Scope, list[Any]], Any]]] = {
    "parameters": _parameters, "variables": _variables, "resourceid": _resource_id,
    "subscriptionresourceid": _subscription_resource_id,
    "resourcegroup": lambda scope, args: _no_args("resourceGroup", args, scope.resource_group),
    "subscription": lambda scope, args: _no_args("subscription", args, {
        "id": f"/subscriptions/{scope.subscription_id}", "subscriptionId": scope.subscription_id,
        "tenantId": scope.tenant_id, "displayName": scope.subscription_id}),
    "concat": _concat, "format": _format, "uniquestring": _unique_string, "reference": _reference,
    "copyindex": _copy_index, "length": _length, "int": _int, "string": _string, "bool": _to_bool,
    "tolower": _fixed("toLower", 1, lambda s: _str("toLower", s).lower()),
    "toupper": _fixed("toUpper", 1, lambda s: _str("toUpper", s).upper()),
    "equals": _fixed("equals", 2, lambda a, b: a == b),
    "if": lambda scope, args: None,  # (evaluated lazily in _eval: only the branch taken)
    "not": _fixed("not", 1, lambda a: not _bool(a)),
    "and": lambda scope, args: _logic("and", args, all),
    "or": lambda scope, args: _logic("or", args, any),
    "empty": _fixed("empty", 1, lambda a: a is None or (isinstance(a, str | list | dict) and len(a) == 0)),
    "true": _fixed("true", 0, lambda: True), "false": _fixed("false", 0, lambda: False),
    "null": _fixed("null", 0, lambda: None),
}
SUPPORTED: Final = ("parameters", "variables", "resourceId", "subscriptionResourceId", "resourceGroup",
                    "subscription", "concat", "format", "uniqueString", "reference", "copyIndex", "length", "int",
                    "string", "bool", "toLower", "toUpper", "equals", "if", "not", "and", "or", "empty", "true",
                    "false", "null")
