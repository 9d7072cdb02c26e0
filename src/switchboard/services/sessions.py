"""Browser sessions, stored server-side.

The cookie holds a random 256-bit token; the database holds only its SHA-256 digest (a
stolen database yields no usable cookie), the user, the CSRF token bound to the session,
and an expiry. Server-side rather than signed stateless cookies so that logout, password
changes and deactivating a user end sessions at once.

Lookups are cached in-process for a few seconds: every page and REST call checks the
session, and a short cache keeps that off the database. Ending sessions (logout, a
password change, a deactivation) moves the revocation stamp (``services.revocations``),
so every process drops its cache within a second, wherever the change was made.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Delete, delete, select

from switchboard.db import Database, utcnow
from switchboard.db import models as m
from switchboard.services import revocations
from switchboard.services.principal import Principal
from switchboard.services.revocations import RevocationWatch

SESSION_TTL = timedelta(days=14)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str
    csrf: str
    max_age: int


class SessionStore:
    def __init__(self, db: Database, *, ttl: timedelta = SESSION_TTL,
                 cache_ttl: float = 5.0, revocations: RevocationWatch | None = None) -> None:
        self.db = db
        self.ttl = ttl
        self.cache_ttl = cache_ttl
        self.revocations = revocations
        self._cache: dict[str, tuple[tuple[Principal, str] | None, float]] = {}
        self._generation = 0  # moves on every forget_all()

    def forget_all(self) -> None:
        """Drop every cached lookup (a revocation happened somewhere)."""
        self._generation += 1
        self._cache.clear()

    async def create(self, user_id: int, user_agent: str | None = None) -> NewSession:
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = utcnow()
        async with self.db.unit_of_work() as session:
            await session.execute(delete(m.WebSession).where(m.WebSession.expires_at < now))
            session.add(m.WebSession(token_hash=_digest(cookie), user_id=user_id,
                                   csrf_token=csrf, created_at=now, last_seen_at=now,
                                   expires_at=now + self.ttl,
                                   user_agent=(user_agent or "")[:300] or None))
        return NewSession(cookie, csrf, int(self.ttl.total_seconds()))

    async def lookup(self, cookie: str) -> tuple[Principal, str] | None:
        if not cookie or len(cookie) > 200:
            return None
        if self.revocations is not None:
            await self.revocations.check()
        digest = _digest(cookie)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        generation = self._generation
        async with self.db.session() as session:
            row = (await session.execute(
                select(m.WebSession.expires_at, m.WebSession.csrf_token, m.User.id, m.User.username,
                       m.User.role, m.User.is_active)
                .join(m.User, m.User.id == m.WebSession.user_id)
                .where(m.WebSession.token_hash == digest))).first()
        found: tuple[Principal, str] | None = None
        if row is not None:
            expires_at, csrf, user_id, username, role, active = row
            if active and expires_at > utcnow():
                found = (Principal(user_id, username, role), csrf)
        if len(self._cache) > 10_000:
            self._cache.clear()
        if generation == self._generation:  # not if a revocation raced the read
            self._cache[digest] = (found, now + self.cache_ttl)
        return found

    async def revoke(self, cookie: str) -> None:
        digest = _digest(cookie)
        self._cache.pop(digest, None)
        await self._end(delete(m.WebSession).where(m.WebSession.token_hash == digest))

    async def revoke_user(self, user_id: int, *, keep_cookie: str | None = None) -> None:
        """End every session of a user (password change, deactivation)."""
        self.forget_all()
        query = delete(m.WebSession).where(m.WebSession.user_id == user_id)
        if keep_cookie:
            query = query.where(m.WebSession.token_hash != _digest(keep_cookie))
        await self._end(query)

    async def _end(self, query: Delete) -> None:
        """Delete sessions; when any existed, move the revocation stamp with it, so other
        processes drop their cached lookups. (Only then: a logout with a made-up cookie
        needs no login to send, and must not make every process re-read its caches.)"""
        async with self.db.unit_of_work() as session:
            done = await session.execute(query)
            ended = bool(getattr(done, "rowcount", 1))
            if ended:
                await revocations.bump(session)
        if ended:
            await revocations.announce(self.db)
