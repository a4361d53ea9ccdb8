"""The collector pause around bulk work: off inside, back on after, survivors frozen, and cycles among frozen
objects reclaimed once the frozen heap has doubled."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from classic2arm import gcpause


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector can free it


@pytest.fixture(autouse=True)
def _clean_collector() -> Iterator[None]:
    gc.unfreeze()
    gc.collect()
    yield
    gc.unfreeze()
    gc.enable()


def test_off_inside_back_on_after_nested() -> None:
    with gcpause.gc_paused():
        assert not gc.isenabled()
        with gcpause.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_stays_off_when_it_was_off() -> None:
    gc.disable()
    with gcpause.gc_paused():
        pass
    assert not gc.isenabled()


def test_survivors_are_frozen_out_of_young_collections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpause, "FREEZE_FLOOR", 10**9)
    with gcpause.gc_paused():
        kept = [[i] for i in range(10_000)]
    assert gc.get_freeze_count() >= 10_000
    walked = {id(o) for o in gc.get_objects()}  # the three generations a collection walks
    assert not any(id(x) in walked for x in kept)
    assert kept[9_999] == [9_999]


def test_frozen_cycles_are_reclaimed_once_the_frozen_heap_doubles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpause, "_handed_back_at", 0)
    monkeypatch.setattr(gcpause, "FREEZE_FLOOR", gc.get_freeze_count() + len(gc.get_objects()) + 1_000)
    with gcpause.gc_paused():
        ref = weakref.ref(_Node())  # garbage, but only a collection can tell
    gc.collect()
    assert ref() is not None, "a frozen cycle waits"
    with gcpause.gc_paused():
        grown = [[i] for i in range(2 * gcpause.FREEZE_FLOOR)]  # the live frozen heap more than doubles
    assert gc.get_freeze_count() == 0, "handed back to the collector"
    gc.collect()
    assert ref() is None
    del grown
