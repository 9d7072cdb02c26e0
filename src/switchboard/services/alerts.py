"""Alerts: one evaluator for the deployment turns the rules' findings into alerts and
notices (issue 17 item 4, decisions 0130-0132).

Each round (``Evaluator.run_once``, every ``interval`` seconds from the app's lifespan):

1. **One at a time across workers.** On PostgreSQL the round runs inside a transaction
   holding ``pg_try_advisory_xact_lock``: a worker that does not get it skips the round
   (another is evaluating); the lock goes with the transaction, so a crashed worker never
   holds it. SQLite serves one process (docs/architecture.md), where an ``asyncio.Lock``
   is enough.
2. **Rules** (``services.alert_rules``) are evaluated at one instant ``now``, read from an
   injected clock, so tests move time instead of sleeping.
3. **De-duplication and resolution.** A finding with no open alert for its (rule, subject)
   opens one; a finding with one updates its value; an open alert with no finding is
   resolved — unless its rule failed to evaluate this round (an error is not a
   recovery). A partial unique index keeps one open alert per (rule, subject) even if two
   evaluators ever raced.
4. **Deliveries.** Each opening and resolution becomes one pending delivery per enabled
   channel. Due deliveries are *claimed* in the same locked transaction (attempt counted,
   next try pushed back), then sent after it commits, each with a timeout: the lock is
   never held across the network, and no two workers send the same notice. A failed
   delivery is tried again after ``BACKOFF`` up to ``MAX_ATTEMPTS`` times, then marked
   failed, its last error kept for the Alerts page.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, text, update

from switchboard.db import Database, tables
from switchboard.db import models as m
from switchboard.security.vault import Vault
from switchboard.services import alert_channels, alert_signals, budgets
from switchboard.services.alert_channels import DeliveryFailed, Notice
from switchboard.services.alert_rules import (
    MAX_WINDOW,
    RULES,
    Context,
    Finding,
    RuleSettings,
    evaluate,
)
from switchboard.services.audit import Actor, record
from switchboard.services.errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from switchboard.db.asyncio_engine import AsyncConnection

log = logging.getLogger("switchboard.alerts")

# Core tables: a quiet round (nothing opened, resolved or due) reads and writes in Core
# only, so every server's evaluator leaves the ORM's mappers unconfigured (decision 0235);
# the ORM serves an alert's opening, resolution and delivery.
_alert_rules = tables.alert_rules
_alerts = tables.alerts
_deliveries = tables.alert_deliveries

LOCK_KEY = zlib.crc32(b"switchboard.alerts")
INTERVAL = 30.0
"""Seconds between two evaluation rounds."""
MAX_ATTEMPTS = 4
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))
"""Wait before the 2nd, 3rd and 4th attempt of a delivery."""
CLAIM_BATCH = 20
"""Deliveries sent per round at most (the rest wait for the next round)."""
RECENT = 50
"""Resolved alerts the Alerts page lists."""

Now = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# -- rule settings ------------------------------------------------------------------------


async def _add_missing(runner: AsyncSession | AsyncConnection,
                       have: set[str]) -> list[RuleSettings]:
    """Add every rule of ``RULES`` not in ``have`` with its defaults (a new rule shipped
    in an upgrade appears switched on with its defaults); returns what was added. Core,
    so the alert round can seed without the ORM (decision 0235)."""
    added = []
    for kind, info in RULES.items():
        if kind not in have:
            d = info.default
            await runner.execute(insert(_alert_rules).values(
                kind=kind, enabled=d.enabled, threshold=d.threshold,
                window_seconds=d.window_seconds, min_requests=d.min_requests))
            added.append(RuleSettings(kind, d.enabled, d.threshold, d.window_seconds,
                                      d.min_requests))
    return added


async def _seeded(session: AsyncSession) -> dict[str, m.AlertRule]:
    """The rules' rows (as ORM objects, for the settings pages), every rule seeded."""
    await _add_missing(session, set(await session.scalars(select(_alert_rules.c.kind))))
    return {r.kind: r for r in (await session.execute(select(m.AlertRule))).scalars()}


