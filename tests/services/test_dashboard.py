"""The dashboard's figures from known traffic: totals, spend and its projection, top
users and models, provider health (breakers, last failure), budgets near their limit —
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from switchboard.db import Database
from switchboard.services import accounts, catalog
from switchboard.services.breakers import BreakerPolicy, Breakers
from switchboard.services.budget_periods import window, zone
from switchboard.services.budgets import BudgetState, Definition
from switchboard.services.dashboard import dashboard
from switchboard.services.errors import ValidationFailed
from switchboard.services.usage import UsageRecord, UsageRecorder

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # day 10 of a 30-day month, noon


def call(provider: str, model: str, *, user: int | None, cost: str | None, ms: int,
         at: datetime, error: str | None = None) -> UsageRecord:
    return UsageRecord(provider=provider, model=model, source="api",
                       status="error" if error else "ok", error_code=error,
                       input_tokens=10, output_tokens=5,
                       cost=Decimal(cost) if cost is not None else None, latency_ms=ms,
                       user_id=user, created_at=at)


async def test_known_traffic_gives_exact_figures(database: Database) -> None:
    await catalog.create_provider(database, name="oa", kind="openai")
    await catalog.create_provider(database, name="an", kind="anthropic")
    ada = await accounts.create_user(database, "ada", "a long password 1")
    bob = await accounts.create_user(database, "bob", "a long password 2")
    recorder = UsageRecorder(database)
    today = NOW - timedelta(hours=1)
    for _ in range(8):
        recorder.record(call("oa", "gpt", user=ada.id, cost="0.50", ms=400, at=today))
    recorder.record(call("oa", "gpt", user=bob.id, cost=None, ms=9_000, at=today,
                         error="rate_limited"))
    recorder.record(call("an", "claude", user=bob.id, cost="1.00", ms=1_200,
                         at=NOW - timedelta(minutes=2)))
    # Earlier this month, outside a 7-day period: counts for the month, not the period.
    recorder.record(call("an", "claude", user=None, cost="3.00", ms=800,
                         at=NOW - timedelta(days=8)))
    # Last month: counts for nothing here.
    recorder.record(call("an", "claude", user=ada.id, cost="100", ms=800,
                         at=NOW - timedelta(days=40)))
    await recorder.flush()

    breakers = Breakers(BreakerPolicy(failure_threshold=1))
    breakers.get("an").failure("overloaded")
    budget = Definition(id=1, scope="user", user_id=ada.id, api_token_id=None,
                        subject=f"user:{ada.id}", amount=Decimal("5"), period="month",
                        soft=False, label="ada")
    spent = BudgetState(budget, window("month", NOW.timestamp(), zone("UTC")), Decimal("4.00"),
                        Decimal("0.10"))
    calm = BudgetState(budget, window("month", NOW.timestamp(), zone("UTC")), Decimal("1"),
                       Decimal(0))

    data = await dashboard(database, days=7, now=NOW, breakers=breakers,
                           budgets=[spent, calm], answers_in_progress=2, usage_queue=0)

    assert data["period"] == {"days": 7, "from": "2026-11-04", "to": "2026-11-10"}
    totals = data["totals"]
    assert (totals["requests"], totals["errors"]) == (10, 1)
    assert totals["error_rate"] == 0.1
    assert Decimal(totals["cost"]) == Decimal("5.00")
    assert 300 <= totals["p50_ms"] <= 500 and 7_500 <= totals["p95_ms"] <= 10_000
    # Month: 5.00 this period + 3.00 earlier; 9.5 days of 30 elapsed -> x 30 / 9.5.
    assert Decimal(data["spend"]["month"]) == Decimal("8.00")
    assert Decimal(data["spend"]["today"]) == Decimal("5.00")
    assert Decimal(data["spend"]["projected_month"]) == pytest.approx(
        Decimal("8") * 30 / Decimal("9.5"), abs=Decimal("0.000001"))
    assert data["live"] == {"requests_5_min": 1, "errors_5_min": 0,
                            "answers_in_progress": 2, "usage_queue": 0}
    assert [d["requests"] for d in data["days"]] == [0, 0, 0, 0, 0, 0, 10]

    assert [(u["username"], u["requests"], u["cost"]) for u in data["top_users"]] == [
        ("ada", 8, "4"), ("bob", 2, "1")]
    assert [(m["ref"], m["requests"]) for m in data["top_models"]] == [
        ("oa:gpt", 9), ("an:claude", 1)]

    health = {p["provider"]: p for p in data["providers"]}
    assert health["an"]["breaker"] == "open" and health["oa"]["breaker"] == "closed"
    assert health["oa"]["last_error"]["code"] == "rate_limited"
    assert health["an"]["last_error"] is None
    assert (health["oa"]["requests"], health["oa"]["errors"]) == (9, 1)

    assert [(b["label"], b["used"]) for b in data["budgets"]] == [("ada", 0.82)]


async def test_an_empty_installation_and_a_bad_period(database: Database) -> None:
    data = await dashboard(database, days=1, now=NOW, breakers=Breakers())
    assert data["totals"]["requests"] == 0 and data["totals"]["p95_ms"] is None
    assert data["spend"] == {"today": "0", "month": "0", "projected_month": "0"}
    assert data["providers"] == [] and data["top_users"] == [] and data["budgets"] == []
    with pytest.raises(ValidationFailed, match="1, 7, 30, 90"):
        await dashboard(database, days=3, now=NOW, breakers=Breakers())
