"""Conversations and their messages: views, listing and search, rename, delete, rating.

Only the owner sees a conversation: every lookup is by ``(id, user_id)``, and another
user's conversation is "not found" (not "forbidden"), so ids cannot be probed.

Search (``q``) matches the title or the text of any message, case-insensitively, with
LIKE and the user's ``%``/``_`` escaped. Message text lives inside the ``parts`` JSON, so
the match runs over the text parts only (``json_each`` on SQLite,
``jsonb_array_elements`` on PostgreSQL): a plain LIKE over the JSON would also match keys
and base64 image data.

Messages form a tree (``services.message_tree``): a conversation shows the path to its
leaf, and each message lists its versions (itself and its siblings) so the UI can flip
between them.

A message's ``kind`` (adapter) is not stored on the row; it is read from the provider of
that name when there still is one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, PlainSerializer
from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.db import Database, utcnow
from switchboard.db import models as m
from switchboard.services import files
from switchboard.services.chat_history import text_of
from switchboard.services.errors import NotFound, ValidationFailed
from switchboard.services.file_bytes import FileRoot
from switchboard.services.grade_votes import record_rating
from switchboard.services.message_tree import MessageTree, Node

MAX_PAGE = 100
MAX_PINNED = 50
MAX_TITLE = 200


def money_text(value: Decimal | None) -> str | None:
    """A cost as a plain decimal string (``"0.000123"``, ``"0"``), or None when unknown."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


Money = Annotated[Decimal | None, PlainSerializer(money_text, return_type=str | None)]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class ConversationView(_View):
    id: int
    title: str | None
    model: str | None
    provider: str | None
    system_prompt: str | None
    tools: list[str] | None = None
    """The tools switched on in its composer (None: never chosen: the defaults)."""
    pinned: bool
    created_at: datetime
    updated_at: datetime
    message_count: int


class MessageView(_View):
    id: int
    conversation_id: int
    parent_id: int | None
    versions: list[int]
    """This message and its siblings (its other versions), oldest first."""
    role: str
    text: str
    parts: list[dict[str, Any]]
    model: str | None
    provider: str | None
    kind: str | None
    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int | None
    reasoning_tokens: int | None
    cost: Money
    usage_estimated: bool
    """The tokens and cost are Switchboard's estimate (the vendor reported none)."""
    latency_ms: int | None
    ttft_ms: int | None
    finish_reason: str | None
    status: str
    error: str | None
    rating: int | None
    created_at: datetime
    failed_models: list[dict[str, str]] = []
    """When a fallback answered: the models that failed first, in order, each
    ``{"ref": "provider:model", "code": "overloaded"}`` (the chat says "answered by X
    after Y failed")."""
    auto: dict[str, Any] | None = None
    """When the user asked Auto: what it chose and why (``task``, ``confidence``,
    ``tier``, ``model``, ``why``, ``reason``), as saved with the answer."""


def _ref(provider: str | None, model: str | None) -> str | None:
    return f"{provider}:{model}" if provider and model else None


def message_view(row: m.Message, kind: str | None,
                 versions: list[int] | None = None) -> MessageView:
    return MessageView(
        id=row.id, conversation_id=row.conversation_id, parent_id=row.parent_id,
        versions=versions if versions is not None else [row.id], role=row.role,
        text=text_of(row.parts), parts=list(row.parts or []),
        model=_ref(row.provider, row.model), provider=row.provider, kind=kind,
        input_tokens=row.input_tokens, output_tokens=row.output_tokens,
        cached_tokens=row.cached_tokens, reasoning_tokens=row.reasoning_tokens,
        cost=row.cost, usage_estimated=row.usage_estimated, latency_ms=row.latency_ms,
        ttft_ms=row.ttft_ms, finish_reason=row.finish_reason, status=row.status, error=row.error,
        rating=row.rating, created_at=row.created_at,
        failed_models=list(row.failed_models or []),
        auto=dict(row.auto) if row.auto else None,
    )


