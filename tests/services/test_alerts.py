"""Alerts with a fake clock: every rule opens its alert, a second round opens nothing new
(de-duplication), and the alerts whose condition cleared are resolved when time moves on
— on SQLite and PostgreSQL. The PostgreSQL lock: a round while another holds it skips."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import accounts, alert_rules, alerts, budget_periods, catalog, keys
from switchboard.services.alert_signals import SignalReporter
from switchboard.services.audit import SYSTEM
from switchboard.services.breakers import BreakerPolicy, Breakers
from switchboard.services.budgets import set_budget
from switchboard.services.errors import NotFound, ValidationFailed
from switchboard.services.usage import UsageRecord, UsageRecorder

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def call(provider: str, *, ms: int, at: datetime, error: bool = False) -> UsageRecord:
    return UsageRecord(provider=provider, model="m", source="api",
                       status="error" if error else "ok",
                       error_code="upstream_error" if error else None, input_tokens=1,
                       output_tokens=1, cost=None, latency_ms=ms, user_id=None,
                       created_at=at)


async def _spend(db: Database, budget_id: int, nano: int) -> None:
    start = budget_periods.window("month", NOW.timestamp(), budget_periods.zone("UTC")).start
    async with db.unit_of_work() as session:
        session.add(m.BudgetSpend(budget_id=budget_id, period_start=start, spent=nano,
                                  reserved=0))


async def _key(db: Database, provider: str, label: str, **values: object) -> int:
    await keys.add_provider_key(db, provider, f"sk-test-{label}-0123456789", label=label)
    async with db.unit_of_work() as session:
        key_id = await session.scalar(select(m.ProviderKey.id).where(
            m.ProviderKey.label == label))
        await session.execute(update(m.ProviderKey).where(m.ProviderKey.id == key_id)
                              .values(**values))
    assert key_id is not None
    return key_id


async def test_every_rule_opens_once_and_resolves_when_it_clears(database: Database) -> None:
    for name in ("slow", "flaky", "fine"):
        await catalog.create_provider(database, name=name, kind="openai")
    usage = UsageRecorder(database)
    clock = Clock(NOW)
    for i in range(25):  # flaky: 10 of 25 failed in the last five minutes
        usage.record(call("flaky", ms=300, at=NOW - timedelta(seconds=10 + i),
                          error=i % 5 < 2))
        usage.record(call("slow", ms=45_000, at=NOW - timedelta(seconds=20 + i)))
        usage.record(call("fine", ms=200, at=NOW - timedelta(seconds=30 + i),
                          error=i == 0))
    usage.record(call("slow", ms=45_000, at=NOW - timedelta(minutes=30)))  # outside
    await usage.flush()
    expiring = await _key(database, "fine", "soon", expires_at=NOW + timedelta(days=10))
    urgent = await _key(database, "fine", "urgent", expires_at=NOW + timedelta(hours=12))
    await _key(database, "fine", "far", expires_at=NOW + timedelta(days=90))
    refused = await _key(database, "flaky", "refused", failed_at=NOW - timedelta(hours=1))
    warn = await set_budget(database, SYSTEM, scope="global", amount="10", period="month")
    used_up = await set_budget(database, SYSTEM, scope="global", amount="2", period="month",
                               soft=True)
    await _spend(database, warn.id, 8_500_000_000)  # $8.50 of $10: 85%
    await _spend(database, used_up.id, 2_000_000_000)  # $2 of $2
    # Each process's breakers and usage backlog reach the evaluator through signals.
    breakers = Breakers(BreakerPolicy(failure_threshold=2))
    reporter = SignalReporter(database, now=clock)
    reporter.install(breakers, usage)
    breakers.get("flaky").failure("HTTP 503")
    breakers.get("flaky").failure("HTTP 503")
    for _ in range(1200):
        usage.record(call("fine", ms=100, at=NOW))
    await reporter.flush()

    evaluator = alerts.Evaluator(database, vault=keys.open_vault, now=clock)
    first = await evaluator.run_once()
    assert first is not None and first.errors == []
    opened = {(a.rule, a.subject): a for a in first.opened}
    assert set(opened) == {
        ("error_rate", "provider:flaky"), ("latency_p95", "provider:slow"),
        ("key_expiring", f"key:{expiring}"), ("key_expiring", f"key:{urgent}"),
        ("key_expiring_urgent", f"key:{urgent}"), ("key_rejected", f"key:{refused}"),
        ("budget_warning", f"budget:{warn.id}"), ("budget_warning", f"budget:{used_up.id}"),
        ("budget_exhausted", f"budget:{used_up.id}"), ("breaker_open", "provider:flaky"),
        ("usage_behind", "usage")}
    assert opened[("error_rate", "provider:flaky")].value == 0.4
    assert "10 of 25 calls (40%)" in opened[("error_rate", "provider:flaky")].message
    assert opened[("latency_p95", "provider:slow")].value >= 30_000
    assert "85%" in opened[("budget_warning", f"budget:{warn.id}")].message
    assert "expires in 12 hours" in opened[("key_expiring_urgent", f"key:{urgent}")].message
    assert "HTTP 503" in opened[("breaker_open", "provider:flaky")].message

    clock.at = NOW + timedelta(seconds=30)
    again = await evaluator.run_once()
    assert again is not None and (again.opened, again.resolved) == ([], [])

    # An hour on: the traffic, the breaker and the backlog are out of their windows.
    clock.at = NOW + timedelta(hours=1)
    later = await evaluator.run_once()
    assert later is not None and later.opened == []
    assert {(a.rule, a.subject) for a in later.resolved} == {
        ("error_rate", "provider:flaky"), ("latency_p95", "provider:slow"),
        ("breaker_open", "provider:flaky"), ("usage_behind", "usage")}
    still = {(a["rule"], a["subject"]) for a in await alerts.open_alerts(database)}
    assert ("key_rejected", f"key:{refused}") in still and len(still) == 7
    lists = await alerts.alert_lists(database)
    assert len(lists["resolved"]) == 4 and lists["failed_deliveries"] == []

    # A rule switched off resolves its alerts; its threshold is the admin's to turn.
    await alerts.update_rule(database, SYSTEM, "budget_warning", enabled=False)
    await alerts.update_rule(database, SYSTEM, "key_expiring", threshold=5)
    off = await evaluator.run_once()
    assert off is not None
    assert {(a.rule, a.subject) for a in off.resolved} == {
        ("budget_warning", f"budget:{warn.id}"), ("budget_warning", f"budget:{used_up.id}"),
        ("key_expiring", f"key:{expiring}")}
    rules = {r["kind"]: r for r in await alerts.list_rules(database)}
    assert (rules["budget_warning"]["enabled"], rules["key_expiring"]["threshold"]) == (
        False, 5)
    assert rules["error_rate"]["window_seconds"] == 300
    with pytest.raises(ValidationFailed):
        await alerts.update_rule(database, SYSTEM, "error_rate", threshold=2)
    with pytest.raises(NotFound):
        await alerts.update_rule(database, SYSTEM, "nonsense", enabled=True)


async def test_a_rule_that_fails_keeps_its_alerts_open(database: Database,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    await catalog.create_provider(database, name="oa", kind="openai")
    refused = await _key(database, "oa", "refused", failed_at=NOW)
    evaluator = alerts.Evaluator(database, vault=keys.open_vault, now=Clock(NOW))
    first = await evaluator.run_once()
    assert first is not None
    assert [(a.rule, a.subject) for a in first.opened] == [("key_rejected", f"key:{refused}")]

    async def broken(ctx: object, rule: object) -> list[object]:
        raise RuntimeError("the database went away")

    monkeypatch.setitem(alert_rules.CHECKS, "key_rejected", broken)
    second = await evaluator.run_once()
    assert second is not None
    assert (second.errors, second.resolved) == (["key_rejected"], [])


async def test_one_evaluator_at_a_time_on_postgresql(database: Database,
                                                     migrated_database_url: str) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's (SQLite serves one process)")
    other = Database.from_url(migrated_database_url)
    try:
        first = alerts.Evaluator(database, vault=keys.open_vault, now=Clock(NOW))
        second = alerts.Evaluator(other, vault=keys.open_vault, now=Clock(NOW))
        async with other.unit_of_work() as session:  # another worker's round in progress
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                  {"k": alerts.LOCK_KEY})
            assert await first.run_once() is None
        assert await first.run_once() is not None  # released with its transaction
        assert await second.run_once() is not None

        # Two evaluators at once: the one that took the lock runs, the other skips.
        entered, release = asyncio.Event(), asyncio.Event()
        real = alert_rules.CHECKS["key_rejected"]

        async def slow(ctx: alert_rules.Context,
                       rule: alert_rules.RuleSettings) -> list[alert_rules.Finding]:
            entered.set()
            await release.wait()
            return await real(ctx, rule)

        alert_rules.CHECKS["key_rejected"] = slow
        try:
            running = asyncio.create_task(first.run_once())
            await entered.wait()  # the first is inside its round, holding the lock
            assert await second.run_once() is None
            release.set()
            assert await running is not None
        finally:
            alert_rules.CHECKS["key_rejected"] = real
    finally:
        await other.dispose()


async def test_breaker_openings_are_told_once_per_opening_beside_other_listeners(
        sqlite_database: Database) -> None:
    seen: list[tuple[str, str | None, str]] = []
    breakers = Breakers(BreakerPolicy(failure_threshold=1, cooldown=1), clock=lambda: 0.0,
                        on_change=lambda *args: seen.append(args))
    reporter = SignalReporter(sqlite_database, now=Clock(NOW))
    reporter.install(breakers, UsageRecorder(sqlite_database))
    breakers.get("oa", "k1").failure("server_error")
    breakers.get("oa", "k1").failure("server_error")  # already open: not told again
    assert seen == [("oa", "k1", "open")]  # the metrics' listener still hears it
    await reporter.flush()
    async with sqlite_database.unit_of_work(read_only=True) as session:
        rows = (await session.execute(select(m.AlertSignal.kind, m.AlertSignal.subject,
                                             m.AlertSignal.detail))).all()
    assert [tuple(r) for r in rows] == [("breaker_open", "oa", "server_error")]


def test_money_in_messages() -> None:
    assert alert_rules._dollars(Decimal("8.5")) == "$8.50"


async def test_repeated_failed_logins_open_one_alert_per_name(database: Database) -> None:
    """From the audit trail's ``auth.login_failed`` rows (the real login path): a name
    tried past the threshold within the window opens one alert; one below it none; the
    alert resolves once the failures leave the window."""
    await accounts.create_user(database, "ada", "a long password 1")
    for _ in range(11):
        assert await accounts.authenticate(database, "ada", "wrong guess") is None
    for _ in range(3):
        assert await accounts.authenticate(database, "nobody", "x") is None
    clock = Clock(datetime.now(UTC) + timedelta(seconds=1))
    evaluator = alerts.Evaluator(database, vault=keys.open_vault, now=clock)
    first = await evaluator.run_once()
    assert first is not None and first.errors == []
    logins = [a for a in first.opened if a.rule == "failed_logins"]
    assert [(a.subject, a.value) for a in logins] == [("login:ada", 11.0)]
    assert "11 failed logins as 'ada' from one address" in logins[0].message
    clock.at += timedelta(hours=1)
    later = await evaluator.run_once()
    assert later is not None
    assert [(a.rule, a.subject) for a in later.resolved
            if a.rule == "failed_logins"] == [("failed_logins", "login:ada")]
