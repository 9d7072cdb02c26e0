"""Scale, part 2: the usage report over a million ``usage_events`` rows on PostgreSQL.

The rows are spread uniformly over the last ``days`` days, over a few providers and
models, ``users`` users with a skewed share (weight 1/sqrt(rank): a few heavy users, a
long tail), 70 % ``api`` / 30 % ``chat``, 2 % errors and 1 % partial answers. They are
written with ``COPY`` (asyncpg ``copy_records_to_table``), then ``VACUUM ANALYZE`` — what
autovacuum would have done to a table that grew over 90 days.

The daily roll-ups (decision 0129) are then rebuilt from the rows (``usage_rollup.rebuild``,
timed): the usage recorder keeps them up to date as rows arrive, COPY bypasses it. The
admin dashboard (``services.dashboard``, what ``GET /api/dashboard`` returns) is timed for
each of its periods.

Measured through the real service ``switchboard.services.usage_report.usage_report``
(what ``GET /api/usage`` returns after flushing the recorder): scope ``all`` and scope
``me`` (the heaviest user: the worst case of "me"), 30- and 90-day ranges. The SQL the
service sends is captured from the engine (``before_cursor_execute``) and replayed under
``EXPLAIN (ANALYZE, BUFFERS)``, so the plan is the plan of the real query, not of a
copy. Then three candidate improvements are measured on the same data and removed again:

- the same SQL with the day bucket as a ``date`` (``CAST(timezone('UTC', created_at) AS
  DATE)``) instead of ``to_char`` text: PostgreSQL cannot estimate how many groups a
  ``to_char`` expression yields, assumes one per row, and sorts every event (spilling to
  disk past ``work_mem``); with a date it hashes a few thousand groups instead;
- a covering index for scope ``me``: ``(user_id, created_at) INCLUDE (<the summed
  columns>)`` -> an index-only scan instead of heap fetches;
- a daily roll-up (one row per day, user, provider, model, source): what the report
  would cost if it read pre-aggregated rows instead of events.
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

PROVIDERS = {
    "openai": ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3-mini", "gpt-4.1-nano"],
    "anthropic": ["claude-sonnet-4", "claude-3-5-haiku", "claude-opus-4"],
    "mistral": ["mistral-large", "mistral-small", "codestral"],
    "gemini": ["gemini-2.5-pro", "gemini-2.5-flash"],
    "groq": ["llama-3.3-70b", "llama-3.1-8b"],
    "deepseek": ["deepseek-chat", "deepseek-reasoner"],
}
COLUMNS = ("created_at", "user_id", "provider", "model", "source", "status", "input_tokens",
           "output_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens",
           "cost", "latency_ms", "ttft_ms", "error_code")
# The service's day bucket on PostgreSQL as SQLAlchemy renders it, and the candidate.
DAY_TEXT = "to_char(timezone('UTC', usage_events.created_at), 'YYYY-MM-DD')"
DAY_DATE = "CAST(timezone('UTC', usage_events.created_at) AS DATE)"
SUMMED = ("provider", "model", "source", "status", "input_tokens", "output_tokens",
          "cached_tokens", "reasoning_tokens", "cost", "latency_ms")


@dataclass
class UsageResult:
    rows: int
    days: int
    users: int
    insert_s: float = 0.0
    vacuum_s: float = 0.0
    table_mb: float = 0.0
    heavy_user_rows: int = 0
    rollup_s: float = 0.0
    rollup_rows: int = 0
    dashboard: dict[str, dict[str, Any]] = field(default_factory=dict)
    queries: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    sql: dict[str, tuple[str, Any]] = field(default_factory=dict)  # as sent, with parameters

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "days": self.days, "users": self.users,
                "insert_s": self.insert_s, "vacuum_analyze_s": self.vacuum_s,
                "table_mb": self.table_mb, "heavy_user_rows": self.heavy_user_rows,
                "rollup_s": self.rollup_s, "rollup_rows": self.rollup_rows,
                "dashboard": self.dashboard, "queries": self.queries, "plans": self.plans,
                "experiments": self.experiments}


async def _users(url: str, n: int) -> list[int]:
    import secrets

    from switchboard.db import Database
    from switchboard.services import accounts

    db = Database.from_url(url, pooled=False)
    try:
        return [(await accounts.create_user(db, f"user{i:03d}", secrets.token_urlsafe(12))).id
                for i in range(n)]
    finally:
        await db.dispose()


def _records(n: int, days: int, user_ids: list[int], seed: int) -> Any:
    """``n`` rows in COPY column order, as a generator (memory stays flat)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    span = days * 86400.0
    models = [(p, m) for p, ms in PROVIDERS.items() for m in ms]
    weights = [1 / (rank + 1) ** 0.5 for rank in range(len(user_ids))]
    users = rng.choices(user_ids, weights, k=n)
    for i in range(n):
        provider, model = models[rng.randrange(len(models))]
        roll = rng.random()
        status = "error" if roll < 0.02 else "partial" if roll < 0.03 else "ok"
        inp = rng.randrange(20, 4000)
        out = 0 if status == "error" else rng.randrange(1, 1500)
        yield (now - timedelta(seconds=rng.random() * span), users[i], provider, model,
               "api" if rng.random() < 0.7 else "chat", status, inp, out,
               inp // 4 if rng.random() < 0.3 else 0, 0,
               out // 3 if model.startswith(("o3", "deepseek-r")) else 0,
               Decimal(inp * 25 + out * 100) / Decimal(10**8),
               rng.randrange(150, 9000), rng.randrange(80, 900),
               "rate_limited" if status == "error" else None)


