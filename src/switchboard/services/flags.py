"""Feature flags: turn a feature on, off, or on for some users, from the database, with
no database read on the request path (decision 0124).

A flag is a rule (table ``feature_flags``): ``on``, ``off`` (the kill switch) or
``rollout`` — on for the users and roles listed, and for ``percent`` % of the other
users, picked by a sticky hash of the flag's name and the user id (``bucket``): a user's
answer does not change between requests or workers, raising the percentage only adds
users, and two flags at 10% reach different users. A known flag without a row is on.

Evaluation (``FlagBook.enabled``) reads an in-memory snapshot: a dict lookup and, in a
rollout, one SHA-256 of a few bytes. The snapshot follows changes made anywhere within a
second, with the revocations' watch (``services.revocations``) on its own stamp row and
channel: a change moves stamp row 2 in its transaction and is announced on
``switchboard:flags``; with Redis every process reloads on the message, without it a
background task reads the stamp every ``POLL_INTERVAL`` (0.5 s) and reloads when it moved.

How to gate a feature (docs/howto/gate-a-feature.md): add its name to ``KNOWN``, then at
the point where the feature starts ask ``flags.enabled("name", principal)`` (or
``state.flags.enabled`` in a route) and refuse with ``FeatureDisabled`` — each surface
renders it in its own shape (a 403).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from switchboard.db import Database, tables
from switchboard.db import models as m
from switchboard.db.types import utcnow
from switchboard.services import revocations
from switchboard.services.audit import Actor, record
from switchboard.services.cache import catalog_cache
from switchboard.services.errors import NotFound, ServiceError, ValidationFailed
from switchboard.services.principal import Principal

log = logging.getLogger(__name__)
_feature_flags = tables.feature_flags
"""Core for ``load_rules``, read at every server start and after each change: an ORM
query would configure all the mappers (decision 0235)."""

KNOWN: dict[str, str] = {
    "tool_loop": "Models may call tools and see their results within one answer",
    "mcp": "Tools that connected MCP servers offer",
    "auto_model": "The Auto model picks a model for each message",
    "image_generation": "Pictures drawn by image models, in the API and the chat",
    "comparison": "Ask several models at once and compare the answers",
    "resumable_streams": "Answers can be followed again after a dropped connection",
}
"""Every flag there is, with what it turns on. All default on."""

FLAGS_STAMP = 2
CHANNEL = "switchboard:flags"
POLL_INTERVAL = 0.5
BUCKETS = 10_000
MAX_LISTED = 1_000
"""Users (or roles) one flag may list."""
Mode = Literal["on", "off", "rollout"]
MODES: tuple[str, ...] = ("on", "off", "rollout")


class FeatureDisabled(ServiceError):
    """The feature is turned off for this user; an admin turns it on in Settings."""

    code = "feature_disabled"

    def __init__(self, name: str) -> None:
        super().__init__(f"the feature {name!r} is turned off on this server")
        self.flag = name


def bucket(name: str, user_id: int) -> int:
    """The user's sticky place, 0..9999, for flag ``name``."""
    digest = hashlib.sha256(f"{name}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    mode: str
    percent: int = 0
    user_ids: frozenset[int] = frozenset()
    roles: frozenset[str] = frozenset()

    def allows(self, principal: Principal) -> bool:
        if self.mode == "on":
            return True
        if self.mode == "off":
            return False
        if principal.user_id in self.user_ids or principal.role in self.roles:
            return True
        return bucket(self.name, principal.user_id) < self.percent * (BUCKETS // 100)


def _known(name: str) -> None:
    if name not in KNOWN:
        raise KeyError(f"unknown feature flag {name!r} (add it to services.flags.KNOWN)")


class FlagBook:
    """This process's snapshot of the flags, kept current (see the module docstring)."""

    def __init__(self, db: Database, *, interval: float = POLL_INTERVAL) -> None:
        self.db = db
        self.interval = interval
        self.reloads = 0
        self._rules: dict[str, Rule] = {}
        self._dirty = asyncio.Event()
        self._watch = revocations.RevocationWatch(
            db, interval=interval, stamp_id=FLAGS_STAMP, channel=CHANNEL)
        self._watch.on_revocation(self._dirty.set)
        self._task: asyncio.Task[None] | None = None

    def enabled(self, name: str, principal: Principal) -> bool:
        """Whether ``name`` is on for ``principal``: memory only, no await."""
        rule = self._rules.get(name)
        if rule is None:
            _known(name)
            return True
        return rule.allows(principal)

    def off_for_everyone(self, name: str) -> bool:
        """Whether an admin turned ``name`` off outright (no rollout, no one listed):
        work done ahead for the feature (warming it up) is then wasted."""
        rule = self._rules.get(name)
        return rule is not None and rule.mode == "off"

    def require(self, name: str, principal: Principal) -> None:
        """Raise ``FeatureDisabled`` unless ``name`` is on for ``principal``."""
        if not self.enabled(name, principal):
            raise FeatureDisabled(name)

    async def reload(self) -> None:
        self._rules = await load_rules(self.db)
        self.reloads += 1

    async def start(self) -> None:
        """Load the flags and follow their changes (call once, at startup)."""
        global _active
        await self._watch.start()
        await self.reload()
        self._task = asyncio.get_running_loop().create_task(self._follow())
        _active = self

    async def close(self) -> None:
        global _active
        if _active is self:
            _active = None
        self._watch.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), self.interval / 2)
            try:
                if not self._dirty.is_set():
                    await self._watch.check()  # a stamp read when due; sets _dirty if moved
                if self._dirty.is_set():
                    self._dirty.clear()
                    await self.reload()
            except Exception as exc:  # the database is down: keep the last snapshot
                log.warning("could not reload the feature flags: %s", type(exc).__name__)


