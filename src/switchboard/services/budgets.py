"""Budgets: spending limits in US dollars per calendar period — what exists and its state.

A budget applies to everyone (``global``), one user, or one API token, over a day, a week
or a month in ``SWITCHBOARD_BUDGET_TIMEZONE`` (``budget_periods``). A hard budget refuses
a call that could take it over its amount; a soft one lets the call through and warns.
Enforcement is ``budget_policy.BudgetPolicy``; this module is the data: the admin's
writes (CLI, REST), the cached list the policy reads on every call, and the state people
see (spent, reserved by calls in flight, limit, when it resets).

Writes go through ``catalog_write`` and add an audit row: the catalog cache then drops
the cached ``Book`` here at once and in every other process (Redis, or the audit stamp
probe without it), so a call by a principal with no budget reads no budget row at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from sqlalchemy import ColumnElement, select, tuple_

from switchboard.db import Database, tables
from switchboard.db import models as m
from switchboard.services import audit
from switchboard.services.budget_periods import PERIOD_NOUNS, PERIODS, Window, window, zone
from switchboard.services.cache import MISSING, catalog_cache
from switchboard.services.errors import NotFound, ValidationFailed
from switchboard.services.principal import Principal
from switchboard.services.registry_view import stamp
from switchboard.services.transactions import cache_scope, catalog_write

NANOS_PER_USD = 1_000_000_000
"""Counters are integers in nano-dollars (see ``models.BudgetSpend``)."""
MAX_AMOUNT = Decimal(1_000_000_000)
"""Larger amounts are a typo, and would not fit the counters' arithmetic comfortably."""
SCOPES = ("global", "user", "token")

# Core tables: ``_definitions`` is read by a /v1 server's first call (the cached book) and
# by the alert evaluator; an ORM query would configure all the mappers (decision 0235)
_budgets = tables.budgets
_users = tables.users
_api_tokens = tables.api_tokens
_budget_spend = tables.budget_spend


def to_nanos(usd: Decimal, *, up: bool = False) -> int:
    """Dollars as nano-dollars; ``up`` rounds a reservation up so it is never short."""
    scaled = usd * NANOS_PER_USD
    return int(scaled.to_integral_value(rounding=ROUND_CEILING)) if up else int(scaled)


def to_usd(nanos: int) -> Decimal:
    return Decimal(nanos) / NANOS_PER_USD


def usd(value: Decimal) -> str:
    """``$5.00``, ``$0.0042``: cents when it has no finer part, else what it has."""
    if value == value.quantize(Decimal("0.01")) or abs(value) >= 100:
        return f"${value:,.2f}"
    return f"${value.normalize():f}"


def _plain(value: Decimal) -> str:
    """``2.5``, ``0``, ``10`` (never ``2.5000000000`` nor ``1E+1``): dollars as JSON strings."""
    return f"{value.normalize():f}"


