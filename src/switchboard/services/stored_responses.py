"""Stored answers of ``POST /v1/responses``: ``GET`` / ``DELETE /v1/responses/{id}`` and
``previous_response_id`` (issue 13, decision 0072).

OpenAI keeps a response (``store`` defaults to true) so the next request can name it
instead of resending the conversation. We keep the *neutral* conversation that led to
the answer plus the answer itself, so the next turn may go to a model of any provider,
and the response object as it was returned, for ``GET``. Per user: a response of
another user is "not found", never "forbidden" (its existence is not disclosed).

A conversation larger than ``MAX_STORED_BYTES`` as JSON (inline images count) is not
stored; the caller is told with a warning and must resend the conversation. Stored
responses are kept ``RETENTION`` (30 days, as OpenAI keeps them): each save removes the
same user's expired ones, so what a user can make the database hold is bounded by what
they can send in 30 days, with no sweeper job.

Core statements on ``db.tables`` in ``db.transaction()``: a ``/v1`` server answers
``/v1/responses`` without loading the ORM (decision 0237).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, insert, select

from switchboard.db import Database, tables
from switchboard.spec import Message

MAX_STORED_BYTES = 16 * 1024 * 1024
RETENTION = timedelta(days=30)
_MESSAGES: TypeAdapter[list[Message]] = TypeAdapter(list[Message])
_stored = tables.stored_responses
_c = _stored.c


def dump_conversation(messages: list[Message]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json", exclude_none=True) for m in messages]


def fits(conversation: list[dict[str, Any]], body: dict[str, Any]) -> bool:
    """Whether a conversation and body are small enough to store."""
    return len(orjson.dumps(conversation)) + len(orjson.dumps(body)) <= MAX_STORED_BYTES


async def save(db: Database, *, user_id: int, response_id: str, model: str,
               body: dict[str, Any], conversation: list[dict[str, Any]],
               now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    async with db.transaction() as conn:
        await conn.execute(delete(_stored).where(
            _c.user_id == user_id, _c.created_at < now - RETENTION))
        await conn.execute(insert(_stored).values(
            response_id=response_id, user_id=user_id, model=model, body=body,
            conversation=conversation, created_at=now))


def _live(now: datetime | None) -> Any:
    """Rows within the retention (an expired row not yet removed is not found)."""
    return _c.created_at >= (now or datetime.now(UTC)) - RETENTION


async def body_of(db: Database, *, user_id: int, response_id: str,
                  now: datetime | None = None) -> dict[str, Any] | None:
    """The response object, or None (unknown, expired, or another user's)."""
    async with db.transaction(read_only=True) as conn:
        found = (await conn.execute(
            select(_c.body).where(_c.response_id == response_id, _c.user_id == user_id,
                                  _live(now)))).first()
    return found[0] if found is not None else None


async def conversation_of(db: Database, *, user_id: int, response_id: str,
                          now: datetime | None = None) -> list[Message] | None:
    """The neutral conversation up to and including that answer, or None."""
    async with db.transaction(read_only=True) as conn:
        found = (await conn.execute(
            select(_c.conversation).where(
                _c.response_id == response_id,
                _c.user_id == user_id, _live(now)))).first()
    if found is None:
        return None
    try:
        return _MESSAGES.validate_python(found[0])
    except ValidationError:  # written by a version whose parts this one cannot read
        return None


async def remove(db: Database, *, user_id: int, response_id: str) -> bool:
    """Delete one stored response; False when there was none (of this user)."""
    async with db.transaction() as conn:
        result = await conn.execute(
            delete(_stored).where(_c.response_id == response_id, _c.user_id == user_id))
    return bool(getattr(result, "rowcount", 0))
