"""``python -m bench.ratelimits [--redis URL]``: what a rate-limit check costs per call.

The admit + settle of one call against a user's bucket and a token's bucket, with a
clock that moves 0.5 ms per call (so entries leave the window as in steady traffic):
in process (``LocalLimiter``: no I/O, microseconds), and in Redis (``RedisLimiter``: one
script round trip to admit, one to release). The end-to-end figure under load is the
main benchmark with ``--limits`` (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from switchboard.services.principal import Principal
from switchboard.services.rate_limit_rules import Rules, checks_for
from switchboard.services.rate_limiter import LocalLimiter
from switchboard.services.rate_redis import RedisLimiter
from switchboard.services.ratelimits import RateLimitPolicy

WHO = Principal(user_id=1, username="bench", role="user", token_id=7)
RULES = Rules(tokens={7: (2_000_000_000, None, 1_000_000)})
DEFAULTS = {"user": (2_000_000_000, 2_000_000_000, 1_000_000)}


def local(calls: int) -> dict[str, float]:
    limiter = LocalLimiter()
    checks = checks_for(WHO, RULES, DEFAULTS)
    now = 1_000.0
    start = time.perf_counter()
    for _ in range(calls):
        now += 0.0005
        limiter.take(checks, 100, now).release(120, now)
    both = (time.perf_counter() - start) / calls
    start = time.perf_counter()
    for _ in range(calls):
        checks_for(WHO, RULES, DEFAULTS)
    resolve = (time.perf_counter() - start) / calls
    policy = RateLimitPolicy(limiter, _rules, DEFAULTS)
    start = time.perf_counter()
    for _ in range(calls):
        policy.checks(WHO, RULES)
    cached = (time.perf_counter() - start) / calls
    return {"local_admit_settle_us": both * 1e6, "resolve_limits_us": resolve * 1e6,
            "resolve_remembered_us": cached * 1e6}


async def _rules() -> Rules:
    return RULES


async def redis(url: str, calls: int) -> dict[str, float]:
    limiter = RedisLimiter(url, prefix=f"switchboard:rl:bench-{uuid.uuid4().hex[:8]}:")
    checks = checks_for(WHO, RULES, DEFAULTS)
    now = 1_000.0
    try:
        start = time.perf_counter()
        for _ in range(calls):
            now += 0.0005
            booking = await limiter.acquire(checks, 100, now)
            booking.release(120, now)
            await limiter.drain()
        return {"redis_admit_settle_ms": (time.perf_counter() - start) / calls * 1e3}
    finally:
        await limiter.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ratelimits", description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--redis", metavar="URL", default=None)
    args = parser.parse_args()
    results = local(args.calls)
    if args.redis:
        results |= asyncio.run(redis(args.redis, min(args.calls, 5_000)))
    for name, value in results.items():
        print(f"{name:<26} {value:8.2f}")


if __name__ == "__main__":
    main()
