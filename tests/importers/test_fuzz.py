"""Whatever bytes arrive, an importer either returns an Estate or raises InputError — nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classic2arm.importers import InputError, load_bytes

FIXTURES = Path("/work/shared/fixtures")
FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md") if FIXTURES.is_dir() else []
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parses_or_refuses(data: bytes, name: str) -> None:
    try:
        load_bytes(data, name)
    except InputError as exc:
        assert str(exc).startswith(f"{name}: ")


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    parses_or_refuses(data, "random.bin")


@SETTINGS
@given(st.sampled_from([b"<", b"{", b"\xef\xbb\xbf<", b"<?xml version='1.0'?>"]), st.binary(max_size=512))
def test_random_bytes_behind_format_markers(prefix: bytes, tail: bytes) -> None:
    parses_or_refuses(prefix + tail, "marked.bin")


@st.composite
def mutated_fixture(draw: st.DrawFn) -> tuple[str, bytes]:
    path = draw(st.sampled_from(FILES))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.sampled_from([b"<", b">", b"&", b'"', b"\x00", b"\xe9", b"</x>", b"<!DOCTYPE a>",
                                                   b"not-a-cidr", b"-1", b"\\u0000", b"{", b"]"]))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 40))]
        elif kind == "truncate":
            del data[pos:]
        else:
            # Swap element text for junk, where semantic checks (CIDR, ints, enums) must fire.
            start = data.find(b">", pos)
            end = data.find(b"<", start + 1) if start >= 0 else -1
            if 0 <= start < end:
                data[start + 1 : end] = draw(st.sampled_from([b"", b"x", b"999999999999", b"10.0.0.0/99", b"true"]))
    return path.name, bytes(data)


@pytest.mark.skipif(not FILES, reason="shared fixtures not mounted")
@SETTINGS
@given(mutated_fixture())
def test_mutated_fixtures(case: tuple[str, bytes]) -> None:
    name, data = case
    parses_or_refuses(data, name)
