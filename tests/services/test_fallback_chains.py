"""A model's fallback chain in the catalog: checked when set, audited, carried into the
registry the router reads (services.fallback_chains, decision 0064)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import catalog
from switchboard.services.errors import ValidationFailed
from switchboard.services.registry_source import build_registry


async def _catalog(database: Database) -> None:
    await catalog.create_provider(database, name="oa", kind="openai")
    await catalog.create_provider(database, name="an", kind="anthropic",
                                  allow_unlisted_models=False)
    for model_id in ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "text-embedding-3-small"):
        await catalog.create_model(database, "oa", model_id)
    await catalog.create_model(database, "an", "claude-sonnet-4-5")
    await catalog.create_model(database, "an", "claude-haiku-4-5", enabled=False)


async def test_a_chain_is_stored_in_order_audited_and_reaches_the_registry(
        database: Database) -> None:
    await _catalog(database)
    view = await catalog.update_model(database, ("oa", "gpt-4o"),
                                      fallbacks=["an:claude-sonnet-4-5", " oa:gpt-4o-mini"])
    assert view.fallbacks == ("an:claude-sonnet-4-5", "oa:gpt-4o-mini")
    registry = await build_registry(database)
    primary = registry.resolve("oa:gpt-4o")
    assert registry.fallbacks_of(primary) == ("an:claude-sonnet-4-5", "oa:gpt-4o-mini")
    assert registry.fallbacks_of(registry.resolve("oa:gpt-4o-mini")) == ()
    async with database.session() as session:
        audit = (await session.scalars(select(m.AuditLog).where(
            m.AuditLog.action == "model.fallbacks"))).all()
    assert [a.details["fallbacks"] for a in audit] == [
        ["an:claude-sonnet-4-5", "oa:gpt-4o-mini"]]

    # the same chain again: nothing written; [] clears it
    await catalog.update_model(database, ("oa", "gpt-4o"),
                               fallbacks=["an:claude-sonnet-4-5", "oa:gpt-4o-mini"])
    cleared = await catalog.update_model(database, ("oa", "gpt-4o"), fallbacks=[])
    assert cleared.fallbacks == ()
    async with database.session() as session:
        count = len((await session.scalars(select(m.AuditLog).where(
            m.AuditLog.action == "model.fallbacks"))).all())
    assert count == 2


BAD_CHAINS: list[tuple[list[str], str]] = [
    (["gpt-4o-mini"], "write it as provider:model"),
    (["oa:"], "write it as provider:model"),
    (["oa:gpt 4o"], "write it as provider:model"),
    (["nope:gpt-4o"], "there is no provider 'nope'"),
    (["oa:gpt-4o"], "cannot be its own fallback"),
    (["oa:gpt-4.1", "oa:gpt-4.1"], "named twice"),
    (["an:claude-haiku-4-5"], "that model is disabled"),
    (["an:claude-opus-9"], "has no such model in its catalog"),  # unlisted not allowed
    (["oa:text-embedding-3-small"], "is not a chat model (its type is embedding)"),
    ([f"oa:m{i}" for i in range(6)], "at most 5 fallbacks"),
]


@pytest.mark.parametrize(("chain", "fragment"), BAD_CHAINS)
async def test_a_bad_chain_is_refused_and_changes_nothing(
        database: Database, chain: list[str], fragment: str) -> None:
    await _catalog(database)
    await catalog.update_model(database, ("oa", "gpt-4o"), fallbacks=["oa:gpt-4.1"])
    with pytest.raises(ValidationFailed) as info:
        await catalog.update_model(database, ("oa", "gpt-4o"), fallbacks=chain)
    assert fragment in info.value.message and info.value.field == "fallbacks"
    assert (await catalog.get_model_by_id(database, ("oa", "gpt-4o"))).fallbacks == (
        "oa:gpt-4.1",)


async def test_an_unlisted_model_of_an_open_provider_may_be_a_fallback(
        database: Database) -> None:
    await _catalog(database)
    view = await catalog.update_model(database, ("oa", "gpt-4o"), fallbacks=["oa:o3"])
    assert view.fallbacks == ("oa:o3",)
    await catalog.delete_model(database, ("oa", "gpt-4.1"))  # removed: refused from now on
    with pytest.raises(ValidationFailed, match="no such model"):
        await catalog.update_model(database, ("oa", "gpt-4o"), fallbacks=["oa:gpt-4.1"])
