"""Who holds a classic row's lock.

A unit's classic rows are stamped with the unit that holds them (`lock_holder`) and their migration state —
except the disks attached to a VM. Those are references inside the VM's document (spec §3.1 row 3) and hold
their VM's lock, the way a lock placed on an ARM scope holds its children: prepare doesn't rewrite and log a
row per disk (20,000 of them for 10,000 VMs, a third of the rows it used to lock), abort has none to unlock, and
commit removes them with their VM. Every management path to an attached disk goes through its VM, which is
checked; what reads a disk's own lock asks here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ..domain import identity as ids
from ..store import Row, Tx

INHERITED: Final = frozenset({ids.T_DISK})  # classic types that hold their parent's lock when attached


@dataclass(frozen=True, slots=True)
class LockState:
    holder: str | None
    migration_state: str | None

    @property
    def locked(self) -> bool:
        return bool(self.holder or self.migration_state)


def _own(row: Row) -> LockState:
    return LockState(row.lock_holder, row.migration_state)


def lock_states(tx: Tx, rows: Sequence[Row]) -> dict[str, LockState]:
    """Each row's lock: its own, or for an attached disk its VM's (parents not among `rows` read in one go)."""
    out = {r.key: _own(r) for r in rows}
    heirs = [r for r in rows if r.type in INHERITED and r.parent_key and not out[r.key].locked]
    if heirs:
        given = {r.key: r for r in rows}
        wanted = {r.parent_key.lower() for r in heirs if r.parent_key}
        parents = {k: given[k] for k in wanted & given.keys()}
        parents.update(tx.resources.get_many(wanted - given.keys()))
        for r in heirs:
            parent = parents.get((r.parent_key or "").lower())
            if parent is not None:
                out[r.key] = _own(parent)
    return out


def lock_state(tx: Tx, row: Row) -> LockState:
    return lock_states(tx, [row])[row.key]


def attached_disks(tx: Tx, vm_keys: Sequence[str]) -> list[str]:
    """Keys of the disks attached to these VMs (they go when their VM goes)."""
    return tx.resources.child_keys(vm_keys, ids.T_DISK) if vm_keys else []
