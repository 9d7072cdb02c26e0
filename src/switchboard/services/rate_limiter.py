"""The rate-limit *limiter*: books a call against several buckets at once, or refuses it.

Two implementations of one small protocol, so the policy (``services.ratelimits``) does
not know where the counts live:

- ``LocalLimiter`` — this process's memory (``services.rate_window``): one server process,
  or SQLite. Microseconds per call, no I/O.
- ``RedisLimiter`` (``services.rate_redis``) — shared by every worker when
  ``SWITCHBOARD_REDIS_URL`` is set: one atomic script per admit, one per settle, so a limit
  of 24 a minute admits 24 across 4 workers, not 4 x 24.

A call is *booked* in every bucket it touches (its user's, and its API token's when that
token has limits of its own) or in none: a refusal by one bucket leaves the others
untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from switchboard.services.rate_window import Bucket, Buckets, Entry

WINDOW = 60.0
"""Every limit is per minute: requests per minute, tokens per minute (OpenAI's RPM/TPM)."""

Dimension = Literal["requests", "tokens", "concurrent"]


@dataclass(frozen=True, slots=True)
class Limits:
    """One principal's limits; None: no limit on that dimension."""

    requests: int | None = None
    """Requests per minute."""
    tokens: int | None = None
    """Tokens (prompt + answer) per minute."""
    concurrent: int | None = None
    """Calls in flight at once."""

    @property
    def any(self) -> bool:
        return (self.requests is not None or self.tokens is not None
                or self.concurrent is not None)


@dataclass(frozen=True, slots=True)
class Check:
    """One bucket a call must fit in: ``key`` (``u12``, ``t7``) with its limits, and who
    it is in words (for the refusal's message)."""

    key: str
    limits: Limits
    label: str


@dataclass(frozen=True, slots=True)
class Standing:
    """A bucket after booking: what the response headers report."""

    check: Check
    requests: int
    tokens: int
    reset: float
    """Seconds until the oldest counted use leaves the window."""


class Denied(Exception):
    """The call does not fit ``check``'s ``dimension``; nothing was booked anywhere.
    ``retry_after`` is None when waiting cannot help (the call alone exceeds the limit)."""

    def __init__(self, check: Check, dimension: Dimension, retry_after: float | None,
                 used: int) -> None:
        super().__init__(f"{check.label}: {dimension}")
        self.check = check
        self.dimension = dimension
        self.retry_after = retry_after
        self.used = used


class Booking(Protocol):
    """One admitted call's hold on its buckets until it ends."""

    @property
    def standings(self) -> Sequence[Standing]: ...

    def release(self, real_tokens: int, now: float) -> None:
        """The call ended having used ``real_tokens``: correct the reservation and free
        its concurrency slots. Synchronous and never raises (it runs in ``finally``)."""
        ...


class Limiter(Protocol):
    async def acquire(self, checks: Sequence[Check], tokens: int, now: float) -> Booking:
        """Book one request and ``tokens`` (the reservation) in every check's bucket, or
        raise ``Denied`` and book nothing."""
        ...


class LocalBooking:
    __slots__ = ("standings", "_buckets", "_entries", "_reserved", "_released")

    def __init__(self, standings: list[Standing], buckets: list[Bucket],
                 entries: list[Entry], reserved: int) -> None:
        self.standings = standings
        self._buckets = buckets
        self._entries = entries
        self._reserved = reserved
        self._released = False

    def release(self, real_tokens: int, now: float) -> None:
        if self._released:
            return
        self._released = True
        delta = real_tokens - self._reserved
        for bucket, entry in zip(self._buckets, self._entries, strict=True):
            bucket.in_flight -= 1
            if delta:
                bucket.correct(entry, delta, now)


class LocalLimiter:
    """Buckets in this process's memory. ``take`` has no ``await``: atomic on the loop."""

    def __init__(self, window: float = WINDOW, buckets: Buckets | None = None) -> None:
        self.window = window
        self.buckets = buckets if buckets is not None else Buckets()

    async def acquire(self, checks: Sequence[Check], tokens: int, now: float) -> Booking:
        return self.take(checks, tokens, now)

    def take(self, checks: Sequence[Check], tokens: int, now: float) -> LocalBooking:
        window = self.window
        buckets = [self.buckets.get(check.key) for check in checks]
        for check, bucket in zip(checks, buckets, strict=True):
            bucket.trim(now, window)
            limits = check.limits
            if limits.concurrent is not None and bucket.in_flight >= limits.concurrent:
                # a slot frees when a call ends, which no clock can tell: a second is a
                # polite guess for a client's retry loop
                raise Denied(check, "concurrent", 1.0, bucket.in_flight)
            wait = bucket.wait_for(now, window, requests=1, tokens=tokens,
                                   request_limit=limits.requests, token_limit=limits.tokens)
            if wait:
                over_requests = (limits.requests is not None
                                 and bucket.requests + 1 > limits.requests)
                dimension: Dimension = "requests" if over_requests else "tokens"
                used = bucket.requests if over_requests else bucket.tokens
                raise Denied(check, dimension, None if wait == float("inf") else wait, used)
        entries: list[Entry] = []
        standings: list[Standing] = []
        for check, bucket in zip(checks, buckets, strict=True):
            entries.append(bucket.book(now, window, tokens))
            bucket.in_flight += 1
            standings.append(Standing(check, bucket.requests, bucket.tokens,
                                      bucket.reset_in(now, window)))
        return LocalBooking(standings, buckets, entries, tokens)
