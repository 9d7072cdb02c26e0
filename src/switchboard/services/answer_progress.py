"""Answers being written survive a crash: progress saved every second, and the answers of
a dead process closed with what was saved.

The final save of an answer (``services.chat``) runs however a stream ends — except when
the process is killed outright (``kill -9``, the OOM killer, a power cut). Then the
placeholder row stayed "in progress", empty, forever, and no usage was recorded. Now:

- **Who writes it.** The placeholder carries ``writer`` = ``host:pid:boot`` of the process
  streaming it (``boot`` is random per server start) and ``progress_at``; the final save
  clears ``writer``.
- **Progress.** ``AnswerProgress.track`` watches the ``Collector`` that ``metered`` folds
  the answer into (nothing added per event); every
  ``interval`` (1 s) ONE unit of work writes the parts of the answers that changed, and
  every ``heartbeat`` (10 s) touches ``progress_at`` of the rest (an answer that is only
  thinking silently is still alive). Cost: at most one short write transaction per second
  per process, whatever the number of streams. Each write is ``UPDATE … WHERE writer =
  me``: once the final save has cleared ``writer`` a late progress write changes nothing
  (PostgreSQL re-checks the condition after waiting for the row lock; SQLite serialises
  writers), so it can never overwrite a final answer.
- **Closing the abandoned.** At start-up (and every ``stale_after`` seconds after), rows
  whose writer is dead are closed with the parts saved, the reason "interrupted by a
  crash", and a usage row estimated from the prompt and those parts
  (``usage_estimate``). A writer is dead when it is a process of this host that no longer
  exists, or when it has not saved progress for ``stale_after`` (60 s; six missed
  heartbeats: the only test possible for another host). A writer of this host that is
  alive — a sibling worker — is left alone. Decision 0024.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import select, update

from switchboard.db import Database, tables, utcnow
from switchboard.db import models as m
from switchboard.registry import Registry
from switchboard.services.usage import UsageRecord
from switchboard.services.usage_estimate import estimated_usage, output_tokens
from switchboard.spec import (
    ChatRequest,
    Collector,
    ImagePart,
    Part,
    SwitchboardError,
    TextPart,
    Usage,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("switchboard.chat.progress")

_messages = tables.messages
"""Core for what every server does here (the start's search for abandoned answers, the
progress writes): an ORM query would configure all the mappers (decision 0235)."""

CRASHED = "interrupted by a crash"
CRASH_CODE = "interrupted"

Pricer = Callable[[str, str, Usage], Decimal | None]
"""(provider, model, usage) -> cost, or None when unknown."""


def registry_pricer(registry: Registry) -> Pricer:
    """Costs from the catalog's prices (None for a model no longer in the catalog)."""
    def price(provider: str, model: str, usage: Usage) -> Decimal | None:
        try:
            return registry.resolve(f"{provider}:{model}").cost(usage)
        except SwitchboardError:
            return None
    return price


def new_writer_id() -> str:
    """``host:pid:boot`` — unique per server start, and checkable on this host."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def writer_is_dead(writer: str, progress_at: datetime | None, *, me: str, now: datetime,
                   stale_after: float) -> bool:
    """Whether the process named ``writer`` can no longer finish its answer."""
    if writer == me:
        return False
    if progress_at is None or now - progress_at > timedelta(seconds=stale_after):
        return True
    # ``host:pid:boot``; a host name may itself contain ":" (an IPv6 literal).
    host, pid_text, _boot = writer.rsplit(":", 2) if writer.count(":") >= 2 else ("", "", "")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another host: only staleness tells
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # another app in this very process (tests): alive while it beats
    return not _pid_alive(pid)


@dataclass(eq=False)
class _Live:
    collector: Collector
    saved: int = 0  # how many of its events the last progress write covered


class AnswerProgress:
    """This process's answers in progress, saved every ``interval`` seconds."""

    def __init__(self, db: Database, *, interval: float = 1.0, heartbeat: float = 10.0,
                 stale_after: float = 60.0, writer: str | None = None) -> None:
        self.db = db
        self.interval = interval
        self.heartbeat = heartbeat
        self.stale_after = stale_after
        self.writer = writer or new_writer_id()
        self._live: dict[int, _Live] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self.writes = 0
        self.recover: Callable[[], Awaitable[object]] | None = None
        """Closes abandoned answers; run every ``stale_after`` seconds (set by the app)."""

    def track(self, message_id: int, collector: Collector) -> None:
        """Save the progress of answer ``message_id`` from ``collector`` — the one
        ``metered`` folds the stream into, so tracking costs nothing per event."""
        self._live[message_id] = _Live(collector)

    def forget(self, message_id: int) -> None:
        """The stream ended (its final save follows)."""
        self._live.pop(message_id, None)

    async def save(self, *, beat: bool = False) -> int:
        """Write the parts of the answers that changed (and, ``beat``, touch the others);
        returns how many rows were written."""
        changed: list[tuple[int, list[dict[str, object]]]] = []
        covered: list[tuple[_Live, int]] = []
        for message_id, live in list(self._live.items()):
            if live.collector.events != live.saved:
                # imported with the first web-chat answer, not at every start: a server
                # answering /v1 never needs the chat history's modules (decision 0221)
                from switchboard.services.chat_history import dump_parts

                covered.append((live, live.collector.events))
                # pictures (Gemini's image output) are kept by the final save only:
                # never base64 in the row, even for a second
                changed.append((message_id, dump_parts(
                    p for p in live.collector.parts() if not isinstance(p, ImagePart))))
        quiet = [i for i in self._live if i not in {c[0] for c in changed}] if beat else []
        if not changed and not quiet:
            return 0
        now = utcnow()
        c = _messages.c
        mine = c.writer == self.writer
        async with self.db.unit_of_work() as session:
            for message_id, parts in changed:
                await session.execute(update(_messages).where(c.id == message_id, mine)
                                      .values(parts=parts, progress_at=now))
            if quiet:
                await session.execute(update(_messages).where(c.id.in_(quiet), mine)
                                      .values(progress_at=now))
        for live, events in covered:  # written: a failed write is retried next tick
            live.saved = events
        self.writes += 1
        return len(changed) + len(quiet)

    # -- lifetime -----------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(),
                                                                 name="answer-progress")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + self.heartbeat
        next_recovery = loop.time() + self.stale_after
        while not self._closing.is_set():
            try:
                await asyncio.wait_for(self._closing.wait(), self.interval)
                return
            except TimeoutError:
                pass
            beat = loop.time() >= next_beat
            if beat:
                next_beat = loop.time() + self.heartbeat
            try:
                await self.save(beat=beat)
                if self.recover is not None and loop.time() >= next_recovery:
                    next_recovery = loop.time() + self.stale_after
                    await self.recover()
            except Exception:  # a busy or lost database: the next tick tries again
                log.exception("saving the progress of answers failed; will retry")

    async def close(self) -> None:
        """Stop saving (shutdown: the final saves of the answers follow)."""
        self._closing.set()
        if self._task is not None:
            await self._task
            self._task = None


