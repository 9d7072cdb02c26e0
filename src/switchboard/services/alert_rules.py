"""The alert rules: what each one watches and when it fires (issue 17, decision 0130).

A rule is code (here); its numbers are data (``alert_rules``: enabled, threshold, window,
minimum requests), seeded with ``DEFAULTS`` and changed by an admin. Each rule reads the
database at one instant ``now`` and returns a ``Finding`` per subject whose condition
holds; ``services.alerts`` turns findings into alerts (opened once, resolved when the
finding is gone). Rules read no clock of their own: the evaluator passes ``now``, so a
test moves time instead of sleeping.

Every read is bounded: the raw ``usage_events`` only over the rule's window (at most
``MAX_WINDOW``) on the ``created_at`` index and grouped in SQL (a count per provider, a
latency histogram per provider), never loaded row by row; keys, budgets and signals are
few.

Failed logins are not recorded anywhere yet (the audit trail lane records them); the rule
for repeated failed logins waits for it (decision 0130).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select

from switchboard.db import Database, tables
from switchboard.services import usage_rollup
from switchboard.services.budgets import BudgetState

# Core tables: every server's alert evaluator runs these reads each round; on the ORM's
# attributes they would configure all the mappers (decision 0235)
_usage_events = tables.usage_events
_provider_keys = tables.provider_keys
_providers = tables.providers
_alert_signals = tables.alert_signals
_audit_log = tables.audit_log

_PERIODS = {"day": "daily", "week": "weekly", "month": "monthly"}
MAX_WINDOW = 3600
"""Longest window a rule may read raw rows over, in seconds (bounds the scan)."""
MAX_SUBJECTS = 200
"""Findings per rule per evaluation: a flood of subjects is cut, not sent."""


@dataclass(frozen=True, slots=True)
class RuleSettings:
    kind: str
    enabled: bool
    threshold: float
    window_seconds: int
    min_requests: int


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What the Alerts page says about a rule, and its defaults."""

    title: str
    threshold_unit: str
    """How the threshold reads: ``share`` (0.8 = 80%), ``ms``, ``days``, ``rows``,
    ``count``."""
    default: RuleSettings
    uses_window: bool = False
    uses_min_requests: bool = False
    threshold_range: tuple[float, float] = (0.0, 1e9)


def _rule(kind: str, title: str, unit: str, threshold: float, *, window: int = 0,
          minimum: int = 0, low: float = 0.0, high: float = 1e9) -> tuple[str, RuleInfo]:
    return kind, RuleInfo(title, unit, RuleSettings(kind, True, threshold, window, minimum),
                          uses_window=window > 0, uses_min_requests=minimum > 0,
                          threshold_range=(low, high))


RULES: dict[str, RuleInfo] = dict([
    _rule("budget_warning", "A budget is nearly used up", "share", 0.8, low=0.01, high=1.0),
    _rule("budget_exhausted", "A budget is used up", "share", 1.0, low=0.01, high=10.0),
    _rule("error_rate", "A provider fails too many calls", "share", 0.2, window=300,
          minimum=20, low=0.01, high=1.0),
    _rule("latency_p95", "A provider is slow (its slowest 5% of calls)", "ms", 20_000,
          window=300, minimum=20, low=1, high=600_000),
    _rule("key_expiring", "A provider key expires soon", "days", 14, low=0.01, high=365),
    _rule("key_expiring_urgent", "A provider key expires within a day", "days", 1,
          low=0.01, high=365),
    _rule("key_rejected", "A provider refused a key", "count", 1, low=1, high=1),
    _rule("breaker_open", "Calls to a provider were paused after failures", "count", 1,
          window=600, low=1, high=1_000_000),
    _rule("usage_behind", "Usage records are not being written", "rows", 1000, window=120,
          low=1, high=1e9),
    _rule("failed_logins", "Repeated failed logins", "count", 10, window=900, low=1,
          high=1_000_000),
])
"""Every rule, in the order the Alerts page lists them."""


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    subject: str
    """What the alert is about, stable across evaluations: ``provider:openai``,
    ``budget:3``, ``key:12``, ``usage``."""
    value: float
    message: str
    """One sentence for a person (e-mail subject line, dashboard row)."""


@dataclass(frozen=True, slots=True)
class Context:
    db: Database
    now: datetime
    budgets: Sequence[BudgetState]


Check = Callable[[Context, RuleSettings], Awaitable[list[Finding]]]


def _since(ctx: Context, rule: RuleSettings) -> datetime:
    return ctx.now - timedelta(seconds=min(max(rule.window_seconds, 1), MAX_WINDOW))