async def load_rows(url: str, result: UsageResult, seed: int = 6) -> list[int]:
    """Users through the accounts service, then the events by COPY; returns user ids
    (heaviest first)."""
    import asyncpg

    user_ids = await _users(url, result.users)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        started = time.perf_counter()
        records = _records(result.rows, result.days, user_ids, seed)
        while chunk := list(itertools.islice(records, 100_000)):
            await conn.copy_records_to_table("usage_events", records=chunk, columns=COLUMNS)
        result.insert_s = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE usage_events")
        result.vacuum_s = time.perf_counter() - started
        result.table_mb = await conn.fetchval(
            "SELECT pg_total_relation_size('usage_events')") / 2**20
        result.heavy_user_rows = await conn.fetchval(
            "SELECT count(*) FROM usage_events WHERE user_id = $1", user_ids[0])
    finally:
        await conn.close()
    # The rows went in by COPY, past the usage recorder that keeps the roll-ups: build
    # them as migration 0017's backfill would (decision 0129).
    from switchboard.db import Database
    from switchboard.services import usage_rollup

    db = Database.from_url(url)
    try:
        started = time.perf_counter()
        result.rollup_rows = await usage_rollup.rebuild(db)
        result.rollup_s = time.perf_counter() - started
    finally:
        await db.dispose()
    return user_ids


async def measure_dashboard(url: str, result: UsageResult, reps: int) -> None:
    """``GET /api/dashboard``'s service over the million rows, per period."""
    from switchboard.db import Database
    from switchboard.services.breakers import Breakers
    from switchboard.services.dashboard import dashboard

    db = Database.from_url(url)
    try:
        for days in (1, 7, 30, 90):
            times = []
            for _ in range(reps):
                started = time.perf_counter()
                data = await dashboard(db, days=days, now=datetime.now(UTC),
                                       breakers=Breakers())
                times.append((time.perf_counter() - started) * 1000)
            result.dashboard[f"{days}d"] = {
                "first_ms": times[0], "median_ms": statistics.median(times),
                "max_ms": max(times), "events": data["totals"]["requests"]}
    finally:
        await db.dispose()


