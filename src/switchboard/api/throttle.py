"""Login throttling: slow password guessing down, per account and per client address,
without letting anyone lock a user out.

**Reserve, then check.** ``reserve()`` counts the attempt *before* the password is checked
and refuses it (``Throttled``, with the seconds to wait) when a limit is reached. It runs
without an ``await`` between the test and the count, so on the event loop it is atomic:
60 concurrent guesses at one account let exactly ``account_free`` through to a password
check, never 60 (counting only after the check, as before, let a burst through whole).
A successful login refunds its reservation; a failure keeps it.

**Slow down, never lock out.** Within ``window`` seconds, the first ``free`` attempts of a
key go through; after that each attempt must wait a delay that doubles (1 s, 2 s, 4 s ...)
up to ``max_delay``. Refused attempts are not counted, so hammering a locked account does
not extend its delay: the real user waits at most ``max_delay`` after the flood stops.

**Keys.** The account name (many addresses trying one name) and the client address (one
address trying many names; more generous, as an office behind one NAT shares it). An
address that has logged in to an account before gets its own count for that account
instead of the account-wide one, so a stranger guessing a user's password from elsewhere
cannot keep that user out while the attack goes on. The address is the one uvicorn put in
the ASGI scope: the peer's, or the forwarded client's when ``serve --forwarded-allow-ips``
trusts the proxy that sent the request (otherwise forwarded headers are ignored and
cannot be used to pick a fresh throttle key per attempt).

In-process memory: with several workers each counts on its own, which still bounds the
guess rate to workers x this rate. Records are bounded (oldest evicted first).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_RECORDS = 50_000
KNOWN_FOR = 30 * 24 * 3600.0  # an address that logged in stays "known" this long


class Throttled(Exception):
    """The attempt was refused, not counted: wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.1f} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Limit:
    free: int
    window: float
    max_delay: float

    def next_allowed(self, attempts: list[float]) -> float:
        """When the next attempt may go, given the attempts within the window."""
        excess = len(attempts) - self.free
        if excess < 0:
            return 0.0
        return attempts[-1] + min(2.0 ** excess, self.max_delay)


@dataclass(slots=True)
class _Record:
    attempts: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Reservation:
    """One counted attempt; hand it back to ``succeeded()`` when the password was right."""

    keys: tuple[tuple[str, Limit], ...]
    at: float
    account: str
    address: str


ACCOUNT_LIMIT = Limit(free=5, window=900.0, max_delay=120.0)
ADDRESS_LIMIT = Limit(free=20, window=900.0, max_delay=300.0)


class LoginThrottle:
    def __init__(self, *, account: Limit = ACCOUNT_LIMIT, address: Limit = ADDRESS_LIMIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.account_limit = account
        self.address_limit = address
        self._records: dict[str, _Record] = {}
        self._known: dict[tuple[str, str], float] = {}

    def _keys(self, account: str, address: str, now: float) -> tuple[tuple[str, Limit], ...]:
        known = self._known.get((account, address))
        if known is not None and now - known < KNOWN_FOR:
            account_key = f"user:{account}@{address}"
        else:
            account_key = f"user:{account}"
        return (account_key, self.account_limit), (f"addr:{address}", self.address_limit)

    def _attempts(self, key: str, limit: Limit, now: float) -> list[float]:
        record = self._records.get(key)
        if record is None:
            return []
        record.attempts = [t for t in record.attempts if now - t < limit.window]
        return record.attempts

    def reserve(self, username: str, address: str) -> Reservation:
        """Count one attempt now, or raise ``Throttled`` (and count nothing)."""
        now = self.clock()
        account = username.strip().lower()
        keys = self._keys(account, address, now)
        wait = max(limit.next_allowed(self._attempts(key, limit, now)) - now
                   for key, limit in keys)
        if wait > 0:
            raise Throttled(wait)
        for key, limit in keys:
            record = self._records.pop(key, None) or _Record()
            record.attempts.append(now)
            # past free + 16 the delay is at its cap anyway: keep the list small
            del record.attempts[:-(limit.free + 16)]
            self._records[key] = record  # re-inserted: the dict's order is recency
        while len(self._records) > MAX_RECORDS:
            del self._records[next(iter(self._records))]
        return Reservation(keys, now, account, address)

    def succeeded(self, reservation: Reservation) -> None:
        """The password was right: forget the account's failures, refund the address's
        attempt, and remember the address as one this account logs in from."""
        account_key, _ = reservation.keys[0]
        self._records.pop(account_key, None)
        for key, _limit in reservation.keys[1:]:
            record = self._records.get(key)
            if record is not None and reservation.at in record.attempts:
                record.attempts.remove(reservation.at)
        pair = (reservation.account, reservation.address)
        self._known.pop(pair, None)
        self._known[pair] = reservation.at
        while len(self._known) > MAX_RECORDS:
            del self._known[next(iter(self._known))]