def conversation_view(row: m.Conversation, message_count: int) -> ConversationView:
    return ConversationView(
        id=row.id, title=row.title, model=_ref(row.provider, row.model),
        provider=row.provider, system_prompt=row.system_prompt,
        tools=list(row.tools) if isinstance(row.tools, list) else None,
        pinned=row.pinned_at is not None,
        created_at=row.created_at, updated_at=row.updated_at,
        message_count=message_count,
    )


# -- lookups ------------------------------------------------------------------------------

def _count_messages() -> Any:
    return (select(func.count()).where(m.Message.conversation_id == m.Conversation.id)
            .correlate(m.Conversation).scalar_subquery())


async def owned_conversation(session: AsyncSession, user_id: int,
                             conversation_id: int) -> m.Conversation:
    row = await session.scalar(select(m.Conversation).where(
        m.Conversation.id == conversation_id, m.Conversation.user_id == user_id))
    if row is None:
        raise NotFound(f"no conversation {conversation_id} (it does not exist, or it is "
                       "not yours); GET /api/conversations lists yours")
    return row


async def load_conversation_view(session: AsyncSession, row: m.Conversation) -> ConversationView:
    count = await session.scalar(select(func.count()).select_from(m.Message)
                                 .where(m.Message.conversation_id == row.id))
    return conversation_view(row, int(count or 0))


async def load_tree(session: AsyncSession, conversation_id: int) -> MessageTree:
    rows = await session.execute(select(m.Message.id, m.Message.parent_id)
                                 .where(m.Message.conversation_id == conversation_id))
    return MessageTree(Node(id_, parent) for id_, parent in rows.all())


async def load_message_views(session: AsyncSession, conversation_id: int,
                             ids: list[int] | None = None, *,
                             leaf_id: int | None = None) -> list[MessageView]:
    """The messages ``ids``, or (None) the branch that ends at ``leaf_id``, in order."""
    tree = await load_tree(session, conversation_id)
    wanted = ids if ids is not None else tree.path(leaf_id)
    if not wanted:
        return []
    query = (select(m.Message, m.Provider.kind)
             .outerjoin(m.Provider, m.Provider.name == m.Message.provider)
             .where(m.Message.conversation_id == conversation_id, m.Message.id.in_(wanted)))
    found = {row.id: (row, kind) for row, kind in (await session.execute(query)).all()}
    return [message_view(*found[i], tree.versions(i)) for i in wanted if i in found]


async def owned_answer(db: Database, user_id: int,
                       message_id: int) -> tuple[MessageView, ConversationView]:
    """An answer of ``user_id``'s, as saved, with its conversation (NotFound otherwise:
    another user's answer does not exist for this one)."""
    async with db.unit_of_work(read_only=True) as session:
        row = await session.scalar(
            select(m.Message)
            .join(m.Conversation, and_(m.Conversation.id == m.Message.conversation_id,
                                       m.Conversation.user_id == user_id))
            .where(m.Message.id == message_id, m.Message.role == "assistant"))
        if row is None:
            raise NotFound(f"no answer {message_id} (it does not exist, or it is not yours)")
        conversation = await session.get(m.Conversation, row.conversation_id)
        assert conversation is not None
        view = (await load_message_views(session, row.conversation_id, [row.id]))[0]
        return view, await load_conversation_view(session, conversation)


# -- list and search ------------------------------------------------------------------------

def _like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _message_text_matches(dialect: str, pattern: str) -> ColumnElement[bool]:
    """EXISTS a message of the conversation with a text part matching ``pattern``."""
    text_value: ColumnElement[Any]
    if dialect == "postgresql":
        element = func.jsonb_array_elements(m.Message.parts).table_valued("value").alias("part")
        text_value = element.c.value.op("->>")(literal_column("'text'"))
    else:
        element = func.json_each(m.Message.parts).table_valued("value").alias("part")
        text_value = func.json_extract(element.c.value, "$.text")
    return exists(
        select(1).select_from(m.Message).join(element, true())
        .where(m.Message.conversation_id == m.Conversation.id,
               text_value.ilike(pattern, escape="\\"))
    ).correlate(m.Conversation)