def ranges(days: int) -> dict[str, tuple[date, date]]:
    today = datetime.now(UTC).date()
    out = {"30d": (today - timedelta(days=29), today)}
    if days > 30:
        out[f"{days}d"] = (today - timedelta(days=days - 1), today)
    return out


async def measure(url: str, result: UsageResult, heavy_user: int, reps: int,
                  label: str = "") -> dict[str, dict[str, Any]]:
    """Time ``usage_report`` for every (scope, range); keep the SQL it sent for EXPLAIN."""
    from sqlalchemy import event

    from switchboard.db import Database
    from switchboard.services.usage_report import usage_report

    db = Database.from_url(url)
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "usage_daily" in statement:
            sent.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    out: dict[str, dict[str, Any]] = {}
    try:
        for scope, user in (("all", None), ("me", heavy_user)):
            for name, (start, end) in ranges(result.days).items():
                key = f"{scope}-{name}"
                times = []
                report: dict[str, Any] = {}
                for _ in range(reps):
                    sent.clear()
                    started = time.perf_counter()
                    report = await usage_report(db, start, end, user_id=user)
                    times.append((time.perf_counter() - started) * 1000)
                out[key] = {"first_ms": times[0], "median_ms": statistics.median(times),
                            "min_ms": min(times), "events": report["totals"]["requests"],
                            "reps": reps}
                if not label and sent:
                    result.sql[key] = sent[-1]
                    result.plans[key] = await _explain(db, *sent[-1])
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
        await db.dispose()
    return out


async def _explain(db: Any, statement: str, parameters: Any) -> str:
    async with db.engine.connect() as conn:
        raw = await conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        return "\n".join(row[0] for row in raw)


def plan_summary(plan: str) -> str:
    """The scan nodes of a plan, e.g. 'Parallel Seq Scan' or 'Bitmap Index Scan on ix_..'."""
    nodes = []
    for line in plan.splitlines():
        text = line.strip().lstrip("->").strip()
        if " Scan" in text.split("(")[0]:
            nodes.append(text.split("  (")[0])
    return "; ".join(dict.fromkeys(nodes))


def execution_ms(plan: str) -> float:
    for line in plan.splitlines():
        if line.strip().startswith("Execution Time:"):
            return float(line.split(":")[1].split()[0])
    return float("nan")


async def day_as_date(url: str, result: UsageResult, reps: int) -> None:
    """The service's own SQL with the day bucket as a ``date`` instead of ``to_char`` text:
    the planner then estimates few groups and hashes instead of sorting every row."""
    from switchboard.db import Database

    db = Database.from_url(url)
    queries: dict[str, Any] = {}
    try:
        for key, (statement, parameters) in result.sql.items():
            # Once the service groups by a date itself (it does since this experiment
            # was first run), both variants are the same SQL: timed anyway, and marked.
            applied = DAY_TEXT not in statement
            alt = statement.replace(DAY_TEXT, DAY_DATE)
            timed: dict[str, float] = {}
            async with db.engine.connect() as conn:
                for name, sql in (("sql_as_is", statement), ("sql_date", alt)):
                    times = []
                    for _ in range(reps):
                        started = time.perf_counter()
                        (await conn.exec_driver_sql(sql, parameters)).all()
                        times.append((time.perf_counter() - started) * 1000)
                    timed[name] = statistics.median(times)
            plan = await _explain(db, alt, parameters)
            queries[key] = {"median_ms": timed["sql_date"],
                            "as_is_median_ms": timed["sql_as_is"],
                            "already_applied": applied,
                            "plan": plan_summary(plan), "execution_ms": execution_ms(plan),
                            "top": plan.splitlines()[0].split("  (")[0]}
    finally:
        await db.dispose()
    result.experiments["day_as_date"] = {"change": f"{DAY_TEXT} -> {DAY_DATE}",
                                         "queries": queries}


