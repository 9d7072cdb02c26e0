"""Bearer-token authentication with an in-process cache.

A ``/v1`` call must not cost a database read (DESIGN §9), so a verified token is cached
for ``ttl`` seconds by its SHA-256 digest. A revocation anywhere (this process, another
worker, the CLI) drops the cache within a second: the ``RevocationWatch``
(``services.revocations``) calls ``invalidate()`` on a Redis message or when the
revocation stamp moved. Unknown tokens are cached briefly as well, so a client hammering
with a bad token cannot turn every request into a database query.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select

from switchboard.db import Database, tables
from switchboard.security.tokens import checked_token_digest, looks_like_token
from switchboard.services.principal import Principal as Principal  # re-exported for the surfaces
from switchboard.services.revocations import RevocationWatch

# Core tables: the token check is on every /v1 server's path, and an ORM query would
# configure all the mappers for it (decision 0235)
_api_tokens = tables.api_tokens
_users = tables.users


class TokenAuthenticator:
    def __init__(self, db: Database, *, ttl: float = 60.0, negative_ttl: float = 5.0,
                 max_entries: int = 10_000,
                 revocations: RevocationWatch | None = None) -> None:
        self.db = db
        self.revocations = revocations
        self._generation = 0  # moves on every invalidate()
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.max_entries = max_entries
        self._cache: dict[str, tuple[Principal | None, float, datetime | None]] = {}
        self.touched: dict[int, float] = {}  # token id -> time.time() of its last use
        self.hits = 0
        self.misses = 0

    async def authenticate(self, token: str) -> Principal | None:
        if not looks_like_token(token):
            return None
        if self.revocations is not None and self.revocations.due():
            await self.revocations.check()
        digest = checked_token_digest(token)  # its shape was checked above
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            principal, _, expires_at = cached
            if expires_at is not None and expires_at <= datetime.now(UTC):
                principal = None
            self.hits += 1
        else:
            self.misses += 1
            generation = self._generation
            principal, expires_at = await self._load(digest)
            if len(self._cache) >= self.max_entries:
                self._cache.clear()
            ttl = self.ttl if principal is not None else self.negative_ttl
            # A load that raced a revocation is answered but not kept: what it read may
            # predate the revocation, and must not outlive it in the cache.
            if generation == self._generation:
                self._cache[digest] = (principal, now + ttl, expires_at)
        if principal is not None and principal.token_id is not None:
            # A float per call, the datetime once per batch (take_touched): the same
            # instant, without building a datetime on every request.
            self.touched[principal.token_id] = time.time()
        return principal

    async def _load(self, digest: str) -> tuple[Principal | None, datetime | None]:
        async with self.db.transaction(read_only=True) as conn:
            t, u = _api_tokens.c, _users.c
            row = (await conn.execute(
                select(t.id, t.expires_at, t.revoked_at, u.id, u.username, u.role,
                       u.is_active)
                .select_from(_api_tokens.join(_users, u.id == t.user_id))
                .where(t.token_hash == digest)
            )).first()
        if row is None:
            return None, None
        token_id, expires_at, revoked_at, user_id, username, role, active = row
        if revoked_at is not None or not active:
            return None, None
        if expires_at is not None and expires_at <= datetime.now(UTC):
            return None, None
        return Principal(user_id, username, role, token_id), expires_at

    def invalidate(self, token_hash: str | None = None) -> None:
        """Forget one token (revoked) or all of them (a user changed)."""
        self._generation += 1
        if token_hash is None:
            self._cache.clear()
        else:
            self._cache.pop(token_hash, None)

    def take_touched(self) -> dict[int, datetime]:
        """Each token used since the last call and when it was last used (UTC)."""
        touched, self.touched = self.touched, {}
        return {token_id: datetime.fromtimestamp(when, UTC) for token_id, when in touched.items()}
