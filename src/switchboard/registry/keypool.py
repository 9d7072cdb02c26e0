"""Key pools: which of a provider's API keys one upstream attempt uses (decision 0066).

A provider may hold several keys (``provider_keys``). Every ATTEMPT (the first try, each
retry) asks its pool for a key:

- eligible: enabled, not refused by the vendor, not expired, under its own requests-
  and tokens-per-minute limits, and not excluded by the caller (a key that already
  failed this call, a key whose circuit breaker is open);
- least in flight relative to weight first (a slow key stops getting more calls than it
  can finish), then smooth weighted round robin among those tied (nginx's algorithm: in
  a quiet pool, weights 3 and 1 give exactly three calls in four to the first key, in a
  steady interleaved order rather than runs).

A key the vendor refuses with 401 leaves the pool at once in this process
(``KeyLease.fail``) and through ``KeyEvents.key_failed`` (the database marks it, logs the
alert-worthy ``key_failed`` event and writes an audit row), and the attempt is made again
with another key before anything reached the caller. A key found expired leaves the same
way, reported once per process (``key_expired``).

Counters (in flight, the minute windows, the round-robin weights, "refused") live in a
``KeyLedger`` keyed by the key's row id AND the time it was stored (``PoolKey.ref``: a
row id can be reused, by SQLite after the newest key is retired, or by another database
in the same process, and a new key must not inherit a refused one's mark), shared by
every registry the process builds: a
key added or retired rebuilds the registry, and the calls in flight on the old one still
count against the same keys. The ledger is per process (as the breakers are); per-key
rpm/tpm are therefore per process too, which is what a vendor limit shared by N workers
needs divided by N (say so in the key's limit).

No key material is here: a ``PoolKey`` carries a function that opens its secret, called
by the registry only when it builds the provider for that key.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import SecretStr

from switchboard.spec.errors import AuthenticationError, MissingApiKeyError, RateLimitError

log = logging.getLogger("switchboard.keys")

WINDOW_SECONDS = 60.0
Clock = Callable[[], float]
"""Seconds since the epoch (``time.time``; a settable value in tests)."""


def _never_opened() -> SecretStr:
    raise MissingApiKeyError("this key has no secret to open")


@dataclass(frozen=True, slots=True)
class PoolKey:
    """One stored key as the pool sees it: settings, never the secret itself."""

    id: int
    label: str
    last4: str = ""
    weight: int = 1
    rpm: int | None = None
    tpm: int | None = None
    enabled: bool = True
    expires_at: datetime | None = None
    failed: bool = False
    """Refused by the vendor (``provider_keys.failed_at``)."""
    set_at: datetime | None = None
    """When the key was stored: with ``id``, what names it in the ledger."""
    open: Callable[[], SecretStr] = field(default=_never_opened, compare=False, repr=False)
    """Decrypts the key (the vault); called once per registry when its provider is built."""


KeyRef = tuple[int, float]
"""A key in the ledger: its row id and when it was stored (see the module docstring)."""


def key_ref(key_id: int, set_at: datetime | None) -> KeyRef:
    return (key_id, set_at.timestamp() if set_at is not None else 0.0)


def _ref(key: PoolKey) -> KeyRef:
    return key_ref(key.id, key.set_at)


class KeyEvents(Protocol):
    """Where a pool reports keys leaving it (the database marks and audits them)."""

    def key_failed(self, provider: str, key: PoolKey, error: AuthenticationError, *,
                   kept: bool) -> None:
        """``kept``: it was the last serving key, so it stays in the pool."""
        ...

    def key_expired(self, provider: str, key: PoolKey) -> None: ...


def log_key_failed(provider: str, key: PoolKey, error: AuthenticationError, *,
                   kept: bool) -> None:
    """The alert-worthy ``key_failed`` line: provider, label, key id; never the key."""
    log.error("the provider refused a key (401); %s",
              "it is the last key serving, so it stays" if kept else "it left the pool",
              extra={"event": "key_failed", "provider": provider, "label": key.label,
                     "key_id": key.id, "status": error.status, "kept": kept})


class LoggedKeyEvents:
    """The events as log lines only (a registry without a database)."""

    def key_failed(self, provider: str, key: PoolKey, error: AuthenticationError, *,
                   kept: bool) -> None:
        log_key_failed(provider, key, error, kept=kept)

    def key_expired(self, provider: str, key: PoolKey) -> None:
        log.warning("a key expired; it left the pool",
                    extra={"event": "key_expired", "provider": provider,
                           "label": key.label, "key_id": key.id})


@dataclass(slots=True)
class KeyState:
    """One key's counters in this process."""

    in_flight: int = 0
    current: int = 0
    """Smooth weighted round robin's running weight."""
    failed: bool = False
    kept_reported: bool = False
    """Refused while it was the last serving key (kept; reported once)."""
    expired_reported: bool = False
    requests: deque[float] = field(default_factory=deque)
    tokens: deque[tuple[float, int]] = field(default_factory=deque)
    token_total: int = 0

    def trim(self, now: float) -> None:
        start = now - WINDOW_SECONDS
        while self.requests and self.requests[0] <= start:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= start:
            self.token_total -= self.tokens.popleft()[1]


