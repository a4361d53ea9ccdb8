"""What `classic2arm plan` says about a subscription: the units in waves, blockers by rule, quota, impact, time.

Frozen dataclasses only; `migrate --all` consumes `Plan.waves` (in order, each unit's `ref`), the renderers
everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..state_machine import LOCKED_STATES
from ..units import Message, UnitKind, UnitRef

COMMITTED = "Committed"


def unit_key(ref: UnitRef) -> str:
    """A unit's stable name in the plan: `vnet:v1`, `deployment:svc/dep`, `storage:acct`… (lower-case)."""
    if ref.kind == UnitKind.DEPLOYMENT:
        return f"{ref.kind.value}:{(ref.service or '').lower()}/{ref.name.lower()}"
    return f"{ref.kind.value}:{ref.name.lower()}"


@dataclass(frozen=True, slots=True)
class VmImpact:
    """The data-plane effect of migrating one VM (deep dive: VNet VMs keep running, the others restart)."""

    vm: str
    service: str
    unit: str  # unit_key of the unit it migrates with
    in_vnet: bool
    restart: bool  # stopped, deallocated and started again in ARM during prepare
    downtime_seconds: int  # predicted window (0 for VNet VMs)
    warnings: tuple[str, ...] = ()  # dynamic VIP / private IP changes, with the advice


@dataclass(frozen=True, slots=True)
class PlannedUnit:
    ref: UnitRef
    migration_state: str
    vms: int
    blockers: tuple[Message, ...]  # Error-category validation messages (exactly what validate --all gives)
    warnings: tuple[Message, ...] = ()  # Warning-category validation messages
    location: str | None = None  # ARM region name
    production: bool = False
    prerequisites: tuple[str, ...] = ()  # what must happen first (peering removed, circuit moved, …)
    after: tuple[str, ...] = ()  # unit keys that must be committed before this one (a storage account's VMs)
    needs: tuple[tuple[str, int], ...] = ()  # ARM quota kinds the unit's migration adds (non-zero only)
    arm_writes: int = 0  # ARM writes its prepare makes (the duration model)
    impacts: tuple[VmImpact, ...] = ()
    # An NSG or route table already cloned into ARM by these committed units (keys), which used it: its classic
    # copy is kept by their commit (spec §3: cloned, not moved) and is associated with nothing any more.
    cloned_into: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return unit_key(self.ref)

    @property
    def done(self) -> bool:
        return self.migration_state == COMMITTED

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)

    @property
    def moves_with_user(self) -> bool:
        """A reserved IP, NSG or route table whose only blocker is R33 (associated with a VNet or cloud service):
        it migrates with that unit, so it costs nothing on its own and needs nothing done."""
        return (self.ref.kind in (UnitKind.RESERVED_IP, UnitKind.NSG, UnitKind.ROUTE_TABLE) and bool(self.blockers)
                and all(m.rule == "R33" for m in self.blockers))

    @property
    def in_progress(self) -> bool:
        """Started and not finished (Prepared, Preparing, …): validate gives it only the R50 lock message, and
        what it needs is a commit or an abort, not a fix."""
        return self.migration_state in LOCKED_STATES


@dataclass(frozen=True, slots=True)
class WaveEstimate:
    """The duration model's figures for one wave (minutes); `bound` says what dominates."""

    arm_writes: int
    work_minutes: float  # prepare + commit of its units, at the assumed parallelism
    throttle_minutes: float  # its ARM writes at the subscription's writes/hour limit
    minutes: float  # max of the two
    longest_lock_minutes: float  # the longest management-plane lock (prepare start → commit end) of one unit
    bound: str  # "work" | "throttle"


@dataclass(frozen=True, slots=True)
class Wave:
    number: int  # 1-based, in execution order
    title: str
    units: tuple[PlannedUnit, ...]
    estimate: WaveEstimate | None = None
    notes: tuple[str, ...] = ()  # e.g. a VNet of more than 400 VMs, production units

    @property
    def vms(self) -> int:
        return sum(u.vms for u in self.units)


@dataclass(frozen=True, slots=True)
class BlockerGroup:
    """All blockers of one rule: how many messages and units, the VMs they hold back, what to do about them."""

    rule: str
    code: str  # the message code of the rule's first text (e.g. UnsupportedExtension), for readers
    messages: tuple[tuple[str, Message], ...]  # (unit key, message)
    units: tuple[str, ...]  # unit keys
    vms_held_back: int  # VMs of the units this rule blocks
    mitigation: str
    mitigation_ours: bool  # False: the errors page's mitigation column; True: our text
    fix: str | None = None  # `classic2arm fix NAME` that clears it, if any
    fix_summary: str | None = None


@dataclass(frozen=True, slots=True)
class QuotaLine:
    region: str
    kind: str  # ARM usage name: cores, networkInterfaces, publicIPAddresses, staticPublicIPAddresses, …
    usage: int  # in use now
    needed: int  # what the plan's remaining units would add
    quota: int | None  # None: the subscription sets no quota for the kind

    @property
    def ok(self) -> bool:
        return self.quota is None or self.usage + self.needed <= self.quota

    @property
    def short(self) -> int:
        return 0 if self.quota is None else max(0, self.usage + self.needed - self.quota)


@dataclass(frozen=True, slots=True)
class Plan:
    waves: tuple[Wave, ...]
    done: tuple[PlannedUnit, ...] = ()  # units already committed
    blockers_by_rule: tuple[BlockerGroup, ...] = ()  # by rule id
    ranking: tuple[BlockerGroup, ...] = ()  # the same groups, most VMs held back first
    quota: tuple[QuotaLine, ...] = ()  # every region and kind the plan adds to
    impacts: tuple[VmImpact, ...] = ()  # every VM still to migrate, in wave order
    total_minutes: float = 0.0
    assumptions: tuple[str, ...] = ()
    # References to resources no imported file describes (a deployment's VNet, disks' storage accounts, a reserved
    # IP's service): what they mean for the migration.
    notes: tuple[str, ...] = ()
    production_marker: str = ""  # how the estate marks production units (printed with the plan)
    subscription: str = ""
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def units(self) -> tuple[PlannedUnit, ...]:
        return tuple(u for w in self.waves for u in w.units)

    @property
    def quota_ok(self) -> bool:
        return all(q.ok for q in self.quota)
