"""Read-only bulk work spread over the machine's cores by forking.

A forked child starts with everything its parent has read (say an index of a subscription, already parsed):
nothing is sent to it, and a page is copied only when one of the two writes to it. It computes its part and
sends the answers back through a pipe while the parent computes the first part. Python runs one thread at a
time, so this is how one call gets a second core.

Forking is safe only where no other thread can hold a lock the child would inherit held: `available()`
answers 1 in a process running any other thread (a server's), and where there is no `fork`. A child must not
use what the parent holds open (database connections): its work is told `in_child=True` and answers None for
an item it cannot do without them. Whatever a child does not answer (None, an exception, a crash, a kill) is
done again in the parent, so the answers are always those of doing everything in the parent.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import TypeVar

J = TypeVar("J")
R = TypeVar("R")

# (items, in_child) -> one answer per item; None where a child could not do it
Work = Callable[[list[J], bool], list[R | None]]


def available() -> int:
    """How many processes one call may use: the cores this process may run on, or 1 where forking is unsafe
    (no `fork`, or another thread running)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # (not on Linux)
        return max(1, os.cpu_count() or 1)


def split(weights: Sequence[int], parts: int, movable: Sequence[bool], head_start: int = 0) -> list[list[int]]:
    """Indexes of the items in `parts` groups of near-equal total weight (heaviest first, each to the lightest
    group), each in item order. Items that may not go to a child (`movable` False) stay in the first group,
    the parent's, which also starts `head_start` heavier (for what else the parent does meanwhile)."""
    groups: list[list[int]] = [[] for _ in range(max(1, parts))]
    loads = [0] * len(groups)
    loads[0] = head_start
    for i, can_move in enumerate(movable):
        if not can_move:
            groups[0].append(i)
            loads[0] += weights[i]
    for i in sorted((i for i, m in enumerate(movable) if m), key=lambda i: -weights[i]):
        g = loads.index(min(loads))
        groups[g].append(i)
        loads[g] += weights[i]
    return [sorted(g) for g in groups]


def _child(send: Connection, work: Work[J, R], items: list[J]) -> None:
    try:
        answer: tuple[str, object] = ("ok", work(items, True))
    except BaseException:  # (anything: the parent does the part again, and meets the real error if there is one)
        answer = ("error", traceback.format_exc())
    send.send(answer)
    send.close()


def run(items: list[J], groups: list[list[int]], work: Work[J, R],
        meanwhile: Callable[[], object] | None = None) -> list[R]:
    """`work` over `items`: group 0 here and every other non-empty group in a forked child; the answers in item
    order. In the parent, `work` must answer every item. `meanwhile` runs here once the children have started
    (work of the parent's own that needn't wait for the answers)."""
    answers: list[R | None] = [None] * len(items)
    done = [False] * len(items)
    context = multiprocessing.get_context("fork")
    children: list[tuple[list[int], multiprocessing.process.BaseProcess, Connection]] = []
    try:
        for group in groups[1:]:
            if group:
                recv, send = context.Pipe(duplex=False)
                proc = context.Process(target=_child, args=(send, work, [items[i] for i in group]), daemon=True)
                proc.start()
                send.close()  # (the parent's copy: `recv` then sees EOF if the child dies without answering)
                children.append((group, proc, recv))
        if meanwhile is not None:
            meanwhile()
        _fill(answers, done, groups[0], work([items[i] for i in groups[0]], False))
        for group, child, recv in children:
            try:
                status, payload = recv.recv()
            except (EOFError, OSError):  # the child died before answering
                continue
            finally:
                recv.close()
                child.join()
            if status == "ok" and isinstance(payload, list) and len(payload) == len(group):
                _fill(answers, done, group, payload)
    finally:
        for _, left, _ in children:  # (only after an error here: the others have been joined)
            if left.is_alive():
                left.kill()
                left.join()
    redo = [i for i, d in enumerate(done) if not d]
    if redo:
        _fill(answers, done, redo, work([items[i] for i in redo], False))
    if not all(done):
        raise RuntimeError("bulk work left an item unanswered in the calling process")
    return answers  # type: ignore[return-value]  # (every one filled: checked above)


def _fill(answers: list[R | None], done: list[bool], group: list[int], got: Sequence[R | None]) -> None:
    for i, answer in zip(group, got, strict=True):
        if answer is not None:
            answers[i], done[i] = answer, True
