"""Rule registry: every validation rule is a small pure function registered with its id, scopes and phase.

A rule is `(snap: UnitSnapshot) -> Iterable[Message]`. The decorator records what the spec (§4.2) says
about it — which unit kinds it looks at, whether validate runs it or only prepare, and its category —
so `validate()` can pick the rules for a unit and a phase without any rule knowing about the others.

The registry is an object, not bare module state, so a test can build its own and register throw-away
rules; `REGISTRY` is the one the package's rule modules fill at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..units import Category, Message, Phase, UnitKind, UnitSnapshot

RuleFn = Callable[[UnitSnapshot], Iterable[Message]]

ALL_KINDS: frozenset[UnitKind] = frozenset(UnitKind)


@dataclass(frozen=True, slots=True)
class Rule:
    """One registered rule.

    `phase` is the spec's V/P column: `VALIDATE` rules run at validate and again at prepare, `PREPARE` rules
    only at prepare. `validate_only` marks the rare validate rule that prepare replaces with a stricter
    one (R56 is a Warning at validate; at prepare R42 reports the same condition as an Error).
    `category` is the most severe category the rule emits (R23 may downgrade to Warning); information
    rules (`Category.INFORMATION`) only run when no Error was found.
    """

    id: str
    fn: RuleFn
    scopes: frozenset[UnitKind]
    phase: Phase
    category: Category
    validate_only: bool = False

    @property
    def title(self) -> str:
        doc = (self.fn.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else self.fn.__name__

    def runs_at(self, phase: Phase) -> bool:
        if phase == Phase.VALIDATE:
            return self.phase == Phase.VALIDATE
        return not self.validate_only

    def __call__(self, snap: UnitSnapshot) -> Iterable[Message]:
        return self.fn(snap)


class Registry:
    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}
        # selection per (kind, phase, information?) is asked for on every validate call: cache it
        self._selected: dict[tuple[UnitKind, Phase, bool], tuple[Rule, ...]] = {}

    def rule(
        self,
        *,
        id: str,  # shadows the builtin on purpose: the spec calls it the rule id
        scopes: Iterable[UnitKind],
        phase: Phase = Phase.VALIDATE,
        category: Category = Category.ERROR,
        validate_only: bool = False,
    ) -> Callable[[RuleFn], RuleFn]:
        """Decorator: register `fn` under `id`. Ids are unique; registering one twice is a programming error."""
        scope_set = frozenset(scopes)
        if not scope_set:
            raise ValueError(f"rule {id} has no scope")
        if validate_only and phase != Phase.VALIDATE:
            raise ValueError(f"rule {id}: validate_only makes sense for validate rules only")

        def register(fn: RuleFn) -> RuleFn:
            if id in self._rules:
                raise ValueError(f"rule {id} registered twice ({self._rules[id].fn.__name__}, {fn.__name__})")
            self._rules[id] = Rule(id, fn, scope_set, phase, category, validate_only)
            self._selected.clear()
            return fn

        return register

    def all(self) -> list[Rule]:
        """Every registered rule, by id."""
        return [self._rules[k] for k in sorted(self._rules)]

    def get(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __len__(self) -> int:
        return len(self._rules)

    def select(self, kind: UnitKind, phase: Phase, information: bool = False) -> tuple[Rule, ...]:
        """Rules for a unit kind and phase, in id order; `information` picks the success-listing rules."""
        key = (kind, phase, information)
        found = self._selected.get(key)
        if found is None:
            found = tuple(
                r for r in self.all()
                if kind in r.scopes and r.runs_at(phase) and (r.category == Category.INFORMATION) == information
            )
            self._selected[key] = found
        return found


REGISTRY = Registry()
rule = REGISTRY.rule
