"""Seeding, the formatted model registry, and the DB-backed Registry with its cache."""

from __future__ import annotations

import pytest

from switchboard.db import Database
from switchboard.registry import ProviderDisabledError
from switchboard.services import catalog
from switchboard.services.audit import SYSTEM, record
from switchboard.services.cache import CatalogCache
from switchboard.services.registry_source import DatabaseRegistry
from switchboard.services.seed import seed_catalog
from tests.services.helpers import table_snapshot


async def test_seed_first_run_and_idempotent(database: Database) -> None:
    assert await seed_catalog(database) is True
    providers = {p.name: p for p in await catalog.get_providers(database)}
    assert set(providers) == {"offline", "openai", "anthropic", "mistral", "gemini"}
    assert providers["offline"].enabled
    assert [x.model_sdk_id for x in providers["offline"].models] == ["offline-chat"]
    assert providers["offline"].models[0].is_default
    for name in ("openai", "anthropic", "mistral", "gemini"):
        assert not providers[name].enabled and providers[name].models
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
    with pytest.raises(ProviderDisabledError, match="'openai' is disabled"):
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
    assert [p.name for p in view.providers] == ["offline"]
    assert view.default_model_ref == "offline:offline-chat"
    assert view.default_model_id == view.providers[0].models[0].id
    assert (fresh_cache.stats.hits, fresh_cache.stats.misses) == (0, 1)

    again = await catalog.get_formatted_model_registry(database)
    assert again is view and fresh_cache.stats.hits == 1
    registry = await catalog.load_registry(database)
    assert await catalog.load_registry(database) is registry

    version = fresh_cache.version
    await catalog.update_provider(database, "mistral", enabled=True)
    assert fresh_cache.version == version + 1
    view2 = await catalog.get_formatted_model_registry(database)
    assert [p.name for p in view2.providers] == ["mistral", "offline"]
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
                        .values(enabled=True))
        record(s, SYSTEM, "provider.update", target_type="provider")
    view = await catalog.get_formatted_model_registry(sqlite_database)
    assert "gemini" in [p.name for p in view.providers]
    assert cache.stats.remote_invalidations == 1 and cache.stats.probes >= 3


async def test_seed_enables_a_vendor_whose_env_key_is_set(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-the-environment-0000")
    await seed_catalog(sqlite_database)
    enabled = {p.name for p in await catalog.get_providers(sqlite_database) if p.enabled}
    assert enabled == {"offline", "anthropic"}
    registry = await catalog.load_registry(sqlite_database)
    assert registry.provider("anthropic").api_key == "sk-ant-from-the-environment-0000"
    async with sqlite_database.unit_of_work() as s:
        from sqlalchemy import select

        from switchboard.db import models as m

        stored = (await s.scalars(select(m.Provider.api_key_ciphertext))).all()
    assert stored == [None] * 5  # the env key is not copied into the database
