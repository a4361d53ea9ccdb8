"""The waves: which unit goes when (issue 12, planning-facts "Order and dependencies").

Slots in execution order; the production units repeat them after everything else:

    standalone reserved IPs / NSGs / route tables → deployments outside a VNet → simple VNets (fewest VMs first)
    → VNets with a gateway, peering or ExpressRoute (their prerequisites listed) → storage accounts

A storage account sits in the storage slot of its group, after every compute slot of that group; it is production
when it is marked so or when any unit whose VMs have disks in it is, so it always comes after all of them. Committed
units are left out of the waves (`Plan.done`); blocked ones stay in their wave with their blockers.
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import catalogue as t
from ..units import UnitKind
from .model import PlannedUnit, Wave

_STANDALONE = (UnitKind.RESERVED_IP, UnitKind.NSG, UnitKind.ROUTE_TABLE)
_TITLES = (t.WAVE_STANDALONE, t.WAVE_DEPLOYMENTS, t.WAVE_SIMPLE_VNETS, t.WAVE_FLAGGED_VNETS, t.WAVE_STORAGE)
_STORAGE_SLOT = 4
LARGE_VNET_VMS = 400  # plan page: more than 400 VMs in one VNet may hit the 1,200 writes/hour limit


def _compute_slot(u: PlannedUnit) -> int:
    if u.ref.kind in _STANDALONE:
        return 0
    if u.ref.kind == UnitKind.DEPLOYMENT:
        return 1
    return 3 if u.prerequisites else 2


def slots(units: Iterable[PlannedUnit]) -> dict[str, int]:
    """Each not-yet-committed unit's slot: 0–4 for the other units, 5–9 for production ones."""
    todo = [u for u in units if not u.done]
    out: dict[str, int] = {}
    for u in todo:
        if u.ref.kind != UnitKind.STORAGE:
            out[u.key] = _compute_slot(u) + (5 if u.production else 0)
    for u in todo:
        if u.ref.kind == UnitKind.STORAGE:
            after = [out[k] for k in u.after if k in out]
            production = u.production or any(s >= 5 for s in after)
            out[u.key] = _STORAGE_SLOT + (5 if production else 0)
    return out


def _sort_key(u: PlannedUnit) -> tuple[int, int, str]:
    # simple ones first: fewest VMs, then by name; blocked units after the ones that can go
    return (u.blocked, u.vms, u.key)


def waves(units: Iterable[PlannedUnit], marker: str = t.PRODUCTION_MARKER) -> tuple[tuple[Wave, ...],
                                                                                    tuple[PlannedUnit, ...]]:
    """(waves, done): the units still to migrate in numbered waves, and the committed ones."""
    units = list(units)
    done = tuple(sorted((u for u in units if u.done), key=lambda u: u.key))
    slot_of = slots(units)
    by_slot: dict[int, list[PlannedUnit]] = {}
    for u in units:
        if not u.done:
            by_slot.setdefault(slot_of[u.key], []).append(u)
    out: list[Wave] = []
    for slot in sorted(by_slot):
        members = tuple(sorted(by_slot[slot], key=_sort_key))
        title = _TITLES[slot % 5]
        notes: list[str] = []
        if slot >= 5:
            title = t.WAVE_PRODUCTION.format(title=title)
            notes.append(t.NOTE_PRODUCTION.format(marker=marker))
        notes += [t.NOTE_LARGE_VNET.format(vnet=u.ref.name, vms=u.vms) for u in members
                  if u.ref.kind == UnitKind.VNET and u.vms > LARGE_VNET_VMS]
        blocked = sum(u.blocked for u in members)
        if blocked:
            notes.append(t.NOTE_BLOCKED.format(count=blocked, units=len(members)))
        moving = sum(u.moves_with_user for u in members)
        if moving:
            notes.append(t.NOTE_MOVES_WITH_USER.format(count=moving))
        out.append(Wave(len(out) + 1, title, members, notes=tuple(notes)))
    return tuple(out), done