async def list_conversations(db: Database, user_id: int, *, limit: int = 30,
                             before: int | None = None,
                             q: str | None = None) -> tuple[list[ConversationView], int | None]:
    """The user's conversations: on the first page the pinned ones first (most recently
    pinned on top; at most ``MAX_PINNED``, so the page may hold that many more than
    ``limit``), then the others newest first, ``limit`` at a time; ``next_before`` is the
    cursor for the next page of unpinned ones (None on the last page)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    base = (select(m.Conversation, _count_messages().label("n"))
            .where(m.Conversation.user_id == user_id))
    if q and q.strip():
        pattern = _like_pattern(q.strip())
        base = base.where(or_(
            m.Conversation.title.ilike(pattern, escape="\\"),
            _message_text_matches(db.engine.dialect.name, pattern),
        ))
    rest = (base.where(m.Conversation.pinned_at.is_(None))
            .order_by(m.Conversation.id.desc()).limit(limit + 1))
    if before is not None:
        rest = rest.where(m.Conversation.id < before)
    async with db.session() as session:
        pinned = [] if before is not None else (await session.execute(
            base.where(m.Conversation.pinned_at.is_not(None))
            .order_by(m.Conversation.pinned_at.desc(), m.Conversation.id.desc())
            .limit(MAX_PINNED))).all()
        rows = (await session.execute(rest)).all()
    items = [conversation_view(row, int(n or 0)) for row, n in rows[:limit]]
    next_before = items[-1].id if len(rows) > limit else None
    return [conversation_view(row, int(n or 0)) for row, n in pinned] + items, next_before


# -- one conversation -----------------------------------------------------------------------

async def get_conversation(db: Database, user_id: int,
                           conversation_id: int) -> tuple[ConversationView, list[MessageView]]:
    async with db.session() as session:
        row = await owned_conversation(session, user_id, conversation_id)
        messages = await load_message_views(session, row.id, leaf_id=row.leaf_id)
        count = await session.scalar(select(func.count()).select_from(m.Message)
                                     .where(m.Message.conversation_id == row.id))
    return conversation_view(row, int(count or 0)), messages


async def show_version(db: Database, user_id: int, conversation_id: int,
                       message_id: int) -> tuple[ConversationView, list[MessageView]]:
    """Show ``message_id`` (one version of a message) and its newest continuation."""
    async with db.unit_of_work() as session:
        row = await owned_conversation(session, user_id, conversation_id)
        tree = await load_tree(session, row.id)
        if message_id not in tree:
            raise NotFound(f"conversation {conversation_id} has no message {message_id}")
        row.leaf_id = tree.newest_leaf_below(message_id)
        await session.flush()
    return await get_conversation(db, user_id, conversation_id)


def clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise ValidationFailed("title must not be empty", field="title")
    if len(title) > MAX_TITLE:
        raise ValidationFailed(f"title is longer than {MAX_TITLE} characters", field="title")
    return title


MAX_SYSTEM_PROMPT = 200_000
MAX_TOOLS = 64
MAX_TOOL_NAME = 200
"""A conversation's remembered tools: as many names as a turn takes (the toolbox's
``MAX_TOOLS_PER_TURN``), each as long as a tool's name may be."""


def remembered_tools(names: list[str]) -> list[str]:
    """The tools to remember for a conversation: in order, once each, bounded. Not
    checked against the toolbox: a tool that goes away is simply not offered by the
    composer (and a turn naming it is refused then, with its name)."""
    if len(names) > MAX_TOOLS:
        raise ValidationFailed(f"at most {MAX_TOOLS} tools", field="tools")
    if any(not isinstance(n, str) or not n or len(n) > MAX_TOOL_NAME for n in names):
        raise ValidationFailed(f"a tool name is text of 1 to {MAX_TOOL_NAME} characters",
                               field="tools")
    return list(dict.fromkeys(names))


