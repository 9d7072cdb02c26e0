"""The admin dashboard's data: spend, errors, latency and health at a glance (issue 17).

Every figure over a period comes from the daily roll-ups (``usage_rollup``, decision
0129) — a handful of grouped reads over at most days x users x models rows, so the page
costs the same with a thousand usage rows or a million (``bench/scale_usage.py
--dashboard`` times it at a million on PostgreSQL). Only two small reads touch the raw
``usage_events``, both bounded by time on its ``created_at`` index: the last five minutes
("live") and the last day's errors (each provider's last error).

Days are UTC days, like the usage report; "this month" is the UTC calendar month, and its
projection is the month's spend so far spread over the whole month (the simplest
projection a reader can check by hand).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import alerts, suggestions, usage_rollup
from switchboard.services.breakers import Breakers, State
from switchboard.services.budgets import BudgetState
from switchboard.services.conversations import money_text
from switchboard.services.errors import ValidationFailed

PERIODS = (1, 7, 30, 90)
"""Periods the dashboard offers, in days (today counts as one)."""
TOP = 5
NEAR_LIMIT = Decimal("0.8")
"""A budget at 80% of its amount or more is "near its limit" (the alert's threshold)."""
LIVE_WINDOW = timedelta(minutes=5)
LAST_ERROR_WINDOW = timedelta(days=1)
LAST_ERRORS_READ = 500
"""Bound on the raw error rows read to find each provider's last error."""
_BREAKER_ORDER = {State.CLOSED: 0, State.HALF_OPEN: 1, State.OPEN: 2}


@dataclass(slots=True)
class _Tally:
    requests: int = 0
    errors: int = 0
    cost: Decimal = Decimal(0)
    priced: int = 0
    latency: dict[int, int] = field(default_factory=dict)

    def add(self, requests: int, errors: int, cost: Decimal, priced: int) -> None:
        self.requests += requests
        self.errors += errors
        self.cost += cost
        self.priced += priced

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests, "errors": self.errors,
            "error_rate": round(self.errors / self.requests, 4) if self.requests else 0.0,
            # No priced call: unknown, never a silent zero.
            "cost": money_text(self.cost if self.priced or not self.requests else None),
            "p50_ms": usage_rollup.percentile(self.latency, 0.5),
            "p95_ms": usage_rollup.percentile(self.latency, 0.95),
        }


def check_period(days: int) -> None:
    if days not in PERIODS:
        raise ValidationFailed(
            f"the period must be one of {', '.join(map(str, PERIODS))} days", field="days")


def _money(value: Decimal) -> str:
    return money_text(value) or "0"


def _spend(today: date, month_cost: Decimal, today_cost: Decimal,
           now: datetime) -> dict[str, str]:
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    elapsed_days = (today.day - 1) + (now - midnight).total_seconds() / 86_400
    projected = (month_cost * Decimal(days_in_month) / Decimal(str(elapsed_days))
                 if elapsed_days > 0 else month_cost)
    return {"today": _money(today_cost), "month": _money(month_cost),
            "projected_month": _money(projected.quantize(Decimal("0.000001")))}


def _near_limit(budgets: Iterable[BudgetState]) -> list[dict[str, Any]]:
    near: list[dict[str, Any]] = []
    for state in budgets:
        amount = state.budget.amount
        if amount <= 0:
            continue
        used = (state.spent + state.reserved) / amount
        if used >= NEAR_LIMIT:
            near.append({**state.as_dict(), "used": round(float(used), 4)})
    near.sort(key=lambda b: -b["used"])
    return near


