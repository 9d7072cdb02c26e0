"""Sliding-window counters for rate limits, in this process's memory (decision 0060).

One ``Bucket`` per limited principal (a user, an API token) holds a *log* of what was
admitted in the last ``window`` seconds — entries of (time, requests, tokens) with running
totals — and the number of calls in flight. A call is admitted only when, after it,
every bucket it touches stays within its limits; the check and the booking run without an
``await`` in between, so on the event loop they are atomic (the same argument as the login
throttle's "reserve, then check", ``api.throttle``).

Why a log and not fixed minute buckets: a fixed window lets 2x the limit through across a
minute boundary, and "24 a minute" must mean 24 in ANY 60 seconds. Why not an unbounded
log: entries closer than ``window / COALESCE`` seconds to the newest one are merged into
it (it keeps its earlier time, so merged units leave the window at most 0.25 s early on a
60 s window), which bounds a bucket to ~``COALESCE`` entries however busy it is. Old
entries leave from the left of a deque: the cost per call is amortised O(1) — a few
microseconds (bench figures in docs/performance.md).

The login throttle (``api.throttle``) is a different concept — doubling delays after free
attempts, refunds by removal — so it keeps its own list; what it shares with this module is
the no-await reserve-then-check idea, not the data structure.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

COALESCE = 240
MAX_BUCKETS = 100_000
"""Buckets kept in memory (least recently used dropped first: an idle principal's bucket
is empty anyway once its window has passed)."""


class Entry:
    """Units admitted at ``at`` (several calls when coalesced). Mutable so that a call's
    settle can correct its token reservation in place while the entry is in the window."""

    __slots__ = ("at", "requests", "tokens", "live")

    def __init__(self, at: float, requests: int, tokens: int) -> None:
        self.at = at
        self.requests = requests
        self.tokens = tokens
        self.live = True


@dataclass(slots=True)
class Bucket:
    """What one principal used in the window, and its calls in flight."""

    log: deque[Entry] = field(default_factory=deque)
    requests: int = 0
    tokens: int = 0
    in_flight: int = 0

    def trim(self, now: float, window: float) -> None:
        """Drop the entries that have left the window (time <= now - window)."""
        edge = now - window
        log = self.log
        while log and log[0].at <= edge:
            old = log.popleft()
            old.live = False
            self.requests -= old.requests
            self.tokens -= old.tokens

    def book(self, now: float, window: float, tokens: int) -> Entry:
        """Count one request and ``tokens`` at ``now``; returns the entry holding them."""
        self.requests += 1
        self.tokens += tokens
        log = self.log
        if log and now - log[-1].at < window / COALESCE:
            last = log[-1]
            last.requests += 1
            last.tokens += tokens
            return last
        entry = Entry(now, 1, tokens)
        log.append(entry)
        return entry

    def correct(self, entry: Entry, delta: int, now: float) -> None:
        """Change a booked call's tokens by ``delta`` (real usage minus the reservation).
        An entry already out of the window only matters for extra tokens: they are booked
        now, as the tokens were really spent now."""
        if entry.live:
            entry.tokens += delta
            self.tokens += delta
        elif delta > 0:
            self.tokens += delta
            self.log.append(Entry(now, 0, delta))

    def wait_for(self, now: float, window: float, *, requests: int, tokens: int,
                 request_limit: int | None, token_limit: int | None) -> float:
        """Seconds until one more request and ``tokens`` more would fit (0: they fit now;
        ``inf``: they never fit, the call alone is larger than the limit)."""
        need_requests = (self.requests + requests - request_limit
                         if request_limit is not None else 0)
        need_tokens = self.tokens + tokens - token_limit if token_limit is not None else 0
        if need_requests <= 0 and need_tokens <= 0:
            return 0.0
        if token_limit is not None and tokens > token_limit:
            return math.inf
        freed_requests = freed_tokens = 0
        for entry in self.log:
            freed_requests += entry.requests
            freed_tokens += entry.tokens
            if freed_requests >= need_requests and freed_tokens >= need_tokens:
                return max(entry.at + window - now, 0.001)
        return window  # not reachable while the totals match the log

    def reset_in(self, now: float, window: float) -> float:
        """Seconds until the oldest counted use leaves the window (0: nothing counted)."""
        return max(self.log[0].at + window - now, 0.0) if self.log else 0.0


class Buckets:
    """This process's buckets by key (``u<user id>``, ``t<token id>``), LRU-bounded."""

    def __init__(self, max_buckets: int = MAX_BUCKETS) -> None:
        self.max_buckets = max_buckets
        self._buckets: dict[str, Bucket] = {}

    def get(self, key: str) -> Bucket:
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = Bucket()
            for _ in range(len(self._buckets)):
                if len(self._buckets) < self.max_buckets:
                    break
                oldest = next(iter(self._buckets))
                evicted = self._buckets.pop(oldest)
                if evicted.in_flight:  # a call in flight holds it: keep, as recent
                    self._buckets[oldest] = evicted
        self._buckets[key] = bucket  # re-inserted: the dict's order is recency
        return bucket

    def __len__(self) -> int:
        return len(self._buckets)
