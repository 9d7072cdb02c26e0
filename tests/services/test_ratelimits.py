"""Rate limits through the admission-policy protocol, with a settable clock (no sleeping).

The same cases run against the in-process limiter and, when ``SWITCHBOARD_TEST_REDIS_URL``
is set, the Redis one: both must give the same answers.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from switchboard.services.metering import CallOutcome
from switchboard.services.policy import Admission, CallSpec, RateLimited
from switchboard.services.principal import Principal
from switchboard.services.rate_limit_rules import Rules, checks_for
from switchboard.services.rate_limiter import Limiter, LocalLimiter
from switchboard.services.rate_redis import RedisLimiter
from switchboard.services.ratelimits import RateLimitPolicy, duration
from switchboard.spec import ChatRequest, Message, Usage

ALICE = Principal(user_id=1, username="alice", role="user")
ALICE_TOKEN = Principal(user_id=1, username="alice", role="user", token_id=7)
BOB = Principal(user_id=2, username="bob", role="user")
T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def admission(who: Principal = ALICE, *, prompt: int = 10, max_out: int = 0) -> Admission:
    spec = CallSpec(principal=who, surface="api",
                    request=ChatRequest(messages=[Message.user("hi")]), model=None)
    return Admission(spec=spec, model=None, estimated_input_tokens=prompt,
                     max_output_tokens=max_out)


def outcome(input_tokens: int, output_tokens: int) -> CallOutcome:
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    return cast(CallOutcome, SimpleNamespace(result=SimpleNamespace(usage=usage)))


@pytest.fixture(params=["local", "redis"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """None: in process; else the Redis URL (skipped when no test Redis is set)."""
    return None if request.param == "local" else str(request.getfixturevalue("redis_url"))


@pytest.fixture
async def limiter(backend: str | None) -> AsyncIterator[Limiter]:
    if backend is None:
        yield LocalLimiter()
        return
    url = backend
    # a fresh key space per test: the buckets are keyed by principal
    redis = RedisLimiter(url, prefix=f"switchboard:rl:test-{uuid.uuid4().hex[:8]}:")
    try:
        yield redis
    finally:
        await redis.close()


async def settle_all(limiter: Limiter) -> None:
    if isinstance(limiter, RedisLimiter):
        await limiter.drain()


def policy(limiter: Limiter, clock: Clock, *, rpm: int | None = None, tpm: int | None = None,
           concurrent: int | None = None, rules: Rules | None = None) -> RateLimitPolicy:
    async def load() -> Rules:
        return rules or Rules()

    return RateLimitPolicy(limiter, load, {"user": (rpm, tpm, concurrent),
                                           "admin": (None, None, None)}, clock)


async def test_a_limit_of_24_a_minute_admits_24_in_any_60_seconds(limiter: Limiter) -> None:
    clock = Clock()
    p = policy(limiter, clock, rpm=24)
    for i in range(24):
        clock.now = T0 + i  # one a second
        (await p.admit(admission())).settle(None)
    with pytest.raises(RateLimited) as refused:
        await p.admit(admission())
    # the first call (at T0) leaves the window at T0 + 60: 37 s from now
    assert refused.value.retry_after == pytest.approx(37.0, abs=0.01)
    assert refused.value.headers["x-ratelimit-remaining-requests"] == "0"
    assert "24 requests per minute" in str(refused.value)
    clock.now = T0 + 59.999
    with pytest.raises(RateLimited):
        await p.admit(admission())
    clock.now = T0 + 60  # the first call has left the window: exactly one more fits
    grant = await p.admit(admission())
    assert grant.headers["x-ratelimit-remaining-requests"] == "0"
    with pytest.raises(RateLimited):
        await p.admit(admission())
    await settle_all(limiter)


async def test_refused_calls_are_not_counted(limiter: Limiter) -> None:
    clock = Clock()
    p = policy(limiter, clock, rpm=2)
    await p.admit(admission())
    await p.admit(admission())
    for _ in range(50):  # hammering does not push the reset further away
        with pytest.raises(RateLimited):
            await p.admit(admission())
    clock.now = T0 + 60
    await p.admit(admission())


async def test_headers_report_limit_remaining_and_reset(limiter: Limiter) -> None:
    clock = Clock()
    p = policy(limiter, clock, rpm=10, tpm=1000)
    grant = await p.admit(admission(prompt=100, max_out=50))
    assert dict(grant.headers) == {
        "x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "9",
        "x-ratelimit-reset-requests": "1m0s",
        "x-ratelimit-limit-tokens": "1000", "x-ratelimit-remaining-tokens": "850",
        "x-ratelimit-reset-tokens": "1m0s"}
    clock.now = T0 + 30.5
    grant = await p.admit(admission(prompt=100))
    assert grant.headers["x-ratelimit-remaining-requests"] == "8"
    assert grant.headers["x-ratelimit-reset-requests"] == "29.5s"
    await settle_all(limiter)


async def test_tokens_are_reserved_then_corrected_to_real_usage(limiter: Limiter) -> None:
    clock = Clock()
    p = policy(limiter, clock, tpm=1000)
    first = await p.admit(admission(prompt=300, max_out=300))  # reserves 600
    with pytest.raises(RateLimited) as refused:
        await p.admit(admission(prompt=300, max_out=300))
    assert "1000 tokens per minute" in str(refused.value)
    first.settle(outcome(300, 20))  # really used 320: 680 are free again
    await settle_all(limiter)
    second = await p.admit(admission(prompt=300, max_out=300))
    assert second.headers["x-ratelimit-remaining-tokens"] == str(1000 - 320 - 600)
    second.settle(None)  # never reached a model: its tokens are refunded
    await settle_all(limiter)
    third = await p.admit(admission(prompt=10))
    assert third.headers["x-ratelimit-remaining-tokens"] == str(1000 - 320 - 10)


async def test_a_call_larger_than_the_token_limit_is_refused_without_retry(
        limiter: Limiter) -> None:
    p = policy(limiter, Clock(), tpm=1000)
    with pytest.raises(RateLimited) as refused:
        await p.admit(admission(prompt=5000))
    assert refused.value.retry_after is None and "too large" in str(refused.value)


async def test_the_answer_budget_reserved_is_capped(limiter: Limiter) -> None:
    p = policy(limiter, Clock(), tpm=1_000_000)
    grant = await p.admit(admission(prompt=100, max_out=128_000))
    assert grant.headers["x-ratelimit-remaining-tokens"] == str(1_000_000 - 100 - 4096)


async def test_concurrency_slot_is_freed_at_settle(limiter: Limiter) -> None:
    clock = Clock()
    p = policy(limiter, clock, concurrent=2)
    a = await p.admit(admission())
    await p.admit(admission())
    with pytest.raises(RateLimited) as refused:
        await p.admit(admission())
    assert "2 calls at once" in str(refused.value) and refused.value.retry_after == 1.0
    a.settle(outcome(1, 1))
    a.settle(outcome(1, 1))  # settling twice frees one slot, not two
    await settle_all(limiter)
    await p.admit(admission())
    with pytest.raises(RateLimited):
        await p.admit(admission())


async def test_a_refusal_by_one_bucket_books_nothing_in_the_other(limiter: Limiter) -> None:
    clock = Clock()
    rules = Rules(tokens={7: (1, None, None)})  # alice's token: 1 request a minute
    p = policy(limiter, clock, rpm=3, rules=rules)
    grant = await p.admit(admission(ALICE_TOKEN))
    assert grant.headers["x-ratelimit-limit-requests"] == "1"  # the tighter bucket
    assert grant.headers["x-ratelimit-remaining-requests"] == "0"
    with pytest.raises(RateLimited) as refused:
        await p.admit(admission(ALICE_TOKEN))
    assert "this API token" in str(refused.value)
    # the refused call was not booked in alice's own bucket: 2 of 3 are left
    await p.admit(admission(ALICE))
    await p.admit(admission(ALICE))
    with pytest.raises(RateLimited):
        await p.admit(admission(ALICE))
    await p.admit(admission(BOB))  # bob has his own bucket


async def test_no_limits_no_headers(limiter: Limiter) -> None:
    p = policy(limiter, Clock())
    grant = await p.admit(admission())
    assert dict(grant.headers) == {}
    grant.settle(None)


def test_resolution_token_over_user_over_role_over_default() -> None:
    defaults: dict[str, Any] = {"user": (100, 1000, 4), "admin": (None, None, None)}
    rules = Rules(roles={"user": (50, None, 0)}, users={1: (None, 2000, None)},
                  tokens={7: (5, None, None)})
    user, token = checks_for(ALICE_TOKEN, rules, defaults)
    # requests from the role's rule, tokens from alice's rule, concurrency: 0 = no limit
    assert (user.limits.requests, user.limits.tokens, user.limits.concurrent) == (
        50, 2000, None)
    assert (token.key, token.limits.requests, token.limits.tokens) == ("t7", 5, None)
    assert checks_for(BOB, rules, defaults)[0].limits.tokens == 1000
    admin = Principal(user_id=3, username="root", role="admin")
    assert checks_for(admin, rules, defaults) == []
    # a user rule of 0 lifts a role limit
    assert checks_for(BOB, Rules(users={2: (0, 0, 0)}), defaults) == []


@pytest.mark.parametrize(("seconds", "text"), [
    (0.02, "20ms"), (0.0001, "1ms"), (0, "0ms"), (1, "1s"), (1.5, "1.5s"), (59.25, "59.25s"),
    (60, "1m0s"), (360, "6m0s"), (90.2, "1m31s"), (3723, "1h2m3s")])
def test_reset_durations_read_like_openais(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_in_process_admit_costs_microseconds() -> None:
    """Not a timing assertion (that is bench's job): the bucket stays small however many
    calls go through, so the per-call cost cannot grow with traffic."""
    limiter = LocalLimiter()
    clock = Clock()
    checks = checks_for(ALICE, Rules(), {"user": (None, 10**9, None)})
    for i in range(100_000):
        clock.now = T0 + i * 0.001
        limiter.take(checks, 10, clock.now).release(12, clock.now)
    bucket = limiter.buckets.get("u1")
    assert len(bucket.log) <= 241 and bucket.in_flight == 0
    assert bucket.tokens == sum(e.tokens for e in bucket.log)


async def test_redis_unreachable_counts_in_the_process_instead() -> None:
    """A Redis outage weakens the limit to per-process; it never fails or refuses a call."""
    limiter = RedisLimiter("redis://127.0.0.1:1")  # nothing listens on port 1
    clock = Clock()
    p = policy(limiter, clock, rpm=2)
    (await p.admit(admission())).settle(None)
    await p.admit(admission())
    with pytest.raises(RateLimited):
        await p.admit(admission())
    assert limiter.fallback.buckets.get("u1").requests == 2
    await limiter.close()


def test_headers_report_the_tightest_bucket_as_the_loop_over_dimensions_did() -> None:
    """``headers_for`` writes the two dimensions out (issue 12, fourth pass): the same
    headers as the generic loop it replaced, ties and missing limits included."""
    import random

    from switchboard.services.rate_limiter import Check, Limits, Standing
    from switchboard.services.ratelimits import headers_for

    def reference(standings: list[Standing]) -> dict[str, str]:
        out: dict[str, str] = {}
        for dimension in ("requests", "tokens"):
            best: tuple[int, int, float] | None = None
            for s in standings:
                limit = getattr(s.check.limits, dimension)
                if limit is None:
                    continue
                remaining = max(limit - getattr(s, dimension), 0)
                if best is None or remaining < best[1]:
                    best = (limit, remaining, s.reset)
            if best is not None:
                out[f"x-ratelimit-limit-{dimension}"] = str(best[0])
                out[f"x-ratelimit-remaining-{dimension}"] = str(best[1])
                out[f"x-ratelimit-reset-{dimension}"] = duration(best[2])
        return out

    rng = random.Random(3)
    for _ in range(3000):
        standings = [Standing(Check(f"u{i}", Limits(rng.choice([None, 5, 10, 60]),
                                                    rng.choice([None, 100, 4000]),
                                                    rng.choice([None, 2])), "x"),
                              rng.randint(0, 70), rng.randint(0, 5000),
                              rng.choice([0.0, 0.0004, 0.5, 1.0, 59.99, 61.0]))
                     for i in range(rng.randint(0, 3))]
        got = headers_for(standings)
        assert got == reference(standings)
        assert list(got) == list(reference(standings))