async def _rule_settings(conn: AsyncConnection) -> list[RuleSettings]:
    """The rules' settings for a round, every rule seeded, in Core."""
    r = _alert_rules.c
    found = [RuleSettings(row.kind, row.enabled, row.threshold, row.window_seconds,
                          row.min_requests) for row in await conn.execute(
        select(r.kind, r.enabled, r.threshold, r.window_seconds, r.min_requests))]
    return found + await _add_missing(conn, {s.kind for s in found})


def rule_view(row: m.AlertRule) -> dict[str, Any]:
    info = RULES[row.kind]
    return {"kind": row.kind, "title": info.title, "enabled": row.enabled,
            "threshold": row.threshold, "unit": info.threshold_unit,
            "window_seconds": row.window_seconds if info.uses_window else None,
            "min_requests": row.min_requests if info.uses_min_requests else None,
            "default": {"threshold": info.default.threshold,
                        "window_seconds": info.default.window_seconds or None,
                        "min_requests": info.default.min_requests or None}}


async def list_rules(db: Database) -> list[dict[str, Any]]:
    async with db.unit_of_work() as session:
        rows = await _seeded(session)
    return [rule_view(rows[kind]) for kind in RULES]


async def update_rule(db: Database, actor: Actor, kind: str, *, enabled: bool | None = None,
                      threshold: float | None = None, window_seconds: int | None = None,
                      min_requests: int | None = None) -> dict[str, Any]:
    info = RULES.get(kind)
    if info is None:
        raise NotFound(f"no alert rule '{kind}'")
    low, high = info.threshold_range
    if threshold is not None and not low <= threshold <= high:
        raise ValidationFailed(f"the threshold must be between {low:g} and {high:g}",
                               "threshold")
    if window_seconds is not None and not 60 <= window_seconds <= MAX_WINDOW:
        raise ValidationFailed(f"the window must be 60 to {MAX_WINDOW} seconds",
                               "window_seconds")
    if min_requests is not None and not 1 <= min_requests <= 1_000_000:
        raise ValidationFailed("the minimum number of requests must be 1 to 1000000",
                               "min_requests")
    async with db.unit_of_work() as session:
        row = (await _seeded(session))[kind]
        changes: dict[str, Any] = {}
        for name, value in (("enabled", enabled), ("threshold", threshold),
                            ("window_seconds", window_seconds if info.uses_window else None),
                            ("min_requests",
                             min_requests if info.uses_min_requests else None)):
            if value is not None and getattr(row, name) != value:
                setattr(row, name, value)
                changes[name] = value
        if changes:
            record(session, actor, "alert.rule.update", target_type="alert_rule",
                   target_id=kind, details=changes)
        return rule_view(row)


# -- alerts -------------------------------------------------------------------------------