_active: FlagBook | None = None


def enabled(name: str, principal: Principal) -> bool:
    """Whether ``name`` is on for ``principal`` in this process (the server's snapshot;
    every known flag is on where no snapshot runs, e.g. the CLI)."""
    if _active is None:
        _known(name)
        return True
    return _active.enabled(name, principal)


def require(name: str, principal: Principal) -> None:
    if not enabled(name, principal):
        raise FeatureDisabled(name)


async def load_rules(db: Database) -> dict[str, Rule]:
    async with db.transaction(read_only=True) as conn:
        rows = (await conn.execute(select(_feature_flags))).all()
    return {r.name: Rule(r.name, r.mode, r.percent, frozenset(r.user_ids),
                         frozenset(r.roles)) for r in rows if r.name in KNOWN}


class FlagView(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    mode: str
    percent: int
    users: list[str]
    roles: list[str]
    updated_at: datetime | None
    updated_by: str | None


async def list_flags(db: Database) -> list[FlagView]:
    """Every known flag, with its rule (``on`` for those never set)."""
    async with db.unit_of_work(read_only=True) as session:
        rows = {r.name: r for r in (await session.scalars(select(m.FeatureFlag))).all()}
        ids = {i for r in rows.values() for i in r.user_ids}
        names: dict[int, str] = {}
        if ids:
            for user_id, username in (await session.execute(
                    select(m.User.id, m.User.username).where(m.User.id.in_(ids)))).all():
                names[user_id] = username
    views = []
    for name, description in KNOWN.items():
        row = rows.get(name)
        if row is None:
            views.append(FlagView(name=name, description=description, mode="on", percent=0,
                                  users=[], roles=[], updated_at=None, updated_by=None))
            continue
        views.append(FlagView(
            name=name, description=description, mode=row.mode, percent=row.percent,
            users=sorted(names.get(i, f"#{i}") for i in row.user_ids), roles=sorted(row.roles),
            updated_at=row.updated_at, updated_by=row.updated_by))
    return views


async def set_flag(db: Database, name: str, actor: Actor, *, mode: str,
                   percent: int = 0, users: Iterable[str] = (),
                   roles: Iterable[str] = ()) -> FlagView:
    """Replace ``name``'s rule; every process follows within a second."""
    if name not in KNOWN:
        raise NotFound(f"no feature flag named {name!r}; the flags are: "
                       + ", ".join(KNOWN))
    if mode not in MODES:
        raise ValidationFailed(f"mode must be one of {', '.join(MODES)}", field="mode")
    if not 0 <= percent <= 100:
        raise ValidationFailed("percent must be between 0 and 100", field="percent")
    usernames = sorted({u.strip()[:100] for u in users if u.strip()})
    role_set = sorted({r.strip() for r in roles if r.strip()})
    if len(usernames) > MAX_LISTED or len(role_set) > MAX_LISTED:
        raise ValidationFailed(f"a flag lists at most {MAX_LISTED} users and roles",
                               field="users")
    unknown_roles = [r for r in role_set if r not in m.USER_ROLES]
    if unknown_roles:
        raise ValidationFailed(f"unknown role {unknown_roles[0]!r}; the roles are: "
                               + ", ".join(m.USER_ROLES), field="roles")
    if mode != "rollout" and (percent or usernames or role_set):
        raise ValidationFailed("a percentage, users and roles go with the rollout mode",
                               field="mode")
    async with db.unit_of_work() as session:
        found: dict[str, int] = {}
        if usernames:
            for username, user_id in (await session.execute(select(
                    m.User.username, m.User.id).where(m.User.username.in_(usernames)))).all():
                found[username] = user_id
        missing = [u for u in usernames if u not in found]
        if missing:
            raise ValidationFailed(f"no user named {missing[0]!r}", field="users")
        row = await session.get(m.FeatureFlag, name, with_for_update=True)
        before = _rule_of(row)
        if row is None:
            row = m.FeatureFlag(name=name)
            session.add(row)
        row.mode, row.percent = mode, percent
        row.user_ids = sorted(found.values())
        row.roles = role_set
        row.updated_by = actor.name
        row.updated_at = utcnow()
        after = {"mode": mode, "percent": percent, "users": usernames, "roles": role_set}
        record(session, actor, "flag.set", target_type="flag", target_id=name,
               details={"before": before, "after": after})
        await revocations.bump(session, FLAGS_STAMP)
    await announce(db)
    return next(v for v in await list_flags(db) if v.name == name)


def _rule_of(row: m.FeatureFlag | None) -> dict[str, Any]:
    if row is None:
        return {"mode": "on", "percent": 0, "user_ids": [], "roles": []}
    return {"mode": row.mode, "percent": row.percent, "user_ids": list(row.user_ids),
            "roles": list(row.roles)}


async def announce(db: Database) -> None:
    """A change was committed: reload this process's snapshot now, tell the others."""
    if _active is not None and _active.db is db:
        await _active.reload()
    await catalog_cache().notify(CHANNEL, {"event": "flags"})
