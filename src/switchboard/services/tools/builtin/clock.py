"""``datetime``: the current date and time, in UTC or an IANA time zone.

A model knows nothing of "now" (its training ended long ago and the prompt may not say),
so "what day is it in Tokyo" or "how many days until…" needs this. Zones come from the
system's time zone database through ``zoneinfo``; the clock is injectable so tests are
exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from switchboard.services.tools.contract import ToolContext, ToolOutput, ToolSpec

MAX_ZONE_CHARS = 64

SPEC = ToolSpec(
    name="datetime",
    description=(
        "Get the current date and time. Call it whenever the answer depends on today's "
        "date, the current time, the day of the week, or the time somewhere else. "
        "Optionally give an IANA time zone name (for example Europe/Paris, "
        "America/New_York, Asia/Tokyo); without one the time is in UTC. Returns the ISO "
        "8601 timestamp, the weekday, the zone and its offset from UTC."
    ),
    parameters={
        "type": "object",
        "properties": {"timezone": {
            "type": "string", "maxLength": MAX_ZONE_CHARS,
            "description": "IANA time zone name, e.g. Europe/Berlin; default UTC",
        }},
        "additionalProperties": False,
    },
    source="builtin",
    timeout_s=2.0,
    max_result_chars=1_000,
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _zone(name: str) -> ZoneInfo:
    """The zone called ``name``; ``ValueError`` in words for anything else (zoneinfo
    also refuses paths such as ``../../etc/passwd`` with a ValueError)."""
    if len(name) > MAX_ZONE_CHARS:
        raise ValueError(f"a time zone name has at most {MAX_ZONE_CHARS} characters")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name[:MAX_ZONE_CHARS]!r}; use an IANA name "
                         "such as Europe/Berlin, America/New_York or UTC") from None


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


class Clock:
    """The ``datetime`` tool; ``now`` returns an aware UTC time (tests pass a fixed one)."""

    spec = SPEC

    def __init__(self, now: Callable[[], datetime] = _utc_now) -> None:
        self._now = now

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        name = arguments.get("timezone") or "UTC"
        if not isinstance(name, str):
            return ToolOutput("datetime: 'timezone' must be a string such as "
                              "Europe/Berlin", is_error=True)
        try:
            zone = _zone(name.strip())
        except ValueError as exc:
            return ToolOutput(f"datetime: {exc}", is_error=True)
        moment = self._now().astimezone(zone)
        iso = moment.isoformat(timespec="seconds")
        text = (f"{iso} ({moment:%A}, {moment.day} {moment:%B %Y}, {moment:%H:%M} in "
                f"{zone.key}, {_offset(moment)})")
        return ToolOutput(text, structured={
            "iso": iso, "timezone": zone.key, "weekday": f"{moment:%A}",
            "utc_offset": _offset(moment), "unix": int(moment.timestamp())})
