"""The catalog means what it says (issue 11, item 2), through the DB-backed registry:
a disabled or removed model never answers, unlisted model ids pass through only where
the provider allows it, and an unknown capability is not a "no"."""

from __future__ import annotations

import pytest

from switchboard.db import Database
from switchboard.providers.openai.models import compatible_model_info
from switchboard.registry import ModelUnavailableError
from switchboard.services import catalog
from switchboard.spec import Capabilities, UnknownModelError


async def _registry_with_lab(db: Database) -> None:
    lab = await catalog.create_provider(db, name="lab", kind="openai")
    for sdk_id in ("gpt-4o-mini", "gpt-4o"):
        await catalog.create_model(db, lab.id, sdk_id)


async def test_disabled_model_is_refused_naming_it(database: Database) -> None:
    await _registry_with_lab(database)
    await catalog.update_model(database, ("lab", "gpt-4o"), enabled=False)
    registry = await catalog.load_registry(database)
    with pytest.raises(ModelUnavailableError,
                       match=r"model 'lab:gpt-4o' is disabled by an administrator"):
        registry.resolve("lab:gpt-4o")
    # The bare id never lands on lab (another provider may offer it: the environment's).
    try:
        assert registry.resolve("gpt-4o").provider_name != "lab"
    except ModelUnavailableError as exc:
        assert "'lab:gpt-4o' is disabled" in exc.message
    assert isinstance(ModelUnavailableError("x"), UnknownModelError)  # a 404 everywhere
    assert registry.resolve("lab:gpt-4o-mini").model_id == "gpt-4o-mini"


async def test_removed_model_is_refused_even_where_unlisted_pass(database: Database) -> None:
    await _registry_with_lab(database)
    model = next(x for x in (await catalog.get_provider(database, "lab")).models
                 if x.model_sdk_id == "gpt-4o")
    await catalog.delete_model(database, model.id)
    registry = await catalog.load_registry(database)
    assert registry.instance("lab").allow_unlisted
    with pytest.raises(ModelUnavailableError, match="'lab:gpt-4o' was removed from the catalog"):
        registry.resolve("lab:gpt-4o")
    assert registry.resolve("lab:some-new-model").info is None  # unlisted: passes

    await catalog.create_model(database, "lab", "gpt-4o")  # added back on purpose
    registry = await catalog.load_registry(database)
    assert registry.resolve("lab:gpt-4o").info is not None
    assert (await catalog.get_provider(database, "lab")).removed_models == []


async def test_unlisted_models_follow_the_provider_setting(database: Database) -> None:
    await _registry_with_lab(database)
    view = await catalog.update_provider(database, "lab", allow_unlisted_models=False)
    assert view.allow_unlisted_models is False
    registry = await catalog.load_registry(database)
    with pytest.raises(ModelUnavailableError,
                       match=r"'lab:gpt-9' is not in the catalog.*accepts only the models"):
        registry.resolve("lab:gpt-9")
    assert registry.resolve("lab:gpt-4o-mini").info is not None

    await catalog.update_provider(database, "lab", allow_unlisted_models=True)
    registry = await catalog.load_registry(database)
    assert registry.resolve("lab:gpt-9").info is None


def test_a_listing_without_parameters_leaves_capabilities_unknown() -> None:
    [bare] = compatible_model_info({"data": [{"id": "llama-3.3-70b", "object": "model"}]})
    assert bare.capabilities == Capabilities(streaming=True)
    assert bare.capabilities.tools is None and bare.capabilities.vision is None
    [said] = compatible_model_info({"data": [{
        "id": "llama-3.3-70b", "supported_parameters": ["temperature"],
        "architecture": {"input_modalities": ["text"]}}]})
    assert said.capabilities.tools is False and said.capabilities.vision is False
    assert Capabilities.from_dict({"tools": None, "vision": 1}).as_dict() == {
        "streaming": None, "tools": None, "vision": True, "image_output": None,
        "json_output": None, "reasoning": None}
