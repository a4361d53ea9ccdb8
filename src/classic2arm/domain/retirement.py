"""Retirement policy of classic IaaS (spec §8). Every date the emulator enforces lives here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from . import catalogue as msg

if TYPE_CHECKING:  # (the pydantic models are not needed to read a date: `clock show` would pay for them)
    from .classic import Subscription


def _d(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


# Classic VMs: deprecated for new customers on 2020-02-28 (those without classic VMs in February 2020).
CLASSIC_VM_DEPRECATION: Final = _d(2020, 2, 28)
FEBRUARY_2020_START: Final = _d(2020, 2, 1)
# Retirement: first announced for 2023-03-01, moved to 2023-09-01 (the date in force).
CLASSIC_VM_RETIREMENT_ANNOUNCED_FIRST: Final = _d(2023, 3, 1)
CLASSIC_VM_RETIREMENT: Final = _d(2023, 9, 1)
# Classic storage accounts: subscriptions created after August 2022 cannot create them; nobody can
# after 2024-08-16; from 2024-09-01 no management through ASM (data is preserved).
CLASSIC_STORAGE_NEW_SUBSCRIPTION_CUTOFF: Final = _d(2022, 9, 1)
CLASSIC_STORAGE_CREATION_END: Final = _d(2024, 8, 16)
CLASSIC_STORAGE_RETIREMENT: Final = _d(2024, 9, 1)
# Cloud Services (classic), whose deployments share the migration API.
CLOUD_SERVICES_RETIREMENT: Final = _d(2024, 8, 31)


@dataclass(frozen=True, slots=True)
class Denial:
    code: str
    message: str
    http_status: int = 400


def _after(now: datetime, when: datetime) -> bool:
    return now >= when


def may_create_classic_vm(sub: Subscription, now: datetime) -> Denial | None:
    if _after(now, CLASSIC_VM_RETIREMENT):
        return Denial(*msg.CLASSIC_VM_RETIRED.render())
    new_customer = not sub.had_classic_vms_feb_2020 and not sub.allow_listed_for_classic_vms
    if _after(now, CLASSIC_VM_DEPRECATION) and new_customer:
        return Denial(*msg.NEW_CLASSIC_VM_NOT_ALLOWED.render(), http_status=403)
    return None


def may_start_classic_vm(now: datetime) -> Denial | None:
    if _after(now, CLASSIC_VM_RETIREMENT):
        return Denial(*msg.CLASSIC_VM_RETIRED.render())
    return None


def classic_vms_must_be_deallocated(now: datetime) -> bool:
    """From the retirement date, running or allocated classic VMs are stopped and deallocated."""
    return _after(now, CLASSIC_VM_RETIREMENT)


def may_create_classic_storage(sub: Subscription, now: datetime) -> Denial | None:
    if _after(now, CLASSIC_STORAGE_CREATION_END):
        return Denial(*msg.CLASSIC_STORAGE_CREATION_ENDED.render())
    if sub.created is not None and _after(sub.created, CLASSIC_STORAGE_NEW_SUBSCRIPTION_CUTOFF):
        return Denial(*msg.CLASSIC_STORAGE_NEW_SUBSCRIPTION.render(), http_status=403)
    return None


def may_manage_classic_storage(now: datetime) -> Denial | None:
    if _after(now, CLASSIC_STORAGE_RETIREMENT):
        return Denial(*msg.CLASSIC_STORAGE_RETIRED.render())
    return None
