"""Rendering for the CLI: JSON on stdout for machines, tables and progress for people.

Rich is used for what people read; long listings are laid out here instead (rich measures every cell of a
table: 10,000 rows would take it seconds), and piped output is plain tab-separated rows."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# Above this many rows a table is laid out in plain aligned columns rather than by rich.
RICH_ROWS = 200
FORMATS = ("auto", "table", "tsv")


def emit_json(data: Any) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")
    sys.stdout.flush()


def _cell(v: Any) -> str:
    return "" if v is None else str(v)


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "table") -> None:
    """A table for people; `fmt` 'tsv' writes a header and tab-separated rows instead, 'auto' chooses tsv
    when stdout is not a terminal."""
    if fmt == "tsv" or (fmt == "auto" and not out.is_terminal):
        tsv(columns, rows)
    elif len(rows) > RICH_ROWS:
        _plain_table(title, columns, rows)
    else:
        from rich.table import Table

        t = Table(title=title, show_lines=False, header_style="bold")
        for col in columns:
            t.add_column(col, overflow="fold")
        for row in rows:
            t.add_row(*(_cell(v) for v in row))
        out.print(t)


def tsv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    w = sys.stdout.write
    w("\t".join(columns) + "\n")
    w("".join("\t".join(_cell(v).replace("\t", " ") for v in row) + "\n" for row in rows))
    sys.stdout.flush()


def _plain_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    w = sys.stdout.write
    if title:
        w(title + "\n")
    w(line(columns) + "\n" + line(["-" * n for n in widths]) + "\n")
    w("".join(line(r) + "\n" for r in cells))
    sys.stdout.flush()


def key_values(title: str, pairs: Sequence[tuple[str, Any]]) -> None:
    from rich.table import Table

    t = Table(title=title, show_header=False)
    t.add_column("key", style="bold")
    t.add_column("value", overflow="fold")
    for k, v in pairs:
        t.add_row(k, _cell(v))
    out.print(t)


@contextmanager
def progress(description: str, enabled: bool = True) -> Iterator[Progress]:
    """A progress display on stderr (never pollutes --json output on stdout)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    p = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                 console=err, transient=True, disable=not enabled)
    with p:
        yield p
