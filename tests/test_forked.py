"""Work shared out to forked children: answers in order, from real children, and whatever a child does not
answer is done in the parent."""

from __future__ import annotations

import os
import threading

import pytest

from classic2arm import forked

PARENT = os.getpid()


def _square(items: list[int], in_child: bool) -> list[tuple[int, int, bool] | None]:
    return [(i * i, os.getpid(), in_child) for i in items]


def test_split_balances_weights_and_keeps_unmovable_items_home() -> None:
    groups = forked.split([5, 1, 1, 1, 1, 1, 9, 1], 2, [True, True, True, True, True, True, True, False])
    assert sorted(i for g in groups for i in g) == list(range(8))
    assert 7 in groups[0]  # (not movable)
    loads = [sum([5, 1, 1, 1, 1, 1, 9, 1][i] for i in g) for g in groups]
    assert abs(loads[0] - loads[1]) <= 1
    assert all(g == sorted(g) for g in groups)
    assert forked.split([3, 4], 1, [True, True]) == [[0, 1]]


def test_a_head_start_gives_the_parent_less() -> None:
    even = forked.split([1] * 10, 2, [True] * 10)
    ahead = forked.split([1] * 10, 2, [True] * 10, head_start=4)
    assert [len(g) for g in even] == [5, 5] and [len(g) for g in ahead] == [3, 7]


def test_meanwhile_runs_once_here_while_children_work() -> None:
    calls: list[int] = []
    answers = forked.run([1, 2, 3, 4], [[0, 1], [2, 3]], _square, meanwhile=lambda: calls.append(os.getpid()))
    assert calls == [PARENT] and [a[0] for a in answers] == [1, 4, 9, 16]


def test_groups_run_in_children_and_answers_come_back_in_order() -> None:
    items = list(range(40))
    answers = forked.run(items, forked.split([1] * 40, 3, [True] * 40), _square)
    assert [a[0] for a in answers] == [i * i for i in items]
    pids = {a[1] for a in answers}
    assert PARENT in pids and len(pids) == 3  # two children besides this process
    assert all(a[2] == (a[1] != PARENT) for a in answers)  # each knew where it ran


def test_what_a_child_does_not_answer_is_done_in_the_parent() -> None:
    def partial(items: list[int], in_child: bool) -> list[int | None]:
        return [None if in_child and i % 2 else i + 100 for i in items]  # a child leaves the odd ones

    assert forked.run(list(range(10)), [[0, 1], [2, 3, 4, 5, 6, 7, 8, 9]], partial) == [i + 100 for i in range(10)]


@pytest.mark.parametrize("how", ["raises", "dies", "killed"])
def test_a_failing_child_costs_time_not_answers(how: str) -> None:
    def flaky(items: list[int], in_child: bool) -> list[int | None]:
        if in_child:
            if how == "raises":
                raise RuntimeError("boom")
            if how == "dies":
                os._exit(3)
            os.kill(os.getpid(), 9)
        return [-i for i in items]

    assert forked.run(list(range(6)), [[0, 1], [2, 3], [4, 5]], flaky) == [0, -1, -2, -3, -4, -5]


def test_an_error_in_the_parent_is_raised_and_children_are_reaped() -> None:
    def bad(items: list[int], in_child: bool) -> list[int | None]:
        if not in_child:
            raise ValueError("the real error")
        return list(items)

    with pytest.raises(ValueError, match="the real error"):
        forked.run([1, 2, 3], [[0], [1, 2]], bad)
    assert not [p for p in __import__("multiprocessing").active_children()]


def test_no_fork_while_another_thread_runs() -> None:
    assert forked.available() >= 1
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert forked.available() == 1
    finally:
        stop.set()
        other.join()
