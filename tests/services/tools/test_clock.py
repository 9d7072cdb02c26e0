"""``datetime``: now, in UTC or an IANA zone; a bad zone is an error in words."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.services.principal import Principal
from switchboard.services.tools.builtin.clock import Clock
from switchboard.services.tools.contract import ToolContext

CONTEXT = ToolContext(Principal(1, "ada", "user"))
NOW = datetime(2026, 12, 4, 20, 30, 5, tzinfo=UTC)


async def test_utc_by_default_and_a_zone() -> None:
    clock = Clock(now=lambda: NOW)
    out = await clock.run({}, CONTEXT)
    assert not out.is_error
    assert out.text == ("2026-12-04T20:30:05+00:00 (Friday, 4 December 2026, 20:30 in UTC, "
                        "UTC+00:00)")
    out = await clock.run({"timezone": "Asia/Kolkata"}, CONTEXT)
    assert out.structured == {"iso": "2026-12-05T02:00:05+05:30", "timezone": "Asia/Kolkata",
                              "weekday": "Saturday", "utc_offset": "UTC+05:30",
                              "unix": int(NOW.timestamp())}
    out = await clock.run({"timezone": "America/St_Johns"}, CONTEXT)
    assert "UTC-03:30" in out.text and "17:00" in out.text


async def test_bad_zones() -> None:
    clock = Clock(now=lambda: NOW)
    for zone in ("Mars/Olympus", "../../etc/passwd", "/etc/localtime", "x" * 65, "\x00"):
        out = await clock.run({"timezone": zone}, CONTEXT)
        assert out.is_error and out.text.startswith("datetime: "), zone
    out = await clock.run({"timezone": 5}, CONTEXT)
    assert out.is_error and "must be a string" in out.text
