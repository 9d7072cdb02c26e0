"""Invariants the database itself enforces (so no code path can break them), on SQLite and
PostgreSQL alike: one default model, the append-only audit log, referential actions, CHECKs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from switchboard.db import Database, utcnow
from switchboard.db import models as m
from tests.db.sample import fill_every_table


async def _count(db: Database, model: type[m.Base], *where: Any) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_a_second_default_model_is_rejected(database: Database) -> None:
    async with database.unit_of_work() as session:
        session.add(m.Provider(id=1, name="p", kind="openai"))
        await session.flush()
        session.add_all([
            m.ProviderModel(provider_id=1, name="A", model_sdk_id="a", is_default=True),
            m.ProviderModel(provider_id=1, name="B", model_sdk_id="b"),
            m.ProviderModel(provider_id=1, name="C", model_sdk_id="c"),  # many non-defaults
        ])

    with pytest.raises(IntegrityError, match=r"uq_provider_models_one_default|UNIQUE"):
        async with database.unit_of_work() as session:
            await session.execute(
                update(m.ProviderModel).where(m.ProviderModel.model_sdk_id == "b")
                .values(is_default=True)
            )
    assert await _count(database, m.ProviderModel, m.ProviderModel.is_default) == 1

    # Moving the default in one transaction (unset, then set) is fine.
    async with database.unit_of_work() as session:
        await session.execute(update(m.ProviderModel).values(is_default=False))
        await session.execute(
            update(m.ProviderModel).where(m.ProviderModel.model_sdk_id == "b")
            .values(is_default=True)
        )
    async with database.session() as session:
        defaults = (await session.scalars(
            select(m.ProviderModel.model_sdk_id).where(m.ProviderModel.is_default)
        )).all()
    assert defaults == ["b"]


async def test_same_model_id_twice_for_one_provider_is_rejected(database: Database) -> None:
    async with database.unit_of_work() as session:
        session.add_all([m.Provider(id=1, name="p", kind="openai"),
                         m.Provider(id=2, name="q", kind="openai")])
        await session.flush()
        session.add_all([m.ProviderModel(provider_id=1, name="A", model_sdk_id="a"),
                         m.ProviderModel(provider_id=2, name="A", model_sdk_id="a")])
    with pytest.raises(IntegrityError, match=r"uq_provider_models_provider_id_model_sdk_id|UNIQUE"):
        async with database.unit_of_work() as session:
            session.add(m.ProviderModel(provider_id=1, name="A again", model_sdk_id="a"))


async def test_audit_log_is_append_only(database: Database) -> None:
    async with database.unit_of_work() as session:
        session.add(m.AuditLog(actor="cli", action="provider.create", details={"name": "p"}))
        session.add(m.AuditLog(actor="cli", action="provider.delete"))

    for statement in (
        update(m.AuditLog).values(action="forged"),
        delete(m.AuditLog),
        delete(m.AuditLog).where(m.AuditLog.id == 1),
    ):
        with pytest.raises(IntegrityError, match=r"audit_log is append-only"):
            async with database.unit_of_work() as session:
                await session.execute(statement)

    async with database.session() as session:
        actions = (await session.scalars(select(m.AuditLog.action).order_by(m.AuditLog.id))).all()
    assert actions == ["provider.create", "provider.delete"]


async def test_audit_log_cannot_be_truncated_on_postgres(database: Database) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite has no TRUNCATE (DELETE is covered by the trigger)")
    async with database.unit_of_work() as session:
        session.add(m.AuditLog(actor="cli", action="x"))
    with pytest.raises(IntegrityError, match=r"append-only: TRUNCATE"):
        async with database.engine.begin() as conn:
            await conn.execute(text("TRUNCATE audit_log"))
    assert await _count(database, m.AuditLog) == 1


async def test_a_provider_with_models_cannot_be_deleted(database: Database) -> None:
    async with database.unit_of_work() as session:
        await fill_every_table(session)
    with pytest.raises(IntegrityError, match=r"fk_provider_models_provider_id_providers|FOREIGN"):
        async with database.unit_of_work() as session:
            await session.execute(delete(m.Provider).where(m.Provider.id == 1))
    # Also through the ORM (the relationship must not try to orphan the models).
    with pytest.raises(IntegrityError):
        async with database.unit_of_work() as session:
            provider = await session.get(m.Provider, 1)
            await session.delete(provider)

    async with database.unit_of_work() as session:
        await session.execute(delete(m.ProviderModel).where(m.ProviderModel.provider_id == 1))
        await session.execute(delete(m.Provider).where(m.Provider.id == 1))
    assert await _count(database, m.Provider) == 0


async def test_deleting_a_conversation_deletes_its_messages(database: Database) -> None:
    async with database.unit_of_work() as session:
        await fill_every_table(session)
    assert await _count(database, m.Message) == 2
    async with database.unit_of_work() as session:
        await session.delete(await session.get(m.Conversation, 1))
    assert await _count(database, m.Message) == 0
    assert await _count(database, m.UsageEvent) == 1  # usage history is not chat history


async def test_deleting_a_user_keeps_usage_and_audit(database: Database) -> None:
    async with database.unit_of_work() as session:
        await fill_every_table(session)
    async with database.unit_of_work() as session:
        await session.execute(delete(m.User).where(m.User.id == 1))

    for gone in (m.Conversation, m.Message, m.ApiToken, m.UserPreferences):
        assert await _count(database, gone) == 0, gone.__name__
    async with database.session() as session:
        event = (await session.scalars(select(m.UsageEvent))).one()
        audit = (await session.scalars(select(m.AuditLog))).one()
    assert (event.user_id, event.api_token_id) == (None, None)
    assert (event.input_tokens, event.cost) == (10, Decimal("0.0000045"))
    assert audit.actor_user_id == 1  # a record of the past, not a live reference


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (m.Provider, {"name": "p", "kind": "openai", "status": "broken"}),
        (m.User, {"username": "u", "role": "root"}),
        (m.SetupToken, {"token_hash": "x", "purpose": "other", "expires_at": utcnow()}),
        (m.UsageEvent, {"provider": "p", "model": "x", "source": "web", "status": "ok"}),
        (m.UsageEvent, {"provider": "p", "model": "x", "source": "api", "status": "fine"}),
    ],
    ids=["provider-status", "user-role", "setup-purpose", "usage-source", "usage-status"],
)
async def test_closed_vocabularies_are_checked(
    database: Database, model: type[m.Base], values: dict[str, Any]
) -> None:
    with pytest.raises(IntegrityError, match=r"ck_|CHECK"):
        async with database.unit_of_work() as session:
            session.add(model(**values))


@pytest.mark.parametrize(
    "values",
    [{"role": "robot"}, {"status": "done"}, {"rating": 5}],
    ids=["role", "status", "rating"],
)
async def test_message_checks(database: Database, values: dict[str, Any]) -> None:
    async with database.unit_of_work() as session:
        await fill_every_table(session)
    with pytest.raises(IntegrityError, match=r"ck_messages_|CHECK"):
        async with database.unit_of_work() as session:
            session.add(m.Message(conversation_id=1, **{"role": "user", "parts": [], **values}))
    assert await _count(database, m.Message) == 2
