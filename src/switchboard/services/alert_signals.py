"""What one server process tells the alert evaluator (decision 0130).

Breakers and the usage recorder live in each process (decision 0063), while one evaluator
for the whole deployment decides the alerts. So each process writes down, in
``alert_signals``, what only it can see: each time one of its breakers opens, and its
usage recorder's backlog when it is large or a write failed. The writes ride on the usage
recorder's own loop (``after_flush``, every half second), batched, and cost nothing while
all is well: no breaker opened, no backlog, no row.

Memory is bounded (at most ``MAX_QUEUED`` openings waiting; beyond that the oldest go: the
rule needs one opening per window, not all of them).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert

from switchboard.db import Database, tables
from switchboard.services.alert_rules import (
    SIGNAL_BREAKER_OPEN,
    SIGNAL_USAGE_BACKLOG,
    SIGNAL_USAGE_FAILED,
)
from switchboard.services.breakers import Breakers, State
from switchboard.services.usage import UsageRecorder

log = logging.getLogger("switchboard.alerts")

MAX_QUEUED = 1000
BACKLOG_FLOOR = 100
"""A backlog below this many rows is normal traffic between two writes: not reported."""
BACKLOG_EVERY = timedelta(seconds=10)
"""At most one backlog sample per process this often (the rule wants the largest)."""
KEEP = timedelta(days=1)
"""Signals older than this are deleted by the evaluator (no rule reads that far)."""
MAX_DETAIL = 300

Now = Callable[[], datetime]

_alert_signals = tables.alert_signals
"""Core: the signals are written and pruned by every server's background rounds; ORM
instances would configure all the mappers (decision 0235)."""


@dataclass(frozen=True, slots=True)
class Signal:
    """One ``alert_signals`` row waiting to be written."""

    kind: str
    subject: str
    value: float
    created_at: datetime
    detail: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


class SignalReporter:
    """One per process: ``install`` hooks it to the breakers and the usage recorder."""

    def __init__(self, db: Database, *, now: Now = utc_now) -> None:
        self.db = db
        self.now = now
        self._queued: deque[Signal] = deque(maxlen=MAX_QUEUED)
        self._usage: UsageRecorder | None = None
        self._failures_seen = 0
        self._last_backlog: datetime | None = None

    def install(self, breakers: Breakers, usage: UsageRecorder) -> None:
        """Listen to the breakers (beside whoever listens already: the metrics) and the
        usage recorder. Before the first call: a breaker takes the hook when created."""
        previous = breakers.on_change

        def on_change(provider: str, key_id: str | None, state: str) -> None:
            if previous is not None:
                previous(provider, key_id, state)
            if state == State.OPEN.value:
                breaker = breakers.known(provider, key_id)
                self.breaker_opened(provider, key_id,
                                    breaker.last_error if breaker is not None else None)

        breakers.on_change = on_change
        self._usage = usage
        self._failures_seen = usage.failures
        usage.after_flush.append(self.flush)

    def breaker_opened(self, provider: str, key_id: str | None, reason: str | None) -> None:
        subject = provider if key_id is None else f"{provider} (key {key_id})"
        self._queued.append(Signal(
            kind=SIGNAL_BREAKER_OPEN, subject=provider, value=1.0,
            detail=(reason or subject)[:MAX_DETAIL], created_at=self.now()))

    def _sample_usage(self) -> None:
        usage = self._usage
        if usage is None:
            return
        now = self.now()
        if usage.failures > self._failures_seen:
            self._queued.append(Signal(
                kind=SIGNAL_USAGE_FAILED, subject="usage",
                value=float(usage.failures - self._failures_seen), created_at=now))
            self._failures_seen = usage.failures
        if usage.pending >= BACKLOG_FLOOR and (
                self._last_backlog is None or now - self._last_backlog >= BACKLOG_EVERY):
            self._last_backlog = now
            self._queued.append(Signal(kind=SIGNAL_USAGE_BACKLOG, subject="usage",
                                       value=float(usage.pending), created_at=now))

    async def flush(self) -> None:
        """Write what was queued (kept for the next try when the database refuses)."""
        self._sample_usage()
        if not self._queued:
            return
        rows = list(self._queued)
        self._queued.clear()
        try:
            async with self.db.transaction() as conn:
                await conn.execute(insert(_alert_signals), [asdict(r) for r in rows])
        except Exception:
            log.warning("writing %d alert signals failed; will retry", len(rows))
            self._queued.extendleft(reversed(rows))  # before the newer ones, bounded


async def prune(db: Database, now: datetime) -> None:
    """Delete signals no rule reads any more (called by the evaluator)."""
    async with db.transaction() as conn:
        await conn.execute(delete(_alert_signals)
                           .where(_alert_signals.c.created_at < now - KEEP))