async def dashboard(db: Database, *, days: int, now: datetime, breakers: Breakers,
                    budgets: Iterable[BudgetState] = (), answers_in_progress: int = 0,
                    usage_queue: int = 0) -> dict[str, Any]:
    """Everything the dashboard shows for the last ``days`` UTC days up to ``now``."""
    check_period(days)
    today = now.astimezone(UTC).date()
    start = today - timedelta(days=days - 1)
    month_start = today.replace(day=1)
    first = min(start, month_start)
    d, u, lat = m.UsageDailyModel, m.UsageDailyUser, m.UsageDailyLatency
    per_model = (select(d.day, d.provider, d.model, func.sum(d.requests), func.sum(d.errors),
                        func.sum(d.cost), func.sum(d.priced))
                 .where(d.day >= first, d.day <= today)
                 .group_by(d.day, d.provider, d.model))
    per_user = (select(u.user_id, m.User.username, func.sum(u.requests), func.sum(u.cost),
                       func.sum(u.priced))
                .outerjoin(m.User, m.User.id == u.user_id)
                .where(u.day >= start, u.day <= today)
                .group_by(u.user_id, m.User.username)
                .order_by(func.sum(u.cost).desc(), func.sum(u.requests).desc())
                .limit(TOP + 1))  # one more: "no account" may be among them
    latency = (select(lat.provider, lat.model, lat.bucket, func.sum(lat.calls))
               .where(lat.day >= start, lat.day <= today)
               .group_by(lat.provider, lat.model, lat.bucket))
    e = m.UsageEvent
    live = (select(func.count(), func.sum(case((e.status == "error", 1), else_=0)))
            .where(e.created_at >= now - LIVE_WINDOW))
    last_errors = (select(e.provider, e.created_at, e.error_code)
                   .where(e.status == "error", e.created_at >= now - LAST_ERROR_WINDOW)
                   .order_by(e.created_at.desc()).limit(LAST_ERRORS_READ))
    async with db.session() as session:
        model_rows = (await session.execute(per_model)).all()
        user_rows = (await session.execute(per_user)).all()
        latency_rows = (await session.execute(latency)).all()
        live_row = (await session.execute(live)).one()
        error_rows = (await session.execute(last_errors)).all()
        providers = (await session.execute(
            select(m.Provider).order_by(m.Provider.name))).scalars().all()

    totals, month, today_tally = _Tally(), _Tally(), _Tally()
    by_day = {(start + timedelta(days=i)): _Tally() for i in range(days)}
    by_model: dict[tuple[str, str], _Tally] = {}
    by_provider: dict[str, _Tally] = {}
    for day, provider, model, requests, errors, cost, priced in model_rows:
        values = (int(requests or 0), int(errors or 0), Decimal(cost or 0), int(priced or 0))
        if day >= month_start:
            month.add(*values)
        if day == today:
            today_tally.add(*values)
        if day < start:
            continue
        totals.add(*values)
        by_day[day].add(*values)
        by_model.setdefault((provider, model), _Tally()).add(*values)
        by_provider.setdefault(provider, _Tally()).add(*values)
    for provider, model, bucket, calls in latency_rows:
        for tally in (totals, by_model.setdefault((provider, model), _Tally()),
                      by_provider.setdefault(provider, _Tally())):
            tally.latency[bucket] = tally.latency.get(bucket, 0) + int(calls)

    last_error: dict[str, dict[str, Any]] = {}
    for provider, at, code in error_rows:
        last_error.setdefault(provider, {"at": at.isoformat(), "code": code})

    health = []
    configured = {p.name for p in providers}
    for p in providers:
        snapshots = list(breakers.of_provider(p.name))
        worst = max((s.state for s in snapshots), key=_BREAKER_ORDER.__getitem__,
                    default=State.CLOSED)
        health.append({
            "provider": p.name, "kind": p.kind, "enabled": p.enabled,
            "status": p.status,
            "checked_at": p.status_checked_at.isoformat() if p.status_checked_at else None,
            "breaker": worst.value,
            "open_breakers": sum(1 for s in snapshots if s.state is not State.CLOSED),
            **by_provider.get(p.name, _Tally()).as_dict(),
            "last_error": last_error.get(p.name),
        })
    # Usage of a provider since removed still counts; it just has no card of its own.
    for name in sorted(set(by_provider) - configured):
        health.append({"provider": name, "kind": None, "enabled": False, "status": "removed",
                       "checked_at": None, "breaker": State.CLOSED.value, "open_breakers": 0,
                       **by_provider[name].as_dict(), "last_error": last_error.get(name)})

    # Busiest first: the providers the team uses lead, the unused ones follow by name.
    health.sort(key=lambda p: (-p["requests"], p["provider"]))
    users = []
    for user_id, username, requests, cost, priced in user_rows:
        users.append({"user_id": user_id if username is not None else None,
                      "username": username, "requests": int(requests or 0),
                      "cost": money_text(Decimal(cost or 0) if priced else None)})
    models = sorted(by_model.items(), key=lambda kv: (-kv[1].requests, kv[0]))
    live_requests, live_errors = int(live_row[0] or 0), int(live_row[1] or 0)
    return {
        "period": {"days": days, "from": start.isoformat(), "to": today.isoformat()},
        "generated_at": now.astimezone(UTC).isoformat(),
        "live": {"requests_5_min": live_requests, "errors_5_min": live_errors,
                 "answers_in_progress": answers_in_progress, "usage_queue": usage_queue},
        "totals": totals.as_dict(),
        "spend": _spend(today, month.cost, today_tally.cost, now.astimezone(UTC)),
        "days": [{"day": day.isoformat(), **{k: v for k, v in t.as_dict().items()
                                              if k in ("requests", "errors", "cost")}}
                 for day, t in sorted(by_day.items())],
        "top_users": users[:TOP],
        "top_models": [{"provider": p, "model": mo, "ref": f"{p}:{mo}", **t.as_dict()}
                       for (p, mo), t in models[:TOP] if t.requests],
        "providers": health,
        "budgets": _near_limit(budgets),
        "alerts": await alerts.open_alerts(db, limit=TOP * 4),
        # the model picker's suggestions over the period: shown, taken, hit rate
        "suggestions": await suggestions.hit_rate(db, today, days),
    }
