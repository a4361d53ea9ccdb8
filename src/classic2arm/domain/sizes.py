"""Classic role sizes: their ARM names (spec §3.1 row 2) and core counts (for the ARM core quota, R40)."""

from __future__ import annotations

from typing import Final

CLASSIC_TO_ARM: Final[dict[str, str]] = {
    "ExtraSmall": "Standard_A0", "Small": "Standard_A1", "Medium": "Standard_A2", "Large": "Standard_A3",
    "ExtraLarge": "Standard_A4", **{f"A{n}": f"Standard_A{n}" for n in range(5, 12)},
}

_CORES: Final[dict[str, int]] = {
    "Standard_A0": 1, "Standard_A1": 1, "Standard_A2": 2, "Standard_A3": 4, "Standard_A4": 8, "Standard_A5": 2,
    "Standard_A6": 4, "Standard_A7": 8, "Standard_A8": 8, "Standard_A9": 16, "Standard_A10": 8, "Standard_A11": 16,
    "Basic_A0": 1, "Basic_A1": 1, "Basic_A2": 2, "Basic_A3": 4, "Basic_A4": 8,
    "Standard_D1": 1, "Standard_D2": 2, "Standard_D3": 4, "Standard_D4": 8, "Standard_D11": 2, "Standard_D12": 4,
    "Standard_D13": 8, "Standard_D14": 16, "Standard_DS1": 1, "Standard_DS2": 2, "Standard_DS3": 4,
    "Standard_DS4": 8, "Standard_D1_v2": 1, "Standard_D2_v2": 2, "Standard_D3_v2": 4, "Standard_D4_v2": 8,
    "Standard_DS1_v2": 1, "Standard_DS2_v2": 2, "Standard_DS3_v2": 4, "Standard_G1": 2, "Standard_G2": 4,
}


# The role sizes the classic API offers (List Role Sizes, a location's capabilities) and accepts in a write.
WEB_WORKER_SIZES: Final[tuple[str, ...]] = ("ExtraSmall", "Small", "Medium", "Large", "ExtraLarge")
VM_SIZES: Final[tuple[str, ...]] = (
    *WEB_WORKER_SIZES, *(f"A{n}" for n in range(5, 12)), *(f"Basic_A{n}" for n in range(5)),
    "Standard_D1", "Standard_D2", "Standard_D3", "Standard_D4", "Standard_DS1", "Standard_DS2", "Standard_DS3",
    "Standard_DS4", "Standard_D1_v2", "Standard_D2_v2", "Standard_D3_v2", "Standard_D4_v2",
)
_BY_LOWER: Final[dict[str, str]] = {name.lower(): name for name in VM_SIZES}


def role_size(name: str) -> str | None:
    """A classic role size in its canonical spelling (matched ignoring case), or None when ASM offers no such
    size."""
    return _BY_LOWER.get(name.lower())


def arm_size(classic_size: str | None) -> str:
    if not classic_size:
        return "Standard_A1"
    return CLASSIC_TO_ARM.get(classic_size, classic_size)


def cores_of(size: str | None) -> int:
    """Cores of a classic or ARM size name; unknown sizes count as one core."""
    return _CORES.get(arm_size(size), 1)
