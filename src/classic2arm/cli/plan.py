"""`classic2arm plan`: the whole subscription in one look (issue 12). Parses, calls `service.plan.build_plan`,
renders: a table (default), `--json`, or `--format markdown|html|csv` (to stdout or `-o FILE`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import output

if TYPE_CHECKING:
    from ..domain.planning.model import Plan, PlannedUnit, VmImpact
    from ..service.context import AppContext

FORMATS = ("table", "markdown", "html", "csv")


def _usage_error(text: str) -> typer.Exit:
    """One line on stderr and exit 2 (typer's own usage box spans several lines)."""
    from rich.markup import escape

    output.err.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _hours(minutes: float) -> str:
    h, m = divmod(round(minutes), 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def _rules_of(u: PlannedUnit) -> str:
    from ..domain.fixes import fix_for

    out = []
    for rule in sorted({m.rule for m in u.blockers}):
        fixable = any(fix_for(m) is not None for m in u.blockers if m.rule == rule)
        out.append(f"{rule}{' (fix)' if fixable else ''}")
    return " ".join(out)


def _impact(i: VmImpact) -> str:
    from ..domain import catalogue as t

    return t.IMPACT_RESTART.format(minutes=i.downtime_seconds / 60) if i.restart else t.IMPACT_NONE


def _context(plan: Plan) -> dict[str, Any]:
    restart = [i for i in plan.impacts if i.restart]
    return {"plan": plan, "s": plan.summary, "hours": _hours, "rules_of": _rules_of, "impact": _impact,
            "restart": restart, "vnet_vms": sum(1 for i in plan.impacts if not i.restart),
            "short_regions": sorted({q.region for q in plan.quota if not q.ok})}


def _md(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_template(plan: Plan, fmt: str) -> str:
    """Markdown or HTML from the package's Jinja2 templates (HTML autoescaped, no external assets)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("classic2arm.cli", "templates"),
                             autoescape=jinja2.select_autoescape(["html.j2"]), trim_blocks=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["md"] = _md
    name = "plan.html.j2" if fmt == "html" else "plan.md.j2"
    return env.get_template(name).render(**_context(plan))


def render_csv(plan: Plan) -> str:
    import csv
    import io

    from ..domain.planning.report import CSV_COLUMNS, csv_rows

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    w.writerows(csv_rows(plan))
    return buf.getvalue()


def _write(text: str, out_file: Path | None) -> None:
    if out_file is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    tmp = out_file.with_name(out_file.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out_file)  # nothing half-written
    except BaseException:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _table(plan: Plan, units: bool) -> None:
    s = plan.summary
    o = output.out
    o.print(f"[bold]Plan[/] for subscription {plan.subscription}: {s['remaining']} units to migrate "
            f"({s['vms']} VMs) in {s['waves']} waves, {s['done']} committed; {s['blocked']} units "
            f"({s['blockedVms']} VMs) blocked by {s['blockers']} blockers; estimated {_hours(plan.total_minutes)}.",
            highlight=False)
    output.table("waves", ["wave", "title", "units", "VMs", "blocked", "ARM writes", "minutes", "bound"],
                 [(w.number, w.title, len(w.units), w.vms, sum(u.blocked for u in w.units),
                   w.estimate.arm_writes if w.estimate else "", w.estimate.minutes if w.estimate else "",
                   w.estimate.bound if w.estimate else "") for w in plan.waves], "table")
    for w in plan.waves:
        for n in w.notes:
            o.print(f"  wave {w.number}: {n}", highlight=False)
    if units:
        output.table("units", ["wave", "kind", "name", "cloud service", "state", "VMs", "blockers",
                               "prerequisites"],
                     [(w.number, u.ref.kind.value, u.ref.name, u.ref.service, u.migration_state, u.vms,
                       _rules_of(u), "; ".join(u.prerequisites)) for w in plan.waves for u in w.units], "table")
    output.table("blockers by VMs held back", ["rule", "code", "VMs held back", "units", "messages", "fix",
                                               "mitigation"],
                 [(g.rule, g.code, g.vms_held_back, len(g.units), len(g.messages),
                   f"classic2arm fix {g.fix}" if g.fix else "-",
                   g.mitigation + (" (ours)" if g.mitigation_ours else " (errors page)")) for g in plan.ranking],
                 "table")
    output.table("ARM quota per region", ["region", "kind", "in use", "plan adds", "quota", "status"],
                 [(q.region, q.kind, q.usage, q.needed, "none" if q.quota is None else q.quota,
                   "ok" if q.ok else f"SHORT by {q.short}") for q in plan.quota], "table")
    restart = [i for i in plan.impacts if i.restart]
    warned = sum(1 for i in restart if i.warnings)
    o.print(f"Data-plane impact: {len(plan.impacts) - len(restart)} VNet VMs none; {len(restart)} VMs outside a "
            f"VNet stop/deallocate/start during prepare ({warned} with an address change: see --format "
            "markdown|html or --json).", highlight=False)
    o.print(f"Production units: {plan.production_marker}.", highlight=False)
    o.print("Assumptions:", highlight=False)
    for a in plan.assumptions:
        o.print(f"  - {a}", highlight=False)
    for n in plan.notes:
        o.print(f"note: {n}", highlight=False)


def register(app: typer.Typer, get_ctx: Callable[[], AppContext]) -> None:
    @app.command("plan")
    def plan_(
        fmt: Annotated[str, typer.Option("--format", help="table (default), markdown, html or csv.")] = "table",
        out_file: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")]
        = None,
        units: Annotated[bool, typer.Option("--units", help="Table: list every unit of every wave too.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the whole plan as JSON.")] = False,
    ) -> None:
        """The whole subscription in one look: waves, blockers by rule, quota, impact, time."""
        if fmt not in FORMATS:
            raise _usage_error(f"--format must be one of {', '.join(FORMATS)}, not '{fmt}'")
        if as_json and fmt != "table":
            raise _usage_error("--json and --format can't be combined: --json is the JSON format")
        if out_file is not None and fmt == "table" and not as_json:
            raise _usage_error("--output needs --json or --format markdown|html|csv (the table is for a terminal)")
        if out_file is not None and out_file.is_dir():
            raise _usage_error(f"--output {out_file} is a directory: give a file name")
        if out_file is not None and not out_file.parent.is_dir():
            raise _usage_error(f"--output {out_file}: directory {out_file.parent} doesn't exist")
        from ..gcpause import gc_paused

        with gc_paused():  # rendering allocates as much as the plan: the collector would walk both again
            _render(get_ctx, fmt, out_file, units, as_json)


def _render(get_ctx: Callable[[], AppContext], fmt: str, out_file: Path | None, units: bool, as_json: bool) -> None:
    from ..service.plan import build_plan

    plan = build_plan(get_ctx())
    if as_json:
        import orjson

        from ..domain.planning.report import to_json

        data = orjson.dumps(to_json(plan), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
        _write(data + "\n", out_file)
    elif fmt == "csv":
        _write(render_csv(plan), out_file)
    elif fmt in ("markdown", "html"):
        _write(render_template(plan, fmt), out_file)
    else:
        _table(plan, units)
