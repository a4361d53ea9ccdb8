"""Pausing Python's cyclic garbage collector around bulk work.

Loading, validating or migrating thousands of resources allocates millions of small objects that form no
reference cycles (rows, documents, models). Every few hundred allocations the collector walks the young
objects, and every so often the whole growing heap: measured on a 10,000-VM estate that was 60–75 % of the
time of a bulk load. Reference counting still frees everything as usual while paused; only cycles wait.

Used as a decorator, so that the function's locals are freed before the collector is back on: the first
collection afterwards walks every container object allocated while paused that is still alive.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # pauses in force (threads of one server may overlap)
_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collector off for the block; back to its previous state when the last overlapping pause ends."""
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
                gc.enable()
