"""Catalog service: providers CRUD, validation, audit, and "refusal changes nothing"."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import catalog
from switchboard.services.audit import CLI, list_entries
from switchboard.services.errors import Conflict, NotFound, ValidationFailed
from tests.services.helpers import table_snapshot


async def test_create_get_update_delete(database: Database) -> None:
    created = await catalog.create_provider(database, name="work-openai", kind="openai",
                                            base_url="https://proxy.example.com/v1/",
                                            actor=CLI)
    assert created.base_url == "https://proxy.example.com/v1"
    assert created.has_api_key is False and created.api_key_masked is None
    assert created.status == "unknown" and created.models == []

    by_id = await catalog.get_provider_by_id(database, created.id)
    by_name = await catalog.get_provider_by_id(database, "work-openai")
    assert by_id == by_name
    assert [p.name for p in await catalog.get_providers(database)] == ["work-openai"]

    updated = await catalog.update_provider(database, created.id, name="openai2",
                                            enabled=False, settings={"timeout": 30},
                                            actor=CLI)
    assert (updated.name, updated.enabled, updated.settings) == ("openai2", False, {"timeout": 30})
    again = await catalog.update_provider(database, "openai2", base_url=None)
    assert again.base_url is None

    await catalog.delete_provider(database, "openai2", actor=CLI)
    with pytest.raises(NotFound, match="no provider 'openai2'"):
        await catalog.get_provider_by_id(database, "openai2")

    actions = [e.action for e in await list_entries(database, target_type="provider")]
    assert actions == ["provider.delete", "provider.update", "provider.update",
                       "provider.create"]
    entries = await list_entries(database, target_id=created.id)
    assert all(e.actor in ("cli", "system") for e in entries)


async def test_preset_fills_base_url_and_quirks(sqlite_database: Database) -> None:
    groq = await catalog.create_provider(sqlite_database, name="groq",
                                         kind="openai_compatible", preset="groq")
    assert groq.base_url == "https://api.groq.com/openai/v1"
    assert groq.settings["api_key_env"] == "GROQ_API_KEY"
    assert groq.settings["supports_developer_role"] is False


BAD_PROVIDERS: list[tuple[dict[str, object], type[Exception], str]] = [
    ({"name": "x", "kind": "nope"}, ValidationFailed, "installed kinds: "),
    ({"name": "bad name", "kind": "openai"}, ValidationFailed, "invalid provider name"),
    ({"name": "a:b", "kind": "openai"}, ValidationFailed, "invalid provider name"),
    ({"name": "x", "kind": "openai", "base_url": "ftp://x"}, ValidationFailed,
     "invalid base URL"),
    ({"name": "x", "kind": "openai", "base_url": "not a url"}, ValidationFailed,
     "invalid base URL"),
    ({"name": "x", "kind": "openai", "base_url": "https://u:p@h/v1"}, ValidationFailed,
     "contains credentials"),
    ({"name": "x", "kind": "openai", "base_url": "https://h:99999/v1"}, ValidationFailed,
     "bad port"),
    ({"name": "x", "kind": "openai_compatible"}, ValidationFailed, "--base-url"),
    ({"name": "x", "kind": "openai_compatible", "preset": "nope"}, ValidationFailed,
     "unknown preset 'nope'"),
    ({"name": "x", "kind": "openai", "settings": {"tiemout": 3}}, ValidationFailed,
     "invalid settings for kind 'openai'"),
    ({"name": "x", "kind": "openai", "settings": {"api_key": "sk-x"}}, ValidationFailed,
     "keys set"),
    ({"name": "Existing", "kind": "openai"}, Conflict, "already exists"),
]


async def test_bad_input_is_refused_and_changes_nothing(database: Database) -> None:
    await catalog.create_provider(database, name="existing", kind="anthropic")
    before = await table_snapshot(database)
    for kwargs, error, fragment in BAD_PROVIDERS:
        with pytest.raises(error) as info:
            await catalog.create_provider(database, **kwargs)  # type: ignore[arg-type]
        assert fragment in str(info.value), (kwargs, str(info.value))
        assert "sk-x" not in str(info.value)
    assert await table_snapshot(database) == before


async def test_unknown_kind_lists_installed(sqlite_database: Database) -> None:
    with pytest.raises(ValidationFailed) as info:
        await catalog.create_provider(sqlite_database, name="x", kind="openia")
    assert "openai" in str(info.value) and "anthropic" in str(info.value)


async def test_update_refusals_change_nothing(database: Database) -> None:
    a = await catalog.create_provider(database, name="a", kind="openai")
    await catalog.create_provider(database, name="b", kind="openai")
    before = await table_snapshot(database)
    with pytest.raises(Conflict, match="already exists"):
        await catalog.update_provider(database, a.id, name="B")
    with pytest.raises(ValidationFailed, match="invalid base URL"):
        await catalog.update_provider(database, a.id, base_url="nope")
    with pytest.raises(ValidationFailed, match="invalid settings"):
        await catalog.update_provider(database, a.id, settings={"max_retries": 99})
    with pytest.raises(NotFound, match="providers: a, b"):
        await catalog.update_provider(database, "c", enabled=False)
    assert await table_snapshot(database) == before


async def test_delete_refused_while_in_use_unless_cascade(database: Database) -> None:
    p = await catalog.create_provider(database, name="p", kind="openai")
    await catalog.create_model(database, p.id, "gpt-4o-mini")
    async with database.unit_of_work() as s:
        user = m.User(username="u")
        s.add(user)
        await s.flush()
        s.add(m.Conversation(user_id=user.id, provider="p", model="gpt-4o-mini"))
    before = await table_snapshot(database)
    with pytest.raises(Conflict) as info:
        await catalog.delete_provider(database, "p")
    message = str(info.value)
    assert "1 model(s) and 1 conversation(s)" in message and "--cascade" in message
    assert await table_snapshot(database) == before

    await catalog.delete_provider(database, "p", cascade=True)
    async with database.unit_of_work() as s:
        assert await s.scalar(select(func.count()).select_from(m.ProviderModel)) == 0
        assert await s.scalar(select(func.count()).select_from(m.Conversation)) == 1


async def test_provider_with_default_model_cannot_be_removed_or_disabled(
    database: Database,
) -> None:
    p = await catalog.create_provider(database, name="p", kind="openai")
    model = await catalog.create_model(database, p.id, "gpt-4o-mini")
    await catalog.set_default_model(database, model.id)
    for call in (catalog.delete_provider(database, "p", cascade=True),
                 catalog.update_provider(database, "p", enabled=False)):
        with pytest.raises(Conflict, match="set-default"):
            await call