def parse_amount(raw: object) -> Decimal:
    """A budget amount from a person (CLI, REST): a positive number of dollars."""
    try:
        amount = Decimal(str(raw).strip().lstrip("$"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"the amount must be a number of US dollars such as 5 or "
                               f"12.50, got {str(raw)[:40]!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed("the amount must be more than $0")
    if amount > MAX_AMOUNT:
        raise ValidationFailed(f"the amount must be at most {usd(MAX_AMOUNT)}")
    if amount != amount.quantize(Decimal("1e-9")):
        raise ValidationFailed("the amount may have at most 9 decimal places")
    return amount


@dataclass(frozen=True, slots=True)
class Definition:
    """One budget as the policy needs it (cached; no state)."""

    id: int
    scope: str
    subject: str
    user_id: int | None
    api_token_id: int | None
    label: str
    """Whom it limits, for messages: ``everyone``, ``user 'ada'``, ``API token 3 ('ci')``."""
    amount: Decimal
    period: str
    soft: bool

    @property
    def limit(self) -> int:
        return to_nanos(self.amount)

    @property
    def title(self) -> str:
        """``the daily budget of $5.00 for user 'ada'``."""
        kind = "soft budget" if self.soft else "budget"
        return f"the {PERIOD_NOUNS[self.period]} {kind} of {usd(self.amount)} for {self.label}"


@dataclass(frozen=True, slots=True)
class Book:
    """Every budget, by subject: what ``admit`` consults without a database read."""

    by_subject: dict[str, tuple[Definition, ...]] = field(default_factory=dict)

    def applicable(self, principal: Principal) -> list[Definition]:
        """The budgets a call by ``principal`` counts against, in id order (the order
        their rows are locked in, the same in every process: no deadlock)."""
        if not self.by_subject:
            return []
        found = [*self.by_subject.get("global", ()),
                 *self.by_subject.get(f"user:{principal.user_id}", ())]
        if principal.token_id is not None:
            found.extend(self.by_subject.get(f"token:{principal.token_id}", ()))
        return sorted(found, key=lambda d: d.id)


def subject_of(scope: str, user_id: int | None, token_id: int | None) -> str:
    if scope == "global":
        return "global"
    if scope == "user":
        return f"user:{user_id}"
    return f"token:{token_id}"


def fresh_book(db: Database) -> Book | None:
    """The cached ``Book`` when ``book`` would answer without awaiting (the catalog
    cache's ``fresh``), else None: the budget policy's per-call read."""
    scope = cache_scope(db)
    found = catalog_cache().fresh((scope, "budgets"), scope)
    return None if found is MISSING else found


async def book(db: Database) -> Book:
    """Every budget, cached until a budget (or catalog) write anywhere."""
    scope = cache_scope(db)
    cache = catalog_cache()
    found = cache.fresh((scope, "budgets"), scope)
    if found is not MISSING:  # nearly every call: no closures, no coroutine
        return found  # type: ignore[no-any-return]
    return await cache.get(
        (scope, "budgets"), lambda: _load(db), probe=lambda: stamp(db), scope=scope)


async def _load(db: Database) -> Book:
    grouped: dict[str, list[Definition]] = {}
    for d in await _definitions(db):
        grouped.setdefault(d.subject, []).append(d)
    return Book({k: tuple(v) for k, v in grouped.items()})


async def _definitions(db: Database, where: Iterable[ColumnElement[bool]] = ()
                       ) -> list[Definition]:
    b, u, t = _budgets.c, _users.c, _api_tokens.c
    query = (select(_budgets, u.username, t.name.label("token_name"))
             .select_from(_budgets.outerjoin(_users, u.id == b.user_id)
                          .outerjoin(_api_tokens, t.id == b.api_token_id))
             .where(*where).order_by(b.id))
    async with db.transaction(read_only=True) as conn:
        rows = (await conn.execute(query)).all()
    out = []
    for budget in rows:
        username, token_name = budget.username, budget.token_name
        if budget.scope == "global":
            label = "everyone"
        elif budget.scope == "user":
            label = f"user '{username}'"
        else:
            label = f"API token {budget.api_token_id} ('{token_name}')"
        out.append(Definition(
            id=budget.id, scope=budget.scope, subject=budget.subject, user_id=budget.user_id,
            api_token_id=budget.api_token_id, label=label, amount=budget.amount,
            period=budget.period, soft=budget.soft))
    return out


# -- state -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetState:
    """A budget with what it has spent and holds in the current period."""

    budget: Definition
    window: Window
    spent: Decimal
    reserved: Decimal

    @property
    def remaining(self) -> Decimal:
        return max(Decimal(0), self.budget.amount - self.spent - self.reserved)

    def as_dict(self) -> dict[str, object]:
        b = self.budget
        return {
            "id": b.id, "scope": b.scope, "user_id": b.user_id, "api_token_id": b.api_token_id,
            "label": b.label, "period": b.period, "soft": b.soft,
            "amount": _plain(b.amount), "spent": _plain(self.spent),
            "reserved": _plain(self.reserved), "remaining": _plain(self.remaining),
            "period_start": self.window.starts_at.isoformat(),
            "resets_at": self.window.resets_at.isoformat(),
        }


async def states(db: Database, definitions: list[Definition], *, now: float,
                 timezone: str) -> list[BudgetState]:
    """Each budget's current period and counters (zero when it has spent nothing yet)."""
    tz = zone(timezone)
    windows = {d.id: window(d.period, now, tz) for d in definitions}
    counters: dict[tuple[int, date], tuple[int, int]] = {}
    if definitions:
        keys = [(d.id, windows[d.id].start) for d in definitions]
        async with db.transaction(read_only=True) as conn:
            s = _budget_spend.c
            rows = await conn.execute(
                select(s.budget_id, s.period_start, s.spent, s.reserved)
                .where(tuple_(s.budget_id, s.period_start).in_(keys)))
            for budget_id, start, spent, reserved in rows:
                counters[(budget_id, start)] = (spent, reserved)
    out = []
    for d in definitions:
        w = windows[d.id]
        spent, reserved = counters.get((d.id, w.start), (0, 0))
        out.append(BudgetState(d, w, to_usd(spent), to_usd(reserved)))
    return out


async def list_budgets(db: Database, *, now: float, timezone: str) -> list[BudgetState]:
    """Every budget with its state (admins)."""
    return await states(db, await _definitions(db), now=now, timezone=timezone)


async def budgets_of(db: Database, user_id: int, *, now: float,
                     timezone: str) -> list[BudgetState]:
    """The budgets that limit ``user_id``'s calls: everyone's, the user's own, and those
    of the user's API tokens (what the user sees in their settings)."""
    b, t = _budgets.c, _api_tokens.c
    token_ids = select(t.id).where(t.user_id == user_id)
    found = await _definitions(db, [
        (b.scope == "global") | (b.user_id == user_id) | b.api_token_id.in_(token_ids)])
    return await states(db, found, now=now, timezone=timezone)


# -- writes (admins) -------------------------------------------------------------------------


async def set_budget(db: Database, actor: audit.Actor, *, scope: str, amount: object,
                     period: str, soft: bool = False, user_id: int | None = None,
                     token_id: int | None = None) -> Definition:
    """Create the budget, or change the amount of the one with the same subject, period
    and kind (hard/soft). Returns it."""
    if scope not in SCOPES:
        raise ValidationFailed(f"scope must be one of {', '.join(SCOPES)}")
    if period not in PERIODS:
        raise ValidationFailed(f"period must be one of {', '.join(PERIODS)}")
    value = parse_amount(amount)
    if (scope == "user") != (user_id is not None) or (scope == "token") != (token_id is not None):
        raise ValidationFailed("a budget is for everyone, one user or one API token")
    subject = subject_of(scope, user_id, token_id)
    async with catalog_write(db, f"setting a budget for {subject}") as session:
        if user_id is not None and await session.get(m.User, user_id) is None:
            raise NotFound(f"no user with id {user_id}")
        if token_id is not None and await session.get(m.ApiToken, token_id) is None:
            raise NotFound(f"no API token with id {token_id}")
        row = await session.scalar(select(m.Budget).where(
            m.Budget.subject == subject, m.Budget.period == period, m.Budget.soft == soft))
        action = "budget.update" if row is not None else "budget.create"
        if row is None:
            row = m.Budget(scope=scope, subject=subject, user_id=user_id,
                           api_token_id=token_id, period=period, soft=soft, amount=value)
            session.add(row)
        else:
            row.amount = value
        await session.flush()
        budget_id = row.id
        audit.record(session, actor, action, target_type="budget", target_id=budget_id,
                     details={"subject": subject, "period": period, "soft": soft,
                              "amount": str(value)})
    return (await _definitions(db, [_budgets.c.id == budget_id]))[0]


async def remove_budget(db: Database, actor: audit.Actor, budget_id: int) -> Definition:
    """Delete a budget (its spend history goes with it). Returns what was removed."""
    found = await _definitions(db, [_budgets.c.id == budget_id])
    if not found:
        raise NotFound(f"no budget with id {budget_id}")
    async with catalog_write(db, f"removing budget {budget_id}") as session:
        row = await session.get(m.Budget, budget_id)
        if row is None:
            raise NotFound(f"no budget with id {budget_id}")
        await session.delete(row)
        audit.record(session, actor, "budget.delete", target_type="budget",
                     target_id=budget_id, details={"subject": row.subject,
                                                   "period": row.period, "soft": row.soft})
    return found[0]
