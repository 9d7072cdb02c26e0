"""Budget periods: calendar days, weeks and months in the configured time zone.

A budget of "$5 a day" means a day as the people paying see it — midnight to midnight
where they are (``SWITCHBOARD_BUDGET_TIMEZONE``, default UTC) — not a sliding 24 hours:
a sliding window would need every call's timestamp to know what is left, and nobody can
say when it "resets". Weeks start on Monday (ISO 8601), months on the 1st.

A period is named by its first local day (``start``); that date keys the spend row
(``budget_spend.period_start``), so a new period starts from zero with no reset job.
Its bounds in UTC come from the zone's rules, so a day is 23 or 25 hours long across a
daylight-saving change, and where midnight itself does not exist (zones that change at
00:00) the period begins at the first instant of that day that does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PERIODS = ("day", "week", "month")
PERIOD_NOUNS = {"day": "daily", "week": "weekly", "month": "monthly"}


@dataclass(frozen=True, slots=True)
class Window:
    """One period: its first local day and its bounds as UTC instants."""

    start: date
    starts_at: datetime
    resets_at: datetime


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The zone by name (validated once by ``config``; cached: zone lookups read files)."""
    return ZoneInfo(name)


def first_day(period: str, day: date) -> date:
    """The first day of the ``period`` that contains ``day``."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown budget period {period!r}")


def next_first_day(period: str, start: date) -> date:
    """The first day of the period after the one starting on ``start``."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    if period == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    raise ValueError(f"unknown budget period {period!r}")


def midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant ``day`` begins in ``tz``, in UTC.

    ``datetime(..., tzinfo=tz)`` for a local time that does not exist (a gap at
    midnight) uses the offset before the change (fold=0), which lands exactly on the
    change: the first instant of the day that exists."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


_LAST: dict[tuple[str, ZoneInfo], tuple[float, float, Window]] = {}
"""The last window computed per (period, zone), with its bounds as timestamps: every
budgeted call asks for the window of "now", and the zone arithmetic (~10 us a budget) only
needs redoing once a period. At most 3 periods x the zones in use (one, configured)."""


def window(period: str, now: float, tz: ZoneInfo) -> Window:
    """The period containing the instant ``now`` (seconds since the epoch)."""
    last = _LAST.get((period, tz))
    if last is not None and last[0] <= now < last[1]:
        return last[2]
    found = _window(period, now, tz)
    _LAST[(period, tz)] = (found.starts_at.timestamp(), found.resets_at.timestamp(), found)
    return found


def _window(period: str, now: float, tz: ZoneInfo) -> Window:
    local = datetime.fromtimestamp(now, tz)
    start = first_day(period, local.date())
    starts_at = midnight(start, tz)
    if starts_at.timestamp() > now:  # inside a gap at midnight: still the previous day
        start = first_day(period, start - timedelta(days=1))
        starts_at = midnight(start, tz)
    return Window(start, starts_at, midnight(next_first_day(period, start), tz))
