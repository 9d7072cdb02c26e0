"""Circuit breakers per provider instance and per key (issue 12, item 5; decision 0063).

A breaker watches the calls to one *target* — a provider instance, or one key of its key
pool — and stops sending calls there while it is failing, so a request goes straight to
the next model of its fallback chain instead of waiting for a vendor that is down.

States, as usual (closed / open / half-open):

- **closed** — calls flow. The breaker opens when ``failure_threshold`` calls in a row
  failed, OR when, over the last ``window`` seconds, at least ``minimum_requests`` calls
  were made and the share that failed reached ``failure_rate``. Both rules, because a
  low-traffic instance never reaches a minimum (the streak catches it) and a busy one
  that fails every other call never makes a long streak (the rate catches it).
- **open** — calls are refused (``allow`` is False) for ``cooldown`` seconds.
- **half-open** — after the cooldown, EXACTLY ONE call (the probe) is let through; its
  success closes the breaker (counts reset), its failure opens it for another cooldown.
  While the probe is out every other call is refused. A probe whose caller vanished
  without reporting (cancelled mid-call) is given up after ``probe_timeout`` so the
  breaker cannot stay half-open forever.

What counts as a failure is the caller's decision (the router feeds only failures that
say the *target* is unwell: 5xx, overload, 429, timeouts, connection errors, a first
byte later than the deadline — never a caller's bad request or a prompt too long).

Pure: no I/O, time from an injected clock (``time.monotonic`` by default) so tests turn
the clock instead of sleeping. Memory is bounded: the rate window is ``BUCKETS`` counters,
not a list of calls, and there is one breaker per configured instance and key.

State is per process (decision 0063): each server process learns on its own, within a
few calls, that a vendor is down; sharing it through Redis would put a round trip on
every call's hot path to save those few calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

Clock = Callable[[], float]
"""Monotonic seconds (``time.monotonic`` in production; a settable value in tests)."""

BUCKETS = 12
"""The rate window is kept as this many counters (each ``window / BUCKETS`` seconds)."""

BreakerKey = tuple[str, str | None]
OnChange = Callable[[str, "str | None", str], None]
"""Told ``(provider, key_id, state)`` at each transition (the metrics' breaker gauge)."""
"""(provider instance name, key id or None for the instance as a whole)."""


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 5
    """Consecutive failures that open the breaker."""
    failure_rate: float = 0.5
    """Share of failed calls in the window that opens it (with ``minimum_requests``)."""
    minimum_requests: int = 20
    """Calls in the window before the rate rule applies."""
    window: float = 60.0
    """Seconds the failure rate is measured over."""
    cooldown: float = 30.0
    """Seconds an open breaker refuses calls before it lets one probe through."""
    probe_timeout: float = 120.0
    """A probe not reported after this long is given up (its caller vanished)."""

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.minimum_requests < 1:
            raise ValueError("failure_threshold and minimum_requests must be >= 1")
        if not 0.0 < self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be in (0, 1]")
        if self.window <= 0 or self.cooldown <= 0 or self.probe_timeout <= 0:
            raise ValueError("window, cooldown and probe_timeout must be > 0 seconds")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One breaker as the status endpoint and the provider card show it."""

    provider: str
    key_id: str | None
    state: State
    consecutive_failures: int
    requests: int
    """Calls in the current window."""
    failures: int
    """Failed calls in the current window."""
    retry_in: float | None
    """Open: seconds until the probe may go (0: it may go now); else None."""
    last_error: str | None

    def as_dict(self) -> dict[str, object]:
        return {"provider": self.provider, "key_id": self.key_id, "state": self.state.value,
                "consecutive_failures": self.consecutive_failures,
                "requests": self.requests, "failures": self.failures,
                "retry_in_seconds": None if self.retry_in is None else round(self.retry_in, 1),
                "last_error": self.last_error}


@dataclass(slots=True)
class _Bucket:
    start: float = -1.0
    calls: int = 0
    failures: int = 0


@dataclass(slots=True)
class Breaker:
    """One target's breaker. ``allow`` before a call; then exactly one of ``success``,
    ``failure`` or ``release`` (the call was abandoned: neither)."""

    policy: BreakerPolicy
    clock: Clock
    state: State = State.CLOSED
    consecutive: int = 0
    opened_at: float = 0.0
    probe_at: float | None = None
    """When the half-open probe was let through (None: no probe out)."""
    last_error: str | None = None
    on_change: Callable[[State], None] | None = None
    """Called with the state entered, at each transition (never on the hot path)."""
    _buckets: list[_Bucket] = field(default_factory=lambda: [_Bucket() for _ in range(BUCKETS)])

    # -- asking ----------------------------------------------------------------------
    def allow(self) -> bool:
        """May a call go to this target now? In half-open, True for exactly one caller
        (the probe) until it reports."""
        now = self.clock()
        if self.state is State.CLOSED:
            return True
        if self.state is State.OPEN:
            if now - self.opened_at < self.policy.cooldown:
                return False
            self.state = State.HALF_OPEN
            self.probe_at = None
            self._changed()
        if self.probe_at is not None and now - self.probe_at < self.policy.probe_timeout:
            return False  # the one probe is out
        self.probe_at = now
        return True

    def peek(self) -> bool:
        """Would ``allow`` say yes? (No probe is claimed: for ordering candidates.)"""
        if self.state is State.CLOSED:
            return True
        now = self.clock()
        if self.state is State.OPEN:
            return now - self.opened_at >= self.policy.cooldown
        return self.probe_at is None or now - self.probe_at >= self.policy.probe_timeout

    # -- reporting -------------------------------------------------------------------
    def success(self) -> None:
        self._count(failed=False)
        self.consecutive = 0
        if self.state is not State.CLOSED:
            self._close()

    def failure(self, reason: str | None = None) -> None:
        self._count(failed=True)
        self.consecutive += 1
        self.last_error = reason
        if self.state is State.HALF_OPEN or (
                self.state is State.CLOSED and self._should_open()):
            self._open()

    def release(self) -> None:
        """The call was abandoned before it said anything about the target (the client
        went away): a probe may be sent by the next caller."""
        if self.state is State.HALF_OPEN:
            self.probe_at = None

    # -- reading ---------------------------------------------------------------------
    def snapshot(self, provider: str, key_id: str | None) -> Snapshot:
        calls, failures = self._window()
        retry_in = None
        if self.state is State.OPEN:
            retry_in = max(0.0, self.policy.cooldown - (self.clock() - self.opened_at))
        return Snapshot(provider, key_id, self.state, self.consecutive, calls, failures,
                        retry_in, self.last_error)

    # -- inside ----------------------------------------------------------------------
    def _should_open(self) -> bool:
        if self.consecutive >= self.policy.failure_threshold:
            return True
        calls, failures = self._window()
        return (calls >= self.policy.minimum_requests
                and failures >= self.policy.failure_rate * calls)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.state)

    def _open(self) -> None:
        self.state = State.OPEN
        self.opened_at = self.clock()
        self.probe_at = None
        self._changed()

    def _close(self) -> None:
        self.state = State.CLOSED
        self.probe_at = None
        self.consecutive = 0
        self._changed()
        for bucket in self._buckets:  # a fresh start: old failures say nothing now
            bucket.start, bucket.calls, bucket.failures = -1.0, 0, 0

    def _count(self, *, failed: bool) -> None:
        width = self.policy.window / BUCKETS
        now = self.clock()
        start = now - (now % width)
        bucket = self._buckets[int(now // width) % BUCKETS]
        if bucket.start != start:
            bucket.start, bucket.calls, bucket.failures = start, 0, 0
        bucket.calls += 1
        bucket.failures += failed

    def _window(self) -> tuple[int, int]:
        oldest = self.clock() - self.policy.window
        live = [b for b in self._buckets if b.start > oldest]
        return sum(b.calls for b in live), sum(b.failures for b in live)


class Breakers:
    """Every breaker of one process, created on first use, keyed ``(instance, key_id)``
    (``key_id`` None: the instance as a whole; the key pool's ids otherwise)."""

    def __init__(self, policy: BreakerPolicy | None = None,
                 clock: Clock = time.monotonic, on_change: OnChange | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self.clock = clock
        self.on_change = on_change
        self._breakers: dict[BreakerKey, Breaker] = {}

    def get(self, provider: str, key_id: str | None = None) -> Breaker:
        key = (provider, key_id)
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = Breaker(self.policy, self.clock,
                                                    on_change=self._reporter(provider, key_id))
        return breaker

    def _reporter(self, provider: str, key_id: str | None) -> Callable[[State], None] | None:
        hook = self.on_change
        if hook is None:
            return None
        return lambda state: hook(provider, key_id, state.value)

    def known(self, provider: str, key_id: str | None = None) -> Breaker | None:
        """The breaker if one was ever used (reads never create one)."""
        return self._breakers.get((provider, key_id))

    def of_provider(self, provider: str) -> Iterator[Snapshot]:
        """The instance's breaker (closed if never used) and each of its keys' breakers."""
        instance = self._breakers.get((provider, None)) or Breaker(self.policy, self.clock)
        yield instance.snapshot(provider, None)
        for (name, key_id), breaker in sorted(self._breakers.items(),
                                              key=lambda kv: str(kv[0][1])):
            if name == provider and key_id is not None:
                yield breaker.snapshot(name, key_id)

    def forget(self, provider: str) -> None:
        """A provider was removed or renamed: its breakers go with it."""
        for key in [k for k in self._breakers if k[0] == provider]:
            del self._breakers[key]
