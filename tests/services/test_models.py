"""Catalog service: models, prices from the pricing catalog, the one default."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import catalog
from switchboard.services.errors import Conflict, NotFound, ValidationFailed
from switchboard.services.pricing_info import builtin_models
from switchboard.services.provider_models import fill_from_info
from tests.services.helpers import table_snapshot


async def test_create_model_fills_known_prices_and_capabilities(database: Database) -> None:
    p = await catalog.create_provider(database, name="oa", kind="openai")
    known = await catalog.create_model(database, "oa", "gpt-4o-mini")
    assert known.price_input == Decimal("0.15") and known.price_output == Decimal("0.6")
    assert known.capabilities["tools"] and known.capabilities["vision"]
    assert known.context_window == 128000 and known.name != "gpt-4o-mini"

    custom = await catalog.create_model(database, p.id, "ft:gpt-4o-mini:acme", name="Acme",
                                        price_input="1.5", price_output=3)
    assert custom.name == "Acme" and custom.price_output == Decimal(3)
    assert custom.capabilities == {**{k: None for k in custom.capabilities},  # unknown
                                   "streaming": True}

    unknown = await catalog.create_model(database, p.id, "brand-new-model")
    assert unknown.price_input is None and unknown.price is None  # unknown, never zero

    listed = await catalog.get_models_by_provider_id(database, "oa")
    assert [x.model_sdk_id for x in listed] == ["gpt-4o-mini", "ft:gpt-4o-mini:acme",
                                                 "brand-new-model"]
    assert await catalog.get_model_by_id(database, known.id) == listed[0]
    assert await catalog.get_model_by_id(database, ("oa", "gpt-4o-mini")) == listed[0]


BAD_MODELS: list[tuple[str, str, dict[str, object], type[Exception], str]] = [
    ("missing", "m", {}, NotFound, "no provider 'missing'; providers: oa"),
    ("oa", "gpt-4o", {}, Conflict, "already has model 'gpt-4o'"),
    ("oa", "has space", {}, ValidationFailed, "invalid model id"),
    ("oa", "", {}, ValidationFailed, "invalid model id"),
    ("oa", "m", {"price_input": -1}, ValidationFailed, "price_input must be a price"),
    ("oa", "m", {"price_input": "abc"}, ValidationFailed, "price_input is not a number"),
    ("oa", "m", {"context_window": 0}, ValidationFailed, "positive"),
    ("oa", "m", {"capabilities": {"telepathy": True}}, ValidationFailed,
     "unknown capabilities telepathy"),
]


async def test_bad_model_input_changes_nothing(database: Database) -> None:
    await catalog.create_provider(database, name="oa", kind="openai")
    await catalog.create_model(database, "oa", "gpt-4o")
    before = await table_snapshot(database)
    for provider, model_id, kwargs, error, fragment in BAD_MODELS:
        with pytest.raises(error) as info:
            await catalog.create_model(database, provider, model_id, **kwargs)  # type: ignore[arg-type]
        assert fragment in str(info.value), (provider, model_id, str(info.value))
    assert await table_snapshot(database) == before


async def test_update_and_delete(database: Database) -> None:
    await catalog.create_provider(database, name="oa", kind="openai")
    model = await catalog.create_model(database, "oa", "gpt-4o")
    changed = await catalog.update_model(database, model.id, name="Four-O", enabled=False,
                                         price_input=None, context_window=1000)
    assert (changed.name, changed.is_enabled, changed.price_input, changed.context_window) == (
        "Four-O", False, None, 1000)
    assert changed.updated_at >= model.updated_at
    with pytest.raises(NotFound, match="has no model 'nope'"):
        await catalog.update_model(database, ("oa", "nope"), enabled=True)
    await catalog.delete_model(database, ("oa", "gpt-4o"))
    with pytest.raises(NotFound):
        await catalog.get_model_by_id(database, model.id)


async def test_default_model_rules(database: Database) -> None:
    await catalog.create_provider(database, name="a", kind="openai")
    await catalog.create_provider(database, name="b", kind="anthropic")
    first = await catalog.create_model(database, "a", "gpt-4o")
    second = await catalog.create_model(database, "b", "claude-sonnet-4-5")
    assert (await catalog.set_default_model(database, first.id)).is_default
    again = await catalog.set_default_model(database, ("a", "gpt-4o"))  # idempotent
    assert again.is_default
    now = await catalog.set_default_model(database, second.id)
    assert now.is_default and not (await catalog.get_model_by_id(database, first.id)).is_default

    before = await table_snapshot(database)
    with pytest.raises(Conflict, match="it is the default model"):
        await catalog.delete_model(database, second.id)
    with pytest.raises(Conflict, match="it is the default model"):
        await catalog.update_model(database, second.id, enabled=False)
    await_disabled = await catalog.update_model(database, first.id, enabled=False)
    assert not await_disabled.is_enabled
    with pytest.raises(Conflict, match="the model is disabled"):
        await catalog.set_default_model(database, first.id)
    assert (await table_snapshot(database))["models"] != before["models"]  # only the disable
    assert (await catalog.get_model_by_id(database, second.id)).is_default


async def test_concurrent_set_default_leaves_exactly_one(database: Database) -> None:
    await catalog.create_provider(database, name="p", kind="openai")
    ids = [(await catalog.create_model(database, "p", f"model-{i}")).id for i in range(8)]
    await asyncio.gather(*(catalog.set_default_model(database, ids[i % 8]) for i in range(32)))
    async with database.unit_of_work() as s:
        defaults = (await s.scalars(select(m.ProviderModel.id).where(
            m.ProviderModel.is_default.is_(True)))).all()
    assert len(defaults) == 1 and defaults[0] in ids


async def test_embedding_models_have_their_type(database: Database) -> None:
    await catalog.create_provider(database, name="oa", kind="openai")
    await catalog.create_provider(database, name="local", kind="openai_compatible",
                                  base_url="http://127.0.0.1:9/v1")
    known = await catalog.create_model(database, "oa", "text-embedding-3-small")
    assert known.model_type == "embedding" and known.price_input == Decimal("0.02")
    assert known.embedding == {"dimensions": 1536, "custom_dimensions": True}
    assert known.info().type == "embedding"
    named = await catalog.create_model(database, "local", "nomic-embed-text",
                                       model_type="embedding")
    assert named.model_type == "embedding" and named.embedding is None
    chat = await catalog.create_model(database, "local", "llama3")
    assert chat.model_type == "chat"
    with pytest.raises(Conflict, match="embedding model"):
        await catalog.set_default_model(database, ("oa", "text-embedding-3-small"))
    with pytest.raises(ValidationFailed, match="model_type"):
        await catalog.create_model(database, "local", "odd", model_type="vectors")
    back = await catalog.update_model(database, ("local", "nomic-embed-text"),
                                      model_type="chat")
    assert back.model_type == "chat"


def test_a_field_the_catalog_learned_is_filled_in_without_overwriting() -> None:
    """A gpt-image-1 row written before the catalog knew it edits gains ``edits`` on the
    next import; the prices the row holds (an admin's) are kept."""
    info = next(i for i in builtin_models("openai") if i.id == "gpt-image-1")
    assert info.image is not None and info.image.edits
    old = info.image.as_dict()
    del old["edits"]
    old["prices"]["medium"]["1024x1024"] = "0.05"
    row = m.ProviderModel(model_sdk_id="gpt-image-1", name="GPT Image 1", image=old,
                          capabilities={"image_output": True})
    assert fill_from_info(row, info, overwrite=False)
    assert row.image["edits"] is True and row.image["prices"]["medium"]["1024x1024"] == "0.05"
    assert not fill_from_info(row, info, overwrite=False), "a second import changes nothing"
