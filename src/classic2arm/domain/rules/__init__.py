"""Validation of one migration unit (spec §4): every rule of §4.2 as a small registered pure function.

    validate(snap)                 -> messages of the validate rules (+ Information listing on success)
    validate(snap, Phase.PREPARE)  -> validate rules and prepare-only rules (R17, R34–R40, R42)
    result_text(messages)          -> the PowerShell `Result` string (spec §6.1)
    has_errors(messages)           -> does anything block prepare?

All messages are returned (validation never stops at the first problem), rule messages ordered by rule id
and then resource; the Information listing comes last, in the unit's own order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .. import catalogue as t
from ..units import Category, Message, Phase, UnitSnapshot
from . import disks, extensions, governance, information, network, quota, scope_shape, storage, vm_state
from .registry import REGISTRY, Registry, Rule, rule

__all__ = [
    "REGISTRY", "Registry", "Rule", "disks", "extensions", "governance", "has_errors", "information", "network",
    "not_found", "quota", "result_text", "rule", "scope_shape", "storage", "validate", "vm_state",
]

def not_found(snap: UnitSnapshot) -> Message:
    """R02 as a validation message: validate on a missing target answers 200 with this one Error."""
    kind, name = snap.ref.kind, snap.ref.name
    text = t.R02_VNET_PORTAL_NAME if snap.portal_vnet else kind.not_found
    return Message(text.rule, kind.resource_type, name, Category.ERROR, text.text(dep=name, name=name))


def _order(m: Message) -> tuple[str, str, str, str]:
    return m.rule, m.resource_type, m.resource_name, m.virtual_machine or ""


def validate(snap: UnitSnapshot, phase: Phase = Phase.VALIDATE, registry: Registry = REGISTRY) -> list[Message]:
    """Every message the unit's rules produce for `phase`.

    A missing target gives exactly the R02 message (prepare callers turn it into their HTTP error): no rule can
    say anything about a resource that isn't there.
    """
    if not snap.exists:
        return [not_found(snap)]
    kind = snap.ref.kind
    found: list[Message] = []
    for r in registry.select(kind, phase):
        found.extend(r.fn(snap))
    found.sort(key=_order)  # stable: equal keys keep the rule's own (snapshot) order
    if not has_errors(found):
        for r in registry.select(kind, phase, information=True):
            found.extend(r.fn(snap))
    return found


def _is(category: Category | str, wanted: str) -> bool:
    # Category is compared case-insensitively, as the PowerShell helper does (spec §6.1).
    return str(category).lower() == wanted


def has_errors(messages: Iterable[Message]) -> bool:
    return any(_is(m.category, "error") for m in messages)


def result_text(messages: Sequence[Message]) -> str:
    """`MigrationValidateContext.Result` of the newer PowerShell helper."""
    if not messages:
        return t.RESULT_NO_MESSAGES
    if has_errors(messages):
        return t.RESULT_FAILED
    if any(_is(m.category, "warning") for m in messages):
        return t.RESULT_WARNINGS
    return t.RESULT_PASSED
