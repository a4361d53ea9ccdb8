"""Scalar conventions of ASM documents (base64 labels, .NET dates, booleans, CIDRs)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import datetime

_B64 = re.compile(r"\A[A-Za-z0-9+/]+={0,2}\Z")
# .NET writes up to 7 fractional digits; Python's parser takes at most 6.
_FRACTION = re.compile(r"(\.\d{6})\d+")


LABEL_MAX = 100  # characters of a decoded label (Create Hosted Service, Create Deployment, Create Storage Account)


def _base64_text(raw: str) -> str | None:
    if len(raw) % 4 or not _B64.match(raw):
        return None
    try:
        decoded = base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not decoded or not all(ch.isprintable() or ch in "\t\r\n" for ch in decoded):
        return None
    return decoded


def decode_label(raw: str | None) -> str:
    """ASM labels travel base64-encoded; some captures hold plain text, which is kept as is."""
    if not raw:
        return ""
    return _base64_text(raw) or raw


def strict_label(raw: str) -> str | None:
    """A label as the API's writes take it: base64 of printable UTF-8 text of 1 to LABEL_MAX characters, decoded;
    None otherwise (a file may hold plain text, a request may not)."""
    decoded = _base64_text(raw)
    return decoded if decoded is not None and len(decoded) <= LABEL_MAX else None


def parse_bool(raw: str) -> bool | None:
    value = raw.strip().lower()
    if value in {"true", "enabled", "1", "yes"}:
        return True
    if value in {"false", "disabled", "0", "no"}:
        return False
    return None


def parse_datetime(raw: str) -> datetime | None:
    text = _FRACTION.sub(r"\1", raw.strip())
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def cidr_problem(raw: str) -> str | None:
    """Why `raw` is not an address prefix, or None when it is one."""
    if "/" not in raw:
        return f"'{raw}' is not a CIDR prefix (a.b.c.d/n)"
    try:
        ipaddress.ip_network(raw, strict=False)
    except ValueError as exc:
        return f"'{raw}' is not a valid CIDR prefix: {exc}"
    return None


def ip_problem(raw: str) -> str | None:
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        return f"'{raw}' is not a valid IP address"
    return None