# -- closing the answers of a dead process ------------------------------------------------

async def _prompt_of(session: AsyncSession, row: m.Message,
                     system: str | None) -> ChatRequest | None:
    """The request the answer was for, rebuilt from the conversation (for the estimate)."""
    # only when a dead process left an answer: not part of a start (decision 0221)
    from switchboard.services.chat_history import StoredMessage, build_history
    from switchboard.services.conversations import load_tree

    tree = await load_tree(session, row.conversation_id)
    path = tree.path(row.parent_id) if row.parent_id is not None else []
    rows = {r.id: r for r in (await session.scalars(
        select(m.Message).where(m.Message.id.in_(path)))).all()}
    stored = [StoredMessage(r.id, r.role, list(r.parts or []), r.status)
              for r in (rows[i] for i in path if i in rows)]
    history, _ = build_history(stored, vision=True)
    try:
        return ChatRequest(messages=history, system=system or None)
    except ValidationError:
        return None


def _parts(data: list[dict[str, object]]) -> list[Part]:
    from switchboard.services.chat_history import load_parts  # as above (decision 0221)

    try:
        return load_parts(data)
    except ValidationError:
        return []


async def close_abandoned(db: Database, *, me: str, stale_after: float, price: Pricer,
                          record: Callable[[UsageRecord], None]) -> list[int]:
    """Close the answers whose writer is dead; returns their ids."""
    now = utcnow()
    closed: list[int] = []
    records: list[UsageRecord] = []
    # Who is writing, in Core: at nearly every start no writer is dead, and the ORM (its
    # import and mappers, decisions 0235 and 0237) is only needed to close answers. The
    # loop below checks again, in its own transaction, that each writer is still dead.
    c = _messages.c
    async with db.transaction(read_only=True) as conn:
        dead = [row.id for row in (await conn.execute(
            select(c.id, c.writer, c.progress_at).where(c.writer.is_not(None))))
            if writer_is_dead(row.writer, row.progress_at, me=me, now=now,
                              stale_after=stale_after)]
    if not dead:
        return closed
    async with db.unit_of_work() as session:
        rows = (await session.scalars(
            select(m.Message).where(m.Message.id.in_(dead), m.Message.writer.is_not(None))
            .order_by(m.Message.id))).all()
        for row in rows:
            assert row.writer is not None
            if not writer_is_dead(row.writer, row.progress_at, me=me, now=now,
                                  stale_after=stale_after):
                continue
            conversation = await session.get(m.Conversation, row.conversation_id)
            assert conversation is not None
            parts = _parts(row.parts or [])
            said = any(not isinstance(p, TextPart) or p.text for p in parts)
            request = await _prompt_of(session, row, conversation.system_prompt)
            usage: Usage | None = None
            cost: Decimal | None = None
            if said:  # nothing produced: nothing billed (the call may never have run)
                usage = (estimated_usage(request, parts) if request is not None
                         else Usage(output_tokens=output_tokens(parts)))
                if row.provider and row.model:
                    cost = price(row.provider, row.model, usage)
            row.status = "partial" if said else "error"
            row.error = CRASHED
            row.writer = None
            if usage is not None:
                row.input_tokens = usage.input_tokens
                row.output_tokens = usage.output_tokens
                row.cost = cost
                row.usage_estimated = True
            last = row.progress_at or row.created_at
            row.latency_ms = max(0, int((last - row.created_at).total_seconds() * 1000))
            row.progress_at = now
            conversation.updated_at = now
            closed.append(row.id)
            records.append(UsageRecord(
                provider=row.provider or "unknown", model=row.model or "unknown",
                source="chat", status="partial" if said else "error",
                input_tokens=usage.input_tokens if usage else None,
                output_tokens=usage.output_tokens if usage else None, cost=cost,
                latency_ms=row.latency_ms, error_code=CRASH_CODE,
                user_id=conversation.user_id, created_at=row.created_at,
                estimated=usage is not None))
    for item in records:  # queued once the rows are closed: never counted twice
        record(item)
    if closed:
        log.warning("closed %d answer(s) left in progress by a process that died: %s",
                    len(closed), ", ".join(map(str, closed)))
    return closed
