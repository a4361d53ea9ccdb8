"""Role sizes: their ARM names (spec §3.1 row 2) and core counts (ARM core quota R40, usage, role-size lists).

Both look-ups ignore case, as the platform does: `small`, `Small` and `SMALL` are one size.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

# The classic role size a VM has when it names none.
DEFAULT_CLASSIC: Final = "Small"

# The sizes the classic platform offers (List Role Sizes, a location's compute capabilities).
WEB_WORKER_SIZES: Final = ("ExtraSmall", "Small", "Medium", "Large", "ExtraLarge")
VM_SIZES: Final = (*WEB_WORKER_SIZES, *(f"A{n}" for n in range(5, 12)), *(f"Basic_A{n}" for n in range(5)),
                   "Standard_D1", "Standard_D2", "Standard_D3", "Standard_D4", "Standard_DS1", "Standard_DS2",
                   "Standard_DS3", "Standard_DS4", "Standard_D1_v2", "Standard_D2_v2", "Standard_D3_v2",
                   "Standard_D4_v2")

# Classic names with another ARM name (CSES deploy-prerequisite); every other size (Basic_A*, Standard_D*, …)
# keeps its name. Keyed by lower name.
_TO_ARM: Final[dict[str, str]] = {
    "extrasmall": "Standard_A0", "small": "Standard_A1", "medium": "Standard_A2", "large": "Standard_A3",
    "extralarge": "Standard_A4", **{f"a{n}": f"Standard_A{n}" for n in range(5, 12)},
}

# Cores per size, keyed by a normalised name (see `_key`): the classic A-series names, Basic_A*, and the
# D/DS/Dv2/F/G/GS series that classic offered. DS/GS have the cores of D/G.
_CORES: Final[dict[str, int]] = {
    "extrasmall": 1, "small": 1, "medium": 2, "large": 4, "extralarge": 8,
    "a0": 1, "a1": 1, "a2": 2, "a3": 4, "a4": 8, "a5": 2, "a6": 4, "a7": 8, "a8": 8, "a9": 16, "a10": 8, "a11": 16,
    "a1_v2": 1, "a2_v2": 2, "a4_v2": 4, "a8_v2": 8, "a2m_v2": 2, "a4m_v2": 4, "a8m_v2": 8,
    "d1": 1, "d2": 2, "d3": 4, "d4": 8, "d11": 2, "d12": 4, "d13": 8, "d14": 16,
    "d1_v2": 1, "d2_v2": 2, "d3_v2": 4, "d4_v2": 8, "d5_v2": 16, "d11_v2": 2, "d12_v2": 4, "d13_v2": 8,
    "d14_v2": 16, "d15_v2": 20,
    "f1": 1, "f2": 2, "f4": 4, "f8": 8, "f16": 16,
    "g1": 2, "g2": 4, "g3": 8, "g4": 16, "g5": 32,
}
_PREFIX: Final = re.compile(r"^(standard_|basic_)")


_BY_LOWER: Final[dict[str, str]] = {name.lower(): name for name in VM_SIZES}


def role_size(name: str) -> str | None:
    """A classic role size in its canonical spelling (matched ignoring case), or None when ASM offers no such
    size."""
    return _BY_LOWER.get(name.lower())


@lru_cache(maxsize=1024)  # a handful of names, asked once per VM
def arm_size(classic_size: str | None) -> str:
    """The ARM vmSize of a classic role size: ExtraSmall..ExtraLarge → Standard_A0..A4, A5..A11 →
    Standard_A5..A11, everything else unchanged; no size is classic's default (Small)."""
    size = (classic_size or DEFAULT_CLASSIC).strip()
    return _TO_ARM.get(size.lower(), size)


def _key(size: str) -> str:
    key = _PREFIX.sub("", size.strip().lower())
    return key[0] + key[2:] if key.startswith(("ds", "gs")) else key


@lru_cache(maxsize=1024)
def cores_of(size: str | None) -> int:
    """Cores of a classic or ARM size name; an unknown size counts as one core, so it is never free."""
    return _CORES.get(_key(size or DEFAULT_CLASSIC), 1)
