"""Daily roll-ups of usage, maintained as the usage rows are written (decision 0129).

The dashboard must answer in well under a second with a million usage rows; grouping the
raw rows costs ~180 ms per report on PostgreSQL at that size and grows with traffic
(docs/scaling.md). So the usage recorder, in the SAME transaction as each batch of raw
rows, adds the batch's sums to ``usage_daily`` (per UTC day x user x provider x model x
source) and its latencies to ``usage_daily_latency`` (a fixed-bucket histogram per day x
provider x model). Same transaction: a roll-up never counts a row that was rolled back,
and never misses one that was written.

There are three roll-up tables of the same sums, grouped three ways (``SHAPES``): per
user and model (a person's own report), per model for everyone (the team report and the
dashboard: a team of 40 makes the first 40 times larger), and per user (who spent what).
The batch is folded in Python first (200 calls of one model are one upsert, not 200) and
each group is one ``INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x`` (SQLite and
PostgreSQL both have it); groups are written in key order so two workers upserting the
same rows lock them in the same order and cannot deadlock.

Percentiles from the histogram are approximate: linear within a bucket, and the buckets
are ~1.5x apart, so p95 is within half a bucket of the truth — plenty for "is a provider
slow today".
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, Inexact, Rounded, localcontext
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Date,
    Table,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
)

from switchboard.db import Database, tables
from switchboard.db import models as m
from switchboard.db.upsert import upsert_insert

if TYPE_CHECKING:

    from switchboard.db.asyncio_engine import AsyncConnection

LATENCY_BOUNDS_MS: tuple[int, ...] = (
    50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000,
    15_000, 20_000, 30_000, 60_000, 120_000)
"""Upper bounds of the latency buckets; bucket ``i`` holds latencies below
``LATENCY_BOUNDS_MS[i]`` (and at least the previous bound); the last bucket, index
``len(LATENCY_BOUNDS_MS)``, holds everything from two minutes up."""
NO_USER = 0
"""``usage_daily.user_id`` for calls linked to no account (the CLI's)."""

_SUMS = ("requests", "errors", "input_tokens", "output_tokens", "cached_tokens",
         "reasoning_tokens", "cost", "priced", "latency_total", "latency_count",
         "estimated")
_LATENCY_KEY = ("day", "provider", "model", "bucket")


@dataclass(frozen=True, slots=True)
class Shape:
    """One roll-up table: the columns it groups by (the rest are ``_SUMS``)."""

    table: Table
    key: tuple[str, ...]


SHAPES: tuple[Shape, ...] = (
    # A person's own figures (their report; "by user" per model).
    Shape(tables.usage_daily, ("day", "user_id", "provider", "model", "source")),
    # Everyone's figures per model: the team report and the dashboard read ~users times
    # fewer rows here than in usage_daily.
    Shape(tables.usage_daily_models, ("day", "provider", "model", "source")),
    # Who spent what.
    Shape(tables.usage_daily_users, ("day", "user_id")),
)


def latency_bucket(latency_ms: int) -> int:
    return bisect.bisect_right(LATENCY_BOUNDS_MS, latency_ms)


def _day(created_at: object) -> date:
    if isinstance(created_at, datetime):
        return created_at.astimezone(UTC).date()
    raise TypeError(f"created_at must be a datetime, got {type(created_at).__name__}")


_FULL_KEY = ("day", "user_id", "provider", "model", "source")
"""The finest grouping: every shape's key is a subset of it."""


def fold(rows: Iterable[Mapping[str, Any]]) -> tuple[dict[Shape, list[dict[str, Any]]],
                                                     list[dict[str, Any]]]:
    """A batch of ``usage_events`` rows (as the recorder inserts them) -> the rows to add
    to each roll-up table and to the latency histogram, each sorted by key.

    The rows are summed once per (day, user, provider, model, source), and each shape's
    groups are made from those sums, instead of adding every row to three groups: a
    batch is mostly one model's calls (issue 12, fourth pass: ~3.2 -> ~1.3 us per row).
    Integer sums do not depend on the order; dollar sums (``Decimal``) do not either
    while they are exact, so if any addition here was rounded (sums beyond the decimal
    context's 28 digits) the batch is folded again row by row (``_fold_rows``), the
    order the roll-ups were always summed in. A test pins the two equal."""
    rows = rows if isinstance(rows, Sequence) else list(rows)
    with localcontext() as context:
        context.clear_flags()
        folded = _fold_grouped(rows)
        if not (context.flags[Inexact] or context.flags[Rounded]):
            return folded
    return _fold_rows(rows)


def _fold_grouped(rows: Iterable[Mapping[str, Any]]
                  ) -> tuple[dict[Shape, list[dict[str, Any]]], list[dict[str, Any]]]:
    full: dict[tuple[Any, ...], list[Any]] = {}
    latency: dict[tuple[Any, ...], int] = {}
    for row in rows:
        day = _day(row["created_at"])
        provider = row["provider"]
        model = row["model"]
        key = (day, row.get("user_id") or NO_USER, provider, model, row["source"])
        sums = full.get(key)
        if sums is None:
            # requests, errors, input, output, cached, reasoning, cost, priced,
            # latency total, latency count, estimated
            sums = full[key] = [0, 0, 0, 0, 0, 0, Decimal(0), 0, 0, 0, 0]
        sums[0] += 1
        sums[1] += row["status"] == "error"
        sums[2] += row.get("input_tokens") or 0
        sums[3] += row.get("output_tokens") or 0
        sums[4] += row.get("cached_tokens") or 0
        sums[5] += row.get("reasoning_tokens") or 0
        cost = row.get("cost")
        if cost is not None:
            sums[6] += Decimal(cost)
            sums[7] += 1
        ms = row.get("latency_ms")
        if ms is not None:
            sums[8] += ms
            sums[9] += 1
            bucket_key = (day, provider, model, latency_bucket(ms))
            latency[bucket_key] = latency.get(bucket_key, 0) + 1
        sums[10] += bool(row.get("estimated"))
    out: dict[Shape, list[dict[str, Any]]] = {}
    for shape in SHAPES:
        names = shape.key
        key_of = itemgetter(*(_FULL_KEY.index(name) for name in names))
        table: dict[tuple[Any, ...], dict[str, Any]] = {}
        for full_key, sums in full.items():
            key = key_of(full_key)
            group = table.get(key)
            if group is None:
                group = table[key] = dict(zip(names, key, strict=True))
                group.update(dict.fromkeys(_SUMS, 0))
                group["cost"] = Decimal(0)
            group["requests"] += sums[0]
            group["errors"] += sums[1]
            group["input_tokens"] += sums[2]
            group["output_tokens"] += sums[3]
            group["cached_tokens"] += sums[4]
            group["reasoning_tokens"] += sums[5]
            if sums[7]:
                group["cost"] += sums[6]
                group["priced"] += sums[7]
            if sums[9]:
                group["latency_total"] += sums[8]
                group["latency_count"] += sums[9]
            group["estimated"] += sums[10]
        out[shape] = [table[k] for k in sorted(table, key=_sortable)]
    latency_rows = [{**dict(zip(_LATENCY_KEY, k, strict=True)), "calls": latency[k]}
                    for k in sorted(latency, key=_sortable)]
    return out, latency_rows


def _fold_rows(rows: Iterable[Mapping[str, Any]]
               ) -> tuple[dict[Shape, list[dict[str, Any]]], list[dict[str, Any]]]:
    """``fold`` row by row into every shape: the reference ``fold`` must equal, and
    what it falls back to when a sum of costs was not exact (see ``fold``)."""
    groups: dict[Shape, dict[tuple[Any, ...], dict[str, Any]]] = {s: {} for s in SHAPES}
    keyed = [(table, itemgetter(*shape.key), shape.key) for shape, table in groups.items()]
    latency: dict[tuple[Any, ...], int] = {}
    for row in rows:
        # What a row adds is worked out once, then added to each shape's group (this
        # runs for every usage row, on the event loop).
        values = {"day": _day(row["created_at"]), "user_id": row.get("user_id") or NO_USER,
                  "provider": row["provider"], "model": row["model"], "source": row["source"]}
        cost = row.get("cost")
        amount = Decimal(cost) if cost is not None else None
        ms = row.get("latency_ms")
        error = row["status"] == "error"
        input_tokens = row.get("input_tokens") or 0
        output_tokens = row.get("output_tokens") or 0
        cached_tokens = row.get("cached_tokens") or 0
        reasoning_tokens = row.get("reasoning_tokens") or 0
        estimated = bool(row.get("estimated"))
        for table, key_of, names in keyed:
            key = key_of(values)
            group = table.get(key)
            if group is None:
                group = table[key] = dict(zip(names, key, strict=True))
                group.update(dict.fromkeys(_SUMS, 0))
                group["cost"] = Decimal(0)
            group["requests"] += 1
            group["errors"] += error
            group["input_tokens"] += input_tokens
            group["output_tokens"] += output_tokens
            group["cached_tokens"] += cached_tokens
            group["reasoning_tokens"] += reasoning_tokens
            if amount is not None:
                group["cost"] += amount
                group["priced"] += 1
            if ms is not None:
                group["latency_total"] += ms
                group["latency_count"] += 1
            group["estimated"] += estimated
        if ms is not None:
            bucket_key = (values["day"], row["provider"], row["model"], latency_bucket(ms))
            latency[bucket_key] = latency.get(bucket_key, 0) + 1
    out = {shape: [table[k] for k in sorted(table, key=_sortable)]
           for shape, table in groups.items()}
    latency_rows = [{**dict(zip(_LATENCY_KEY, k, strict=True)), "calls": latency[k]}
                    for k in sorted(latency, key=_sortable)]
    return out, latency_rows


def _sortable(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(part) for part in key)


async def add(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add a batch of raw usage rows to the roll-ups, in the caller's transaction."""
    if not rows:
        return
    shapes, latency = fold(rows)
    upsert = upsert_insert(conn.dialect.name)
    for shape, groups in shapes.items():
        table = shape.table
        stmt = upsert(table).values(groups)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(shape.key),
            set_={name: table.c[name] + stmt.excluded[name] for name in _SUMS})
        await conn.execute(stmt)
    if latency:
        ltable = tables.usage_daily_latency
        lstmt = upsert(ltable).values(latency)
        lstmt = lstmt.on_conflict_do_update(
            index_elements=list(_LATENCY_KEY),
            set_={"calls": ltable.c.calls + lstmt.excluded.calls})
        await conn.execute(lstmt)


def day_of(dialect: str, column: Any) -> Any:
    """A timestamp column's UTC day, in SQL (the one dialect-specific expression)."""
    if dialect == "postgresql":
        # A ``date``, not text: PostgreSQL then estimates the groups well (docs/scaling.md).
        return cast(func.timezone(literal_column("'UTC'"), column), Date)
    return func.date(column)


async def rebuild(db: Database) -> int:
    """Recompute every roll-up from ``usage_events`` (after a bulk import, or to repair);
    returns the number of ``usage_daily`` rows. One transaction: readers see the old or
    the new figures, never a mix."""
    e = m.UsageEvent
    dialect = db.engine.dialect.name
    columns = {"day": day_of(dialect, e.created_at),
               "user_id": func.coalesce(e.user_id, NO_USER),
               "provider": e.provider, "model": e.model, "source": e.source}
    sums = (func.count(), func.sum(case((e.status == "error", 1), else_=0)),
            func.sum(e.input_tokens), func.sum(e.output_tokens), func.sum(e.cached_tokens),
            func.sum(e.reasoning_tokens), func.coalesce(func.sum(e.cost), 0),
            func.count(e.cost), func.coalesce(func.sum(e.latency_ms), 0),
            func.count(e.latency_ms), func.sum(case((e.estimated, 1), else_=0)))
    bucket = case(*((e.latency_ms < bound, literal(i))
                    for i, bound in enumerate(LATENCY_BOUNDS_MS)),
                  else_=literal(len(LATENCY_BOUNDS_MS)))
    day = columns["day"]
    latency = (select(day, e.provider, e.model, bucket, func.count())
               .where(e.latency_ms.is_not(None))
               .group_by(day, e.provider, e.model, bucket))
    async with db.unit_of_work() as session:
        for shape in SHAPES:
            keys = [columns[name] for name in shape.key]
            await session.execute(delete(shape.table))
            await session.execute(insert(shape.table).from_select(
                [*shape.key, *_SUMS], select(*keys, *sums).group_by(*keys)))
        await session.execute(delete(m.UsageDailyLatency))
        await session.execute(insert(m.UsageDailyLatency).from_select(
            [*_LATENCY_KEY, "calls"], latency))
        return int((await session.execute(select(func.count()).select_from(
            m.UsageDaily))).scalar_one())


def percentile(histogram: Mapping[int, int], q: float) -> int | None:
    """The ``q`` quantile (0..1) of a latency histogram {bucket: calls}, in ms, linear
    within the bucket it falls in; None for an empty histogram."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    target = q * total
    seen = 0
    for bucket in sorted(histogram):
        calls = histogram[bucket]
        if seen + calls >= target and calls > 0:
            low = LATENCY_BOUNDS_MS[bucket - 1] if bucket > 0 else 0
            high = (LATENCY_BOUNDS_MS[bucket] if bucket < len(LATENCY_BOUNDS_MS)
                    else LATENCY_BOUNDS_MS[-1] * 2)
            return round(low + (high - low) * (target - seen) / calls)
        seen += calls
    return LATENCY_BOUNDS_MS[-1] * 2
