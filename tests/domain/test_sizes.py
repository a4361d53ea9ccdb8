"""domain/sizes.py: the one classic→ARM size map and core count, both case-insensitive."""

from __future__ import annotations

import pytest

from classic2arm.domain import sizes


@pytest.mark.parametrize(("classic", "expected"), [
    ("ExtraSmall", "Standard_A0"), ("small", "Standard_A1"), ("MEDIUM", "Standard_A2"), ("Large", "Standard_A3"),
    ("extralarge", "Standard_A4"), ("a5", "Standard_A5"), ("A11", "Standard_A11"), (" Small ", "Standard_A1"),
    ("Basic_A2", "Basic_A2"), ("Standard_DS3_v2", "Standard_DS3_v2"), ("A12", "A12"), (None, "Standard_A1"),
    ("", "Standard_A1"),
])
def test_arm_size(classic: str | None, expected: str) -> None:
    assert sizes.arm_size(classic) == expected


@pytest.mark.parametrize(("size", "cores"), [
    ("ExtraSmall", 1), ("extralarge", 8), ("A7", 8), ("a9", 16), ("Basic_A2", 2), ("basic_a4", 8),
    ("Standard_D14", 16), ("standard_ds4", 8), ("Standard_DS2_v2", 2), ("Standard_GS5", 32), ("Standard_F16", 16),
    ("Standard_A8m_v2", 8), (None, 1), ("Weird", 1),
])
def test_cores_of(size: str | None, cores: int) -> None:
    assert sizes.cores_of(size) == cores


@pytest.mark.parametrize("classic", ["ExtraSmall", "Small", "Medium", "Large", "ExtraLarge", "A5", "A8", "A11"])
def test_a_classic_size_and_its_arm_name_have_the_same_cores(classic: str) -> None:
    # The ARM quota counts the translated VM; the classic usage counts the role: they must agree.
    assert sizes.cores_of(classic) == sizes.cores_of(sizes.arm_size(classic)) == \
        sizes.cores_of(sizes.arm_size(classic).upper())
