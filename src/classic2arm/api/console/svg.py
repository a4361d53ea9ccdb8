"""The downtime chart's geometry: each VM a row, each stop/deallocate window a bar on the world clock. Only
presentation: the windows themselves come from `service.console.unit_view` (the recorded data-plane timeline)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ...service.console import UnitView

WIDTH = 640
LABEL = 160  # px for the VM names
ROW = 24
MIN_BAR = 3  # a window of a second still shows


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    title: str  # the tooltip: from, to, why
    open: bool


@dataclass(frozen=True, slots=True)
class Row:
    vm: str
    y: int
    note: str  # "VNet VM: no downtime", "1 window" …
    bars: list[Bar]


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    label: int
    start: str
    end: str
    rows: list[Row]
    windows: int


def _fmt(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def timelines(view: UnitView) -> Chart | None:
    if not view.timelines:
        return None
    starts = [w.start for t in view.timelines for w in t.windows]
    ends = [w.end or view.now for t in view.timelines for w in t.windows]
    t0 = min(starts) if starts else view.now
    t1 = max(ends) if ends else view.now
    span = max((t1 - t0).total_seconds(), 1.0)
    pad = timedelta(seconds=span * 0.05)
    t0, t1 = t0 - pad, t1 + pad
    span = (t1 - t0).total_seconds()
    plot = WIDTH - LABEL - 10
    rows = []
    for i, t in enumerate(view.timelines):
        bars = []
        for w in t.windows:
            end = w.end or view.now
            x = LABEL + (w.start - t0).total_seconds() / span * plot
            width = max(MIN_BAR, (end - w.start).total_seconds() / span * plot)
            title = f"down {_fmt(w.start)} → {_fmt(w.end) if w.end else 'still down'}" + (
                f" ({w.reason})" if w.reason else "")
            bars.append(Bar(round(x, 1), round(width, 1), title, w.end is None))
        n = len(t.windows)
        note = ("VNet VM: no downtime" if t.in_vnet and n == 0 else
                "no downtime" if n == 0 else f"{n} window{'s' if n != 1 else ''}")
        rows.append(Row(t.vm, 20 + i * ROW, note, bars))
    return Chart(WIDTH, 30 + len(rows) * ROW, LABEL, _fmt(t0), _fmt(t1), rows,
                 sum(len(t.windows) for t in view.timelines))