class KeyLedger:
    """The per-process counters of every key, by row id (see the module docstring)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock
        self._states: dict[KeyRef, KeyState] = {}

    def state(self, ref: KeyRef) -> KeyState:
        state = self._states.get(ref)
        if state is None:
            state = self._states[ref] = KeyState()
        return state

    def in_flight(self, ref: KeyRef) -> int:
        state = self._states.get(ref)
        return state.in_flight if state is not None else 0

    def refused(self, ref: KeyRef) -> bool:
        state = self._states.get(ref)
        return state is not None and state.failed

    def forget_failure(self, ref: KeyRef) -> None:
        """An admin enabled the key again: it may serve (and fail) anew."""
        state = self._states.get(ref)
        if state is not None:
            state.failed = state.expired_reported = state.kept_reported = False


PROCESS_LEDGER = KeyLedger()
"""The ledger of this process (tests build their own, with their own clock)."""


class KeyLease:
    """One attempt's hold on a key: counted in flight until ``release``."""

    __slots__ = ("_pool", "_released", "key")

    def __init__(self, pool: KeyPool, key: PoolKey) -> None:
        self._pool = pool
        self.key = key
        self._released = False

    def record_tokens(self, tokens: int | None) -> None:
        """Tokens the call used (input + output), counted in the key's minute window
        (None: the vendor did not say; nothing is counted)."""
        if tokens:
            state = self._pool.ledger.state(_ref(self.key))
            state.tokens.append((self._pool.ledger.clock(), tokens))
            state.token_total += tokens

    def fail(self, error: AuthenticationError) -> None:
        """The vendor refused this key: it leaves the pool (reported once per process),
        unless it is the last key serving. Then it stays: with nothing to move the calls
        to, taking it out would turn one refusal (a vendor's passing glitch, say) into a
        provider that stays down until an admin acts; each call gets the vendor's 401, as
        with a single key before pools, and the refusal is still reported (once)."""
        state = self._pool.ledger.state(_ref(self.key))
        if state.failed:
            return
        last = not any(k.id != self.key.id for k in self._pool.serving())
        if last:
            if not state.kept_reported:
                state.kept_reported = True
                self._pool.events.key_failed(self._pool.provider, self.key, error, kept=True)
            return
        state.failed = True
        self._pool.events.key_failed(self._pool.provider, self.key, error, kept=False)

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._pool.ledger.state(_ref(self.key)).in_flight -= 1


