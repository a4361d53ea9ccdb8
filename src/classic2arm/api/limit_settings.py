"""The connection limits of `classic2arm serve` (enforced by `api.limits`), apart from the code that enforces
them: every CLI command registers `serve` and reads these defaults, and must not pay for asyncio to do so."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int = 1000
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_header_bytes: int = 32 * 1024
    max_headers: int = 100
    max_body_bytes: int = 64 * 1024 * 1024  # a backstop over every route's own limit (ASM drains up to 64 MB)
