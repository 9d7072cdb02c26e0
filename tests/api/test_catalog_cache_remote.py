"""Cached catalog responses and writes made by ANOTHER process.

The other process is real: ``switchboard providers update openai --disable`` run as a
subprocess on the same database. Its write invalidates its own cache only; the server
learns of it through the audit-stamp probe (no Redis) or Redis pub/sub, and its next
response must show the change, with a new ETag, whichever way it learnt.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from switchboard.api.app import create_app
from switchboard.config import load_settings
from switchboard.services.cache import CatalogCache, catalog_cache, reset_catalog_cache
from tests.server import _make_user, running_server

CLI = [sys.executable, "-m", "switchboard.cli.main", "providers", "update", "openai",
       "--disable"]


def registry_names(body: dict[str, object]) -> set[str]:
    providers = body["providers"]
    assert isinstance(providers, list)
    return {p["name"] for p in providers}


@pytest.fixture
def probing_cache() -> Iterator[CatalogCache]:
    """The process-wide cache, probing the audit stamp on every read (the default is at
    most every 5 s: the point here is that the probe, not time, drops the entry)."""
    yield reset_catalog_cache(CatalogCache(probe_interval=0))
    reset_catalog_cache(CatalogCache())


def test_another_process_write_without_redis(probing_cache: CatalogCache) -> None:
    with running_server() as server:
        token = server.make_user("root", "admin")
        with httpx.Client(base_url=server.url, timeout=30,
                          headers={"authorization": f"Bearer {token}"}) as http:
            before = http.get("/api/model-registry")
            assert "openai" in registry_names(before.json())  # seeded enabled
            tag = before.headers["etag"]
            assert http.get("/api/model-registry",
                            headers={"if-none-match": tag}).status_code == 304

            subprocess.run(CLI, check=True, capture_output=True, env=os.environ.copy())

            after = http.get("/api/model-registry", headers={"if-none-match": tag})
            assert after.status_code == 200 and after.headers["etag"] != tag
            assert "openai" not in registry_names(after.json())
    assert probing_cache.stats.remote_invalidations >= 1


@pytest.fixture
def redis_env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared ``redis_url``, also exported to the server and the CLI."""
    monkeypatch.setenv("SWITCHBOARD_REDIS_URL", redis_url)
    return redis_url


@pytest.mark.redis
async def test_another_process_write_through_redis(redis_env: str) -> None:
    redis_url = redis_env
    # Probing effectively never: only the Redis message can drop the cached bodies.
    cache = reset_catalog_cache(CatalogCache(probe_interval=3600))
    cache.redis_url = redis_url
    app = create_app(load_settings())
    try:
        # The app runs in this loop (its lifespan subscribes to Redis), so the test can
        # wait for the invalidation itself instead of for a guessed amount of time.
        async with app.lifespan_context(app):
            token = await _make_user(load_settings(), "root", "admin", "long password 1")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sb",
                                         headers={"authorization": f"Bearer {token}"}) as http:
                before = await http.get("/api/models")
                tag = before.headers["etag"]
                openai = next(p for p in before.json()["providers"] if p["name"] == "openai")
                assert openai["enabled"] is True
                since = cache.version

                process = await asyncio.create_subprocess_exec(
                    *CLI, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                _, err = await process.communicate()
                assert process.returncode == 0, err.decode()
                async with asyncio.timeout(10):
                    await catalog_cache().wait_for_change(since)

                after = await http.get("/api/models", headers={"if-none-match": tag})
                assert after.status_code == 200 and after.headers["etag"] != tag
                openai = next(p for p in after.json()["providers"] if p["name"] == "openai")
                assert openai["enabled"] is False
        assert cache.stats.remote_invalidations >= 1 and cache.stats.probes == 0
    finally:
        await cache.close()
        reset_catalog_cache(CatalogCache())
