"""The rate-limit limiter shared by every worker: sliding windows in Redis (decision 0060).

One Lua script per admit does, atomically on the Redis server, what ``LocalLimiter.take``
does in memory: for every bucket of the call, drop what left the window, check requests,
tokens and concurrency, and — only if every bucket has room — book the call in all of
them. One round trip per admit, one per settle (the token correction and the slot freed).
Four workers with a limit of 24 a minute therefore admit exactly 24.

Per bucket (``switchboard:rl:{<key>}:...``; the braces keep a bucket's keys in one
cluster slot):

- ``:log`` — a sorted set of the calls in the window: member ``<call id>|<tokens>``,
  score the admit time. Its size is the requests in the window.
- ``:tok`` — the running sum of the members' tokens (kept in step as members leave), so
  a check does not add up the whole log.
- ``:conc`` — a sorted set of the calls in flight: member ``<call id>``, score the time
  its lease ends (``LEASE`` seconds): a worker killed mid-call cannot hold a slot forever.

Keys expire a little after the window, so an idle principal costs nothing. The time is
the caller's clock (injectable in tests; the workers of one deployment share a clock
closely enough for a 60 s window).

If Redis cannot be reached, the call is counted in this process instead (and a warning
logged, at most once a minute): a Redis outage weakens the limit to per-worker, it never
refuses or fails a call.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

from switchboard.services.rate_limiter import (
    WINDOW,
    Booking,
    Check,
    Denied,
    LocalLimiter,
    Standing,
)

LEASE = 900.0
"""Seconds a concurrency slot is held at most (a longer call frees its slot early)."""
PREFIX = "switchboard:rl:"
log = logging.getLogger(__name__)

# KEYS: per bucket log, tok, conc. ARGV: now, window, lease, id, tokens, then per bucket
# the request, token and concurrency limits (-1: none).
# Returns {1, requests, tokens, reset_ms, ...per bucket} or {0, bucket, dimension, wait_ms,
# used} (dimension 1 requests, 2 tokens, 3 concurrent; wait_ms -1: never fits).
ACQUIRE = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local id = ARGV[4]
local tokens = tonumber(ARGV[5])
local n = #KEYS / 3
local edge = now - window
local function amount(member)
  return tonumber(string.match(member, '|(-?%d+)$')) or 0
end
local used_r, used_t = {}, {}
for i = 1, n do
  local log, tok, conc = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  local rl, tl, cl = tonumber(ARGV[3+3*i]), tonumber(ARGV[4+3*i]), tonumber(ARGV[5+3*i])
  local expired = redis.call('ZRANGEBYSCORE', log, '-inf', edge)
  if #expired > 0 then
    local gone = 0
    for _, m in ipairs(expired) do gone = gone + amount(m) end
    redis.call('ZREMRANGEBYSCORE', log, '-inf', edge)
    if gone ~= 0 then redis.call('DECRBY', tok, gone) end
  end
  local r = redis.call('ZCARD', log)
  local t = tonumber(redis.call('GET', tok) or '0')
  if r == 0 and t ~= 0 then redis.call('DEL', tok); t = 0 end
  if cl >= 0 then
    redis.call('ZREMRANGEBYSCORE', conc, '-inf', now)
    local c = redis.call('ZCARD', conc)
    if c >= cl then return {0, i, 3, 1000, c} end
  end
  local need_r = 0
  local need_t = 0
  if rl >= 0 then need_r = r + 1 - rl end
  if tl >= 0 then need_t = t + tokens - tl end
  if need_r > 0 or need_t > 0 then
    local dim, used = 2, t
    if need_r > 0 then dim, used = 1, r end
    if tl >= 0 and tokens > tl then return {0, i, 2, -1, t} end
    local entries = redis.call('ZRANGE', log, 0, -1, 'WITHSCORES')
    local fr, ft = 0, 0
    for j = 1, #entries, 2 do
      fr = fr + 1
      ft = ft + amount(entries[j])
      if fr >= need_r and ft >= need_t then
        local wait = math.ceil((tonumber(entries[j+1]) + window - now) * 1000)
        return {0, i, dim, math.max(wait, 1), used}
      end
    end
    return {0, i, dim, math.ceil(window * 1000), used}
  end
  used_r[i] = r
  used_t[i] = t
end
local out = {1}
local member = id .. '|' .. tokens
local ttl = math.ceil(window * 1000) + 1000
for i = 1, n do
  local log, tok, conc = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  redis.call('ZADD', log, now, member)
  redis.call('INCRBY', tok, tokens)
  redis.call('PEXPIRE', log, ttl)
  redis.call('PEXPIRE', tok, ttl)
  if tonumber(ARGV[5+3*i]) >= 0 then
    redis.call('ZADD', conc, now + lease, id)
    redis.call('PEXPIRE', conc, math.ceil(lease * 1000))
  end
  local first = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  out[#out+1] = used_r[i] + 1
  out[#out+1] = used_t[i] + tokens
  out[#out+1] = math.max(math.ceil((tonumber(first[2]) + window - now) * 1000), 0)
end
return out
"""

