"""What the web console shows (issue 13): the read side of its pages, composed from the use cases the CLI runs
(`status`, `plan`, `check`, `resources.show`, the downtime timeline, the fixes' targets). The console's
handlers render these views; they decide nothing.

The overview's plan is a pure function of the store's state: it is kept per subscription and rebuilt only when
the event log moved on (every change of a resource appends to it), the world clock's day changed or the
provider registration changed, so that a page of a 10,000-VM estate is served without validating every unit
again.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain import arm as armt
from ..domain import catalogue as t
from ..domain import fixes, rules
from ..domain import identity as ids
from ..domain.classic import MigrationState as S
from ..domain.planning.model import Plan, PlannedUnit, unit_key
from ..domain.state_machine import LOCKED_STATES, Op
from ..domain.units import Category, Destination, Message, Phase, UnitKind, UnitRef
from ..gcpause import gc_paused
from ..store import OperationRecord, Tx
from . import check, clock, codec, locks, operations, steps, subscriptions
from .context import AppContext
from .errors import NotFound, ServiceError
from .inventory import NOT_PREPARED
from .migration import _lock_message
from .operations import OperationView, utc
from .plan import build_plan
from .snapshot import load_unit, unit_id
from .status import UnitFilter, UnitStatus, status

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
KINDS = tuple(k.value for k in UnitKind)


# --------------------------------------------------------------------------- the overview


@dataclass(frozen=True, slots=True)
class OverviewQuery:
    kind: str | None = None
    state: str | None = None  # migration state, e.g. NotPrepared, Prepared, Committed
    search: str | None = None  # part of the unit's name (or its cloud service's), case-insensitive
    page: int = 1
    per_page: int = PAGE_SIZE

    def checked(self) -> OverviewQuery:
        if self.kind is not None and self.kind not in KINDS:
            raise ServiceError(*t.CONSOLE_BAD_KIND.render(kind=self.kind[:40], kinds=", ".join(KINDS)), 400)
        if self.page < 1:
            raise ServiceError(*t.CONSOLE_BAD_PAGE.render(), 400)
        if not 1 <= self.per_page <= MAX_PAGE_SIZE:
            raise ServiceError(*t.CONSOLE_BAD_PAGE_SIZE.render(limit=MAX_PAGE_SIZE), 400)
        return self


@dataclass(frozen=True, slots=True)
class UnitRow:
    unit: UnitStatus
    key: str  # the plan's unit key (vnet:v1, deployment:svc/dep …)
    blockers: int  # Error messages (the plan's = validate --all's)
    wave: int | None  # the plan's wave it migrates in (None: done or not planned)


@dataclass(frozen=True, slots=True)
class Overview:
    subscription: str
    rows: list[UnitRow]  # this page
    matching: int  # units matching the query
    page: int
    pages: int
    by_kind_state: dict[str, dict[str, int]]  # kind → state → units (all units)
    states: list[str]
    totals: dict[str, Any]
    plan: Plan | None
    plan_error: str | None


@dataclass
class _Cached:
    key: tuple[Any, ...]
    units: list[UnitStatus]
    plan: Plan | None
    plan_error: str | None  # why there is no plan (e.g. the provider is not registered)
    planned: dict[str, PlannedUnit]
    waves: dict[str, int]


@dataclass
class ConsoleCache:
    """The plan and unit list per subscription, valid while the store's state they were built from holds."""

    _entries: dict[str, _Cached] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, ctx: AppContext) -> tuple[str, _Cached]:
        with ctx.store.read() as tx:
            sub = ctx.subscription_id(tx)
            key = (tx.events.last_seq(), clock.now(tx).date(),
                   subscriptions.load(tx, sub).registered_for_migration)
        with self._lock:
            found = self._entries.get(sub)
            if found is not None and found.key == key:
                return sub, found
            plan: Plan | None = None
            error: str | None = None
            try:
                plan = build_plan(ctx)
            except ServiceError as exc:  # the units are still shown, with why there is no plan and what to do
                mitigation = t.MITIGATIONS.get("R01") if not key[2] else None
                error = exc.message + (f" {mitigation.text}" if mitigation else "")
            units = status(ctx, UnitFilter())
            planned = {} if plan is None else \
                {u.key: u for w in plan.waves for u in w.units} | {u.key: u for u in plan.done}
            waves = {} if plan is None else {u.key: w.number for w in plan.waves for u in w.units}
            entry = _Cached(key, units, plan, error, planned, waves)
            self._entries[sub] = entry
            return sub, entry


