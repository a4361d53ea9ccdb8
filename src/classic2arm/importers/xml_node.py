"""Namespace-agnostic, error-reporting access to a parsed XML tree.

Real captures come with the right namespace or none at all, so children are matched by local name.
Every element remembers its path from the root (`VirtualNetworkSite[2]/AddressSpace`) so a bad value
is reported where it sits in the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from lxml import etree
from pydantic import BaseModel, ValidationError

from . import values
from .errors import InputError
from .safe_xml import local_name

_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

E = TypeVar("E", bound=Enum)
M = TypeVar("M", bound=BaseModel)


class Node:
    __slots__ = ("el", "path", "src")

    def __init__(self, el: etree._Element, src: str, path: str) -> None:
        self.el = el
        self.src = src
        self.path = path

    @classmethod
    def root(cls, el: etree._Element, src: str) -> Node:
        return cls(el, src, local_name(el))

    @property
    def tag(self) -> str:
        return local_name(self.el)

    # ------------------------------------------------------------------ navigation

    def _elements(self) -> Iterable[etree._Element]:
        # Comments and processing instructions have non-string tags.
        return (c for c in self.el if isinstance(c.tag, str))

    def children(self, name: str) -> list[Node]:
        found = [c for c in self._elements() if local_name(c) == name]
        if len(found) == 1:
            return [Node(found[0], self.src, f"{self.path}/{name}")]
        return [Node(c, self.src, f"{self.path}/{name}[{i}]") for i, c in enumerate(found, 1)]

    def child(self, name: str) -> Node | None:
        for c in self._elements():
            if local_name(c) == name:
                return Node(c, self.src, f"{self.path}/{name}")
        return None

    def items(self, *names: str) -> list[Node]:
        """Repeated elements under a chain of containers: items('Subnets', 'Subnet')."""
        node: Node | None = self
        for name in names[:-1]:
            node = node.child(name) if node else None
        return node.children(names[-1]) if node else []

    # ------------------------------------------------------------------ errors

    def where(self, field: str | None = None) -> str:
        return f"{self.path}/{field}" if field else self.path

    def error(self, field: str | None, message: str) -> InputError:
        return InputError(self.src, self.where(field), message)

    def attr_error(self, name: str, message: str) -> InputError:
        return InputError(self.src, f"{self.path}@{name}", message)

    # ------------------------------------------------------------------ values

    def own_text(self) -> str | None:
        if self.el.get(_NIL) == "true":
            return None
        text = (self.el.text or "").strip()
        return text or None

    def text(self, name: str) -> str | None:
        """Stripped text of a child; None when the child is absent, empty or i:nil."""
        node = self.child(name)
        return node.own_text() if node else None

    def req(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise self.error(name, f"missing required <{name}>")
        return value

    def attr(self, name: str) -> str | None:
        value = self.el.get(name)
        return value.strip() if value is not None and value.strip() else None

    def req_attr(self, name: str) -> str:
        value = self.attr(name)
        if value is None:
            raise self.attr_error(name, f"missing required attribute '{name}'")
        return value

    def integer(self, name: str) -> int | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            raise self.error(name, f"'{raw}' is not an integer") from None

    def req_integer(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise self.error(name, f"missing required <{name}>")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        value = values.parse_bool(raw)
        if value is None:
            raise self.error(name, f"'{raw}' is not a boolean")
        return value

    def timestamp(self, name: str) -> datetime | None:
        raw = self.text(name)
        if raw is None:
            return None
        value = values.parse_datetime(raw)
        if value is None:
            raise self.error(name, f"'{raw}' is not an ISO 8601 date-time")
        return value

    def label(self, name: str = "Label") -> str:
        return values.decode_label(self.text(name))

    def enum(self, name: str, kind: type[E]) -> E | None:
        raw = self.text(name)
        if raw is None:
            return None
        for member in kind:
            if str(member.value).lower() == raw.lower():
                return member
        allowed = ", ".join(str(m.value) for m in kind)
        raise self.error(name, f"'{raw}' is not one of: {allowed}")

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        """Case-insensitive pick from a closed vocabulary, returned in its canonical spelling."""
        raw = self.text(name)
        if raw is None:
            return None
        for option in allowed:
            if option.lower() == raw.lower():
                return option
        raise self.error(name, f"'{raw}' is not one of: {', '.join(allowed)}")

    def cidr(self, node_name: str | None = None) -> str:
        """Own text (or a child's) checked as an address prefix."""
        node = self.child(node_name) if node_name else self
        raw = node.own_text() if node else None
        if node is None or raw is None:
            raise self.error(node_name, "missing address prefix")
        problem = values.cidr_problem(raw)
        if problem:
            raise node.error(None, problem)
        return raw

    def ip(self, name: str) -> str | None:
        raw = self.text(name)
        if raw is not None and (problem := values.ip_problem(raw)):
            raise self.error(name, problem)
        return raw


def build(model: type[M], node: Node, **fields: Any) -> M:
    """Construct a domain model; a value the model refuses becomes an InputError at this element."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or model.__name__
        raise node.error(field, f"invalid {model.__name__}: {first['msg']}") from None


def present(**fields: Any) -> dict[str, Any]:
    """Only the fields the file gave, so absent ones keep the domain model's defaults."""
    return {k: v for k, v in fields.items() if v is not None}
