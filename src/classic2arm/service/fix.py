"""`classic2arm fix`: the mechanical remediations of domain/fixes.py, applied as classic writes.

One read transaction finds, for every unit (or the one asked for), its validation messages (the same rules over
the same snapshots as `validate --all`, read through the same kept index, but writing nothing and without the
provider registration validate needs) and the writes each fix would make there (`fixes.targets`). Applying a
target is one classic write use case of `classic_writes.py` — the ones the ASM API and the CLI verbs call —
each its own transaction, with its lock checks (R50/R51 texts while a migration holds the resource) and one
audited operation whose id the event-log entries of the resources it changed carry (`request.fix` names the
fix). A refused write is reported and the others go on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..domain import fixes, rules
from ..domain.state_machine import LOCKED_STATES
from ..domain.units import Category, Destination, Message, Phase, UnitKind, UnitRef
from ..gcpause import gc_paused
from . import classic_writes as cw
from . import clock
from .bulk import classic_units
from .context import AppContext
from .errors import Locked, NotFound, ServiceError
from .snapshot import load_unit, unit_id

PLANNED, APPLIED, UNCHANGED, REFUSED, FAILED = "planned", "applied", "unchanged", "refused", "failed"
EXAMPLES = 5  # units named per blocker in the listing


def unit_label(ref: UnitRef) -> str:
    """A unit as `--unit` takes it (cli/migrate.parse_unit): deployment:SERVICE/DEPLOYMENT, vnet:NAME, …"""
    return f"{ref.kind.value}:{ref.service}/{ref.name}" if ref.kind == UnitKind.DEPLOYMENT else \
        f"{ref.kind.value}:{ref.name}"


@dataclass(slots=True)
class _Unit:
    ref: UnitRef
    locked: bool
    messages: list[Message]
    targets: dict[str, list[fixes.Target]]  # by fix name


@dataclass(slots=True)
class Change:
    """One target of a fix, and what became of it."""

    target: fixes.Target
    unit: str
    status: str = PLANNED
    operation_id: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, **self.target.to_json(), "status": self.status,
                "operationId": self.operation_id, "error": self.error}


@dataclass(slots=True)
class FixSummary:
    """A fix in `fix --list`: how many messages and units it concerns, and how many units it alone unblocks
    (their other messages are no Errors)."""

    fix: fixes.Fix
    messages: int = 0
    units: int = 0
    unblocks: int = 0
    changes: int = 0  # writes it would make now

    def to_json(self) -> dict[str, Any]:
        return {"name": self.fix.name, "rules": sorted(self.fix.rules), "summary": self.fix.summary,
                "messages": self.messages, "units": self.units, "unblocks": self.unblocks, "changes": self.changes}


@dataclass(slots=True)
class ManualBlocker:
    """Errors of one rule no fix clears: what the user must do is what the message says."""

    rule: str
    messages: int = 0
    units: list[str] = field(default_factory=list)
    advice: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "messages": self.messages, "units": len(self.units),
                "examples": self.units[:EXAMPLES], "advice": self.advice}


@dataclass(slots=True)
class Survey:
    fixes: list[FixSummary]
    manual: list[ManualBlocker]
    locked: list[str]  # units a migration holds: nothing in them can be fixed now

    def to_json(self) -> dict[str, Any]:
        return {"fixes": [f.to_json() for f in self.fixes], "manual": [m.to_json() for m in self.manual],
                "locked": self.locked}


@dataclass(slots=True)
class FixReport:
    dry_run: bool
    changes: list[Change]
    manual: list[ManualBlocker]

    @property
    def ok(self) -> bool:
        return all(c.status not in (REFUSED, FAILED) for c in self.changes)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for c in self.changes:
            out[c.status] += 1
        return dict(out)

    def nsg_rules(self) -> list[dict[str, Any]]:
        """The NSG rules to re-create after migration, per VM whose endpoint ACLs were (or would be) deleted."""
        return [{"service": c.target.service, "deployment": c.target.deployment, "vm": c.target.name,
                 "endpoints": list(c.target.items), "securityRules": list(c.target.nsg_rules)}
                for c in self.changes if c.target.nsg_rules and c.status in (PLANNED, APPLIED)]

    def to_json(self) -> dict[str, Any]:
        return {"dryRun": self.dry_run, "counts": self.counts(), "changes": [c.to_json() for c in self.changes],
                "nsgRulesToRecreate": self.nsg_rules(), "manual": [m.to_json() for m in self.manual]}


# --------------------------------------------------------------------------- reading


def _with_destination(ref: UnitRef) -> UnitRef:
    """A deployment is looked at as `validate --all` does: for a new VNet when it is outside one."""
    if ref.kind == UnitKind.DEPLOYMENT and ref.destination is None:
        return replace(ref, destination=Destination("New"))
    return ref


@gc_paused()
def _scan(ctx: AppContext, unit: UnitRef | None, wanted: Sequence[fixes.Fix]) -> list[_Unit]:
    refs = [_with_destination(unit)] if unit is not None else [u.ref for u in classic_units(ctx)]
    out: list[_Unit] = []
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        now = clock.now(tx)
        states = {u.id: u.state for u in tx.units.all(sub)}
        with ctx.classic_index(tx, sub) as src:
            for ref in refs:
                snap = load_unit(tx, sub, ref, now, src).snapshot
                if not snap.exists:
                    raise NotFound(f"The unit {unit_label(ref)} does not exist (units: `classic2arm status`).")
                locked = states.get(unit_id(sub, ref)) in LOCKED_STATES
                messages = [] if locked else rules.validate(snap, Phase.VALIDATE)
                found = {f.name: fixes.targets(f, snap) for f in wanted}
                out.append(_Unit(ref, locked, messages, found))
    return out


def _is_error(m: Message) -> bool:
    return m.category == Category.ERROR


def _manual(units: list[_Unit]) -> list[ManualBlocker]:
    by_rule: dict[str, ManualBlocker] = {}
    for u in units:
        for m in u.messages:
            if _is_error(m) and fixes.fix_for(m) is None:
                b = by_rule.setdefault(m.rule, ManualBlocker(m.rule, advice=m.message))
                b.messages += 1
                label = unit_label(u.ref)
                if not b.units or b.units[-1] != label:
                    b.units.append(label)
    return sorted(by_rule.values(), key=lambda b: (-len(b.units), b.rule))


def survey(ctx: AppContext) -> Survey:
    """`fix --list`: every fix with the messages and units it concerns across the subscription, the blockers
    no fix clears (with the message as the advice), and the units a migration holds."""
    units = _scan(ctx, None, fixes.FIXES)
    summaries = {f.name: FixSummary(f) for f in fixes.FIXES}
    for u in units:
        cleared_by: dict[str, list[Message]] = defaultdict(list)
        for m in u.messages:
            f = fixes.fix_for(m)
            if f is not None:
                cleared_by[f.name].append(m)
        for name, found in u.targets.items():
            summaries[name].changes += 0 if u.locked else len(found)
        for name, ms in cleared_by.items():
            s = summaries[name]
            s.messages += len(ms)
            s.units += 1
            if not any(_is_error(m) for m in u.messages if m not in ms):
                s.unblocks += 1
    return Survey(list(summaries.values()), _manual(units), [unit_label(u.ref) for u in units if u.locked])


# --------------------------------------------------------------------------- applying


def _apply(ctx: AppContext, t: fixes.Target) -> str:
    """The target's one classic write (its own transaction); the request id, '' when it changed nothing."""
    svc, dep = t.service or "", t.deployment or ""
    writes: dict[str, Callable[[], str]] = {
        fixes.REMOVE_EXTENSIONS: lambda: cw.remove_extensions(ctx, svc, dep, t.name, t.items, fix=t.fix),
        fixes.CLEAR_ACLS: lambda: cw.clear_endpoint_acls(ctx, svc, dep, t.name, fix=t.fix)[0],
        fixes.DISABLE_BOOT_DIAGNOSTICS: lambda: cw.disable_boot_diagnostics(ctx, svc, dep, t.name, fix=t.fix),
        fixes.RESTART_VM: lambda: cw.restart_vm(ctx, svc, dep, t.name, fix=t.fix)[1],
        fixes.RESIZE_DISK: lambda: cw.update_disk(ctx, t.name, resized_size_gb=t.size_gb, fix=t.fix)[0],
        fixes.DELETE_DISK: lambda: cw.delete_disk(ctx, t.name, delete_vhd=False, fix=t.fix),
        fixes.DELETE_OS_IMAGE: lambda: cw.delete_os_image(ctx, t.name, delete_vhd=False, fix=t.fix),
        fixes.DELETE_VM_IMAGE: lambda: cw.delete_vm_image(ctx, t.name, delete_vhd=False, fix=t.fix),
    }
    return writes[t.write]()


