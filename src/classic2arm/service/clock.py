"""The world clock of a database: real time, a frozen 'as of' time, or real time shifted by an offset.

Stored in the database (meta key 'clock') so every process sharing the store sees the same time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..store import Tx
    from .context import AppContext

Mode = Literal["real", "fixed", "offset"]
META_KEY = "clock"


@dataclass(frozen=True, slots=True)
class ClockSetting:
    mode: Mode = "real"
    at: datetime | None = None  # fixed mode
    offset: timedelta = timedelta(0)  # offset mode

    def now(self, real_now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> datetime:
        if self.mode == "fixed" and self.at is not None:
            return self.at
        if self.mode == "offset":
            return real_now() + self.offset
        return real_now()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode}
        if self.at is not None:
            out["at"] = self.at.isoformat()
        if self.mode == "offset":
            out["offset_seconds"] = self.offset.total_seconds()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ClockSetting:
        if not data:
            return cls()
        at = datetime.fromisoformat(data["at"]) if data.get("at") else None
        return cls(mode=data.get("mode", "real"), at=at, offset=timedelta(seconds=data.get("offset_seconds", 0)))


def read(tx: Tx) -> ClockSetting:
    """The setting as a transaction sees it."""
    return ClockSetting.from_json(tx.meta.get(META_KEY))


def read_setting(ctx: AppContext) -> ClockSetting:
    """The setting outside any transaction (`AppContext.setting`: without opening the store, when it can)."""
    return ClockSetting.from_json(ctx.setting(META_KEY))


def now(tx: Tx) -> datetime:
    return read(tx).now()


# The times the world clock may be set to: every date the rules know lies well inside, and so does anything
# computed from the clock (expiry times, retention, a running clock's next thousand years) — at year 9999 adding
# an hour, or reading the time in UTC, overflows Python's datetime.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)


def parse_when(text: str) -> datetime:
    """Accept '2023-06-01', '2023-06-01T12:00', '2023-06-01T12:00:00Z'; naive means UTC. ValueError, saying
    why, for anything else or a time outside EARLIEST…LATEST."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a date or date-time (use e.g. 2023-06-01 or 2023-06-01T12:00:00Z)") from exc
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        inside = EARLIEST <= value <= LATEST
    except OverflowError:  # (comparing converts to UTC: 9999-12-31T23:59:59-14:00 is in year 10000)
        inside = False
    if not inside:
        raise ValueError(f"'{text}' is outside the times the world clock takes ({EARLIEST.date().isoformat()} to "
                         f"{LATEST.date().isoformat()}, UTC)")
    return value


def write(tx: Tx, setting: ClockSetting) -> None:
    tx.meta.set(META_KEY, setting.to_json())


def fixed(at: datetime) -> ClockSetting:
    return ClockSetting(mode="fixed", at=at)


def running_from(at: datetime) -> ClockSetting:
    return ClockSetting(mode="offset", at=at, offset=at - datetime.now(UTC))