async def experiments(url: str, result: UsageResult, heavy_user: int, reps: int) -> None:
    import asyncpg

    await day_as_date(url, result, reps)

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        # 1. covering index for scope "me"
        started = time.perf_counter()
        await conn.execute(
            "CREATE INDEX ix_scale_usage_user_covering ON usage_events (user_id, created_at) "
            f"INCLUDE ({', '.join(SUMMED)})")
        build_s = time.perf_counter() - started
        await conn.execute("VACUUM ANALYZE usage_events")
        size = await conn.fetchval("SELECT pg_relation_size('ix_scale_usage_user_covering')")
        timed = await measure(url, result, heavy_user, reps, label="covering")
        result.experiments["covering_index_me"] = {
            "ddl": "CREATE INDEX ... ON usage_events (user_id, created_at) INCLUDE "
                   f"({', '.join(SUMMED)})",
            "build_s": build_s, "index_mb": size / 2**20,
            "queries": {k: v for k, v in timed.items() if k.startswith("me-")}}
        await conn.execute("DROP INDEX ix_scale_usage_user_covering")
        # 2. daily roll-up: the report's groups, pre-aggregated per user
        day = "to_char(timezone('UTC', created_at), 'YYYY-MM-DD')"
        started = time.perf_counter()
        await conn.execute(
            f"CREATE TABLE scale_usage_daily AS SELECT {day} AS day, user_id, provider, "
            "model, source, count(*) AS n, sum(input_tokens) AS inp, "
            "sum(output_tokens) AS out, sum(cost) AS cost FROM usage_events "
            f"GROUP BY {day}, user_id, provider, model, source")
        await conn.execute("CREATE INDEX ON scale_usage_daily (day)")
        await conn.execute("CREATE INDEX ON scale_usage_daily (user_id, day)")
        await conn.execute("ANALYZE scale_usage_daily")
        build_s = time.perf_counter() - started
        rollup_rows = await conn.fetchval("SELECT count(*) FROM scale_usage_daily")
        rolled: dict[str, Any] = {}
        for name, (start, _end) in ranges(result.days).items():
            for scope, where in (("all", ""), ("me", f" AND user_id = {int(heavy_user)}")):
                sql = ("SELECT day, provider, model, source, sum(n), sum(inp), sum(out), "
                       "sum(cost) FROM scale_usage_daily WHERE day >= $1" + where +
                       " GROUP BY day, provider, model, source")
                times = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    await conn.fetch(sql, start.isoformat())
                    times.append((time.perf_counter() - t0) * 1000)
                rolled[f"{scope}-{name}"] = {"median_ms": statistics.median(times)}
        result.experiments["daily_rollup"] = {"rows": rollup_rows, "build_s": build_s,
                                              "queries": rolled}
        await conn.execute("DROP TABLE scale_usage_daily")
    finally:
        await conn.close()


async def run_usage(url: str, *, rows: int, days: int, users: int, reps: int,
                    with_experiments: bool, say: Any) -> UsageResult:
    result = UsageResult(rows, days, users)
    say(f"· inserting {rows:,} usage events over {days} days ({users} users) with COPY")
    user_ids = await load_rows(url, result)
    say(f"  {result.insert_s:.1f} s COPY, {result.vacuum_s:.1f} s VACUUM ANALYZE, "
        f"{result.table_mb:.0f} MB")
    say("· usage_report: scope all / me x ranges, then EXPLAIN (ANALYZE, BUFFERS)")
    say(f"  roll-ups rebuilt in {result.rollup_s:.1f} s: {result.rollup_rows:,} daily rows")
    result.queries = await measure(url, result, user_ids[0], reps)
    say("· dashboard: 1 / 7 / 30 / 90 days")
    await measure_dashboard(url, result, reps)
    if with_experiments:
        say("· candidate improvements (covering index, daily roll-up)")
        await experiments(url, result, user_ids[0], reps)
    return result
