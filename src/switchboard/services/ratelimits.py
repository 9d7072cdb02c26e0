"""Rate limits as an admission policy (issue 12; decisions 0053, 0060).

Requests per minute, tokens per minute and concurrent calls, per user and per API token
(``services.rate_limit_rules`` says which apply), counted in a sliding window of 60 s —
in this process (``LocalLimiter``) or in Redis for every worker at once
(``RedisLimiter``, when ``SWITCHBOARD_REDIS_URL`` is set).

**Tokens are reserved, then corrected.** At admit the call books its estimated size: the
prompt (``Admission.estimated_input_tokens``) plus its answer budget capped at
``OUTPUT_RESERVE`` — the full ``max_tokens`` of a model that may write 64k tokens would
make one call look like a minute's allowance although most answers are short. At settle
the reservation is replaced by the real usage (prompt + answer as the vendor reported
it, or as metering estimated it), so over a minute the count is exact; only the admit-time
check is optimistic about long answers. A call that never reached a model books 0 tokens
(its request still counts).

**Headers are OpenAI's** (https://platform.openai.com/docs/guides/rate-limits):
``x-ratelimit-limit-{requests,tokens}``, ``x-ratelimit-remaining-{requests,tokens}`` and
``x-ratelimit-reset-{requests,tokens}`` as a duration (``"6m0s"``, ``"1s"``, ``"20ms"``).
With a user and a token bucket the tighter one is reported. A sliding window has no single
reset instant: ``reset`` is the time until the oldest counted use leaves the window,
i.e. when ``remaining`` next grows — what a client waiting for room needs to know.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from switchboard.config import RoleLimits, Settings
from switchboard.db.engine import Database
from switchboard.services.metering import CallOutcome
from switchboard.services.policy import Admission, Clock, Grant, RateLimited, wall_clock
from switchboard.services.principal import Principal
from switchboard.services.rate_limit_rules import Rules, checks_for, fresh_rules, load_rules
from switchboard.services.rate_limiter import (
    Booking,
    Check,
    Denied,
    Limiter,
    LocalLimiter,
    Standing,
)
from switchboard.services.rate_redis import RedisLimiter

OUTPUT_RESERVE = 4096
"""The most answer tokens reserved at admit (corrected to the real count at settle)."""
log = logging.getLogger(__name__)

RulesSource = Callable[[], Awaitable[Rules]]


def duration(seconds: float) -> str:
    """OpenAI's reset format: ``20ms``, ``1s``, ``1.5s``, ``6m0s``, ``1h2m3s``."""
    if seconds < 1:
        return f"{max(math.ceil(seconds * 1000), 0)}ms"
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{hours}h" if hours else "") + f"{minutes}m{secs}s"


def reserve(admission: Admission) -> int:
    """Tokens booked at admit: the prompt plus the answer budget, capped."""
    return max(admission.estimated_input_tokens, 0) + min(
        max(admission.max_output_tokens, 0), OUTPUT_RESERVE)


def headers_for(standings: Sequence[Standing]) -> dict[str, str]:
    """The ``x-ratelimit-*`` headers for the tightest bucket of each dimension."""
    out: dict[str, str] = {}
    # The two dimensions written out rather than looped over with getattr: this runs
    # once per admitted call (issue 12, fourth pass). Ties keep the first bucket.
    best: Standing | None = None
    best_limit = best_left = 0
    for s in standings:
        limit = s.check.limits.requests
        if limit is not None:
            left = max(limit - s.requests, 0)
            if best is None or left < best_left:
                best, best_limit, best_left = s, limit, left
    if best is not None:
        out["x-ratelimit-limit-requests"] = str(best_limit)
        out["x-ratelimit-remaining-requests"] = str(best_left)
        out["x-ratelimit-reset-requests"] = duration(best.reset)
    best = None
    for s in standings:
        limit = s.check.limits.tokens
        if limit is not None:
            left = max(limit - s.tokens, 0)
            if best is None or left < best_left:
                best, best_limit, best_left = s, limit, left
    if best is not None:
        out["x-ratelimit-limit-tokens"] = str(best_limit)
        out["x-ratelimit-remaining-tokens"] = str(best_left)
        out["x-ratelimit-reset-tokens"] = duration(best.reset)
    return out


class _NoGrant:
    """Nothing limits this caller: nothing to hold, no headers."""

    headers: Mapping[str, str] = {}

    def settle(self, outcome: CallOutcome | None) -> None:
        return None


NO_GRANT = _NoGrant()


