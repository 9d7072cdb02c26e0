"""Which rate limits apply to whom: defaults per role, overridden per role, user or token.

Resolution, limit by limit (requests/min, tokens/min, concurrent calls):

- a **user's** bucket: the user's rule, else the role's rule, else the configured default
  for the role (``config.DEFAULT_RATE_LIMITS`` / ``SWITCHBOARD_RATE_LIMITS_<ROLE>``);
- an **API token's** bucket exists only for a token with a rule of its own (its calls
  count in its user's bucket too, so a token can be limited below its user, never above).

In a rule, NULL inherits and 0 means "no limit". Rules are read once per catalog version
and cached (``services.cache``): writes here go through ``catalog_write``, which drops
every process's cache (Redis pub/sub, or the audit-stamp probe within 5 s), so admitting a
call never reads the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sqlalchemy import delete, select

from switchboard.config import RoleLimits
from switchboard.db import models as m
from switchboard.db import tables
from switchboard.db.engine import Database
from switchboard.services import audit
from switchboard.services.cache import MISSING, catalog_cache
from switchboard.services.errors import NotFound, ValidationFailed
from switchboard.services.principal import Principal
from switchboard.services.rate_limiter import Check, Limits
from switchboard.services.registry_view import stamp
from switchboard.services.transactions import cache_scope, catalog_write

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

_rate_limit_rules = tables.rate_limit_rules
"""Core for ``_read``, the overrides a /v1 server reads with its first call: an ORM
query would configure all the mappers (decision 0235)."""

Scope = Literal["role", "user", "token"]
MAX_LIMIT = 2**31 - 1
Triple = tuple[int | None, int | None, int | None]
"""(requests/min, tokens/min, concurrent) as stored: None inherits, 0 is no limit."""


@dataclass(frozen=True, slots=True)
class RuleView:
    """One override as the CLI, REST and settings page show it."""

    scope: Scope
    role: str | None
    user_id: int | None
    token_id: int | None
    name: str
    """The role, the username, or the token's name."""
    owner: str | None
    """For a token: its user's name."""
    requests_per_minute: int | None
    tokens_per_minute: int | None
    concurrent: int | None


@dataclass(frozen=True, slots=True)
class Rules:
    """Every override, by target (the cached snapshot the policy reads)."""

    roles: Mapping[str, Triple] = field(default_factory=dict)
    users: Mapping[int, Triple] = field(default_factory=dict)
    tokens: Mapping[int, Triple] = field(default_factory=dict)


def _pick(*values: int | None) -> int | None:
    """The first set value; 0 (no limit) becomes None."""
    for value in values:
        if value is not None:
            return value or None
    return None


def role_limits(rules: Rules, defaults: Mapping[str, RoleLimits], role: str) -> Limits:
    """A role's limits: its rule over the configured default."""
    rule = rules.roles.get(role, (None, None, None))
    default = defaults.get(role) or defaults.get("user") or (None, None, None)
    return Limits(*(_pick(rule[i], default[i]) for i in range(3)))


def checks_for(principal: Principal, rules: Rules,
               defaults: Mapping[str, RoleLimits]) -> list[Check]:
    """The buckets a call by ``principal`` must fit in (empty: nothing limits it)."""
    base = role_limits(rules, defaults, principal.role)
    user_rule = rules.users.get(principal.user_id, (None, None, None))
    user = Limits(_pick(user_rule[0], base.requests), _pick(user_rule[1], base.tokens),
                  _pick(user_rule[2], base.concurrent))
    checks = [Check(f"u{principal.user_id}", user, f"user {principal.username}")] \
        if user.any else []
    if principal.token_id is not None:
        token_rule = rules.tokens.get(principal.token_id)
        if token_rule is not None:
            token = Limits(*(_pick(v) for v in token_rule))
            if token.any:
                checks.append(Check(f"t{principal.token_id}", token, "this API token"))
    return checks


def fresh_rules(db: Database) -> Rules | None:
    """The cached overrides when ``load_rules`` would answer without awaiting (the
    catalog cache's ``fresh``), else None: the rate-limit policy's per-call read."""
    scope = cache_scope(db)
    found = catalog_cache().fresh((scope, "rate_limit_rules"), scope)
    return None if found is MISSING else found


async def load_rules(db: Database) -> Rules:
    """The overrides, from the catalog cache while nothing changed them."""
    scope = cache_scope(db)
    cache = catalog_cache()
    found = cache.fresh((scope, "rate_limit_rules"), scope)
    if found is not MISSING:  # nearly every call: no closures, no coroutine
        return found  # type: ignore[no-any-return]
    return await cache.get((scope, "rate_limit_rules"), lambda: _read(db),
                           probe=lambda: stamp(db), scope=scope)


