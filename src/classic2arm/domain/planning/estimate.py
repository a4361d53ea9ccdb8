"""The duration model (ours: no public source gives per-VM prepare or commit times, planning-facts.md).

A wave takes the longer of its work (prepare + commit of its units, `parallel` at a time) and its ARM writes at
the subscription's writes/hour limit. The figures are parameters so the assumptions printed are the ones used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import catalogue as t
from .. import dataplane
from .model import PlannedUnit, Wave, WaveEstimate


@dataclass(frozen=True, slots=True)
class DurationModel:
    writes_per_hour: int = 1200  # ARM writes per subscription per hour (request-limits-and-throttling.md)
    prepare_base_minutes: float = 1.0
    prepare_per_resource_seconds: float = 6.0  # per ARM resource the prepare creates (its ARM writes)
    commit_base_minutes: float = 0.5
    commit_per_resource_seconds: float = 1.0
    parallel: int = 4

    def unit_minutes(self, u: PlannedUnit) -> float:
        """Prepare start to commit end: the unit's lock window."""
        return (self.prepare_base_minutes + self.commit_base_minutes
                + u.arm_writes * (self.prepare_per_resource_seconds + self.commit_per_resource_seconds) / 60)

    def wave(self, units: tuple[PlannedUnit, ...]) -> WaveEstimate:
        units = tuple(u for u in units if not u.moves_with_user)  # they go with their VNet or cloud service
        writes = sum(u.arm_writes for u in units)
        locks = [self.unit_minutes(u) for u in units]
        work = sum(locks) / self.parallel if locks else 0.0
        work = max(work, max(locks, default=0.0))  # a wave is never shorter than its longest unit
        throttle = writes / self.writes_per_hour * 60
        return WaveEstimate(writes, round(work, 1), round(throttle, 1), round(max(work, throttle), 1),
                            round(max(locks, default=0.0), 1), "throttle" if throttle > work else "work")

    def assumptions(self) -> tuple[str, ...]:
        restart = dataplane.restart_window().total_seconds() / 60
        values = {"writes_per_hour": self.writes_per_hour, "prepare_base": self.prepare_base_minutes,
                  "prepare_per_resource": self.prepare_per_resource_seconds,
                  "commit_base": self.commit_base_minutes, "commit_per_resource": self.commit_per_resource_seconds,
                  "restart_minutes": restart, "parallel": self.parallel}
        return tuple(a.format(**values) for a in t.ASSUMPTIONS)


MODEL = DurationModel()


def estimate(waves: tuple[Wave, ...], model: DurationModel = MODEL) -> tuple[tuple[Wave, ...], float]:
    """The waves with their estimates, and the total in minutes."""
    out = tuple(replace(w, estimate=model.wave(w.units)) for w in waves)
    return out, round(sum(w.estimate.minutes for w in out if w.estimate), 1)
