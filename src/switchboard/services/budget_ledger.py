"""``MemoryLedger``: budget counters held in this process, written to the database behind.

Why: on SQLite one process owns the database (``serve`` refuses ``--workers`` there), so
the database adds nothing to exactness that the event loop does not already give — the
loop is one thread, and a check-and-add with no ``await`` between is atomic. A write
transaction per call, on the other hand, cost ~7 ms of server CPU on the benchmark
(issue 12; decision 0088). So: the counters of a (budget, period) row are read from the
database once, on first use, and from then on reserved and settled in memory; the
changes (deltas of ``spent`` and ``reserved``) are written in one transaction every
``flush_seconds`` or every ``flush_every`` changes, whichever comes first, and at
``drain()`` (app shutdown).

What a crash costs: the unwritten batch — at most ``flush_seconds`` (1 s) or
``flush_every`` (256) changes of spend go unrecorded in ``budget_spend`` (the usage
rows still have them). Reservations written before the crash stay held until the period
ends, as before (the safe direction).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select, text, tuple_, update

from switchboard.db import Database, tables

log = logging.getLogger(__name__)
Key = tuple[int, date]
"""(budget id, first day of the period): one ``budget_spend`` row."""
_TABLE = tables.budget_spend
_INSERT_IF_BUDGET = text(
    "INSERT INTO budget_spend (budget_id, period_start, spent, reserved) "
    "SELECT :id, :start, :spent, :reserved WHERE EXISTS (SELECT 1 FROM budgets WHERE id = :id)")
"""A new period's row; none when the budget was removed meanwhile (no foreign-key error
that would fail the whole batch)."""


class MemoryLedger:
    """The counters of the budget rows this process has touched (see the module doc)."""

    def __init__(self, db: Database, *, flush_seconds: float = 1.0,
                 flush_every: int = 256) -> None:
        self.db = db
        self.flush_seconds = flush_seconds
        self.flush_every = flush_every
        self.rows: dict[Key, list[int]] = {}
        """key -> [spent, reserved] in nano-dollars, as this process knows them."""
        self._pending: dict[Key, list[int]] = {}
        """key -> [spent, reserved] not written yet (deltas)."""
        self._changes = 0
        self._loading = asyncio.Lock()
        self._flushing = asyncio.Lock()
        self._kick = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self.flush_failures = 0

    async def load(self, keys: list[Key]) -> None:
        """Read the rows of ``keys`` not known yet (one SELECT; a missing row is zero)."""
        async with self._loading:  # two first calls at once read once
            missing = [k for k in keys if k not in self.rows]
            if not missing:
                return
            async with self.db.engine.connect() as conn:
                found = {(int(r[0]), r[1]): [int(r[2]), int(r[3])] for r in await conn.execute(
                    select(_TABLE.c.budget_id, _TABLE.c.period_start, _TABLE.c.spent,
                           _TABLE.c.reserved)
                    .where(tuple_(_TABLE.c.budget_id, _TABLE.c.period_start).in_(missing)))}
            for key in missing:
                self.rows.setdefault(key, found.get(key, [0, 0]))

    def add(self, key: Key, spent: int, reserved: int) -> None:
        """Change a loaded row by these deltas, now, and queue the write."""
        self.add_all((key,), spent, reserved)

    def add_all(self, keys: Iterable[Key], spent: int, reserved: int) -> None:
        """``add`` for each of ``keys`` (a call's budgets): one writer check for all."""
        rows, pending = self.rows, self._pending
        changes = 0
        for key in keys:  # twice per call and budget: written out (issue 12, fifth pass)
            row = rows[key]
            row[0] += spent
            row[1] += reserved
            delta = pending.get(key)
            if delta is None:
                pending[key] = [spent, reserved]
            else:
                delta[0] += spent
                delta[1] += reserved
            changes += 1
        self._changes += changes
        if self._changes >= self.flush_every:
            self._kick.set()
        if self._writer is None or self._writer.done():
            try:
                self._writer = asyncio.get_running_loop().create_task(
                    self._write_behind(), name="budget-write-behind")
            except RuntimeError:  # no loop (interpreter shutdown): the batch is lost
                self.flush_failures += 1
                log.warning("could not write budget counters: no event loop")

    async def _write_behind(self) -> None:
        while self._pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self.flush_seconds)
            self._kick.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write every queued change in one transaction. On failure the changes go back
        in the queue (the next flush retries them)."""
        async with self._flushing:
            batch, self._pending, self._changes = self._pending, {}, 0
            batch = {k: d for k, d in batch.items() if d != [0, 0]}
            if not batch:
                return
            try:
                async with self.db.engine.begin() as conn:
                    for (budget_id, start), (spent, reserved) in sorted(batch.items()):
                        done = await conn.execute(
                            update(_TABLE)
                            .where(_TABLE.c.budget_id == budget_id,
                                   _TABLE.c.period_start == start)
                            .values(spent=_TABLE.c.spent + spent,
                                    reserved=_TABLE.c.reserved + reserved))
                        if done.rowcount == 0:
                            await conn.execute(_INSERT_IF_BUDGET, {
                                "id": budget_id, "start": start, "spent": spent,
                                "reserved": reserved})
            except Exception:
                self.flush_failures += 1
                log.exception("could not write %d budget counters (will retry)", len(batch))
                for key, (spent, reserved) in batch.items():
                    delta = self._pending.setdefault(key, [0, 0])
                    delta[0] += spent
                    delta[1] += reserved

    async def drain(self) -> None:
        """Write what is queued now (tests; shutdown) and let the writer end."""
        await self.flush()
        self._kick.set()
        if self._writer is not None and not self._writer.done() and not self._pending:
            await asyncio.shield(self._writer)