async def _read(db: Database) -> Rules:
    roles: dict[str, Triple] = {}
    users: dict[int, Triple] = {}
    tokens: dict[int, Triple] = {}
    async with db.transaction(read_only=True) as conn:
        for row in await conn.execute(select(_rate_limit_rules)):
            triple = (row.requests_per_minute, row.tokens_per_minute, row.concurrent)
            if row.scope == "role" and row.role is not None:
                roles[row.role] = triple
            elif row.scope == "user" and row.user_id is not None:
                users[row.user_id] = triple
            elif row.api_token_id is not None:
                tokens[row.api_token_id] = triple
    return Rules(roles, users, tokens)


async def list_rules(db: Database) -> list[RuleView]:
    """Every override with its target's name: roles, then users, then tokens."""
    async with db.unit_of_work(read_only=True) as session:
        rows = (await session.execute(
            select(m.RateLimitRule, m.User.username, m.ApiToken.name, m.ApiToken.user_id)
            .outerjoin(m.ApiToken, m.ApiToken.id == m.RateLimitRule.api_token_id)
            .outerjoin(m.User, m.User.id == m.RateLimitRule.user_id)
            .order_by(m.RateLimitRule.scope, m.RateLimitRule.id))).all()
        owners = {u.id: u.username for u in await session.scalars(
            select(m.User).where(m.User.id.in_([r[3] for r in rows if r[3] is not None])))}
    order = {"role": 0, "user": 1, "token": 2}
    views = [RuleView(
        scope=rule.scope, role=rule.role, user_id=rule.user_id, token_id=rule.api_token_id,  # type: ignore[arg-type]
        name=rule.role or username or token_name or "?",
        owner=owners.get(token_owner) if token_owner is not None else None,
        requests_per_minute=rule.requests_per_minute, tokens_per_minute=rule.tokens_per_minute,
        concurrent=rule.concurrent) for rule, username, token_name, token_owner in rows]
    return sorted(views, key=lambda v: (order[v.scope], v.name))


def _check_values(values: Triple) -> None:
    for name, value in zip(("requests_per_minute", "tokens_per_minute", "concurrent"), values,
                           strict=True):
        if value is not None and not 0 <= value <= MAX_LIMIT:
            raise ValidationFailed(f"{name} must be between 0 (no limit) and {MAX_LIMIT}",
                                   field=name)


async def _target(session: AsyncSession, scope: Scope,
                  target: str | int) -> tuple[str, object]:
    """The column and value naming ``target`` (checked to exist)."""
    if scope == "role":
        if target not in m.USER_ROLES:
            raise ValidationFailed(f"role must be one of {', '.join(m.USER_ROLES)}",
                                   field="role")
        return "role", target
    model = m.User if scope == "user" else m.ApiToken
    if not isinstance(target, int) or await session.get(model, target) is None:
        raise NotFound(f"no {'user' if scope == 'user' else 'API token'} with id {target}")
    return ("user_id" if scope == "user" else "api_token_id"), target


async def set_rule(db: Database, actor: audit.Actor, scope: Scope, target: str | int,
                   values: Triple) -> None:
    """Create or replace the override of ``target`` (a role name, a user or token id)."""
    _check_values(values)
    async with catalog_write(db, f"setting the rate limits of {scope} {target}") as session:
        column, value = await _target(session, scope, target)
        row = await session.scalar(select(m.RateLimitRule).where(
            getattr(m.RateLimitRule, column) == value))
        if row is None:
            row = m.RateLimitRule(scope=scope, **{column: value})
            session.add(row)
        row.requests_per_minute, row.tokens_per_minute, row.concurrent = values
        audit.record(session, actor, "ratelimit.set", target_type=scope, target_id=value,
                     details={"requests_per_minute": values[0], "tokens_per_minute": values[1],
                              "concurrent": values[2]})


async def remove_rule(db: Database, actor: audit.Actor, scope: Scope,
                      target: str | int) -> None:
    """Drop the override of ``target``: the defaults apply again."""
    async with catalog_write(db, f"removing the rate limits of {scope} {target}") as session:
        column, value = await _target(session, scope, target)
        deleted = await session.execute(delete(m.RateLimitRule).where(
            getattr(m.RateLimitRule, column) == value))
        if not getattr(deleted, "rowcount", 0):
            raise NotFound(f"{scope} {target} has no rate-limit override")
        audit.record(session, actor, "ratelimit.remove", target_type=scope, target_id=value)
