"""The usage report: requests, errors, tokens, cost and latency, from the daily roll-ups.

ONE aggregate query groups the range's roll-up rows by (day, provider, model, source):
``usage_daily_models`` for everyone, ``usage_daily`` for one person — both kept up to date
with every batch of ``usage_events`` (``usage_rollup``, decision 0129). The totals,
per-provider, per-model, per-source and per-day figures are sums of those few groups; the
report never reads the raw events, so its cost does not grow with traffic. Every call is
there: chat (source ``chat``), the ``/v1`` API (``api``), the CLI.

Cost: a sum of the known costs; ``None`` (unknown) only when the group has events and
none of them had a price (a day without events costs ``"0"``). Average latency is
weighted by events (sum / count of the events that have one). ``estimated`` counts the
events whose tokens Switchboard estimated (the vendor reported none: a stopped answer),
so a reader knows how much of a figure is approximate.

"Who spent what" (``by_user=True``) is a second small aggregate over ``usage_daily_users``
grouped by user, joined to the user's name; calls linked to no account (the CLI's, or a
user's since deleted) are one row with ``user_id`` and ``username`` null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services.conversations import money_text
from switchboard.services.errors import ValidationFailed

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(slots=True)
class _Sum:
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost: Decimal | None = None
    latency_total: int = 0
    latency_count: int = 0
    estimated: int = 0

    def add(self, other: _Sum) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cached_tokens += other.cached_tokens
        self.reasoning_tokens += other.reasoning_tokens
        if other.cost is not None:
            self.cost = (self.cost or Decimal(0)) + other.cost
        self.latency_total += other.latency_total
        self.latency_count += other.latency_count
        self.estimated += other.estimated

    def as_dict(self, *, detail: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requests": self.requests, "errors": self.errors,
            "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
        }
        if detail:
            out["cached_tokens"] = self.cached_tokens
            out["reasoning_tokens"] = self.reasoning_tokens
        # No request cost nothing; requests of which none had a price cost "unknown".
        out["cost"] = money_text(self.cost if self.requests else Decimal(0))
        out["avg_latency_ms"] = (round(self.latency_total / self.latency_count)
                                 if self.latency_count else None)
        out["estimated"] = self.estimated
        return out


@dataclass(slots=True)
class _Day:
    total: _Sum = field(default_factory=_Sum)
    by_provider: dict[str, _Sum] = field(default_factory=dict)


def default_range(today: date | None = None) -> tuple[date, date]:
    end = today or datetime.now(UTC).date()
    return end - timedelta(days=DEFAULT_DAYS - 1), end


def check_range(start: date, end: date) -> None:
    if end >= date.max:  # the report reads up to the day after ``end``, which must exist
        raise ValidationFailed(f"to ({end}) is too far in the future; give a date before "
                               f"{date.max.isoformat()}", field="to")
    if start > end:
        raise ValidationFailed(f"from ({start}) is after to ({end})", field="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"the range is longer than {MAX_DAYS} days; ask for less",
                               field="from")


def _sums(d: Any) -> tuple[Any, ...]:
    """The aggregate columns of one group of roll-up rows, in ``_group``'s order."""
    return (func.sum(d.requests), func.sum(d.errors), func.sum(d.input_tokens),
            func.sum(d.output_tokens), func.sum(d.cached_tokens),
            func.sum(d.reasoning_tokens), func.sum(d.cost), func.sum(d.priced),
            func.sum(d.latency_total), func.sum(d.latency_count), func.sum(d.estimated))


def _group(values: Sequence[Any]) -> _Sum:
    n, errors, inp, out, cached, reasoning, cost, priced, latency, latency_n, estimated = values
    return _Sum(int(n or 0), int(errors or 0), int(inp or 0), int(out or 0),
                int(cached or 0), int(reasoning or 0),
                # No priced call in the group: the cost is unknown, not zero.
                Decimal(str(cost)) if priced else None,
                int(latency or 0), int(latency_n or 0), int(estimated or 0))


async def usage_report(db: Database, start: date, end: date, *,
                       user_id: int | None, by_user: bool = False) -> dict[str, Any]:
    """The report for ``[start, end]`` (whole UTC days); ``user_id`` None = everyone.
    ``by_user`` adds ``by_user``: the same figures per user."""
    check_range(start, end)
    # One person's figures from the per-user table; everyone's from the per-model one,
    # which has no user column and so ~users times fewer rows (decision 0129).
    d: Any = m.UsageDaily if user_id is not None else m.UsageDailyModel
    mine = (d.user_id == user_id,) if user_id is not None else ()
    query = (select(d.day, d.provider, d.model, d.source, *_sums(d))
             .where(d.day >= start, d.day <= end, *mine)
             .group_by(d.day, d.provider, d.model, d.source))
    u = m.UsageDailyUser
    per_user = (select(u.user_id, m.User.username, *_sums(u))
                .outerjoin(m.User, m.User.id == u.user_id)
                .where(u.day >= start, u.day <= end,
                       *((u.user_id == user_id,) if user_id is not None else ()))
                .group_by(u.user_id, m.User.username))
    async with db.session() as session:
        groups = (await session.execute(query)).all()
        users = (await session.execute(per_user)).all() if by_user else []

    totals = _Sum()
    providers: dict[str, _Sum] = {}
    models: dict[tuple[str, str], _Sum] = {}
    sources: dict[str, _Sum] = {}
    days = {(start + timedelta(days=i)).isoformat(): _Day()
            for i in range((end - start).days + 1)}
    for bucket, provider, model, source, *values in groups:
        group = _group(values)
        totals.add(group)
        providers.setdefault(provider, _Sum()).add(group)
        models.setdefault((provider, model), _Sum()).add(group)
        sources.setdefault(source, _Sum()).add(group)
        bucket_day = days.setdefault(str(bucket), _Day())
        bucket_day.total.add(group)
        bucket_day.by_provider.setdefault(provider, _Sum()).add(group)

    def order(item: tuple[Any, _Sum]) -> tuple[int, Any]:
        return -item[1].requests, item[0]

    report: dict[str, Any] = {
        "range": {"from": start.isoformat(), "to": end.isoformat()},
        "scope": "me" if user_id is not None else "all",
        "totals": totals.as_dict(detail=True),
        "by_provider": [{"provider": p, **s.as_dict()}
                        for p, s in sorted(providers.items(), key=order)],
        "by_model": [{"provider": p, "model": mo, "ref": f"{p}:{mo}", **s.as_dict()}
                     for (p, mo), s in sorted(models.items(), key=order)],
        "by_source": [{"source": src, **s.as_dict()}
                      for src, s in sorted(sources.items(), key=order)],
        "days": [{"day": d, **v.total.as_dict(),
                  "by_provider": {p: s.as_dict() for p, s in sorted(v.by_provider.items())}}
                 for d, v in sorted(days.items())],
    }
    if by_user:
        # No account (the CLI) and a deleted account are both "nobody": one row.
        merged: dict[tuple[int | None, str | None], _Sum] = {}
        for uid, name, *values in users:
            key = (uid, name) if name is not None else (None, None)
            merged.setdefault(key, _Sum()).add(_group(values))
        per = [(uid, name, s) for (uid, name), s in merged.items()]
        report["by_user"] = [
            {"user_id": uid, "username": name if uid is not None else None, **s.as_dict()}
            for uid, name, s in sorted(per, key=lambda r: (-r[2].requests, r[1] or ""))]
    return report
