"""Seeding, the formatted model registry, and the DB-backed Registry with its cache."""

from __future__ import annotations

import pytest

from switchboard.db import Database
from switchboard.registry import ProviderDisabledError
from switchboard.services import catalog
from switchboard.services.audit import SYSTEM, record
from switchboard.services.cache import CatalogCache
from switchboard.services.catalog_queries import catalog_snapshot
from switchboard.services.registry_source import DatabaseRegistry
from switchboard.services.seed import seed_catalog
from switchboard.spec import MissingApiKeyError
from tests.services.helpers import table_snapshot


async def test_seed_first_run_and_idempotent(database: Database) -> None:
    assert await seed_catalog(database) is True
    providers = {p.name: p for p in await catalog.get_providers(database)}
    assert set(providers) == {"offline", "openai", "anthropic", "mistral", "gemini"}
    assert providers["offline"].enabled
    offline = providers["offline"].models
    assert [(x.model_sdk_id, x.model_type) for x in offline] == [
        ("offline-chat", "chat"), ("offline-embed", "embedding"), ("offline-image", "image")]
    assert offline[0].is_default and not offline[1].is_default
    assert offline[1].embedding == {"dimensions": 256, "custom_dimensions": True}
    assert offline[2].image is not None and offline[2].image["default_size"] == "512x512"
    assert offline[2].image["prices"]["standard"]["256x256"] == "0"
    for name in ("openai", "anthropic", "mistral", "gemini"):
        # Enabled (no admin switched them off), not configured (no key): two states.
        assert providers[name].enabled and providers[name].models
        assert not providers[name].has_api_key
    priced = [x for x in providers["openai"].models if x.model_sdk_id == "gpt-4o-mini"]
    assert priced and priced[0].price_input is not None

    before = await table_snapshot(database)
    assert await seed_catalog(database) is False
    assert await table_snapshot(database) == before


async def test_seed_leaves_a_used_catalog_alone(sqlite_database: Database) -> None:
    await catalog.create_provider(sqlite_database, name="mine", kind="openai")
    assert await seed_catalog(sqlite_database) is False
    assert [p.name for p in await catalog.get_providers(sqlite_database)] == ["mine"]


async def test_registry_from_database(database: Database) -> None:
    await seed_catalog(database)
    registry = await catalog.load_registry(database)
    assert isinstance(registry, DatabaseRegistry)
    assert registry.default_model_ref == "offline:offline-chat"
    assert registry.resolve(None).ref == "offline:offline-chat"
    # Not configured is not disabled: it routes, and the call names the missing key.
    unconfigured = registry.resolve("openai:gpt-4o-mini")
    with pytest.raises(MissingApiKeyError, match="no API key for provider 'openai'"):
        unconfigured.chat_model()

    await catalog.update_provider(database, "openai", enabled=False)
    registry = await catalog.load_registry(database)
    with pytest.raises(ProviderDisabledError, match="'openai' was switched off"):
        registry.resolve("openai:gpt-4o-mini")

    await catalog.update_provider(database, "openai", enabled=True)
    await catalog.update_model(database, ("openai", "gpt-4o"), enabled=False)
    registry = await catalog.load_registry(database)
    resolved = registry.resolve("openai:gpt-4o-mini")
    assert resolved.price is not None and resolved.capabilities.tools
    assert "gpt-4o" not in registry.instance("openai").models  # disabled model hidden


async def test_formatted_registry_and_cache(database: Database, fresh_cache: CatalogCache) -> None:
    await seed_catalog(database)
    view = await catalog.get_formatted_model_registry(database)
    assert [p.name for p in view.providers] == [
        "anthropic", "gemini", "mistral", "offline", "openai"]
    assert view.default_model_ref == "offline:offline-chat"
    assert view.default_model_id == view.providers[3].models[0].id
    assert (fresh_cache.stats.hits, fresh_cache.stats.misses) == (0, 1)

    again = await catalog.get_formatted_model_registry(database)
    assert again is view and fresh_cache.stats.hits == 1
    registry = await catalog.load_registry(database)
    assert await catalog.load_registry(database) is registry

    version = fresh_cache.version
    await catalog.update_provider(database, "mistral", enabled=False)
    assert fresh_cache.version == version + 1
    view2 = await catalog.get_formatted_model_registry(database)
    assert [p.name for p in view2.providers] == ["anthropic", "gemini", "offline", "openai"]
    assert await catalog.load_registry(database) is not registry
    assert fresh_cache.stats.invalidations >= 2  # seed + update
    assert fresh_cache.stats.as_dict()["misses"] == 4


async def test_refused_write_does_not_invalidate(
    sqlite_database: Database, fresh_cache: CatalogCache
) -> None:
    await seed_catalog(sqlite_database)
    version = fresh_cache.version
    with pytest.raises(Exception, match="already exists"):
        await catalog.create_provider(sqlite_database, name="openai", kind="openai")
    assert fresh_cache.version == version


async def test_probe_sees_writes_of_another_process(sqlite_database: Database) -> None:
    """Without Redis, a write the cache did not see (another process) is noticed through
    the audit stamp once the probe interval has passed (0 here)."""
    cache = CatalogCache(probe_interval=0)
    from switchboard.services.cache import reset_catalog_cache

    reset_catalog_cache(cache)
    await seed_catalog(sqlite_database)
    first = await catalog.get_formatted_model_registry(sqlite_database)
    assert await catalog.get_formatted_model_registry(sqlite_database) is first
    async with sqlite_database.unit_of_work() as s:  # "another process": no invalidation
        from sqlalchemy import update

        from switchboard.db import models as m

        await s.execute(update(m.Provider).where(m.Provider.name == "gemini")
                        .values(enabled=False))
        record(s, SYSTEM, "provider.update", target_type="provider")
    view = await catalog.get_formatted_model_registry(sqlite_database)
    assert "gemini" not in [p.name for p in view.providers]
    assert cache.stats.remote_invalidations == 1 and cache.stats.probes >= 3


async def test_seed_enables_every_vendor_and_the_key_decides_configured(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11, item 1: a vendor seeded without its key is enabled-but-unconfigured and
    works the moment a key exists (environment or stored), with no enable step."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-the-environment-0000")
    await seed_catalog(sqlite_database)
    assert all(p.enabled for p in await catalog.get_providers(sqlite_database))
    snapshot = await catalog_snapshot(sqlite_database)
    configured = {e.provider.name for e in snapshot.entries if e.configured}
    assert configured == {"offline", "anthropic"}

    registry = await catalog.load_registry(sqlite_database)
    with pytest.raises(MissingApiKeyError):
        registry.resolve("openai:gpt-4o-mini").chat_model()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-from-the-environment-00")
    assert registry.resolve("openai:gpt-4o-mini").chat_model() is not None

    monkeypatch.delenv("OPENAI_API_KEY")
    await catalog.set_provider_key(sqlite_database, "openai", "sk-stored-key-0000000000")
    registry = await catalog.load_registry(sqlite_database)  # the key write invalidated it
    assert registry.resolve("openai:gpt-4o-mini").chat_model() is not None
    snapshot = await catalog_snapshot(sqlite_database)
    assert "openai" in {e.provider.name for e in snapshot.entries if e.configured}
