"""Entry point: load any supported classic file, recognising its format from its content."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from classic2arm.domain.estate import Estate

from . import estate_doc, session
from .errors import InputError, InputErrors
from .safe_xml import MAX_BYTES, check_size
from .xml_formats import load_xml

_BOM_UTF8 = b"\xef\xbb\xbf"
# A YAML estate document announces itself with a top-level `classic2arm:` key.
_YAML_ESTATE = re.compile(rb"^classic2arm\s*:", re.MULTILINE)


def _json(data: bytes, name: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(name, f"line {line}", f"byte at offset {exc.start} is not valid UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(name, f"line {exc.lineno} column {exc.colno}", f"malformed JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(name, "file", "JSON nested too deeply") from None


def _estate_doc(data: bytes, name: str) -> Estate:
    return estate_doc.load(data, name)


def load_bytes(data: bytes, name: str, context: dict[str, str] | None = None) -> Estate:
    """Parse one file's bytes; `name` is used in errors and notes, `context` supplies parent names
    (service_name, deployment_name, location) that some ASM bodies leave out."""
    check_size(data, name)
    body = data[len(_BOM_UTF8):] if data.startswith(_BOM_UTF8) else data
    head = body.lstrip()
    if not head:
        raise InputError(name, "file", "file is empty")
    if head.startswith(b"{"):
        doc = _json(body, name)
        if isinstance(doc, dict) and "classic2arm" in doc:
            return _estate_doc(data, name)
        if isinstance(doc, dict) and "Entries" in doc:
            return session.parse_record(doc, name)
        raise InputError(name, "file", "JSON is neither a session record (Entries) nor an estate document "
                                       "(classic2arm)")
    if head.startswith(b"<") or head[:2] in (b"\xff\xfe", b"\xfe\xff") or head.startswith((b"\x00<", b"<\x00")):
        return load_xml(data, name, context)
    if _YAML_ESTATE.search(body):
        return _estate_doc(data, name)
    raise InputError(name, "file", "unrecognised content: expected XML, a JSON session record or an estate "
                                   "document")


def load_file(path: str | Path, context: dict[str, str] | None = None) -> Estate:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise InputError(str(p), "file", f"file is {size} bytes; the limit is {MAX_BYTES} bytes")
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(str(p), "file", f"cannot read: {exc.strerror or exc}") from None
    return load_bytes(data, str(p), context)


def load_files(paths: list[Path], on_file: Callable[[], None] | None = None) -> Estate:
    """Every file merged into one estate, each object remembering its file; the errors of all files at once.
    `on_file` is called after each file (a progress bar)."""
    merged = Estate()
    errors: list[InputError] = []
    for path in paths:
        try:
            part = load_file(path)
        except InputError as exc:
            errors.append(exc)
        else:
            merged.merge(part, source=str(path))
        if on_file is not None:
            on_file()
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)
    return merged
