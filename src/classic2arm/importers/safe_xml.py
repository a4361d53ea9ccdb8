"""Hardened XML parsing for untrusted classic files.

Imports come from users' disks and old SDK test folders, so the parser never resolves entities,
never touches the network, refuses any DOCTYPE (which kills XXE and entity-expansion bombs with a
clear message) and does not trust the declared encoding blindly: real files declare utf-16 while
being saved as UTF-8.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from .errors import InputError

MAX_BYTES = 50 * 1024 * 1024

_BOM_UTF8 = b"\xef\xbb\xbf"
_DECLARATION = re.compile(r"\A\s*<\?xml\b[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"\A\s*<\?xml\b[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
# Declarations in these families cannot be true for a file whose prolog reads as ASCII.
_WIDE_ENCODINGS = {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
_PROLOG_SKIP = re.compile(r"\s+|<!--.*?-->|<\?.*?\?>", re.DOTALL)


def check_size(data: bytes, path: str) -> None:
    if len(data) > MAX_BYTES:
        raise InputError(path, "file", f"file is {len(data)} bytes; the limit is {MAX_BYTES} bytes")


def _new_parser() -> etree.XMLParser:
    # A fresh parser per document: lxml parsers keep state and are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=True,
    )


def _decode_error(data: bytes, exc: UnicodeError, path: str, encoding: str) -> InputError:
    if not isinstance(exc, UnicodeDecodeError):  # codecs such as punycode raise the bare class
        return InputError(path, "file", f"the text is not valid {encoding}")
    line = data.count(b"\n", 0, exc.start) + 1
    bad = data[exc.start : exc.start + 1].hex()
    return InputError(path, f"line {line}", f"byte 0x{bad} at offset {exc.start} is not valid {encoding}")


def _codec_name(label: str, path: str) -> str:
    """The text encoding a declaration names. Python's codec registry also holds bytes-to-bytes and str-to-str
    codecs (base64, zlib, rot13, hex…), which `bytes.decode` refuses with LookupError: bad input too."""
    try:
        name = codecs.lookup(label).name
    except LookupError:
        raise InputError(path, "line 1", f"unknown encoding '{label[:40]}' in the XML declaration") from None
    # The declaration was read as ASCII, so the encoding must read it back the same (utf-16/32 claims are
    # overruled by the caller).
    try:
        readable = name in _WIDE_ENCODINGS or b"<?xml".decode(name) == "<?xml"
    except (LookupError, UnicodeError):
        readable = False
    if not readable:
        raise InputError(path, "line 1", f"encoding '{label[:40]}' in the XML declaration is not a text encoding "
                                         "this document can be in (codecs such as base64, zlib or rot13 are not)")
    return name


def decode_text(data: bytes, path: str) -> str:
    """Bytes of an XML document -> text, choosing the encoding from evidence rather than the prolog."""
    if data.startswith(_BOM_UTF8):
        body, encoding = data[len(_BOM_UTF8) :], "utf-8"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        body, encoding = data, "utf-16"
    elif data.startswith(b"<\x00"):
        body, encoding = data, "utf-16-le"
    elif data.startswith(b"\x00<"):
        body, encoding = data, "utf-16-be"
    else:
        body, encoding = data, "utf-8"
        declared = _DECLARED_ENCODING.match(data)
        if declared:
            label = declared.group(1).decode("ascii")
            name = _codec_name(label, path)
            # An ASCII-readable prolog proves the file is not utf-16/32 whatever it claims.
            if name not in _WIDE_ENCODINGS:
                encoding = name
    try:
        return body.decode(encoding)
    except UnicodeError as exc:
        if encoding == "utf-8":
            raise _decode_error(body, exc, path, encoding) from None
    # The declaration was wrong (e.g. "us-ascii" over UTF-8 text): UTF-8 is the only other honest guess.
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(body, exc, path, "utf-8") from None


def _reject_doctype(text: str, path: str) -> None:
    pos = 0
    while True:
        m = _PROLOG_SKIP.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    if text.startswith("<!DOCTYPE", pos) or text.startswith("<!ENTITY", pos):
        line = text.count("\n", 0, pos) + 1
        raise InputError(path, f"line {line}", "DOCTYPE/entity declarations are not allowed")


def parse_xml(data: bytes, path: str) -> etree._Element:
    """Parse untrusted XML bytes into the root element, or raise InputError."""
    check_size(data, path)
    if not data.strip():
        raise InputError(path, "file", "file is empty")
    text = decode_text(data, path)
    # The declaration is dropped so lxml reads the re-encoded UTF-8 instead of re-guessing.
    text = _DECLARATION.sub("", text, count=1)
    _reject_doctype(text, path)
    try:
        root = etree.fromstring(text.encode("utf-8"), _new_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else 0
        raise InputError(path, f"line {line}", f"malformed XML: {exc.msg}") from None
    except (etree.LxmlError, ValueError) as exc:
        raise InputError(path, "file", f"malformed XML: {exc}") from None
    tree = root.getroottree()
    # Belt and braces behind the prolog scan (lxml-stubs lack DocInfo.doctype).
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
        raise InputError(path, "line 1", "DOCTYPE/entity declarations are not allowed")
    return root


def local_name(el: etree._Element) -> str:
    return etree.QName(el).localname


def namespace(el: etree._Element) -> str:
    return etree.QName(el).namespace or ""


def check_namespace(root: etree._Element, expected: str, path: str) -> None:
    """Accept the format's own namespace or none (some real captures drop it); refuse anything else."""
    ns = namespace(root)
    if ns and ns != expected:
        raise InputError(
            path,
            local_name(root),
            f"unexpected namespace '{ns}' on <{local_name(root)}>; expected '{expected}' or none",
        )
