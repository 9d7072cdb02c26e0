"""``BudgetPolicy``: the admission step that reserves a call's cost against its budgets.

Before any upstream byte, the most the call can cost — the prompt's estimated tokens plus
the request's maximum output, at the first model's catalog price (``reservation``) — is
*reserved* on every budget that applies to the caller (everyone's, the user's, the API
token's). After the call, ``settle`` gives the reservation back and adds the real cost.

Exactness under concurrency — two ways, by database (decision 0088, after 0057):

- **SQLite** (one process owns the database; ``serve`` refuses ``--workers`` there): the
  counters live in this process (``budget_ledger.MemoryLedger``), read once per budget
  row and written behind in batches. Every budget of a call is checked, then every one
  added to, with no ``await`` between: atomic on the event loop's one thread. A call
  pays no database statement; a crash loses at most the unwritten batch (one second).
- **PostgreSQL** (several workers): a hard budget's reservation is ONE Core statement per
  budget, no ORM session,

      INSERT INTO budget_spend ... VALUES (:id, :start, 0, :cost)
      ON CONFLICT (budget_id, period_start) DO UPDATE SET reserved = reserved + :cost
      WHERE spent + reserved + :cost <= :limit AND spent < :limit RETURNING spent, reserved

  which PostgreSQL evaluates under the row's lock (a concurrent UPDATE re-checks the
  WHERE on the row it waited for). All budgets of one call are reserved in one
  transaction, in budget-id order: a refusal by one releases the others, and no two calls
  lock rows in opposite orders.

Either way the sum of reservations never passes the limit, and the overrun is bounded by
how far real costs exceed their reservations (none, when the vendor honours
``max_tokens`` and the estimate of the prompt is not short).

Cheap for everyone else: the list of budgets is cached (``budgets.book``), so a call by
a principal with no applicable budget touches no database row. Settlements are queued
and written off the call's path (``python -m bench.budgets``; numbers in
docs/performance.md).

A crash between reserve and settle leaves a written reservation held until the period
ends (the next period's row starts from zero): the safe direction for a limit.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.sql.expression import Executable

from switchboard.db import Database, tables
from switchboard.db.upsert import upsert_insert
from switchboard.services import budgets
from switchboard.services.budget_ledger import Key, MemoryLedger
from switchboard.services.budget_periods import Window, window, zone
from switchboard.services.budgets import Definition, to_nanos, to_usd, usd
from switchboard.services.metering import CallOutcome
from switchboard.services.policy import Admission, BudgetExceeded, Clock, Grant, wall_clock
from switchboard.services.principal import Principal
from switchboard.spec.usage import Usage

log = logging.getLogger(__name__)
_TABLE = tables.budget_spend
WARNING_HEADER = "x-switchboard-warnings"
_UNSAFE_HEADER = re.compile(r"[^\x20-\x7e]")
MAX_RESOLVED = 10_000
"""Principals whose applicable budgets are remembered at once (then forgotten and
rebuilt), as ``ratelimits.MAX_RESOLVED``."""


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

    def __init__(self, policy: BudgetPolicy, holds: list[Key], reserved: int,
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
        self._policy._settle(self._holds, self._reserved, spent)


class BudgetPolicy:
    """The ``AdmissionPolicy`` for budgets (see the module docstring)."""

    name = "budgets"

    def __init__(self, db: Database, *, timezone: str = "UTC",
                 clock: Clock = wall_clock) -> None:
        self.db = db
        self.timezone = timezone
        self.tz = zone(timezone)
        self.clock = clock
        self.ledger = MemoryLedger(db) if db.engine.dialect.name == "sqlite" else None
        """SQLite: one process owns the database, counters live here (decision 0088)."""
        self._pending: dict[Key, tuple[int, int]] = {}
        """(PostgreSQL) (budget id, period start) -> (reservations to give back, real
        cost to add)."""
        self._writer: asyncio.Task[None] | None = None
        self.settle_failures = 0
        self._resolved: dict[Principal, tuple[tuple[Definition, int], ...]] = {}
        self._resolved_from: budgets.Book | None = None

    def _applicable(self, book: budgets.Book, principal: Principal
                    ) -> tuple[tuple[Definition, int], ...]:
        """``book.applicable(principal)`` with each budget's limit in nano-dollars,
        remembered per principal while the book is the same object (a budget write
        anywhere replaces it): one dict lookup per call instead of three lists, a sort
        and a Decimal product per budget (issue 12, fourth pass)."""
        if book is not self._resolved_from or len(self._resolved) > MAX_RESOLVED:
            self._resolved = {}
            self._resolved_from = book
        found = self._resolved.get(principal)
        if found is None:
            found = self._resolved[principal] = tuple(
                (budget, budget.limit) for budget in book.applicable(principal))
        return found

    async def admit(self, admission: Admission) -> Grant:
        book = budgets.fresh_book(self.db)
        if book is None:
            book = await budgets.book(self.db)
        principal = admission.spec.principal
        applicable = self._applicable(book, principal)
        if not applicable:
            return NO_BUDGET
        cost = reservation(admission)
        nanos = to_nanos(cost, up=True) if cost > 0 else 0
        now = self.clock()
        tz = self.tz
        spans = [window(budget.period, now, tz) for budget, _ in applicable]
        keys = [(budget.id, span.start) for (budget, _), span in zip(applicable, spans,
                                                                       strict=True)]
        ledger = self.ledger
        if ledger is not None:
            if any(key not in ledger.rows for key in keys):
                await ledger.load(keys)
            counters = self._reserve_in_memory(ledger, applicable, spans, keys, nanos, now)
        else:
            counters = await self._reserve_in_database([b for b, _ in applicable], spans,
                                                       nanos, now)
        warnings = [_soft_warning(budget, spent, reserved, span, self.timezone)
                    for (budget, limit), span, (spent, reserved) in zip(
                        applicable, spans, counters, strict=True)
                    if budget.soft and spent + reserved > limit]
        for text in warnings:
            log.warning("soft budget exceeded: %s", text, extra={
                "event": "budget.soft_exceeded", "user_id": principal.user_id,
                "api_token_id": principal.token_id})
        return BudgetGrant(self, keys, nanos, warnings)

    def _reserve_in_memory(self, ledger: MemoryLedger,
                           applicable: tuple[tuple[Definition, int], ...],
                           spans: list[Window], keys: list[Key], nanos: int, now: float
                           ) -> list[tuple[int, int]]:
        """Check every budget, then add to every one: no ``await`` in here (the rows
        are loaded before), so atomic on the event loop's one thread and exact without
        the database."""
        rows = ledger.rows
        for (budget, limit), span, key in zip(applicable, spans, keys, strict=True):
            spent, reserved = rows[key]
            if not budget.soft and not _fits(spent, reserved, nanos, limit):
                raise self._refused(budget, span, spent, reserved, nanos, now)
        ledger.add_all(keys, 0, nanos)
        return [(rows[k][0], rows[k][1]) for k in keys]

    async def _reserve_in_database(self, applicable: list[Definition], spans: list[Window],
                                   nanos: int, now: float) -> list[tuple[int, int]]:
        """One lean statement per budget (Core, no ORM session), all in one transaction
        in budget-id order: a refusal rolls back the others."""
        counters: list[tuple[int, int]] = []
        async with self.db.engine.begin() as conn:
            for budget, span in zip(applicable, spans, strict=True):
                row = None
                if budget.soft or nanos <= budget.limit:  # else no row could take it
                    row = (await conn.execute(_reserve_statement(budget, span.start, nanos)
                                              )).first()
                if row is None:
                    found = (await conn.execute(
                        select(_TABLE.c.spent, _TABLE.c.reserved).where(
                            _TABLE.c.budget_id == budget.id,
                            _TABLE.c.period_start == span.start))).first()
                    spent, reserved = (int(found[0]), int(found[1])) if found else (0, 0)
                    raise self._refused(budget, span, spent, reserved, nanos, now)
                counters.append((int(row[0]), int(row[1])))
        return counters

    def _refused(self, budget: Definition, span: Window, spent: int, reserved: int,
                 nanos: int, now: float) -> BudgetExceeded:
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
    def _settle(self, holds: list[Key], reserved: int, spent: int) -> None:
        """``settle`` is synchronous (it runs in ``finally`` blocks). SQLite: the ledger
        changes now and writes behind. PostgreSQL: the write is queued and one task
        writes the queue; settlements that arrive while it writes are summed per budget
        row and written together in its next transaction."""
        if self.ledger is not None:
            self.ledger.add_all(holds, spent, -reserved)
            return
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
                async with self.db.engine.begin() as conn:
                    for (budget_id, start), (reserved, spent) in sorted(batch.items()):
                        await conn.execute(
                            update(_TABLE)
                            .where(_TABLE.c.budget_id == budget_id,
                                   _TABLE.c.period_start == start)
                            .values(reserved=_TABLE.c.reserved - reserved,
                                    spent=_TABLE.c.spent + spent))
            except Exception:  # the calls are over; their holds expire with the period
                self.settle_failures += 1
                log.exception("could not settle %d budget reservations", len(batch))

    async def drain(self) -> None:
        """Wait until every settlement queued so far is written (tests; shutdown)."""
        if self.ledger is not None:
            await self.ledger.drain()
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)


def _fits(spent: int, reserved: int, nanos: int, limit: int) -> bool:
    """THE admission rule of a hard budget (the same as the UPDATE's WHERE below)."""
    return spent + reserved + nanos <= limit and spent < limit


def _reserve_statement(budget: Definition, start: date, nanos: int) -> Executable:
    """Create the period's row holding ``nanos``, or add ``nanos`` to it — for a hard
    budget only if it fits (PostgreSQL re-checks the WHERE under the row lock a
    concurrent UPDATE waited for). Returns (spent, reserved) after, or no row."""
    # PostgreSQL's (SQLite reserves in the in-process ``MemoryLedger``)
    insert = upsert_insert("postgresql")(_TABLE).values(
        budget_id=budget.id, period_start=start, spent=0, reserved=nanos)
    hard = None if budget.soft else (
        (_TABLE.c.spent + _TABLE.c.reserved + nanos <= budget.limit)
        & (_TABLE.c.spent < budget.limit))
    return (insert.on_conflict_do_update(
        index_elements=[_TABLE.c.budget_id, _TABLE.c.period_start],
        set_={"reserved": _TABLE.c.reserved + nanos}, where=hard)
        .returning(_TABLE.c.spent, _TABLE.c.reserved))


def _soft_warning(budget: Definition, spent: int, reserved: int, span: Window,
                  timezone: str) -> str:
    return (f"{budget.title[0].upper()}{budget.title[1:]} is exceeded or about to be "
            f"({usd(to_usd(spent))} spent, {usd(to_usd(reserved))} held by calls in "
            f"progress including this one); it resets {_when(span, timezone)}")


def _when(span: Window, timezone: str) -> str:
    local = span.resets_at.astimezone(zone(timezone))
    return f"on {local:%Y-%m-%d at %H:%M} ({timezone})"
