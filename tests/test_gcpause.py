"""The collector pause around bulk work: off inside, back on after, survivors moved to the oldest generation
(out of the young collections' way), and cycles made while paused still reclaimed by a full collection."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from classic2arm.gcpause import gc_paused


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector can free it


@pytest.fixture(autouse=True)
def _collector_back_on() -> Iterator[None]:
    yield
    gc.enable()


def test_off_inside_back_on_after_nested() -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_stays_off_when_it_was_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_survivors_skip_the_young_generations() -> None:
    with gc_paused():
        kept = [[i] for i in range(10_000)]
    young = {id(o) for o in gc.get_objects(generation=0) + gc.get_objects(generation=1)}
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert not any(id(x) in young for x in kept)
    assert all(id(x) in oldest for x in kept)
    assert gc.get_freeze_count() == 0  # nothing left out of the collector's reach


def test_cycles_made_while_paused_are_reclaimed_by_a_full_collection() -> None:
    with gc_paused():
        ref = weakref.ref(_Node())  # garbage, but only a collection can tell
    gc.collect(1)
    assert ref() is not None, "young collections no longer look at it"
    gc.collect()
    assert ref() is None
