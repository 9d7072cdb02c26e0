"""``python -m bench.audit``: what the audit trail's hash chain costs.

On a fresh migrated database (SQLite in a temporary directory, or PostgreSQL with
``--database-url``):

- ``empty write transactions``: the floor — a unit of work that writes nothing (BEGIN
  IMMEDIATE, COMMIT), so what the audit row itself adds can be told apart;
- ``appends``: N audit rows, each in its own write transaction (``record`` in a unit of
  work: hash after the remembered head, insert — SQLite's trigger checks and moves the
  head; PostgreSQL: a conditional UPDATE of the head first — commit; decision 0151), one
  after another;
- ``appends, 100 per transaction``: the chain's own cost per row (one SHA-256 per row,
  one INSERT per flush);
- ``appends, concurrent``: the same from ``--concurrency`` tasks at once (SQLite
  serialises the writers; on PostgreSQL they queue on the head row's lock);
- ``verify``: the whole chain walked and every hash recomputed;
- ``unchained inserts``: the same row inserted with Core and no chain, one per write
  transaction (after ``verify``: such rows break the chain on purpose) — the floor for
  a transaction that writes a row, so the chain's own cost is appends vs this.

The issue asks for at least 1,000 appends per second on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import cast

from sqlalchemy import Table, insert, text

from switchboard.db import Database, migrate
from switchboard.db import models as m
from switchboard.db.types import utcnow
from switchboard.services import audit_trail
from switchboard.services.audit import CLI, record


async def _append(db: Database, i: int, rows: int = 1) -> None:
    async with db.unit_of_work() as session:
        for j in range(rows):
            record(session, CLI, "bench.append", target_type="bench", target_id=i + j,
                   details={"before": {"mode": "on"}, "after": {"mode": "off", "i": i}})


async def _empty(db: Database) -> None:
    async with db.unit_of_work() as session:
        await session.execute(text("SELECT 1"))


async def _unchained(db: Database, i: int) -> None:
    async with db.unit_of_work() as session:
        await session.execute(insert(cast(Table, m.AuditLog.__table__)).values(
            actor="cli", action="bench.append", target_type="bench", target_id=str(i),
            created_at=utcnow(),
            details={"before": {"mode": "on"}, "after": {"mode": "off", "i": i}}))


async def run(url: str, n: int, concurrency: int) -> dict[str, float]:
    await migrate.upgrade(url)
    db = Database.from_url(url)
    try:
        await _append(db, -1)  # warm the pool
        started = time.perf_counter()
        for _ in range(n):
            await _empty(db)
        empty = n / (time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(n):
            await _append(db, i)
        serial = n / (time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(0, n * 10, 100):
            await _append(db, i, rows=100)
        batched = n * 10 / (time.perf_counter() - started)

        queue = iter(range(n))

        async def worker() -> None:
            for i in queue:
                await _append(db, i)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        concurrent = n / (time.perf_counter() - started)

        started = time.perf_counter()
        verdict = await audit_trail.verify(db)
        verify = verdict.checked / (time.perf_counter() - started)
        assert verdict.ok, verdict

        started = time.perf_counter()
        for i in range(n):
            await _unchained(db, i)
        unchained = n / (time.perf_counter() - started)
    finally:
        await db.dispose()
    return {"empty write transactions/s": empty, "appends/s (1 per transaction)": serial,
            "appends/s (100 per transaction)": batched,
            f"appends/s ({concurrency} tasks, 1 per tx)": concurrent,
            "rows verified/s": verify, "unchained inserts/s (1 per tx)": unchained}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a fresh PostgreSQL database (default: "
                        "SQLite in a temporary directory)")
    parser.add_argument("-n", type=int, default=1000,
                        help="transactions per run (the batched run writes 10 n rows)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        results = asyncio.run(run(url, args.n, args.concurrency))
    for name, value in results.items():
        print(f"{name:<36} {value:>10,.0f}")


if __name__ == "__main__":
    main()