def alert_view(row: m.Alert) -> dict[str, Any]:
    info = RULES.get(row.rule)
    return {"id": row.id, "rule": row.rule, "title": info.title if info else row.rule,
            "subject": row.subject, "value": row.value, "message": row.message,
            "opened_at": row.opened_at.isoformat(),
            "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None}


async def open_alerts(db: Database, *, limit: int = 100) -> list[dict[str, Any]]:
    async with db.unit_of_work(read_only=True) as session:
        rows = (await session.execute(
            select(m.Alert).where(m.Alert.resolved_at.is_(None))
            .order_by(m.Alert.opened_at.desc(), m.Alert.id.desc()).limit(limit))).scalars()
        return [alert_view(r) for r in rows]


async def alert_lists(db: Database) -> dict[str, Any]:
    """Open alerts, recently resolved ones, and deliveries that failed (the Alerts page)."""
    async with db.unit_of_work(read_only=True) as session:
        recent = (await session.execute(
            select(m.Alert).where(m.Alert.resolved_at.is_not(None))
            .order_by(m.Alert.resolved_at.desc(), m.Alert.id.desc()).limit(RECENT))).scalars()
        d, c = m.AlertDelivery, m.AlertChannel
        failing = (await session.execute(
            select(d, c.name).join(c, c.id == d.channel_id)
            .where(d.last_error.is_not(None), d.status != "sent")
            .order_by(d.id.desc()).limit(RECENT))).all()
        resolved = [alert_view(r) for r in recent]
    return {"open": await open_alerts(db), "resolved": resolved,
            "failed_deliveries": [
                {"id": row.id, "alert_id": row.alert_id, "channel": name,
                 "event": row.event, "status": row.status, "attempts": row.attempts,
                 "error": row.last_error,
                 "next_at": row.next_at.isoformat() if row.status == "pending" else None}
                for row, name in failing]}


@dataclass(slots=True)
class Round:
    """What one evaluation round did (for tests and the log)."""

    opened: list[m.Alert] = field(default_factory=list)
    resolved: list[m.Alert] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    """Rules that could not be evaluated this round."""


def _reconcile(session: AsyncSession, open_rows: Sequence[m.Alert],
               findings: dict[tuple[str, str], Finding], failed_rules: set[str],
               now: datetime, result: Round) -> None:
    current = {(a.rule, a.subject): a for a in open_rows}
    for key, finding in findings.items():
        alert = current.get(key)
        if alert is None:
            alert = m.Alert(rule=finding.rule, subject=finding.subject, value=finding.value,
                            message=finding.message, opened_at=now)
            session.add(alert)
            result.opened.append(alert)
        else:
            alert.value, alert.message = finding.value, finding.message
    for key, alert in current.items():
        if key not in findings and alert.rule not in failed_rules:
            alert.resolved_at = now
            result.resolved.append(alert)


class Evaluator:
    """The alert evaluator of one process; every process runs one, one at a time wins."""

    def __init__(self, db: Database, *, vault: Callable[[], Vault], timezone: str = "UTC",
                 base_url: str = "", interval: float = INTERVAL, now: Now = utc_now,
                 send_timeout: float = alert_channels.SEND_TIMEOUT) -> None:
        self.db = db
        self.vault = vault
        self.timezone = timezone
        self.base_url = base_url.rstrip("/")
        self.interval = interval
        self.now = now
        self.send_timeout = send_timeout
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self.before_round: list[Callable[[], Awaitable[None]]] = []
        """Run first each round (the app writes its budget counters: decision 0088)."""

    @property
    def link(self) -> str:
        return f"{self.base_url}/settings/dashboard" if self.base_url else "/settings/dashboard"

    # -- the round --------------------------------------------------------------------
    async def run_once(self) -> Round | None:
        """One round; None when another worker holds the lock."""
        async with self._lock:
            for hook in self.before_round:
                await hook()
            now = self.now()
            result = Round()
            claimed: list[tuple[m.AlertDelivery, m.AlertChannel, m.Alert]] = []
            async with self.db.transaction() as conn:
                if self.db.engine.dialect.name == "postgresql":
                    got = await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                            {"k": LOCK_KEY})
                    if not got:
                        return None
                rules = await _rule_settings(conn)
                findings, failed = await self._findings(rules, now)
                result.errors = sorted(failed)
                # Core first: in most rounds nothing is found, open or due, and the ORM
                # (decisions 0235, 0237) is only needed to change alerts and deliveries.
                reconcile = bool(findings) or await conn.scalar(select(_alerts.c.id).where(
                    _alerts.c.resolved_at.is_(None)).limit(1)) is not None
                due = await conn.scalar(select(_deliveries.c.id).where(
                    _deliveries.c.status == "pending", _deliveries.c.next_at <= now)
                    .limit(1)) is not None
                if reconcile or due:
                    async with self.db.session_on(conn) as session:  # same transaction
                        if reconcile:
                            open_rows = (await session.execute(select(m.Alert).where(
                                m.Alert.resolved_at.is_(None)))).scalars().all()
                            _reconcile(session, open_rows, findings, failed, now, result)
                            await session.flush()
                            await self._queue(session, result, now)
                        claimed = await self._claim(session, now)
                        await session.flush()
            for delivery, channel, alert in claimed:
                await self._deliver(delivery, channel, alert)
            result.sent = sum(1 for d, _, _ in claimed if d.status == "sent")
            result.failed = len(claimed) - result.sent
            await alert_signals.prune(self.db, now)
            return result

    async def _findings(self, rules: list[RuleSettings], now: datetime
                        ) -> tuple[dict[tuple[str, str], Finding], set[str]]:
        found = await budgets.list_budgets(self.db, now=now.timestamp(),
                                           timezone=self.timezone)
        ctx = Context(self.db, now, found)
        findings: dict[tuple[str, str], Finding] = {}
        failed: set[str] = set()
        for rule in rules:
            try:
                for finding in await evaluate(ctx, rule):
                    findings[(finding.rule, finding.subject)] = finding
            except Exception:
                log.exception("alert rule %s could not be evaluated", rule.kind)
                failed.add(rule.kind)
        return findings, failed

    async def _queue(self, session: AsyncSession, result: Round, now: datetime) -> None:
        if not (result.opened or result.resolved):
            return
        channels = (await session.execute(select(m.AlertChannel.id).where(
            m.AlertChannel.enabled.is_(True)))).scalars().all()
        for event, alerts in (("opened", result.opened), ("resolved", result.resolved)):
            for alert in alerts:
                for channel_id in channels:
                    session.add(m.AlertDelivery(alert_id=alert.id, channel_id=channel_id,
                                                event=event, status="pending", attempts=0,
                                                next_at=now))

    async def _claim(self, session: AsyncSession, now: datetime
                     ) -> list[tuple[m.AlertDelivery, m.AlertChannel, m.Alert]]:
        d = m.AlertDelivery
        rows = (await session.execute(
            select(d, m.AlertChannel, m.Alert)
            .join(m.AlertChannel, m.AlertChannel.id == d.channel_id)
            .join(m.Alert, m.Alert.id == d.alert_id)
            .where(d.status == "pending", d.next_at <= now)
            .order_by(d.next_at, d.id).limit(CLAIM_BATCH))).all()
        claimed = [(d_, c_, a_) for d_, c_, a_ in rows]
        for delivery, _, _ in claimed:
            delivery.attempts += 1
            delivery.next_at = now + BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
        return claimed

    def notice(self, alert: m.Alert, event: str) -> Notice:
        info = RULES.get(alert.rule)
        at = alert.resolved_at if event == "resolved" else alert.opened_at
        message = (alert.message if event == "opened"
                   else f"No longer: {alert.message}")
        return Notice(event=event, rule=alert.rule, subject=alert.subject,
                      title=info.title if info else alert.rule, message=message,
                      value=alert.value, link=self.link,
                      at=(at or self.now()).isoformat())

    async def _deliver(self, delivery: m.AlertDelivery, channel: m.AlertChannel,
                       alert: m.Alert) -> None:
        error: str | None = None
        try:
            await alert_channels.send(channel, self.vault(), self.notice(alert, delivery.event),
                                      limit=self.send_timeout)
        except DeliveryFailed as exc:
            error = str(exc)
        except Exception as exc:  # a bug or a vault problem: recorded, never fatal
            log.exception("alert delivery %s failed", delivery.id)
            error = f"the notice could not be sent ({type(exc).__name__})"
        if error is None:
            delivery.status, delivery.sent_at, delivery.last_error = "sent", self.now(), None
        else:
            delivery.last_error = error
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = "failed"
        async with self.db.unit_of_work() as session:
            await session.execute(update(m.AlertDelivery)
                                  .where(m.AlertDelivery.id == delivery.id)
                                  .values(status=delivery.status, sent_at=delivery.sent_at,
                                          last_error=delivery.last_error))

    async def send_test(self, channel_id: int) -> None:
        """Send a test notice on one channel now (raises ``DeliveryFailed``)."""
        row = await alert_channels.load_channel(self.db, channel_id)
        now = self.now()
        await alert_channels.send(row, self.vault(), Notice(
            event="test", rule="test", subject=f"channel:{row.id}",
            title="Test notice",
            message=f"This is a test of the alert channel '{row.name}'.",
            value=None, link=self.link, at=now.isoformat()), limit=self.send_timeout)

    # -- the loop ---------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(),
                                                                 name="alert-evaluator")

    async def _run(self) -> None:
        while not self._closing.is_set():
            try:
                await asyncio.wait_for(self._closing.wait(), self.interval)
                return
            except TimeoutError:
                pass
            try:
                await self.run_once()
            except Exception:  # the database away, say: try again next round
                log.exception("alert evaluation failed")

    async def close(self) -> None:
        self._closing.set()
        if self._task is not None:
            await self._task
            self._task = None
