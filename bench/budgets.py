"""``python -m bench.budgets``: what the budget policy costs per call.

Through ``BudgetPolicy.admit`` and ``settle`` (no HTTP server, no model: only the policy),
on a fresh migrated database — SQLite in a temporary directory, or PostgreSQL with
``--database-url`` — it times N calls one after another, each admitted and settled,
and then waits for every queued write (``drain``), so the writes are counted too — on
PostgreSQL the settlements are written while the calls go on; on SQLite the counters
live in the process and are written behind in batches (decision 0088):

- ``no budgets``: the table is empty (the cached book says so);
- ``others' budgets``: 100 budgets exist, none for this caller: still no database
  statement (the book is cached; invalidated on writes);
- ``1 budget`` / ``3 budgets``: the caller's user budget (and a global and a token one):
  PostgreSQL: one statement per budget to reserve, a share of a batched settlement;
  SQLite: no statement on the call's path, a share of a batched write.

Also ``--concurrency``: the same calls that many at a time (SQLite serialises writers;
PostgreSQL locks only the budget rows involved).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from switchboard.db import Database, migrate
from switchboard.db import models as m
from switchboard.services import budgets
from switchboard.services.audit import CLI
from switchboard.services.budget_policy import BudgetPolicy
from switchboard.services.cache import reset_catalog_cache
from switchboard.services.metering import CallOutcome
from switchboard.services.policy import Admission, CallSpec
from switchboard.services.principal import Principal
from switchboard.spec import ChatRequest, Collector, Message

COST = Decimal("0.0001")


def _admission(who: Principal) -> Admission:
    spec = CallSpec(principal=who, surface="api",
                    request=ChatRequest(messages=[Message.user("hi")]), model=None)
    return Admission(spec, None, 10, 100, COST)


def _outcome() -> CallOutcome:
    return CallOutcome(provider="bench", kind="openai", model="m", result=Collector().result(),
                       status="ok", started_at=0.0, latency_ms=1, ttft_ms=1, cost=COST)


async def _people(db: Database) -> Principal:
    async with db.unit_of_work() as session:
        users = [m.User(username=f"u{i}", role="user") for i in range(101)]
        session.add_all(users)
        await session.flush()
        token = m.ApiToken(user_id=users[0].id, name="bench", token_hash="b" * 64, prefix="sb")
        session.add(token)
        await session.flush()
        return Principal(users[0].id, "u0", "user", token.id)


async def _time(policy: BudgetPolicy, who: Principal, calls: int, concurrency: int
                ) -> tuple[float, float]:
    """Microseconds per call (admit + settle, writes drained at the end): wall clock,
    and this process's CPU (the steadier figure on a shared machine; the database's own
    work is not in it on PostgreSQL, and is on SQLite, which runs in-process)."""
    async def one() -> None:
        grant = await policy.admit(_admission(who))
        grant.settle(_outcome())

    for _ in range(20):  # warm up: caches, connections
        await one()
    await policy.drain()
    started, cpu = time.perf_counter(), time.process_time()
    if concurrency == 1:
        for _ in range(calls):
            await one()
    else:
        queue = iter(range(calls))

        async def worker() -> None:
            for _ in queue:
                await one()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    await policy.drain()
    return ((time.perf_counter() - started) / calls * 1e6,
            (time.process_time() - cpu) / calls * 1e6)


async def run(url: str, calls: int, concurrency: int
              ) -> list[tuple[str, tuple[float, float]]]:
    reset_catalog_cache()
    await migrate.upgrade(url)
    db = Database.from_url(url)
    out: list[tuple[str, tuple[float, float]]] = []
    try:
        payer = await _people(db)
        policy = BudgetPolicy(db)
        out.append(("no budgets", await _time(policy, payer, calls, concurrency)))
        for i in range(100):  # budgets for other people
            await budgets.set_budget(db, CLI, scope="user", user_id=payer.user_id + 1 + i,
                                     amount="1000000", period="day")
        out.append(("others' budgets", await _time(policy, payer, calls, concurrency)))
        await budgets.set_budget(db, CLI, scope="user", user_id=payer.user_id,
                                 amount="1000000", period="month")
        out.append(("1 budget", await _time(policy, payer, calls, concurrency)))
        await budgets.set_budget(db, CLI, scope="global", amount="1000000", period="day")
        await budgets.set_budget(db, CLI, scope="token", token_id=payer.token_id,
                                 amount="1000000", period="week")
        out.append(("3 budgets", await _time(policy, payer, calls, concurrency)))
    finally:
        await db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.budgets", description=__doc__)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: a SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        rows = asyncio.run(run(url, args.calls, args.concurrency))
    print(f"{'case':<18} {'wall us':>10} {'cpu us':>10}   ({args.calls} calls, concurrency "
          f"{args.concurrency}, {url.split(':')[0]})")
    for name, (wall, cpu) in rows:
        print(f"{name:<18} {wall:>10.0f} {cpu:>10.0f}")


if __name__ == "__main__":
    main()
