"""Pausing Python's cyclic garbage collector around bulk work.

Loading, validating or migrating thousands of resources allocates millions of small objects that form no
reference cycles (rows, documents, models). Every few hundred allocations the collector walks the young
objects, and every so often the whole growing heap: measured on a 10,000-VM estate that was 60–75 % of the
time of a bulk load. Reference counting still frees everything as usual while paused; only cycles wait.

Used as a decorator, so that the function's locals are freed before the collector is back on. What is still
alive then is long-lived by design (a kept index of the subscription, caches): it is frozen (`gc.freeze`, a
list splice) so that the next young collections don't walk it. Unfrozen, the first collection after a
10,000-VM validate walked its 700,000 objects (0.28 s) and found no garbage; the next generation's did it
again (0.38 s). Frozen objects are still freed by reference counting. Cycles among them would wait, so when
the frozen heap has doubled since it was last handed back, it is handed back to the oldest generation, for the
collector's own full-collection schedule: the memory a cycle can hold is bounded by the live heap.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # pauses in force (threads of one server may overlap)
_was_enabled = True
FREEZE_FLOOR = 200_000  # frozen objects below which the frozen heap is never handed back
_handed_back_at = 0  # frozen objects when the frozen heap was last handed back


def _freeze_survivors() -> None:
    global _handed_back_at
    gc.freeze()
    frozen = gc.get_freeze_count()
    if frozen > 2 * max(_handed_back_at, FREEZE_FLOOR):
        gc.unfreeze()
        _handed_back_at = frozen


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collector off for the block; back to its previous state when the last overlapping pause ends, with the
    survivors frozen (see the module notes)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                _freeze_survivors()
                gc.enable()
