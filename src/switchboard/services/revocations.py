"""Revocations reach every process within a second.

Each server process caches who a credential belongs to: API tokens for 60 s
(``api.tokens.TokenAuthenticator``), browser sessions for 5 s (``services.sessions``),
so that a request costs no database read. A revocation made in the same process drops
those entries at once; one made elsewhere — the CLI, another worker, another machine —
used to wait out the cache. Now:

- Every transaction that takes a credential away runs inside ``revoking(db)``: it adds
  one to the ``revocation_stamp`` row in the same transaction (no revocation without its
  stamp, no stamp for a rolled-back one), and after the commit drops this process's auth
  caches and publishes on the Redis channel ``switchboard:auth`` when Redis is
  configured (the catalog cache's link: ``services.cache``).
- Every process holds a ``RevocationWatch``. With Redis listening, a message from
  another process drops its caches (one pub/sub hop); the stamp is still read every
  ``BACKSTOP_INTERVAL`` seconds in case a publish was lost. Without Redis, a request
  reads the stamp when the last read is ``CHECK_INTERVAL`` (1 s) old, and a moved stamp
  drops the caches. So: one small primary-key read per second per process, not per
  request; while the read is fresh the check is one clock read and a comparison, and
  requests arriving while a read is in flight do not wait for it. A revocation is
  enforced everywhere within ``CHECK_INTERVAL`` plus one read's time.

Dropping is coarse (every cached token and session; they are re-read on next use):
revocations are rare, and a per-credential message could be lost where a counter cannot.

The same watch serves other process-wide snapshots that must follow a change within a
second: each has its own stamp row and channel (``stamp_id``, ``channel``). Row 2 is the
feature flags' (``services.flags``).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from switchboard.db import Database, tables
from switchboard.services.cache import catalog_cache

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "switchboard:auth"
AUTH_STAMP = 1
"""The stamp row of revocations (the other rows: see ``RevocationStamp``)."""
log = logging.getLogger(__name__)
_stamps = tables.revocation_stamp
"""Core: every server reads the stamps about once a second; an ORM query would configure
all the mappers (decision 0235)."""
CHECK_INTERVAL = 1.0
BACKSTOP_INTERVAL = 30.0

_watches: weakref.WeakKeyDictionary[Database, RevocationWatch] = weakref.WeakKeyDictionary()


async def bump(session: AsyncSession, stamp_id: int = AUTH_STAMP) -> None:
    """Move the stamp, inside the caller's transaction."""
    done = await session.execute(update(_stamps).where(_stamps.c.id == stamp_id)
                                 .values(version=_stamps.c.version + 1))
    if getattr(done, "rowcount", 1) == 0:  # the row was deleted by hand: recreate it
        await session.execute(insert(_stamps).values(id=stamp_id, version=1))


async def read_stamp(db: Database, stamp_id: int = AUTH_STAMP) -> int:
    """The stamp now (a plain read: no write lock)."""
    async with db.transaction(read_only=True) as conn:
        value = await conn.scalar(select(_stamps.c.version).where(_stamps.c.id == stamp_id))
    return int(value or 0)


async def announce(db: Database) -> None:
    """A revocation was committed: drop this process's caches now and tell the others."""
    watch = _watches.get(db)
    if watch is not None:
        watch.drop()
    await catalog_cache().notify(CHANNEL, {"event": "revoked"})


@asynccontextmanager
async def revoking(db: Database) -> AsyncIterator[AsyncSession]:
    """``async with revoking(db) as session:`` — a unit of work that takes a credential
    away; the stamp moves with it and every process hears of it after the commit."""
    async with db.unit_of_work() as session:
        yield session
        await bump(session)
    await announce(db)


@dataclass(slots=True)
class WatchStats:
    checks: int = 0
    """Stamp reads."""
    drops: int = 0
    """Times the auth caches were dropped (here, elsewhere via Redis or the stamp)."""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class RevocationWatch:
    """Tells this process's auth caches when a credential was revoked anywhere."""

    def __init__(self, db: Database, *, interval: float = CHECK_INTERVAL,
                 backstop: float = BACKSTOP_INTERVAL, stamp_id: int = AUTH_STAMP,
                 channel: str = CHANNEL) -> None:
        self.db = db
        self.stamp_id = stamp_id
        self.channel = channel
        self.interval = interval
        self.backstop = backstop
        self.stats = WatchStats()
        self._callbacks: list[Callable[[], None]] = []
        self._stamp: int | None = None
        self._checked_at = float("-inf")
        self._reading = False
        self._unsubscribe: Callable[[], None] | None = None

    def on_revocation(self, callback: Callable[[], None]) -> None:
        """``callback()`` drops a cache; it runs on every revocation, from anywhere."""
        self._callbacks.append(callback)

    async def start(self) -> None:
        """Read the current stamp and listen for revocations (call once, at startup)."""
        if self.stamp_id == AUTH_STAMP:
            _watches[self.db] = self
        self._unsubscribe = catalog_cache().on_notice(self.channel, self._on_notice)
        self._checked_at = time.monotonic()
        self._stamp = await read_stamp(self.db, self.stamp_id)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if _watches.get(self.db) is self:
            del _watches[self.db]

    def drop(self) -> None:
        self.stats.drops += 1
        for callback in self._callbacks:
            callback()

    def _on_notice(self, payload: dict[str, Any] | None) -> None:
        self.drop()  # a revocation elsewhere, or a reconnect that may have missed one

    def due(self) -> bool:
        """Whether a stamp read is due (1 s without Redis, ``backstop`` while it
        listens): a clock read and a comparison, so a hot path can skip ``check()``'s
        coroutine when it is not."""
        since = time.monotonic() - self._checked_at
        return not (since < self.interval
                    or (since < self.backstop and catalog_cache().listening()))

    async def check(self) -> None:
        """Called before every cached credential lookup: reads the stamp when ``due()``."""
        if not self.due():
            return
        if self._reading:
            # Another request is reading the stamp: go on with the cache rather than
            # queue behind it (it is at most one read's time older than the bound).
            return
        self._reading = True
        try:
            await self._read()
        finally:
            self._reading = False

    async def _read(self) -> None:
        started = time.monotonic()
        self.stats.checks += 1
        try:
            stamp = await read_stamp(self.db, self.stamp_id)
        except Exception as exc:  # nothing can be revoked while the database is down
            log.warning("could not read the revocation stamp: %s", type(exc).__name__)
            self._checked_at = started
            return
        # The time the read *began*: a revocation committed after that is caught by the
        # next read, at most ``interval`` later.
        self._checked_at = started
        if self._stamp is not None and stamp != self._stamp:
            self.drop()
        self._stamp = stamp
