"""Stored responses: per user, kept 30 days, expired ones removed by the next save."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from switchboard.db import Database
from switchboard.db.models import StoredResponse, User
from switchboard.services import stored_responses as store
from switchboard.spec import Message


async def _user(db: Database, name: str) -> int:
    async with db.unit_of_work() as session:
        user = User(username=name, role="user")
        session.add(user)
        await session.flush()
        return user.id


async def test_per_user_and_kept_for_the_retention(database: Database) -> None:
    db = database
    ada, bob = await _user(db, "ada"), await _user(db, "bob")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    conversation = store.dump_conversation([Message.user("Hi"), Message.assistant("Hello")])
    await store.save(db, user_id=ada, response_id="resp_old", model="m", body={"id": "old"},
                     conversation=conversation, now=t0)
    assert await store.body_of(db, user_id=ada, response_id="resp_old",
                               now=t0 + timedelta(days=29)) == {"id": "old"}
    assert await store.body_of(db, user_id=bob, response_id="resp_old", now=t0) is None
    history = await store.conversation_of(db, user_id=ada, response_id="resp_old", now=t0)
    assert history is not None and [m.text for m in history] == ["Hi", "Hello"]
    later = t0 + store.RETENTION + timedelta(seconds=1)
    assert await store.body_of(db, user_id=ada, response_id="resp_old", now=later) is None
    await store.save(db, user_id=bob, response_id="resp_bob", model="m", body={},
                     conversation=conversation, now=later)
    await store.save(db, user_id=ada, response_id="resp_new", model="m", body={},
                     conversation=conversation, now=later)
    async with db.unit_of_work(read_only=True) as session:
        ids = (await session.execute(select(StoredResponse.response_id))).scalars().all()
    assert sorted(ids) == ["resp_bob", "resp_new"]  # ada's expired one went with her save
    assert await store.remove(db, user_id=bob, response_id="resp_new") is False
    assert await store.remove(db, user_id=ada, response_id="resp_new") is True
