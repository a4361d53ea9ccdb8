"""Parsers that turn real classic (ASM) files into a domain `Estate`. Pure: bytes in, Estate out.

`load_bytes`/`load_file` are imported on first use: a caller that only needs `InputError` (the CLI's error
handler) does not pay for every parser."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    from .detect import load_bytes, load_file

__all__ = ["InputError", "load_bytes", "load_file"]


def __getattr__(name: str) -> Any:
    if name in ("load_bytes", "load_file"):
        from . import detect

        return getattr(detect, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
