"""``BudgetPolicy``: the admission step that reserves a call's cost against its budgets.

Before any upstream byte, the most the call can cost — the prompt's estimated tokens plus
the request's maximum output, at the first model's catalog price (``reservation``) — is
*reserved* on every budget that applies to the caller (everyone's, the user's, the API
token's). After the call, ``settle`` gives the reservation back and adds the real cost.

Exactness under concurrency, across processes, comes from the database: a hard budget's
reservation is ONE statement,

    UPDATE budget_spend SET reserved = reserved + :cost
    WHERE budget_id = :id AND period_start = :start
      AND spent + reserved + :cost <= :limit AND spent < :limit

which PostgreSQL evaluates under the row's lock (a concurrent UPDATE re-checks the WHERE
on the row it waited for) and SQLite runs inside a ``BEGIN IMMEDIATE`` transaction that
holds the only write lock. So the sum of reservations never passes the limit, and the
overrun is bounded by how far real costs exceed their reservations (none, when the
vendor honours ``max_tokens`` and the estimate of the prompt is not short). All budgets
of one call are reserved in one transaction, in budget-id order: a refusal by one
releases the others, and no two calls lock rows in opposite orders.

Cheap for everyone else: the list of budgets is cached (``budgets.book``), so a call by
a principal with no applicable budget touches no database row. With budgets, a call
costs one short write transaction to reserve; settlements are queued and written off the
call's path, many calls' in one transaction under load (``python -m bench.budgets``;
numbers in docs/performance.md).

A crash between reserve and settle leaves the reservation held until the period ends
(the next period's row starts from zero): the safe direction for a limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import budgets
from switchboard.services.budget_periods import Window, window, zone
from switchboard.services.budgets import Definition, to_nanos, to_usd, usd
from switchboard.services.metering import CallOutcome
from switchboard.services.policy import Admission, BudgetExceeded, Clock, Grant, wall_clock
from switchboard.spec.usage import Usage

log = logging.getLogger(__name__)
WARNING_HEADER = "x-switchboard-warnings"
_UNSAFE_HEADER = re.compile(r"[^\x20-\x7e]")


def reservation(admission: Admission) -> Decimal:
    """The most this call can cost: the pipeline's figure, else the first model's price
    for the estimated prompt plus the maximum output. Zero when the price is unknown (a
    local model with no price in the catalog is free as far as budgets can tell)."""
    if admission.reserved_cost is not None:
        return admission.reserved_cost
    if admission.model is None:
        return Decimal(0)
    cost = admission.model.cost(Usage(input_tokens=admission.estimated_input_tokens,
                                      output_tokens=admission.max_output_tokens))
    return cost if cost is not None else Decimal(0)


class _NoBudget:
    """The grant of a call no budget applies to: nothing held, nothing to settle."""

    __slots__ = ()
    headers: Mapping[str, str] = {}
    warnings: tuple[str, ...] = ()

    def settle(self, outcome: CallOutcome | None) -> None:
        return None


NO_BUDGET = _NoBudget()


class BudgetGrant:
    """The reservations one call holds, settled once with the real cost."""

    __slots__ = ("_holds", "_policy", "_reserved", "_settled", "headers", "warnings")

    def __init__(self, policy: BudgetPolicy, holds: list[tuple[int, date]], reserved: int,
                 warnings: list[str]) -> None:
        self._policy = policy
        self._holds = holds
        self._reserved = reserved
        self._settled = False
        self.warnings = tuple(warnings)
        """Soft budgets this call may take over (people's words; the surface shows them)."""
        self.headers: Mapping[str, str] = (
            {WARNING_HEADER: _UNSAFE_HEADER.sub("?", "; ".join(warnings))[:1000]}
            if warnings else {})

    def settle(self, outcome: CallOutcome | None) -> None:
        if self._settled:
            return
        self._settled = True
        cost = outcome.cost if outcome is not None and outcome.cost is not None else None
        spent = to_nanos(cost) if cost is not None and cost > 0 else 0
        self._policy._spawn_settle(self._holds, self._reserved, spent)


class BudgetPolicy:
    """The ``AdmissionPolicy`` for budgets (see the module docstring)."""

    name = "budgets"

    def __init__(self, db: Database, *, timezone: str = "UTC",
                 clock: Clock = wall_clock) -> None:
        self.db = db
        self.timezone = timezone
        self.tz = zone(timezone)
        self.clock = clock
        self._pending: dict[tuple[int, date], tuple[int, int]] = {}
        """(budget id, period start) -> (reservations to give back, real cost to add)."""
        self._writer: asyncio.Task[None] | None = None
        self.settle_failures = 0
        # SQLite has one write lock per database and hands it out unfairly (a waiter
        # polls until its busy timeout): this process's budget writes queue here instead,
        # in order, and meet the lock one at a time. PostgreSQL locks only the rows.
        self._sqlite_turn = (asyncio.Lock() if db.engine.dialect.name == "sqlite"
                             else contextlib.nullcontext())

    async def admit(self, admission: Admission) -> Grant:
        book = await budgets.book(self.db)
        applicable = book.applicable(admission.spec.principal)
        if not applicable:
            return NO_BUDGET
        cost = reservation(admission)
        nanos = to_nanos(cost, up=True) if cost > 0 else 0
        now = self.clock()
        holds: list[tuple[int, date]] = []
        warnings: list[str] = []
        async with self._sqlite_turn, self.db.unit_of_work() as session:
            for budget in applicable:
                span = window(budget.period, now, self.tz)
                taken = await _reserve(session, budget, span.start, nanos)
                if taken is None:
                    raise await self._refusal(session, budget, span, nanos, now)
                spent, reserved = taken
                if budget.soft and spent + reserved > budget.limit:
                    warnings.append(_soft_warning(budget, spent, reserved, span,
                                                  self.timezone))
                holds.append((budget.id, span.start))
        for text in warnings:
            log.warning("soft budget exceeded: %s", text, extra={
                "event": "budget.soft_exceeded", "user_id": admission.spec.principal.user_id,
                "api_token_id": admission.spec.principal.token_id})
        return BudgetGrant(self, holds, nanos, warnings)

    async def _refusal(self, session: AsyncSession, budget: Definition, span: Window,
                       nanos: int, now: float) -> BudgetExceeded:
        row = (await session.execute(
            select(m.BudgetSpend.spent, m.BudgetSpend.reserved).where(
                m.BudgetSpend.budget_id == budget.id,
                m.BudgetSpend.period_start == span.start))).first()
        spent, reserved = (row[0], row[1]) if row is not None else (0, 0)
        held = f", {usd(to_usd(reserved))} held by calls in progress" if reserved else ""
        cost = f"; this call could cost up to {usd(to_usd(nanos))}" if nanos else ""
        message = (f"{budget.title[0].upper()}{budget.title[1:]} is used up "
                   f"({usd(to_usd(spent))} spent{held}{cost}). It resets "
                   f"{_when(span, self.timezone)}.")
        log.info("budget refused a call: %s", message, extra={
            "event": "budget.refused", "budget_id": budget.id})
        return BudgetExceeded(message, retry_after=max(1, math.ceil(
            span.resets_at.timestamp() - now)))

    # -- settling ------------------------------------------------------------------------
    def _spawn_settle(self, holds: list[tuple[int, date]], reserved: int, spent: int) -> None:
        """``settle`` is synchronous (it runs in ``finally`` blocks): the write is queued
        and one task writes the queue. Settlements that arrive while it writes are
        summed per budget row and written together in its next transaction, so under
        load a call costs one write transaction (its reservation), not two."""
        for hold in holds:
            was = self._pending.get(hold, (0, 0))
            self._pending[hold] = (was[0] + reserved, was[1] + spent)
        if self._writer is not None and not self._writer.done():
            return
        try:
            self._writer = asyncio.get_running_loop().create_task(
                self._write_settlements(), name="budget-settle")
        except RuntimeError:  # no loop (interpreter shutdown): held until the period ends
            self.settle_failures += 1
            log.warning("could not settle a budget reservation: no event loop")

    async def _write_settlements(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            try:
                async with self._sqlite_turn, self.db.unit_of_work() as session:
                    for (budget_id, start), (reserved, spent) in sorted(batch.items()):
                        await session.execute(
                            update(m.BudgetSpend)
                            .where(m.BudgetSpend.budget_id == budget_id,
                                   m.BudgetSpend.period_start == start)
                            .values(reserved=m.BudgetSpend.reserved - reserved,
                                    spent=m.BudgetSpend.spent + spent))
            except Exception:  # the calls are over; their holds expire with the period
                self.settle_failures += 1
                log.exception("could not settle %d budget reservations", len(batch))

    async def drain(self) -> None:
        """Wait until every settlement queued so far is written (tests; shutdown)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)


async def _reserve(session: AsyncSession, budget: Definition, start: date,
                   nanos: int) -> tuple[int, int] | None:
    """Add ``nanos`` to the period's reservations; for a hard budget only if it fits.
    Returns (spent, reserved) after, or None when a hard budget has no room."""
    row = await _try_reserve(session, budget, start, nanos)
    if row is None:  # no row yet this period (or no room): make sure it exists, once
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(insert(m.BudgetSpend)
                              .values(budget_id=budget.id, period_start=start, spent=0,
                                      reserved=0)
                              .on_conflict_do_nothing())
        row = await _try_reserve(session, budget, start, nanos)
    return row


async def _try_reserve(session: AsyncSession, budget: Definition, start: date,
                       nanos: int) -> tuple[int, int] | None:
    statement = (update(m.BudgetSpend)
                 .where(m.BudgetSpend.budget_id == budget.id,
                        m.BudgetSpend.period_start == start)
                 .values(reserved=m.BudgetSpend.reserved + nanos)
                 .returning(m.BudgetSpend.spent, m.BudgetSpend.reserved))
    if not budget.soft:
        limit = budget.limit
        statement = statement.where(
            m.BudgetSpend.spent + m.BudgetSpend.reserved + nanos <= limit,
            m.BudgetSpend.spent < limit)
    row = (await session.execute(statement)).first()
    return (int(row[0]), int(row[1])) if row is not None else None


def _soft_warning(budget: Definition, spent: int, reserved: int, span: Window,
                  timezone: str) -> str:
    return (f"{budget.title[0].upper()}{budget.title[1:]} is exceeded or about to be "
            f"({usd(to_usd(spent))} spent, {usd(to_usd(reserved))} held by calls in "
            f"progress including this one); it resets {_when(span, timezone)}")


def _when(span: Window, timezone: str) -> str:
    local = span.resets_at.astimezone(zone(timezone))
    return f"on {local:%Y-%m-%d at %H:%M} ({timezone})"