def resolve(name: str) -> fixes.Fix:
    f = fixes.BY_NAME.get(name.lower())
    if f is None:
        raise ServiceError("UnknownFix", f"unknown fix '{name[:80]}'; known: {', '.join(fixes.BY_NAME)} "
                                         f"(`classic2arm fix --list`)", 400)
    return f


def run(ctx: AppContext, names: Sequence[str] | None = None, unit: UnitRef | None = None,
        dry_run: bool = False) -> FixReport:
    """Apply the fixes named (all with None) to every unit or to `unit`; with `dry_run` only say what would
    change. The report lists every change (a VM or disk several units share, once) and, with every fix asked
    for, the blockers no fix clears."""
    wanted = list(fixes.FIXES) if names is None else [resolve(n) for n in names]
    units = _scan(ctx, unit, wanted)
    seen: set[tuple[str, ...]] = set()
    changes: list[Change] = []
    for u in units:
        for f in wanted:
            for t in u.targets[f.name]:
                if t.key not in seen:
                    seen.add(t.key)
                    changes.append(Change(t, unit_label(u.ref)))
    if not dry_run:
        for ch in changes:
            try:
                op = _apply(ctx, ch.target)
            except Locked as exc:
                ch.status, ch.error = REFUSED, exc.message
            except ServiceError as exc:
                ch.status, ch.error = FAILED, exc.message
            else:
                ch.status, ch.operation_id = (APPLIED, op) if op else (UNCHANGED, None)
    return FixReport(dry_run, changes, _manual(units) if names is None else [])


# --------------------------------------------------------------------------- the CLI verb of one VM's ACLs


@dataclass(frozen=True, slots=True)
class AclsCleared:
    operation_id: str  # '' when the VM had no ACL to delete
    endpoints: list[str]
    nsg_rules: list[dict[str, Any]]  # the equivalent NSG rules to re-create after migration

    def to_json(self) -> dict[str, Any]:
        return {"operationId": self.operation_id or None, "endpoints": self.endpoints, "nsgRules": self.nsg_rules}


def clear_endpoint_acls(ctx: AppContext, svc: str, dep: str, vm: str, endpoint: str | None = None) -> AclsCleared:
    """`vm endpoint acl clear`: the classic write, and the NSG rules that do what the deleted ACLs did."""
    op, cleared = cw.clear_endpoint_acls(ctx, svc, dep, vm, endpoint)
    return AclsCleared(op, [e.name for e in cleared], fixes.acl_nsg_rules(vm, cleared))
