"""Which parser handles an XML document, decided by its root element (never by file extension)."""

from __future__ import annotations

from collections.abc import Callable

from classic2arm.domain.estate import Estate

from . import asm_rest, netcfg, service_defs
from .errors import InputError
from .safe_xml import check_namespace, parse_xml
from .xml_node import Node

Parser = Callable[[Node, dict[str, str]], Estate]

# root local name -> (expected namespace, parser)
FORMATS: dict[str, tuple[str, Parser]] = {
    "NetworkConfiguration": (netcfg.NAMESPACE, lambda root, context: netcfg.parse(root)),
    "ServiceConfiguration": (service_defs.CSCFG_NAMESPACE, service_defs.parse_configuration),
    "ServiceDefinition": (service_defs.CSDEF_NAMESPACE, service_defs.parse_definition),
    **{tag: (asm_rest.NAMESPACE, parser) for tag, parser in asm_rest.ROOTS.items()},
}


def read_root(data: bytes, name: str) -> Node:
    """Parse safely and check the root is a known format in its own namespace (or none)."""
    root = parse_xml(data, name)
    node = Node.root(root, name)
    if node.tag not in FORMATS:
        raise InputError(name, node.tag, f"unknown root element <{node.tag}>")
    check_namespace(root, FORMATS[node.tag][0], name)
    return node


def parse_root(root: Node, context: dict[str, str] | None = None) -> Estate:
    return FORMATS[root.tag][1](root, context or {})


def load_xml(data: bytes, name: str, context: dict[str, str] | None = None) -> Estate:
    return parse_root(read_root(data, name), context)
