"""The plan as data for its renderers: the `--json` document and the CSV rows (one per unit). Pure."""

from __future__ import annotations

from typing import Any

from .model import BlockerGroup, Plan, PlannedUnit, QuotaLine, VmImpact, Wave

CSV_COLUMNS = ("wave", "wave_title", "kind", "name", "service", "state", "vms", "location", "production",
               "blocked", "blocker_rules", "blockers", "fixable_by", "warnings", "prerequisites", "after",
               "arm_writes")


def unit_json(u: PlannedUnit) -> dict[str, Any]:
    return {"key": u.key, "kind": u.ref.kind.value, "name": u.ref.name, "service": u.ref.service,
            "state": u.migration_state, "vms": u.vms, "location": u.location, "production": u.production,
            "blocked": u.blocked, "movesWithUser": u.moves_with_user, "inProgress": u.in_progress,
            "blockers": [m.to_json() | {"rule": m.rule} for m in u.blockers],
            "warnings": [m.to_json() | {"rule": m.rule} for m in u.warnings],
            "prerequisites": list(u.prerequisites), "after": list(u.after), "needs": dict(u.needs),
            "armWrites": u.arm_writes, "clonedInto": list(u.cloned_into)}


def wave_json(w: Wave) -> dict[str, Any]:
    e = w.estimate
    return {"number": w.number, "title": w.title, "vms": w.vms, "notes": list(w.notes),
            "estimate": None if e is None else {
                "armWrites": e.arm_writes, "workMinutes": e.work_minutes, "throttleMinutes": e.throttle_minutes,
                "minutes": e.minutes, "longestLockMinutes": e.longest_lock_minutes, "bound": e.bound},
            "units": [unit_json(u) for u in w.units]}


def group_json(g: BlockerGroup) -> dict[str, Any]:
    return {"rule": g.rule, "code": g.code, "count": len(g.messages), "units": list(g.units),
            "vmsHeldBack": g.vms_held_back, "mitigation": g.mitigation,
            "mitigationSource": "ours" if g.mitigation_ours else "errors page",
            "fix": g.fix, "fixSummary": g.fix_summary,
            "messages": [{"unit": k, **m.to_json()} for k, m in g.messages]}


def quota_json(q: QuotaLine) -> dict[str, Any]:
    return {"region": q.region, "kind": q.kind, "usage": q.usage, "needed": q.needed, "quota": q.quota,
            "ok": q.ok, "short": q.short}


def impact_json(i: VmImpact) -> dict[str, Any]:
    return {"vm": i.vm, "service": i.service, "unit": i.unit, "inVnet": i.in_vnet, "restart": i.restart,
            "downtimeSeconds": i.downtime_seconds, "warnings": list(i.warnings)}


def to_json(plan: Plan) -> dict[str, Any]:
    return {"subscription": plan.subscription, "summary": dict(plan.summary),
            "totalMinutes": plan.total_minutes, "quotaOk": plan.quota_ok,
            "productionMarker": plan.production_marker, "assumptions": list(plan.assumptions),
            "notes": list(plan.notes),
            "waves": [wave_json(w) for w in plan.waves], "done": [unit_json(u) for u in plan.done],
            "blockersByRule": [group_json(g) for g in plan.blockers_by_rule],
            "ranking": [{"rule": g.rule, "code": g.code, "vmsHeldBack": g.vms_held_back, "units": len(g.units),
                         "fix": g.fix} for g in plan.ranking],
            "quota": [quota_json(q) for q in plan.quota],
            "impacts": [impact_json(i) for i in plan.impacts]}


def _unit_row(wave: int | str, title: str, u: PlannedUnit) -> tuple[Any, ...]:
    from ..fixes import fix_for

    fixes = sorted({f.name for f in (fix_for(m) for m in u.blockers) if f is not None})
    return (wave, title, u.ref.kind.value, u.ref.name, u.ref.service or "", u.migration_state, u.vms,
            u.location or "", u.production, u.blocked, " ".join(sorted({m.rule for m in u.blockers})),
            len(u.blockers), " ".join(fixes), len(u.warnings), " | ".join(u.prerequisites), " ".join(u.after),
            u.arm_writes)


def csv_rows(plan: Plan) -> list[tuple[Any, ...]]:
    """One row per unit, in wave order, then the committed ones (wave 'done')."""
    rows = [_unit_row(w.number, w.title, u) for w in plan.waves for u in w.units]
    rows += [_unit_row("done", "Committed", u) for u in plan.done]
    return rows