def overview(ctx: AppContext, query: OverviewQuery, cache: ConsoleCache) -> Overview:
    """The subscription at a glance: units by kind and state, the plan (waves, blockers ranked by the VMs they
    hold back, the duration estimate), and one page of the units matching the query."""
    query = query.checked()
    sub, entry = cache.get(ctx)
    needle = (query.search or "").strip().lower()
    matching = [u for u in entry.units
                if (query.kind is None or u.kind == query.kind)
                and (query.state is None or u.state.lower() == query.state.lower())
                and (not needle or needle in u.name.lower() or needle in (u.service or "").lower())]
    pages = max(1, -(-len(matching) // query.per_page))
    start = (query.page - 1) * query.per_page
    rows = []
    for u in matching[start:start + query.per_page]:
        key = unit_key(u.ref)
        pu = entry.planned.get(key)
        rows.append(UnitRow(u, key, len(pu.blockers) if pu else 0, entry.waves.get(key)))
    by_kind_state: dict[str, dict[str, int]] = {}
    for (kind, state), n in sorted(Counter((u.kind, u.state) for u in entry.units).items()):
        by_kind_state.setdefault(kind, {})[state] = n
    states = sorted({u.state for u in entry.units})
    totals = {"units": len(entry.units), "vms": sum(u.vms for u in entry.units)}
    return Overview(sub, rows, len(matching), min(query.page, pages), pages, by_kind_state, states, totals,
                    entry.plan, entry.plan_error)


# --------------------------------------------------------------------------- one unit


def unit_ref(kind: str, name: str, service: str | None = None) -> UnitRef:
    """A unit as the console's paths name it: `/units/vnet/v1`, `/units/deployment/SERVICE/DEPLOYMENT`."""
    try:
        k = UnitKind(kind)
    except ValueError:
        raise ServiceError(*t.CONSOLE_BAD_KIND.render(kind=kind[:40], kinds=", ".join(KINDS)), 400) from None
    if not name.strip():
        raise ServiceError(*t.CONSOLE_NO_NAME.render(), 400)
    if k == UnitKind.DEPLOYMENT:
        if not service:
            raise ServiceError(*t.CONSOLE_DEPLOYMENT_PATH.render(), 400)
        return UnitRef(k, name, service, Destination("New"))
    return UnitRef(k, name)


@dataclass(frozen=True, slots=True)
class Advice:
    message: Message
    mitigation: str
    fix: str | None  # the `fix` that clears it


@dataclass(frozen=True, slots=True)
class FixPreview:
    name: str
    summary: str
    changes: list[fixes.Target]


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    type: str
    name: str


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime | None  # None: still down
    reason: str
    operation_id: str | None


@dataclass(frozen=True, slots=True)
class VmTimeline:
    vm: str
    in_vnet: bool
    windows: list[Window]


@dataclass(frozen=True, slots=True)
class UnitView:
    ref: UnitRef
    key: str
    state: str
    vms: int
    exists: bool
    classic: list[Member]
    arm: list[Member]
    messages: list[Advice]  # what validate says now (the lock message while a migration holds the unit)
    findings: list[check.Finding]  # Prepared: classic (as prepare saw it) beside ARM, property by property
    fixes: list[FixPreview]  # the fixes that would change something in this unit, with their changes
    operations: list[OperationView]  # newest first
    timelines: list[VmTimeline]  # of this page's VMs
    now: datetime
    page: int = 1  # the unit's VMs in pages of VMS_PER_PAGE: findings and timelines are of this page's VMs
    pages: int = 1
    classic_total: int = 0  # `classic`/`arm` list the first LIST_LIMIT
    arm_total: int = 0
    progress: dict[str, str] = field(default_factory=dict)  # running operation id → its step, as the runner saved it
    committed_note: str | None = None  # Committed: that it is, and the resource groups its ARM resources are in

    @property
    def in_progress(self) -> bool:
        return any(o.status == operations.IN_PROGRESS for o in self.operations)

    @property
    def has_errors(self) -> bool:
        return rules.has_errors([a.message for a in self.messages])


def _advice(m: Message) -> Advice:
    mit = t.MITIGATIONS.get(m.rule)
    f = fixes.fix_for(m)
    return Advice(m, mit.text if mit else ("" if m.category != Category.ERROR else t.MITIGATION_UNKNOWN),
                  f.name if f else None)


VMS_PER_PAGE = 50
LIST_LIMIT = 200
# The ARM types `check.compare` reads (the others of a prepared unit need not be parsed for the page).
_COMPARED = frozenset({armt.VM, armt.NIC, armt.PUBLIC_IP, armt.LOAD_BALANCER, armt.VNET, armt.STORAGE_ACCOUNT,
                       armt.NSG, armt.ROUTE_TABLE})


def _page_of(seen: dict[str, Any], names: set[str], first: bool) -> dict[str, Any]:
    """What prepare saw, cut to one page: its VMs (and so their cloud services); the unit-wide parts on page 1."""
    out = {k: v for k, v in seen.items() if first or k in ("format", "unit")}
    out["virtualMachines"] = [v for v in seen.get("virtualMachines", []) if str(v.get("name", "")).lower() in names]
    return out


def _compared(tx: Tx, sub: str, uid: str, vms: set[str]) -> list[armt.ArmResource]:
    """The prepared ARM resources `check.compare` reads for these VMs: the VMs and their NICs, and the unit's
    public IPs, load balancers, VNet, storage account, NSG and route table."""
    rows = tx.resources.query(sub, model=ids.ARM, lock_holder=uid, types=sorted(_COMPARED - {armt.NIC}),
                              text_docs=True, ordered=False)
    out = [codec.arm_object(r) for r in rows if r.type != armt.VM or r.name.lower() in vms]
    nic_ids = {str(n.get("id", "")).lower() for res in out if res.type == armt.VM
               for n in res.properties.get("networkProfile", {}).get("networkInterfaces", [])}
    nics = tx.resources.get_many(sorted(nic_ids))
    return out + [codec.arm_object(r) for r in nics.values() if r.lock_holder == uid]


@gc_paused()
def unit_view(ctx: AppContext, ref: UnitRef, page: int = 1) -> UnitView:
    """A unit's page: its classic resources and, once prepared, the ARM resources each became with what was kept
    or changed (the `check` comparison against what prepare saw), validation messages with their mitigations,
    the fixes with their preview, its operations and its VMs' data-plane windows."""
    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        now = clock.now(tx)
        uid = unit_id(sub, ref)
        rec = tx.units.get(uid)
        state = (rec.state if rec else None) or NOT_PREPARED
        with ctx.classic_index(tx, sub) as src:  # (kept on the context, refreshed from the event log)
            lu = load_unit(tx, sub, ref, now, src)
        snap = lu.snapshot
        if not snap.exists and rec is None:
            raise NotFound(t.CONSOLE_NO_UNIT.text(unit=ref.describe()))
        locked = state in LOCKED_STATES
        messages: list[Message] = []
        if snap.exists:
            messages = [_lock_message(ref)] if locked else rules.validate(snap, Phase.VALIDATE)
        previews = []
        if snap.exists and not locked:
            for f in fixes.FIXES:
                found = fixes.targets(f, snap)
                if found:
                    previews.append(FixPreview(f.name, f.summary, found))
        classic_rows = ([lu.root] if lu.root is not None and lu.root not in lu.members else []) + lu.members + lu.kept
        classic = [Member(r.id, r.type, r.name) for r in classic_rows]
        op_records = tx.operations.all(sub, unit_key=uid)
        # The ARM side: its first rows listed and all of them counted (a 500-VM VNet's are ~2,500); documents read
        # only for what the comparison of this page reads. While the unit is locked its ARM resources carry its
        # lock; once committed (released), they are what its last successful prepare created that still exists.
        committed = state == S.COMMITTED.value
        groups: list[str] = []
        if committed:
            made = _last_prepare(op_records)
            arm_keys = tx.resources.keys_created_by(made.id, model=ids.ARM) if made is not None else []
            arm_total = len(arm_keys)
            rows = tx.resources.get_many(arm_keys[:LIST_LIMIT])
            arm = [Member(r.id, r.type, r.name) for r in (rows[k] for k in arm_keys[:LIST_LIMIT] if k in rows)]
            groups = _resource_groups(arm_keys, arm)
        else:
            arm_total = len(tx.resources.keys(lock_holder=uid, model=ids.ARM)) if rec is not None else 0
            arm = [Member(r.id, r.type, r.name) for r in (tx.resources.query(
                sub, model=ids.ARM, lock_holder=uid, text_docs=True, limit=LIST_LIMIT) if arm_total else [])]
        all_vms = {r.key: r.name for r in lu.members if r.type == ids.T_VM}
        if not all_vms:  # committed: the classic VMs are gone; their windows stay in the timeline
            for o in op_records:
                if o.kind != Op.VALIDATE.value:
                    all_vms.update({e["vm_key"]: e["vm_key"].rsplit("/", 1)[-1]
                                    for e in tx.timeline.all(sub, operation_id=o.id)})
        pages = max(1, -(-len(all_vms) // VMS_PER_PAGE))
        if page < 1:
            raise ServiceError(*t.CONSOLE_BAD_PAGE.render(), 400)
        page = min(page, pages)
        keys = sorted(all_vms, key=lambda k: all_vms[k].lower())[(page - 1) * VMS_PER_PAGE:page * VMS_PER_PAGE]
        vm_keys = {k: all_vms[k] for k in keys}
        findings: list[check.Finding] = []
        seen = rec.doc.get(check.SEEN_KEY) if rec is not None else None
        if state == S.PREPARED.value and isinstance(seen, dict):
            names = {n.lower() for n in vm_keys.values()}
            findings = check.compare(ref, _page_of(seen, names, page == 1), _compared(tx, sub, uid, names))
        ops = [operations.view(o) for o in op_records]
        progress = {o.id: _step_text(o.kind, o.progress or {}) for o in op_records
                    if o.status == operations.IN_PROGRESS}
        in_vnet = {vm.name.lower(): bool(cs.deployment.virtual_network_name)
                   for cs in snap.services for vm in cs.vms}
        if isinstance(seen, dict):  # (what prepare saw says it of VMs whose classic side is gone)
            for v in seen.get("virtualMachines", []):
                in_vnet.setdefault(str(v.get("name", "")).lower(), bool(v.get("inVirtualNetwork")))
        timeline = tx.timeline.of_vms(sub, list(vm_keys)) if vm_keys else []
    ops.sort(key=lambda o: (o.created_at, o.created_real_at), reverse=True)  # (a fixed clock: real order)
    return UnitView(ref, unit_key(ref), state, len(all_vms), snap.exists, classic[:LIST_LIMIT], arm[:LIST_LIMIT],
                    [_advice(m) for m in messages], findings, previews, ops, _timelines(vm_keys, in_vnet, timeline),
                    now, page, pages, len(classic), arm_total, progress, _committed_note(committed, groups))


def _last_prepare(records: list[OperationRecord]) -> OperationRecord | None:
    """The unit's last successful prepare (records oldest first): what a committed unit became is what it created
    (an earlier prepare's creations were deleted by the abort that followed it)."""
    done = [o for o in records if o.kind == Op.PREPARE.value and o.status == operations.SUCCEEDED]
    return done[-1] if done else None


def _resource_groups(keys: list[str], listed: list[Member]) -> list[str]:
    """The resource groups these ARM resources are in, by name as their ids spell it (lower case for a group none
    of the listed ones is in: keys are lower-cased ids)."""
    spelled = {g.lower(): g for g in map(armt.resource_group_of, (m.id for m in listed)) if g}
    found = {g for g in map(armt.resource_group_of, keys) if g}
    return sorted((spelled.get(g, g) for g in found), key=str.lower)


def _committed_note(committed: bool, groups: list[str]) -> str | None:
    if not committed:
        return None
    if not groups:
        return t.CONSOLE_COMMITTED_NOTHING_LEFT.text()
    return t.CONSOLE_COMMITTED.text(resource_groups="resource groups" if len(groups) > 1 else "resource group",
                                    groups=", ".join(groups))


def _step_text(kind: str, progress: dict[str, Any]) -> str:
    """Where a running operation is: its step (of the runner's plan) and how far into it."""
    try:
        names = steps.NAMES[Op(kind)]
    except (ValueError, KeyError):
        return ""
    step = int(progress.get("step") or 0)
    if step >= len(names):
        return "finishing"
    cursor = int(progress.get("cursor") or 0)
    return f"step {step + 1} of {len(names)}: {names[step]}" + (f" ({cursor} done)" if cursor else "")


def _timelines(vm_keys: dict[str, str], in_vnet: dict[str, bool], events: list[dict[str, Any]]) -> list[VmTimeline]:
    """Per VM, its stop/deallocate windows from the recorded data-plane timeline (as `downtime` counts them)."""
    per_vm: dict[str, list[Window]] = {k: [] for k in vm_keys}
    open_at: dict[str, tuple[datetime, str, str | None]] = {}
    for e in events:
        key, at = e["vm_key"], utc(e["at"])
        assert at is not None
        if e["event"] == "down" and key not in open_at:
            open_at[key] = (at, str(e.get("reason") or ""), e.get("operation_id"))
        elif e["event"] == "up" and key in open_at:
            start, reason, op = open_at.pop(key)
            per_vm.setdefault(key, []).append(Window(start, at, reason, op))
    for key, (start, reason, op) in open_at.items():
        per_vm.setdefault(key, []).append(Window(start, None, reason, op))
    return [VmTimeline(vm_keys.get(k, k.rsplit("/", 1)[-1]), in_vnet.get(vm_keys.get(k, "").lower(), False), w)
            for k, w in sorted(per_vm.items(), key=lambda kv: vm_keys.get(kv[0], kv[0]).lower())]


# --------------------------------------------------------------------------- one resource


@dataclass(frozen=True, slots=True)
class ResourceView:
    id: str
    model: str  # classic | arm
    type: str
    name: str
    document: dict[str, Any]  # ARM: the resource in ARM's shape; classic: `classic2arm show`'s view
    arm_view: dict[str, Any] | None  # a classic resource's ARM view (Microsoft.Classic*)
    events: list[dict[str, Any]]


def resource_view(ctx: AppContext, ref: str) -> ResourceView:
    """Any resource of the subscription by ASM path or ARM id: its document and its event log. A resource of
    another subscription is not found, whatever its id says."""
    from . import arm_reads, resources

    with ctx.store.read() as tx:
        sub = ctx.subscription_id(tx)
        row = resources.by_reference(tx, sub, ref) if ref.strip().startswith("/") else None
        if row is None or row.subscription_id.lower() != sub.lower():
            raise NotFound(t.CONSOLE_NO_RESOURCE.text(ref=ref[:300], sub=sub))
        events = tx.events.for_resource(row.key)
        if row.model == ids.ARM:
            doc: dict[str, Any] = codec.arm_object(row).to_json()
            view = None
        else:
            lock = locks.lock_state(tx, row)
            view = arm_reads.arm_json(tx, row) if arm_reads.has_view(row) else None
            doc = {"id": row.id, "armId": view["id"] if view else None, "type": row.type, "name": row.name,
                   "location": row.location, "migrationState": lock.migration_state, "locked": bool(lock.holder),
                   "version": row.version, "properties": row.doc}
    return ResourceView(row.id, "arm" if row.model == ids.ARM else "classic", row.type, row.name, doc, view,
                        [{"seq": e["seq"], "at": e["at"], "action": e["action"], "version": e["version"],
                          "operation": e.get("operation_id")} for e in events])