def _minutes(seconds: int) -> str:
    minutes = max(1, round(min(seconds, MAX_WINDOW) / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _used(state: BudgetState) -> float:
    amount = state.budget.amount
    return float((state.spent + state.reserved) / amount) if amount > 0 else 0.0


def _dollars(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01'))}"


async def _budget(ctx: Context, rule: RuleSettings) -> list[Finding]:
    found = []
    for state in ctx.budgets:
        used = _used(state)
        if used >= rule.threshold:
            b = state.budget
            found.append(Finding(
                rule.kind, f"budget:{b.id}", round(used, 4),
                f"The {_PERIODS.get(b.period, b.period)} budget for {b.label} is at {used:.0%} "
                f"({_dollars(state.spent + state.reserved)} of {_dollars(b.amount)})."))
    return found


async def _error_rate(ctx: Context, rule: RuleSettings) -> list[Finding]:
    e = _usage_events.c
    query = (select(e.provider, func.count(),
                    func.sum(case((e.status == "error", 1), else_=0)))
             .where(e.created_at >= _since(ctx, rule), e.created_at <= ctx.now)
             .group_by(e.provider))
    async with ctx.db.transaction(read_only=True) as conn:
        rows = (await conn.execute(query)).all()
    found = []
    for provider, calls, errors in rows:
        calls, errors = int(calls), int(errors or 0)
        if calls >= max(rule.min_requests, 1) and errors / calls >= rule.threshold:
            found.append(Finding(
                rule.kind, f"provider:{provider}", round(errors / calls, 4),
                f"Provider {provider} failed {errors} of {calls} calls "
                f"({errors / calls:.0%}) in the last {_minutes(rule.window_seconds)}."))
    return found


async def _latency(ctx: Context, rule: RuleSettings) -> list[Finding]:
    e = _usage_events.c
    bounds = usage_rollup.LATENCY_BOUNDS_MS
    bucket = case(*((e.latency_ms < bound, index) for index, bound in enumerate(bounds)),
                  else_=len(bounds))
    query = (select(e.provider, bucket, func.count())
             .where(e.created_at >= _since(ctx, rule), e.created_at <= ctx.now,
                    e.latency_ms.is_not(None))
             .group_by(e.provider, bucket))
    async with ctx.db.transaction(read_only=True) as conn:
        rows = (await conn.execute(query)).all()
    histograms: dict[str, dict[int, int]] = {}
    for provider, index, calls in rows:
        histograms.setdefault(provider, {})[int(index)] = int(calls)
    found = []
    for provider, histogram in sorted(histograms.items()):
        calls = sum(histogram.values())
        p95 = usage_rollup.percentile(histogram, 0.95)
        if p95 is not None and calls >= max(rule.min_requests, 1) and p95 >= rule.threshold:
            found.append(Finding(
                rule.kind, f"provider:{provider}", float(p95),
                f"Provider {provider} took {p95 / 1000:.1f} s or longer for one call in "
                f"twenty over the last {_minutes(rule.window_seconds)} ({calls} calls)."))
    return found


async def _keys(ctx: Context, rule: RuleSettings) -> list[Finding]:
    k, p = _provider_keys.c, _providers.c
    horizon = ctx.now + timedelta(days=rule.threshold)
    query = (select(k.id, k.label, k.expires_at, p.name)
             .select_from(_provider_keys.join(_providers, p.id == k.provider_id))
             .where(k.enabled.is_(True), k.expires_at.is_not(None), k.expires_at <= horizon)
             .order_by(k.expires_at).limit(MAX_SUBJECTS))
    async with ctx.db.transaction(read_only=True) as conn:
        rows = (await conn.execute(query)).all()
    found = []
    for key_id, label, expires_at, provider in rows:
        assert expires_at is not None  # the query's condition
        days = (expires_at - ctx.now).total_seconds() / 86_400
        when = ("has expired" if days <= 0 else
                f"expires in {days:.0f} days" if days >= 2 else
                f"expires in {days * 24:.0f} hours")
        found.append(Finding(rule.kind, f"key:{key_id}", round(days, 2),
                             f"The key '{label}' of provider {provider} {when} "
                             f"({expires_at:%Y-%m-%d %H:%M} UTC)."))
    return found


async def _rejected(ctx: Context, rule: RuleSettings) -> list[Finding]:
    k, p = _provider_keys.c, _providers.c
    query = (select(k.id, k.label, k.failed_at, p.name)
             .select_from(_provider_keys.join(_providers, p.id == k.provider_id))
             .where(k.enabled.is_(True), k.failed_at.is_not(None))
             .order_by(k.failed_at).limit(MAX_SUBJECTS))
    async with ctx.db.transaction(read_only=True) as conn:
        rows = (await conn.execute(query)).all()
    return [Finding(rule.kind, f"key:{key_id}", 1.0,
                    f"Provider {provider} refused the key '{label}' "
                    f"({failed_at:%Y-%m-%d %H:%M} UTC); it no longer serves calls.")
            for key_id, label, failed_at, provider in rows]


async def _breakers(ctx: Context, rule: RuleSettings) -> list[Finding]:
    s = _alert_signals.c
    query = (select(s.subject, func.count(), func.max(s.detail))
             .where(s.kind == SIGNAL_BREAKER_OPEN, s.created_at >= _since(ctx, rule),
                    s.created_at <= ctx.now)
             .group_by(s.subject).order_by(s.subject).limit(MAX_SUBJECTS))
    async with ctx.db.transaction(read_only=True) as conn:
        rows = (await conn.execute(query)).all()
    found = []
    for subject, openings, detail in rows:
        if openings < rule.threshold:
            continue
        why = f" (last error: {detail})" if detail else ""
        times = "once" if openings == 1 else f"{openings} times"
        found.append(Finding(
            rule.kind, f"provider:{subject}", float(openings),
            f"Calls to {subject} were paused {times} in the last "
            f"{_minutes(rule.window_seconds)} after repeated failures{why}."))
    return found


async def _usage_behind(ctx: Context, rule: RuleSettings) -> list[Finding]:
    s = _alert_signals.c
    since = _since(ctx, rule)
    query = (select(s.kind, func.max(s.value), func.count())
             .where(s.kind.in_((SIGNAL_USAGE_BACKLOG, SIGNAL_USAGE_FAILED)),
                    s.created_at >= since, s.created_at <= ctx.now)
             .group_by(s.kind))
    async with ctx.db.transaction(read_only=True) as conn:
        rows = {kind: (float(high), int(n)) for kind, high, n in
                (await conn.execute(query)).all()}
    backlog = rows.get(SIGNAL_USAGE_BACKLOG, (0.0, 0))[0]
    failures = rows.get(SIGNAL_USAGE_FAILED, (0.0, 0))[1]
    if backlog < rule.threshold and not failures:
        return []
    parts = []
    if backlog >= rule.threshold:
        parts.append(f"{backlog:.0f} usage records were waiting to be written")
    if failures:
        parts.append(f"writing them failed {failures} times")
    return [Finding(rule.kind, "usage", backlog,
                    f"Usage is falling behind: {' and '.join(parts)} in the last "
                    f"{_minutes(rule.window_seconds)}. Spend and budgets may lag.")]


async def _failed_logins(ctx: Context, rule: RuleSettings) -> list[Finding]:
    """Failed logins per name tried, from the audit trail (``auth.login_failed``: the
    name, never the password), over the window; the login throttle has already slowed
    each name and address, so what reaches this count is a persistent attempt."""
    a = _audit_log.c
    query = (select(a.actor, func.count(), func.count(func.distinct(a.address)))
             .where(a.action == "auth.login_failed", a.created_at >= _since(ctx, rule),
                    a.created_at <= ctx.now)
             .group_by(a.actor).order_by(func.count().desc(), a.actor).limit(MAX_SUBJECTS))
    async with ctx.db.transaction(read_only=True) as conn:
        rows = (await conn.execute(query)).all()
    found = []
    for name, failures, addresses in rows:
        if failures < rule.threshold:
            continue
        where = "one address" if addresses <= 1 else f"{addresses} addresses"
        found.append(Finding(
            rule.kind, f"login:{name}", float(failures),
            f"{failures} failed logins as '{name}' from {where} in the last "
            f"{_minutes(rule.window_seconds)}."))
    return found


SIGNAL_BREAKER_OPEN = "breaker_open"
SIGNAL_USAGE_BACKLOG = "usage_backlog"
SIGNAL_USAGE_FAILED = "usage_failed"

CHECKS: dict[str, Check] = {
    "budget_warning": _budget,
    "budget_exhausted": _budget,
    "error_rate": _error_rate,
    "latency_p95": _latency,
    "key_expiring": _keys,
    "key_expiring_urgent": _keys,
    "key_rejected": _rejected,
    "breaker_open": _breakers,
    "usage_behind": _usage_behind,
    "failed_logins": _failed_logins,
}
assert CHECKS.keys() == RULES.keys()


async def evaluate(ctx: Context, rule: RuleSettings) -> list[Finding]:
    """The rule's findings at ``ctx.now`` (none when it is switched off)."""
    if not rule.enabled:
        return []
    return (await CHECKS[rule.kind](ctx, rule))[:MAX_SUBJECTS]
