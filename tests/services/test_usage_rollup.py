"""The daily roll-ups equal the raw rows' aggregates, however the rows arrive (in one
batch, in many, from two recorders at once), on SQLite and PostgreSQL; a rebuild gives
the same; percentiles read from the histogram."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import accounts, usage_rollup
from switchboard.services.usage import UsageRecord, UsageRecorder
from switchboard.services.usage_rollup import LATENCY_BOUNDS_MS, latency_bucket, percentile

DAY = datetime(2026, 11, 30, 23, 59, 0, tzinfo=UTC)


def records(count: int, seed: int, users: list[int | None]) -> list[UsageRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        cost = None if rng.random() < 0.2 else Decimal(rng.randint(0, 10_000)) / 10**7
        out.append(UsageRecord(
            provider=rng.choice(["openai", "anthropic"]), model=rng.choice(["a", "b", "c"]),
            source=rng.choice(["chat", "api", "cli"]),
            status=rng.choice(["ok", "ok", "ok", "error", "partial"]),
            input_tokens=rng.randint(0, 500), output_tokens=rng.randint(0, 500),
            cached_tokens=rng.randint(0, 50), reasoning_tokens=rng.randint(0, 50),
            cost=cost, latency_ms=None if rng.random() < 0.1 else rng.randint(1, 200_000),
            user_id=rng.choice(users), estimated=rng.random() < 0.1,
            # Across midnight UTC: both sides of the day boundary.
            created_at=DAY + timedelta(seconds=rng.randint(0, 120) + i % 2)))
    return out


async def raw_groups(db: Database) -> dict[tuple[object, ...], tuple[object, ...]]:
    e = m.UsageEvent
    day = usage_rollup.day_of(db.engine.dialect.name, e.created_at)
    query = select(day, e.provider, e.model, e.source, func.count(),
                   func.sum(e.input_tokens), func.sum(e.output_tokens),
                   func.sum(e.cost), func.count(e.cost), func.count(e.latency_ms),
                   ).group_by(day, e.provider, e.model, e.source)
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    return {(str(r[0]), *r[1:4]): (int(r[4]), int(r[5]), int(r[6]),
                                   Decimal(r[7] or 0).normalize(), int(r[8]), int(r[9]))
            for r in rows}


async def rolled_groups(db: Database, d: Any = m.UsageDaily
                        ) -> dict[tuple[object, ...], tuple[object, ...]]:
    query = select(d.day, d.provider, d.model, d.source, func.sum(d.requests),
                   func.sum(d.input_tokens), func.sum(d.output_tokens), func.sum(d.cost),
                   func.sum(d.priced), func.sum(d.latency_count),
                   ).group_by(d.day, d.provider, d.model, d.source)
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    return {(str(r[0]), *r[1:4]): (int(r[4]), int(r[5]), int(r[6]),
                                   Decimal(r[7] or 0).normalize(), int(r[8]), int(r[9]))
            for r in rows}


async def per_user(db: Database, d: Any) -> dict[object, tuple[int, Decimal]]:
    query = select(d.user_id, func.sum(d.requests), func.sum(d.cost)).group_by(d.user_id)
    async with db.session() as session:
        return {r[0]: (int(r[1]), Decimal(r[2]).normalize())
                for r in (await session.execute(query)).all()}


async def histogram_total(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.sum(m.UsageDailyLatency.calls))) or 0)


async def test_two_recorders_in_small_batches_sum_to_the_raw_rows(database: Database) -> None:
    first, second = (UsageRecorder(database, batch_size=7) for _ in range(2))
    users = [(await accounts.create_user(database, name, "a long password 1")).id
             for name in ("ada", "bob")]
    batch = records(300, seed=1, users=[None, *users])

    async def feed(recorder: UsageRecorder, part: list[UsageRecord]) -> None:
        for i, record in enumerate(part):
            recorder.record(record)
            if i % 7 == 6:
                await recorder.flush()
        await recorder.flush()

    await asyncio.gather(feed(first, batch[::2]), feed(second, batch[1::2]))
    raw = await raw_groups(database)
    assert len(raw) > 20 and {k[0] for k in raw} == {"2026-11-30", "2026-12-01"}
    assert await rolled_groups(database) == raw
    assert await rolled_groups(database, m.UsageDailyModel) == raw
    assert await per_user(database, m.UsageDailyUser) == await per_user(database, m.UsageDaily)
    with_latency = sum(1 for r in batch if r.latency_ms is not None)
    assert await histogram_total(database) == with_latency

    # A rebuild from the raw rows gives exactly the incremental result.
    assert await usage_rollup.rebuild(database) > 0
    assert await rolled_groups(database) == raw
    assert await rolled_groups(database, m.UsageDailyModel) == raw
    assert await per_user(database, m.UsageDailyUser) == await per_user(database, m.UsageDaily)
    assert await histogram_total(database) == with_latency


def test_buckets_and_percentiles() -> None:
    assert latency_bucket(0) == 0
    assert latency_bucket(49) == 0 and latency_bucket(50) == 1
    assert latency_bucket(10**9) == len(LATENCY_BOUNDS_MS)
    assert percentile({}, 0.5) is None
    # 100 calls spread evenly in [1000, 1500): p50 ~ 1250.
    assert percentile({latency_bucket(1200): 100}, 0.5) == 1250
    # 95 fast calls and 5 slow ones: p95 is at the top of the fast bucket.
    fast, slow = latency_bucket(120), latency_bucket(40_000)
    assert percentile({fast: 95, slow: 5}, 0.95) == 200
    assert percentile({fast: 95, slow: 5}, 0.99) > 30_000


def test_fold_refuses_a_naive_or_missing_timestamp() -> None:
    with pytest.raises(TypeError):
        usage_rollup.fold([{"created_at": "2026-01-01", "provider": "p", "model": "m",
                            "source": "api", "status": "ok"}])


def test_the_grouped_fold_equals_the_row_by_row_fold() -> None:
    """``fold`` sums rows per (day, user, provider, model, source) first (issue 12,
    fourth pass): the same roll-up rows as adding each row to every shape — values,
    Decimal exponents, key order — and, when a dollar sum would be rounded (beyond the
    decimal context's digits), the row-by-row fold itself."""
    from switchboard.services.usage_rollup import _fold_grouped, _fold_rows, fold

    rng = random.Random(7)
    start = datetime(2026, 12, 5, 23, 59, 58, tzinfo=UTC)
    for size in (0, 1, 2, 17, 600):
        rows = [{
            "created_at": start + timedelta(seconds=rng.randint(0, 4)),
            "user_id": rng.choice([None, 0, 2, 3]), "api_token_id": None,
            "provider": rng.choice(["openai", "acme"]), "model": rng.choice(["a", "b"]),
            "source": rng.choice(["api", "chat"]),
            "status": rng.choice(["ok", "ok", "partial", "error"]),
            "input_tokens": rng.choice([0, 5, 1234]), "output_tokens": rng.choice([0, 9]),
            "cached_tokens": rng.choice([0, 3]), "cache_write_tokens": 0,
            "reasoning_tokens": rng.choice([0, 2]),
            "cost": rng.choice([None, Decimal(0), Decimal("0.0000045"), Decimal("1E+2"),
                                Decimal("0.123456789012"), "0.5", 0.25]),
            "latency_ms": rng.choice([None, 0, 49, 50, 120_000, rng.randint(0, 200_000)]),
            "ttft_ms": None, "error_code": None, "estimated": rng.choice([False, True]),
        } for _ in range(size)]
        assert repr(fold(rows)) == repr(_fold_rows(rows))
        assert repr(fold(iter(rows))) == repr(_fold_rows(rows))
    wide = [{"created_at": start, "user_id": i % 3 + 1, "provider": "p", "model": "m",
             "source": "api", "status": "ok", "latency_ms": 5,
             "cost": Decimal("12345678901234567890.12345678") / (i + 3)} for i in range(50)]
    assert repr(_fold_grouped(wide)) != repr(_fold_rows(wide))  # rounded: grouping shows
    assert repr(fold(wide)) == repr(_fold_rows(wide))