# KEYS: per bucket log, tok, conc. ARGV: id, reserved, real, now, window.
RELEASE = """
local id, reserved, real = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now, window = tonumber(ARGV[4]), tonumber(ARGV[5])
local delta = real - reserved
local ttl = math.ceil(window * 1000) + 1000
for i = 1, #KEYS / 3 do
  local log, tok, conc = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  redis.call('ZREM', conc, id)
  if delta ~= 0 then
    local member = id .. '|' .. reserved
    local score = redis.call('ZSCORE', log, member)
    if score then
      redis.call('ZREM', log, member)
      redis.call('ZADD', log, score, id .. '|' .. real)
      redis.call('INCRBY', tok, delta)
    elseif delta > 0 then
      redis.call('ZADD', log, now, id .. ':late|' .. delta)
      redis.call('INCRBY', tok, delta)
      redis.call('PEXPIRE', log, ttl)
      redis.call('PEXPIRE', tok, ttl)
    end
  end
end
return 1
"""

DIMENSIONS = {1: "requests", 2: "tokens", 3: "concurrent"}


def _keys(prefix: str, checks: Sequence[Check]) -> list[str]:
    keys: list[str] = []
    for check in checks:
        base = f"{prefix}{{{check.key}}}"
        keys += [f"{base}:log", f"{base}:tok", f"{base}:conc"]
    return keys


def _limit(value: int | None) -> int:
    return -1 if value is None else value


class RedisBooking:
    __slots__ = ("standings", "_limiter", "_keys", "_id", "_reserved", "_released")

    def __init__(self, limiter: RedisLimiter, keys: list[str], call_id: str, reserved: int,
                 standings: list[Standing]) -> None:
        self.standings = standings
        self._limiter = limiter
        self._keys = keys
        self._id = call_id
        self._reserved = reserved
        self._released = False

    def release(self, real_tokens: int, now: float) -> None:
        if self._released:
            return
        self._released = True
        self._limiter.spawn_release(self._keys, self._id, self._reserved, real_tokens, now)


class RedisLimiter:
    """Buckets in Redis; one client (and connection pool) per event loop."""

    def __init__(self, url: str, window: float = WINDOW, lease: float = LEASE,
                 prefix: str = PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self.window = window
        self.lease = lease
        self.fallback = LocalLimiter(window)
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary())
        self._tasks: set[asyncio.Task[None]] = set()
        self._warned_at = -math.inf

    def _scripts(self) -> tuple[Any, Any]:
        loop = asyncio.get_running_loop()
        scripts = self._clients.get(loop)
        if scripts is None:
            from redis import asyncio as aioredis  # optional dependency, imported on use

            client = aioredis.from_url(self.url)
            scripts = (client, client.register_script(ACQUIRE), client.register_script(RELEASE))
            self._clients[loop] = scripts
        return scripts[1], scripts[2]

    def _warn(self, exc: Exception) -> None:
        if time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            log.warning("rate limits counted per process: Redis is unreachable (%s)", exc)

    async def acquire(self, checks: Sequence[Check], tokens: int, now: float) -> Booking:
        keys = _keys(self.prefix, checks)
        call_id = uuid.uuid4().hex[:16]
        args: list[object] = [repr(now), repr(self.window), repr(self.lease), call_id, tokens]
        for check in checks:
            limits = check.limits
            args += [_limit(limits.requests), _limit(limits.tokens), _limit(limits.concurrent)]
        try:
            acquire, _ = self._scripts()
            reply = await acquire(keys=keys, args=args)
        except Exception as exc:  # Redis down: count here rather than fail the call
            self._warn(exc)
            return self.fallback.take(checks, tokens, now)
        values = [int(v) for v in reply]
        if values[0] == 0:
            _, index, dimension, wait_ms, used = values
            raise Denied(checks[index - 1], DIMENSIONS[dimension],  # type: ignore[arg-type]
                         None if wait_ms < 0 else wait_ms / 1000, used)
        standings = [Standing(check, values[1 + 3 * i], values[2 + 3 * i],
                              values[3 + 3 * i] / 1000) for i, check in enumerate(checks)]
        return RedisBooking(self, keys, call_id, tokens, standings)

    def spawn_release(self, keys: list[str], call_id: str, reserved: int, real: int,
                      now: float) -> None:
        """Settle is synchronous (it runs in ``finally`` blocks): the release is a task."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop any more: the slot's lease frees it
        task = loop.create_task(self._release(keys, call_id, reserved, real, now))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release(self, keys: list[str], call_id: str, reserved: int, real: int,
                       now: float) -> None:
        try:
            _, release = self._scripts()
            await release(keys=keys, args=[call_id, reserved, real, repr(now),
                                           repr(self.window)])
        except Exception as exc:
            self._warn(exc)

    async def drain(self) -> None:
        """Wait for the releases in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        loop = asyncio.get_running_loop()
        scripts = self._clients.pop(loop, None)
        if scripts is not None:
            await scripts[0].aclose()
