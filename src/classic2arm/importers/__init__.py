"""Parsers that turn real classic (ASM) files into a domain `Estate`. Pure: bytes in, Estate out."""

from __future__ import annotations

from .detect import load_bytes, load_file
from .errors import InputError

__all__ = ["InputError", "load_bytes", "load_file"]
