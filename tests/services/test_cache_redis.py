"""Cross-process invalidation through a real Redis (``SWITCHBOARD_TEST_REDIS_URL``).

Two ``CatalogCache`` objects with different origins stand for two server processes: each
has its own entries and version, and they meet only through Redis pub/sub.
"""

from __future__ import annotations

import asyncio

import pytest

from switchboard.services.cache import CatalogCache

pytestmark = pytest.mark.redis



def _cache(url: str, origin: str) -> CatalogCache:
    cache = CatalogCache(origin=origin)
    cache.redis_url = url
    return cache


async def test_invalidation_reaches_the_other_process(redis_url: str) -> None:
    server_a, server_b = _cache(redis_url, "a"), _cache(redis_url, "b")
    try:
        await server_a.start_listener()
        await server_b.start_listener()
        loads = {"a": 0, "b": 0}

        async def load_a() -> int:
            loads["a"] += 1
            return loads["a"]

        assert await server_a.get("registry", load_a) == 1
        assert await server_a.get("registry", load_a) == 1  # hit
        since = server_a.version

        await server_b.invalidate()  # a write in process b
        async with asyncio.timeout(5):
            await server_a.wait_for_change(since)
        assert server_a.stats.remote_invalidations == 1
        assert await server_a.get("registry", load_a) == 2  # reloaded
        # b does not count its own message as remote
        assert server_b.stats.remote_invalidations == 0 and server_b.stats.invalidations == 1
    finally:
        await server_a.close()
        await server_b.close()


async def test_publish_failure_does_not_fail_the_write() -> None:
    cache = CatalogCache()
    cache.redis_url = "redis://127.0.0.1:1"  # nothing listens on port 1
    version = await cache.invalidate()
    assert version == 1 and cache.stats.publish_errors == 1
    await cache.close()


async def test_first_read_subscribes_automatically(redis_url: str) -> None:
    server_a, server_b = _cache(redis_url, "a"), _cache(redis_url, "b")
    try:
        calls: list[int] = []

        async def load() -> int:
            calls.append(1)
            return len(calls)

        assert await server_a.get("k", load) == 1  # subscribes before reading
        since = server_a.version
        await server_b.invalidate()
        async with asyncio.timeout(5):
            await server_a.wait_for_change(since)
        assert await server_a.get("k", load) == 2
    finally:
        await server_a.close()
        await server_b.close()


async def test_unreachable_redis_falls_back_to_the_probe() -> None:
    cache = CatalogCache(probe_interval=0)
    cache.redis_url = "redis://127.0.0.1:1"
    stamps = iter([1, 1, 2])

    async def probe() -> int:
        return next(stamps)

    async def load() -> int:
        return cache.version

    try:
        assert await cache.get("k", load, probe=probe, scope="db") == 0
        assert await cache.get("k", load, probe=probe, scope="db") == 0  # same stamp: hit
        assert await cache.get("k", load, probe=probe, scope="db") == 1  # stamp moved
        assert cache.stats.remote_invalidations == 1 and cache.stats.probes == 3
    finally:
        await cache.close()
