"""Budget periods are calendar days, weeks and months in the configured zone, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from switchboard.services.budget_periods import PERIODS, _window, window, zone

BERLIN = zone("Europe/Berlin")


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_period_starts_at_local_midnight_not_utc() -> None:
    now = ts(2026, 12, 4, 23, 30)  # already Saturday 5 December, 00:30, in Berlin
    day = window("day", now, BERLIN)
    assert (day.start, day.starts_at, day.resets_at) == (
        date(2026, 12, 5), utc(2026, 12, 4, 23), utc(2026, 12, 5, 23))
    week = window("week", now, BERLIN)  # weeks start on Monday
    assert (week.start, week.starts_at, week.resets_at) == (
        date(2026, 11, 30), utc(2026, 11, 29, 23), utc(2026, 12, 6, 23))
    month = window("month", now, BERLIN)
    assert (month.start, month.starts_at, month.resets_at) == (
        date(2026, 12, 1), utc(2026, 11, 30, 23), utc(2026, 12, 31, 23))
    # The same instant in UTC is still Friday 4 December.
    assert window("day", now, zone("UTC")).start == date(2026, 12, 4)


def test_days_across_daylight_saving_changes_are_23_and_25_hours() -> None:
    spring = window("day", ts(2026, 3, 29, 12), BERLIN)
    assert (spring.starts_at, spring.resets_at) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    autumn = window("day", ts(2026, 10, 25, 12), BERLIN)
    assert (autumn.starts_at, autumn.resets_at) == (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    march = window("month", ts(2026, 3, 15), BERLIN)
    assert (march.starts_at, march.resets_at) == (utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))
    # The last hour before the change still belongs to the 23-hour day.
    assert window("day", ts(2026, 3, 29, 21, 59), BERLIN).start == date(2026, 3, 29)
    assert window("day", ts(2026, 3, 29, 22), BERLIN).start == date(2026, 3, 30)


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/Santiago", "America/Havana",
                                  "Australia/Lord_Howe", "Asia/Kolkata", "UTC"])
@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_periods_tile_time_in_zones_whose_clocks_jump(name: str, period: str) -> None:
    """Every instant of a year lies in exactly one period, and each period ends where the
    next begins — also in zones whose clocks jump at midnight (Santiago, Havana)."""
    tz = zone(name)
    now = ts(2026, 1, 1)
    current = window(period, now, tz)
    while now < ts(2027, 1, 1):
        w = window(period, now, tz)
        assert w.starts_at.timestamp() <= now < w.resets_at.timestamp()
        if w != current:
            assert w.starts_at == current.resets_at, (name, period, w, current)
            assert w.start > current.start
            current = w
        now += timedelta(hours=3).total_seconds()


def test_the_remembered_window_is_the_one_computed_afresh() -> None:
    """``window`` keeps the last window per period and zone; walking through a year in
    uneven steps (across both daylight-saving changes, month and year ends, and a zone
    whose midnight does not exist once a year) it always equals a fresh computation."""
    for tz in (BERLIN, zone("America/Havana"), zone("UTC")):
        now = ts(2026, 1, 1) - 1.0
        for step in [1.0, 3599.0, 7200.5, 86399.0, 3 * 86400.0] * 400:
            now += step
            for period in PERIODS:
                assert window(period, now, tz) == _window(period, now, tz), (tz, period, now)
