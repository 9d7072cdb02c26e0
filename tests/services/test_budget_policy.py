"""BudgetPolicy through the AdmissionPolicy protocol: reserve, refuse, warn, settle, roll over."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event

from switchboard.db import Database
from switchboard.services import budgets
from switchboard.services.audit import CLI
from switchboard.services.budget_policy import NO_BUDGET, BudgetPolicy
from switchboard.services.cache import CatalogCache, reset_catalog_cache
from switchboard.services.policy import AdmissionPolicy, BudgetExceeded
from tests.services.budget_support import Clock, add_user, admission, outcome

NOON = datetime(2026, 12, 4, 12, tzinfo=UTC).timestamp()


def policy(db: Database, clock: Clock, timezone: str = "UTC") -> BudgetPolicy:
    p = BudgetPolicy(db, timezone=timezone, clock=clock)
    assert isinstance(p.name, str)
    _: AdmissionPolicy = p  # it IS the protocol the pipeline calls
    return p


async def state(db: Database, budget_id: int, clock: Clock) -> tuple[Decimal, Decimal]:
    found = [s for s in await budgets.list_budgets(db, now=clock(), timezone="UTC")
             if s.budget.id == budget_id]
    return found[0].spent, found[0].reserved


async def test_a_hard_budget_refuses_the_call_that_could_take_it_over(
        sqlite_database: Database) -> None:
    db, clock = sqlite_database, Clock(NOON)
    ada = await add_user(db, "ada")
    b = await budgets.set_budget(db, CLI, scope="user", user_id=ada.user_id, amount="1.00",
                                 period="day")
    p = policy(db, clock)
    grants = [await p.admit(admission(ada, "0.30")) for _ in range(3)]
    with pytest.raises(BudgetExceeded) as refused:
        await p.admit(admission(ada, "0.30"))
    err = refused.value
    assert (err.status, err.code) == (429, "insufficient_quota")
    assert str(err) == ("The daily budget of $1.00 for user 'ada' is used up ($0.00 spent, "
                        "$0.90 held by calls in progress; this call could cost up to $0.30). "
                        "It resets on 2026-12-05 at 00:00 (UTC).")
    assert err.retry_after == 12 * 3600
    await p.drain()  # SQLite: the counters are written behind (decision 0088)
    assert await state(db, b.id, clock) == (Decimal(0), Decimal("0.9"))

    grants[0].settle(outcome("0.10"))  # cheaper than reserved: the rest is given back
    grants[0].settle(outcome("0.10"))  # a second settle is ignored
    await p.drain()
    assert await state(db, b.id, clock) == (Decimal("0.1"), Decimal("0.6"))
    await p.admit(admission(ada, "0.30"))  # 0.10 + 0.60 + 0.30 = 1.00 fits exactly
    with pytest.raises(BudgetExceeded):
        await p.admit(admission(ada, "0.000000001"))


async def test_a_call_that_never_reached_a_model_gives_its_reservation_back(
        sqlite_database: Database) -> None:
    db, clock = sqlite_database, Clock(NOON)
    ada = await add_user(db, "ada")
    b = await budgets.set_budget(db, CLI, scope="global", amount="1", period="month")
    p = policy(db, clock)
    grant = await p.admit(admission(ada, "0.75"))
    grant.settle(None)
    await p.drain()
    assert await state(db, b.id, clock) == (Decimal(0), Decimal(0))
    unpriced = await p.admit(admission(ada, None))  # no price known: reserves nothing
    unpriced.settle(outcome(None))
    await p.drain()
    assert await state(db, b.id, clock) == (Decimal(0), Decimal(0))


async def test_a_soft_budget_warns_and_lets_the_call_through(sqlite_database: Database) -> None:
    db, clock = sqlite_database, Clock(NOON)
    ada = await add_user(db, "ada")
    await budgets.set_budget(db, CLI, scope="user", user_id=ada.user_id, amount="0.50",
                             period="week", soft=True)
    p = policy(db, clock)
    first = await p.admit(admission(ada, "0.40"))
    assert first.headers == {}
    second = await p.admit(admission(ada, "0.40"))
    warning = second.headers["x-switchboard-warnings"]
    assert warning.startswith("The weekly soft budget of $0.50 for user 'ada' is exceeded")
    assert "resets on 2026-12-07 at 00:00 (UTC)" in warning


async def test_a_refusal_by_one_budget_holds_nothing_on_the_others(
        sqlite_database: Database) -> None:
    db, clock = sqlite_database, Clock(NOON)
    ada = await add_user(db, "ada", token="ci")
    everyone = await budgets.set_budget(db, CLI, scope="global", amount="10", period="day")
    token = await budgets.set_budget(db, CLI, scope="token", token_id=ada.token_id,
                                     amount="0.50", period="day")
    p = policy(db, clock)
    await p.admit(admission(ada, "0.40"))
    with pytest.raises(BudgetExceeded, match=r"API token \d+ \('ci'\)"):
        await p.admit(admission(ada, "0.40"))
    await p.drain()
    assert await state(db, everyone.id, clock) == (Decimal(0), Decimal("0.4"))
    assert await state(db, token.id, clock) == (Decimal(0), Decimal("0.4"))
    # The same user through the browser (no token) is limited by the global budget only.
    browser = type(ada)(user_id=ada.user_id, username="ada", role="user")
    await p.admit(admission(browser, "0.40"))


async def test_a_new_period_starts_from_zero_and_late_settles_count_in_their_own(
        sqlite_database: Database) -> None:
    db = sqlite_database
    clock = Clock(datetime(2026, 12, 4, 22, 59, tzinfo=UTC).timestamp())  # 23:59 in Berlin
    ada = await add_user(db, "ada")
    b = await budgets.set_budget(db, CLI, scope="user", user_id=ada.user_id, amount="1",
                                 period="day")
    p = policy(db, clock, timezone="Europe/Berlin")
    late = await p.admit(admission(ada, "1"))
    with pytest.raises(BudgetExceeded, match=r"resets on 2026-12-05 at 00:00 \(Europe/Berlin\)"):
        await p.admit(admission(ada, "1"))
    clock.now += 60  # midnight in Berlin (23:00 UTC)
    fresh = await p.admit(admission(ada, "1"))
    late.settle(outcome("0.25"))  # the call that began yesterday is charged to yesterday
    fresh.settle(outcome("0.5"))
    await p.drain()
    rows = await budgets.states(db, [b], now=clock.now, timezone="Europe/Berlin")
    assert (rows[0].spent, rows[0].reserved) == (Decimal("0.5"), Decimal(0))
    yesterday = await budgets.states(db, [b], now=clock.now - 120, timezone="Europe/Berlin")
    assert (yesterday[0].spent, yesterday[0].reserved) == (Decimal("0.25"), Decimal(0))


async def test_no_applicable_budget_means_no_database_statement(
        sqlite_database: Database) -> None:
    db, clock = sqlite_database, Clock(NOON)
    ada = await add_user(db, "ada")
    bob = await add_user(db, "bob")
    b = await budgets.set_budget(db, CLI, scope="user", user_id=bob.user_id, amount="1",
                                 period="day")
    p = policy(db, clock)
    assert await p.admit(admission(ada, "0.1")) is NO_BUDGET  # loads and caches the book
    statements: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute",
                 lambda *a: statements.append(a[2]))
    for _ in range(100):
        assert await p.admit(admission(ada, "0.1")) is NO_BUDGET
    assert statements == []
    await p.admit(admission(bob, "0.1"))  # bob's budget is there: counted, written behind
    await p.drain()
    assert any("budget_spend" in s for s in statements)
    # A write drops the cache at once: ada's new budget applies to her next call.
    await budgets.set_budget(db, CLI, scope="user", user_id=ada.user_id, amount="0.05",
                             period="day")
    with pytest.raises(BudgetExceeded):
        await p.admit(admission(ada, "0.1"))
    await budgets.remove_budget(db, CLI, b.id)
    assert await p.admit(admission(bob, "5")) is NO_BUDGET


async def test_concurrent_calls_never_overrun_a_budget(database: Database) -> None:
    """50 calls at once against 37 cents, each reserving 2 cents and costing that much:
    exactly 18 get through (the 19th would need 38 cents), on SQLite and PostgreSQL."""
    db, clock = database, Clock(NOON)
    ada = await add_user(db, "ada")
    b = await budgets.set_budget(db, CLI, scope="user", user_id=ada.user_id, amount="0.37",
                                 period="day")
    p = policy(db, clock)

    async def call() -> bool:
        try:
            grant = await p.admit(admission(ada, "0.02"))
        except BudgetExceeded:
            return False
        await asyncio.sleep(0)  # the call "runs" while others are admitted
        grant.settle(outcome("0.02"))
        return True

    admitted = await asyncio.gather(*(call() for _ in range(50)))
    await p.drain()
    assert sum(admitted) == 18
    assert await state(db, b.id, clock) == (Decimal("0.36"), Decimal(0))


async def test_a_budget_set_by_another_process_applies_after_its_probe(
        sqlite_database: Database) -> None:
    """Without Redis, another process's budget write reaches this one through the catalog
    stamp (the audit row it adds), read at most every probe interval (here: every call)."""
    db, clock = sqlite_database, Clock(NOON)
    ada = await add_user(db, "ada")
    here = reset_catalog_cache(CatalogCache(probe_interval=0.0))
    p = policy(db, clock)
    assert await p.admit(admission(ada, "1")) is NO_BUDGET  # cached: no budgets
    reset_catalog_cache(CatalogCache())  # "another process": its own cache drops, not ours
    await budgets.set_budget(db, CLI, scope="global", amount="0.5", period="day")
    reset_catalog_cache(here)
    assert here.version == 0  # nothing told this process's cache directly
    with pytest.raises(BudgetExceeded):
        await p.admit(admission(ada, "1"))


async def test_sqlite_counts_in_memory_writes_behind_and_a_restart_reloads(
        sqlite_database: Database) -> None:
    """One process owns a SQLite database: a reservation is no database statement; the
    counters reach the database at the latest after ``flush_every`` changes (or a second,
    or drain), and a new process (policy) starts from what was written."""
    db, clock = sqlite_database, Clock(NOON)
    ada = await add_user(db, "ada")
    b = await budgets.set_budget(db, CLI, scope="user", user_id=ada.user_id, amount="1",
                                 period="day")
    p = policy(db, clock)
    assert p.ledger is not None
    p.ledger.flush_every = 4
    first = await p.admit(admission(ada, "0.10"))  # loads the row: one SELECT
    statements: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute",
                 lambda *a: statements.append(a[2]))
    first.settle(outcome("0.05"))
    second = await p.admit(admission(ada, "0.10"))
    second.settle(outcome("0.05"))  # 4 changes: the writer is woken
    assert statements == []  # nothing written on the calls' path
    await asyncio.sleep(0)  # (the writer task runs: not waiting for time to pass)
    await asyncio.sleep(0)
    await p.drain()
    assert any("UPDATE budget_spend" in s or "INSERT INTO budget_spend" in s
               for s in statements)
    assert await state(db, b.id, clock) == (Decimal("0.1"), Decimal(0))
    held = await p.admit(admission(ada, "0.80"))  # 0.10 + 0.80 fits; written behind
    await p.drain()
    restarted = policy(db, clock)
    with pytest.raises(BudgetExceeded, match=r"\$0.10 spent, \$0.80 held"):
        await restarted.admit(admission(ada, "0.20"))
    await restarted.admit(admission(ada, "0.10"))  # exactly 1.00
    held.settle(outcome("0.80"))
    await p.drain()