class KeyPool:
    """The keys of one provider instance, choosing one per attempt."""

    def __init__(self, provider: str, keys: Iterable[PoolKey], *,
                 ledger: KeyLedger | None = None, events: KeyEvents | None = None) -> None:
        self.provider = provider
        self.keys = tuple(keys)
        self.ledger = ledger if ledger is not None else PROCESS_LEDGER
        self.events: KeyEvents = events if events is not None else LoggedKeyEvents()

    def __len__(self) -> int:
        return len(self.keys)

    def serving(self, now: float | None = None) -> list[PoolKey]:
        """Keys that may serve (enabled, not refused, not expired), limits aside."""
        now = self.ledger.clock() if now is None else now
        return [k for k in self.keys if self._serves(k, now)]

    def check(self) -> None:
        """Raise ``MissingApiKeyError`` when no key can serve (before any network)."""
        if not self.serving():
            raise self._none_serving()

    def _serves(self, key: PoolKey, now: float) -> bool:
        if not key.enabled or key.failed:
            return False
        state = self.ledger.state(_ref(key))
        if state.failed:
            return False
        if key.expires_at is not None and key.expires_at.timestamp() <= now:
            if not state.expired_reported:
                state.expired_reported = True
                self.events.key_expired(self.provider, key)
            return False
        return True

    def _under_limits(self, key: PoolKey, state: KeyState) -> bool:
        if key.rpm is not None and len(state.requests) >= key.rpm:
            return False
        return key.tpm is None or state.token_total < key.tpm

    def acquire(self, exclude: Callable[[PoolKey], bool] | None = None) -> KeyLease:
        """A lease on the key this attempt should use; see the module docstring.

        Raises ``RateLimitError`` (retryable: a fallback may answer) when every serving
        key is at its own limit, ``MissingApiKeyError`` (as for a provider without a key)
        when no key can serve at all."""
        now = self.ledger.clock()
        serving = [k for k in self.serving(now) if exclude is None or not exclude(k)]
        if not serving:
            raise self._none_serving()
        candidates: list[tuple[PoolKey, KeyState]] = []
        for key in serving:
            state = self.ledger.state(_ref(key))
            state.trim(now)
            if self._under_limits(key, state):
                candidates.append((key, state))
        if not candidates:
            raise RateLimitError(
                f"{self.provider}: every key of this provider is at its own "
                "requests- or tokens-per-minute limit; try again in a minute",
                provider=self.provider, status=429, retry_after=self._next_free(now))
        least = min(s.in_flight / k.weight for k, s in candidates)
        tied = [(k, s) for k, s in candidates if s.in_flight / k.weight == least]
        total = 0
        best: tuple[PoolKey, KeyState] | None = None
        for key, state in tied:
            state.current += key.weight
            total += key.weight
            if best is None or state.current > best[1].current:
                best = (key, state)
        assert best is not None
        key, state = best
        state.current -= total
        state.in_flight += 1
        state.requests.append(now)
        return KeyLease(self, key)

    def _none_serving(self) -> MissingApiKeyError:
        reasons = []
        for key in self.keys:
            if not key.enabled:
                reasons.append(f"{key.label!r} is switched off")
            elif key.failed or self.ledger.state(_ref(key)).failed:
                reasons.append(f"{key.label!r} was refused by the provider")
            elif (key.expires_at is not None
                  and key.expires_at.timestamp() <= self.ledger.clock()):
                reasons.append(f"{key.label!r} has expired")
            else:
                reasons.append(f"{key.label!r} failed for this request")
        return MissingApiKeyError(
            f"no key of provider {self.provider!r} can be used ({'; '.join(reasons)}); "
            "an administrator can add one on the provider's card or with "
            f"`switchboard keys add {self.provider}`")

    def _next_free(self, now: float) -> float:
        """Seconds until the oldest counted request or tokens leave some key's window."""
        oldest = [s.requests[0] for k in self.keys if (s := self.ledger.state(_ref(k))).requests]
        oldest += [s.tokens[0][0] for k in self.keys if (s := self.ledger.state(_ref(k))).tokens]
        return max(1.0, min(oldest) + WINDOW_SECONDS - now) if oldest else 1.0