class RateGrant:
    """An admitted call's bookings; ``settle`` corrects the tokens and frees the slot."""

    __slots__ = ("headers", "_booking", "_clock", "_reserved")

    def __init__(self, booking: Booking, clock: Clock, reserved: int) -> None:
        self.headers = headers_for(booking.standings)
        self._booking = booking
        self._clock = clock
        self._reserved = reserved

    def settle(self, outcome: CallOutcome | None) -> None:
        real = 0
        if outcome is not None:
            total = outcome.result.usage.total_tokens
            real = self._reserved if total is None else total
        try:
            self._booking.release(real, self._clock())
        except Exception:  # settle must not raise (it runs in finally blocks)
            log.exception("releasing a rate-limit booking failed")


def _refusal(denied: Denied) -> RateLimited:
    check, dimension = denied.check, denied.dimension
    limit = getattr(check.limits, dimension)
    if dimension == "concurrent":
        what = f"{limit} calls at once"
    elif dimension == "requests":
        what = f"{limit} requests per minute"
    else:
        what = f"{limit} tokens per minute"
    if denied.retry_after is None:
        message = (f"Request too large: it needs more tokens than the limit of {what} of "
                   f"{check.label}. Shorten the prompt or lower max_tokens.")
    else:
        message = (f"Rate limit reached for {check.label}: {what} "
                   f"(used {denied.used}). Please try again in "
                   f"{duration(denied.retry_after)}.")
    headers: dict[str, str] = {}
    if dimension != "concurrent":
        headers[f"x-ratelimit-limit-{dimension}"] = str(limit)
        headers[f"x-ratelimit-remaining-{dimension}"] = "0"
        if denied.retry_after is not None:
            headers[f"x-ratelimit-reset-{dimension}"] = duration(denied.retry_after)
    error = RateLimited(message, retry_after=denied.retry_after, headers=headers)
    error.limit_type = dimension  # type: ignore[attr-defined]  # OpenAI's error "type"
    return error


MAX_RESOLVED = 10_000


@dataclass(slots=True)
class RateLimitPolicy:
    """The ``AdmissionPolicy`` for rate limits (``services.policy``)."""

    limiter: Limiter
    rules: RulesSource
    defaults: Mapping[str, RoleLimits]
    clock: Clock = wall_clock
    name: str = "ratelimits"
    _resolved: dict[Principal, list[Check]] = field(default_factory=dict)
    _resolved_from: Rules | None = None
    fresh: Callable[[], Rules | None] | None = None
    """The rules when they can be had without awaiting (None from it: ask ``rules``);
    ``rate_limit_policy`` sets it to the catalog cache's synchronous read."""

    def checks(self, principal: Principal, rules: Rules) -> list[Check]:
        """``checks_for``, remembered per principal while the rules snapshot is the same
        object (a write anywhere replaces it): one dict lookup per call."""
        if rules is not self._resolved_from or len(self._resolved) > MAX_RESOLVED:
            self._resolved = {}
            self._resolved_from = rules
        checks = self._resolved.get(principal)
        if checks is None:
            checks = self._resolved[principal] = checks_for(principal, rules, self.defaults)
        return checks

    async def admit(self, admission: Admission) -> Grant:
        rules = self.fresh() if self.fresh is not None else None
        if rules is None:
            rules = await self.rules()
        checks = self.checks(admission.spec.principal, rules)
        if not checks:
            return NO_GRANT
        tokens = reserve(admission)
        limiter = self.limiter
        try:
            # In this process's memory the booking needs no await: no coroutine for it.
            booking = (limiter.take(checks, tokens, self.clock())
                       if type(limiter) is LocalLimiter
                       else await limiter.acquire(checks, tokens, self.clock()))
        except Denied as denied:
            raise _refusal(denied) from None
        return RateGrant(booking, self.clock, tokens)

    async def drain(self) -> None:
        """At shutdown: finish the releases in flight, close the limiter's connections."""
        close = getattr(self.limiter, "close", None)
        if close is not None:
            await close()


async def _no_rules() -> Rules:
    return Rules()


def rate_limit_policy(settings: Settings, db: Database | None = None, *,
                      clock: Clock = wall_clock) -> RateLimitPolicy | None:
    """The policy this process runs (None: ``SWITCHBOARD_RATE_LIMITS=off``): counts in
    Redis when ``SWITCHBOARD_REDIS_URL`` is set, else in this process."""
    if settings.rate_limits is None:
        return None
    limiter: Limiter
    if settings.redis_url:
        limiter = RedisLimiter(settings.redis_url)
    else:
        limiter = LocalLimiter()
    if db is None:
        return RateLimitPolicy(limiter, _no_rules, settings.rate_limits, clock)
    return RateLimitPolicy(limiter, lambda: load_rules(db), settings.rate_limits, clock,
                           fresh=lambda: fresh_rules(db))
