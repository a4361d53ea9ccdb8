"""Building ASM XML responses with lxml: namespaces, scalar conventions, and the small common bodies
(Error, Operation, ValidationMessages). Resource serializers live in out_compute / out_network /
out_storage / out_subscription and use the helpers here.

Output is compact (no pretty printing): the Python SDK reads a scalar as its element's first child node.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from lxml import etree

from ...domain.units import Message
from ...service.operations import OperationView

NS = "http://schemas.microsoft.com/windowsazure"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP: dict[str | None, str] = {None: NS, "i": XSI}
XML_CONTENT_TYPE = "application/xml; charset=utf-8"
_XSI_TYPE = f"{{{XSI}}}type"
_XSI_NIL = f"{{{XSI}}}nil"

Scalar = str | int | bool | datetime | None
# Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text_of(value: Scalar) -> str:
    """ASM spelling of a scalar: lower-case booleans, ISO 8601 UTC times with a Z."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if value is None:
        return ""
    text = str(value)
    # printable text holds none of what XML cannot carry (those are all control, surrogate or unassigned)
    return text if text.isprintable() else _NOT_XML.sub("\ufffd", text)


def b64(text: str | None) -> str:
    """Labels and configurations travel base64-encoded."""
    return base64.b64encode((text or "").encode("utf-8")).decode("ascii")


def root(tag: str, ns: str = NS, xsi_type: str | None = None) -> etree._Element:
    nsmap: dict[str | None, str] = {None: ns, "i": XSI}
    el = etree.Element(f"{{{ns}}}{tag}", nsmap=nsmap)  # type: ignore[arg-type]
    if xsi_type:
        el.set(_XSI_TYPE, xsi_type)
    return el


def add(parent: etree._Element, tag: str, value: Scalar = None, xsi_type: str | None = None) -> etree._Element:
    """A child in the parent's namespace, with text when a value is given (empty element otherwise)."""
    ptag = parent.tag  # "{namespace}Name" (read as text: building a QName per element cost more than the rest)
    ns = ptag[1:ptag.index("}")] if ptag.startswith("{") else NS
    el = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if xsi_type:
        el.set(_XSI_TYPE, xsi_type)
    if value is not None:
        el.text = text_of(value)
    return el


def opt(parent: etree._Element, tag: str, value: Scalar) -> etree._Element | None:
    """A child only when the value is present (not None and not an empty string)."""
    if value is None or value == "":
        return None
    return add(parent, tag, value)


def nil(parent: etree._Element, tag: str) -> etree._Element:
    el = add(parent, tag)
    el.set(_XSI_NIL, "true")
    return el


def texts(parent: etree._Element, container: str, tag: str, values: Iterable[Scalar]) -> etree._Element:
    box = add(parent, container)
    for v in values:
        add(box, tag, v)
    return box


def extended_properties(parent: etree._Element, props: Mapping[str, str]) -> etree._Element:
    box = add(parent, "ExtendedProperties")
    for name, value in props.items():
        prop = add(box, "ExtendedProperty")
        add(prop, "Name", name)
        add(prop, "Value", value)
    return box


def to_bytes(el: etree._Element) -> bytes:
    return etree.tostring(el, encoding="utf-8", xml_declaration=False)


T = TypeVar("T")
Fill = Callable[[etree._Element, T], None]


def single(tag: str, item: T, fill: Fill[T]) -> bytes:
    """A Get body: the root element `tag`, filled by `fill` with the item."""
    el = root(tag)
    fill(el, item)
    return to_bytes(el)


def listing(tag: str, item_tag: str, items: Iterable[T], fill: Fill[T]) -> bytes:
    """A List body: under the root `tag`, one `item_tag` element per item, each filled as its Get body is."""
    el = root(tag)
    for item in items:
        fill(add(el, item_tag), item)
    return to_bytes(el)


# --------------------------------------------------------------------------- common bodies


def error(code: str, message: str) -> bytes:
    el = root("Error")
    add(el, "Code", code)
    add(el, "Message", message)
    return to_bytes(el)


def operation(view: OperationView) -> bytes:
    """Get Operation Status (spec §5.3): ID dashed; HttpStatusCode once finished; Error when failed."""
    el = root("Operation")
    add(el, "ID", view.dashed_id)
    add(el, "Status", view.status)
    if view.status != "InProgress":
        add(el, "HttpStatusCode", view.http_status or (200 if view.status == "Succeeded" else 500))
    if view.status == "Failed":
        err = add(el, "Error")
        add(err, "Code", view.error_code or "InternalError")
        add(err, "Message", view.error_message or "")
    return to_bytes(el)


def validation_messages(messages: Iterable[Message]) -> bytes:
    """`ValidationMessages`; self-closing when empty (as recorded in 2016)."""
    el = root("ValidationMessages")
    for m in messages:
        vm = add(el, "ValidationMessage")
        add(vm, "ResourceType", m.resource_type)
        add(vm, "ResourceName", m.resource_name)
        add(vm, "Category", m.category.value)
        add(vm, "Message", m.message)
        opt(vm, "VirtualMachine", m.virtual_machine)
    return to_bytes(el)


def availability(available: bool, reason: str | None) -> bytes:
    el = root("AvailabilityResponse")
    add(el, "Result", available)
    if reason:
        add(el, "Reason", reason)
    else:
        nil(el, "Reason")
    return to_bytes(el)