async def update_conversation(db: Database, user_id: int, conversation_id: int, *,
                              title: str | None = None,
                              system_prompt: str | None = None,
                              clear_system_prompt: bool = False,
                              pinned: bool | None = None,
                              tools: list[str] | None = None) -> ConversationView:
    """Rename, and/or set this conversation's own system prompt (an empty one, or
    ``clear_system_prompt``, goes back to the user's preference), and/or pin or unpin it
    (at most ``MAX_PINNED`` pinned per user, so the first page of the list stays bounded),
    and/or remember the tools switched on in its composer."""
    clean = clean_title(title) if title is not None else None
    kept_tools = remembered_tools(tools) if tools is not None else None
    if system_prompt is not None and len(system_prompt) > MAX_SYSTEM_PROMPT:
        raise ValidationFailed(f"the system prompt is longer than {MAX_SYSTEM_PROMPT} "
                               "characters", field="system_prompt")
    async with db.unit_of_work() as session:
        row = await owned_conversation(session, user_id, conversation_id)
        if clean is not None:
            row.title = clean
        if clear_system_prompt:
            row.system_prompt = None
        elif system_prompt is not None:
            row.system_prompt = system_prompt if system_prompt.strip() else None
        if kept_tools is not None:
            row.tools = kept_tools
        if pinned is False:
            row.pinned_at = None
        elif pinned and row.pinned_at is None:
            count = await session.scalar(select(func.count()).select_from(m.Conversation).where(
                m.Conversation.user_id == user_id, m.Conversation.pinned_at.is_not(None)))
            if int(count or 0) >= MAX_PINNED:
                raise ValidationFailed(f"at most {MAX_PINNED} conversations can be pinned: "
                                       "unpin one first", field="pinned")
            row.pinned_at = utcnow()
        await session.flush()
        return await load_conversation_view(session, row)


async def delete_conversation(db: Database, user_id: int, conversation_id: int,
                              data_dir: FileRoot | None = None) -> None:
    """Delete a conversation and (by the database's CASCADE) its messages; with the file
    store's root, then the files it named that no other message of the owner's names
    (``files.forget``, decision 0141)."""
    async with db.unit_of_work() as session:
        row = await owned_conversation(session, user_id, conversation_id)
        named: set[str] = set()
        for parts in (await session.scalars(select(m.Message.parts).where(
                m.Message.conversation_id == row.id))).all():
            named.update(files.SHA256_IN_TEXT.findall(orjson.dumps(parts).decode()))
        await session.execute(delete(m.Conversation).where(m.Conversation.id == row.id))
    if data_dir is not None:
        await files.forget(db, data_dir, user_id, named)


async def rate_message(db: Database, user_id: int, message_id: int,
                       rating: int) -> MessageView:
    if rating not in (-1, 0, 1):
        raise ValidationFailed("rating must be -1, 0 or 1", field="rating")
    async with db.unit_of_work() as session:
        row = await session.scalar(
            select(m.Message)
            .join(m.Conversation, and_(m.Conversation.id == m.Message.conversation_id,
                                       m.Conversation.user_id == user_id))
            .where(m.Message.id == message_id))
        if row is None:
            raise NotFound(f"no message {message_id} (it does not exist, or it is not yours)")
        if row.role != "assistant":
            raise ValidationFailed(f"message {message_id} is not an answer: only assistant "
                                   "messages can be rated", field="rating")
        row.rating = rating
        await record_rating(session, row, user_id, rating)  # the grades' vote, same commit
        await session.flush()
        return (await load_message_views(session, row.conversation_id, [row.id]))[0]
