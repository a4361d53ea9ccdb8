"""Plan-wide figures from the planned units (pure): blockers grouped by rule and ranked, the quota check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .. import catalogue as t
from ..fixes import fix_for
from ..rules import quota
from ..units import Message
from .model import BlockerGroup, PlannedUnit, QuotaLine


def _rule_order(rule: str) -> tuple[int, str]:
    digits = "".join(ch for ch in rule if ch.isdigit())
    return (int(digits) if digits else 0, rule)


def _code_of(rule: str) -> str:
    for value in vars(t).values():
        if isinstance(value, t.Text) and value.rule == rule:
            return value.code
    return ""


def blocker_groups(units: Iterable[PlannedUnit]) -> tuple[BlockerGroup, ...]:
    """Every blocker of every unit, one group per rule (by rule id), with its mitigation and fix."""
    messages: dict[str, list[tuple[str, Message]]] = {}
    unit_vms: dict[str, dict[str, int]] = {}
    for u in units:
        for m in u.blockers:
            messages.setdefault(m.rule, []).append((u.key, m))
            unit_vms.setdefault(m.rule, {})[u.key] = u.vms
    out: list[BlockerGroup] = []
    for rule in sorted(messages, key=_rule_order):
        found = messages[rule]
        mitigation = t.MITIGATIONS.get(rule)
        fixes = [f for f in (fix_for(m) for _, m in found) if f is not None]
        fix = fixes[0] if fixes else None
        out.append(BlockerGroup(
            rule=rule, code=_code_of(rule), messages=tuple(found), units=tuple(unit_vms[rule]),
            vms_held_back=sum(unit_vms[rule].values()),
            mitigation=mitigation.text if mitigation else t.MITIGATION_UNKNOWN,
            mitigation_ours=mitigation.ours if mitigation else True,
            fix=fix.name if fix else None, fix_summary=fix.summary if fix else None))
    return tuple(out)


def ranking(groups: Iterable[BlockerGroup]) -> tuple[BlockerGroup, ...]:
    """Most VMs held back first (then most units, then rule id)."""
    return tuple(sorted(groups, key=lambda g: (-g.vms_held_back, -len(g.units), _rule_order(g.rule))))


QUOTA_KINDS = (quota.CORES, quota.NICS, quota.PUBLIC_IPS, quota.STATIC_PUBLIC_IPS, quota.LOAD_BALANCERS,
               quota.NSGS, quota.ROUTE_TABLES, quota.VIRTUAL_NETWORKS, quota.AVAILABILITY_SETS,
               quota.STORAGE_ACCOUNTS)


def quota_lines(units: Iterable[PlannedUnit], usage: Mapping[str, Mapping[str, int]],
                quotas: Mapping[str, Mapping[str, int]]) -> tuple[QuotaLine, ...]:
    """Per region and kind: usage now + what the remaining units add, against the subscription's quota (a kind
    without a quota is unlimited, as R40 treats it)."""
    needed: dict[str, dict[str, int]] = {}
    for u in units:
        if u.done or u.location is None:
            continue
        adds = needed.setdefault(u.location, {})
        for kind, n in u.needs:
            adds[kind] = adds.get(kind, 0) + n
    out: list[QuotaLine] = []
    for region in sorted(set(needed) | set(quotas)):
        need, have, limit = needed.get(region, {}), usage.get(region, {}), quotas.get(region, {})
        for kind in QUOTA_KINDS:
            if need.get(kind, 0) or kind in limit:
                out.append(QuotaLine(region, kind, have.get(kind, 0), need.get(kind, 0), limit.get(kind)))
    return tuple(out)
