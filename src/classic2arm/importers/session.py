"""Azure .NET test-framework session records (`Entries[]` of recorded HTTP calls) -> classic state.

A record shows the classic estate through the bodies it carries: successful GET responses, the
netcfg of `PUT /services/networking/media` and `CreateStorageServiceInput` request bodies. Later
bodies describe a later state, so the last one seen wins per resource. Migration POSTs, operation
polls and error bodies describe no resources and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from classic2arm.domain.estate import Estate

from . import asm_rest
from .errors import InputError
from .safe_xml import check_namespace, parse_xml
from .xml_formats import FORMATS, parse_root
from .xml_node import Node

_SERVICE_URI = re.compile(r"/services/hostedservices/([^/?]+)(?:/deployments/([^/?]+))?")
_GATEWAY_URI = re.compile(r"/services/networking/([^/?]+)/gateway\b")
# Request bodies that state what a resource is (rather than asking for a change to it).
_DESCRIBING_REQUESTS = frozenset({"NetworkConfiguration", "CreateStorageServiceInput"})

_IDENTITY: dict[str, Callable[[Any], tuple[str, ...]]] = {
    "deployments": lambda d: (d.service_name, d.name),
    "roles": lambda r: (r.service_name, r.deployment_name, r.name),
    "express_route_circuits": lambda e: (e.service_key,),
}


def _by_name(obj: Any) -> tuple[str, ...]:
    return (obj.name,)


def keep_last(estate: Estate) -> Estate:
    """One object per resource identity (case-insensitive, as ASM names are); the last one wins."""
    for list_name in Estate.CLASSIC_LISTS:
        key_of = _IDENTITY.get(list_name, _by_name)
        latest: dict[tuple[str, ...], Any] = {}
        for obj in getattr(estate, list_name):
            latest[tuple(part.lower() for part in key_of(obj))] = obj
        setattr(estate, list_name, list(latest.values()))
    return estate


def _context(uri: str) -> dict[str, str]:
    if gw := _GATEWAY_URI.search(unquote(uri)):
        return {"virtual_network": gw.group(1)}
    m = _SERVICE_URI.search(unquote(uri))
    if not m:
        return {}
    context = {"service_name": m.group(1)}
    if m.group(2):
        context["deployment_name"] = m.group(2)
    return context


def _field(entry: dict[str, Any], key: str, where: str, name: str) -> Any:
    if key not in entry:
        raise InputError(name, where, f"entry has no '{key}'")
    return entry[key]


def _status(entry: dict[str, Any], where: str, name: str) -> int:
    raw = _field(entry, "StatusCode", where, name)
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).isdecimal():
        raise InputError(name, f"{where}/StatusCode", f"'{raw}' is not an HTTP status code")
    return int(raw)


def _body(entry: dict[str, Any], key: str, where: str, name: str) -> str | None:
    body = entry.get(key)
    if body is None:
        return None
    if not isinstance(body, str):
        raise InputError(name, f"{where}/{key}", "body is not a string")
    # Records also hold JSON bodies (ARM calls); only XML bodies can be classic resources.
    return body if body.lstrip().startswith("<") else None


def _parse_body(body: str, wanted: Callable[[str], bool], context: dict[str, str],
                name: str, where: str) -> Estate | None:
    try:
        root = parse_xml(body.encode("utf-8"), name)
        node = Node.root(root, name)
        if not wanted(node.tag):
            return None
        check_namespace(root, FORMATS[node.tag][0], name)
        return parse_root(node, context)
    except InputError as exc:
        raise exc.within(name, where) from None


def _resource_root(tag: str) -> bool:
    return tag in FORMATS and tag not in asm_rest.RESOURCELESS


def parse_record(doc: dict[str, Any], name: str) -> Estate:
    entries = doc.get("Entries")
    if not isinstance(entries, list):
        raise InputError(name, "Entries", "session record needs an 'Entries' list")
    estate = Estate()
    for i, entry in enumerate(entries):
        where = f"Entries[{i}]"
        if not isinstance(entry, dict):
            raise InputError(name, where, "entry is not an object")
        method = _field(entry, "RequestMethod", where, name)
        uri = _field(entry, "RequestUri", where, name)
        if not isinstance(method, str) or not isinstance(uri, str):
            raise InputError(name, where, "RequestMethod and RequestUri must be strings")
        if not 200 <= _status(entry, where, name) < 300:
            continue
        found: Estate | None = None
        if method.upper() == "GET" and (body := _body(entry, "ResponseBody", where, name)):
            found = _parse_body(body, _resource_root, _context(uri), name, f"{where}/ResponseBody")
        elif method.upper() in {"PUT", "POST"} and (body := _body(entry, "RequestBody", where, name)):
            found = _parse_body(body, _DESCRIBING_REQUESTS.__contains__, _context(uri), name,
                                f"{where}/RequestBody")
        if found is not None:
            estate.merge(found)
    keep_last(estate)
    if not estate.classic_objects():
        estate.notes.append(f"{name}: session record of {len(entries)} calls holds no classic resources")
    return estate
