"""Answers in progress: saved every second by their writer, never after their final save,
and closed after a crash only when their writer is really dead (several workers share the
database) — on every backend."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from switchboard.db import Database, utcnow
from switchboard.db import models as m
from switchboard.services.answer_progress import (
    CRASHED,
    AnswerProgress,
    close_abandoned,
    new_writer_id,
)
from switchboard.services.usage import UsageRecord
from switchboard.spec import Collector, StreamStart, TextDelta, Usage

HOST = socket.gethostname()


async def _conversation(db: Database) -> tuple[int, int]:
    async with db.unit_of_work() as session:
        user = m.User(username="alice", role="user", password_hash="x")
        session.add(user)
        await session.flush()
        conversation = m.Conversation(user_id=user.id, title="t", provider="p", model="m")
        session.add(conversation)
        await session.flush()
        question = m.Message(conversation_id=conversation.id, role="user", status="complete",
                             parts=[{"type": "text", "text": "tell me a long story " * 10}])
        session.add(question)
        await session.flush()
        return conversation.id, question.id


async def _answer(db: Database, conversation_id: int, parent: int, writer: str, *,
                  text: str = "", age: float = 0.0) -> int:
    async with db.unit_of_work() as session:
        row = m.Message(conversation_id=conversation_id, role="assistant", parent_id=parent,
                        parts=[{"type": "text", "text": text}] if text else [],
                        provider="p", model="m", status="partial", error="in progress",
                        writer=writer, progress_at=utcnow() - timedelta(seconds=age))
        session.add(row)
        await session.flush()
        return row.id


def _live_process() -> subprocess.Popen[bytes]:
    """A sibling worker: another live process of this host."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def test_only_answers_of_dead_writers_are_closed(database: Database) -> None:
    conversation, question = await _conversation(database)
    me = new_writer_id()
    sibling = _live_process()
    try:
        ids = {
            "sibling worker, alive": await _answer(
                database, conversation, question, f"{HOST}:{sibling.pid}:b1", text="a"),
            "this process, another app": await _answer(
                database, conversation, question, new_writer_id(), text="b"),
            "another host, beating": await _answer(
                database, conversation, question, "elsewhere:123:b2", text="c", age=5),
            "killed here": await _answer(
                database, conversation, question, f"{HOST}:{_dead_pid()}:b3",
                text="Once upon a time, in a land far away"),
            "killed before a word": await _answer(
                database, conversation, question, f"{HOST}:{_dead_pid()}:b4"),
            "another host, silent": await _answer(
                database, conversation, question, "elsewhere:123:b5", text="d", age=120),
            "mine": await _answer(database, conversation, question, me, text="e"),
        }
        recorded: list[UsageRecord] = []
        prices: list[Usage] = []

        def price(provider: str, model: str, usage: Usage) -> Decimal:
            prices.append(usage)
            return Decimal("0.001")

        closed = await close_abandoned(database, me=me, stale_after=60, price=price,
                                       record=recorded.append)
        # closed once: a second look finds nothing more to close
        assert await close_abandoned(database, me=me, stale_after=60, price=price,
                                     record=recorded.append) == []
    finally:
        sibling.kill()
        sibling.wait()

    assert sorted(closed) == sorted([ids["killed here"], ids["killed before a word"],
                                     ids["another host, silent"]])
    async with database.session() as session:
        rows = {r.id: r for r in (await session.scalars(select(m.Message))).all()}
    for name in ("sibling worker, alive", "this process, another app",
                 "another host, beating", "mine"):
        assert rows[ids[name]].writer is not None and rows[ids[name]].error == "in progress"
    killed = rows[ids["killed here"]]
    assert (killed.status, killed.error, killed.writer) == ("partial", CRASHED, None)
    assert killed.parts == [{"type": "text", "text": "Once upon a time, in a land far away"}]
    assert killed.usage_estimated and killed.cost == Decimal("0.001")
    assert killed.output_tokens == 9  # 36 characters at ~4 per token
    assert killed.input_tokens is not None and killed.input_tokens > 50  # the question
    silent = rows[ids["killed before a word"]]
    assert (silent.status, silent.error, silent.usage_estimated) == ("error", CRASHED, False)

    assert len(recorded) == 3
    by_status = sorted((r.status, r.estimated, r.error_code) for r in recorded)
    assert by_status == [("error", False, "interrupted"), ("partial", True, "interrupted"),
                         ("partial", True, "interrupted")]


async def test_progress_is_saved_by_its_writer_and_never_after_the_final_save(
        database: Database) -> None:
    conversation, question = await _conversation(database)
    progress = AnswerProgress(database)
    answer = await _answer(database, conversation, question, progress.writer)

    async def parts() -> list[dict[str, object]]:
        async with database.session() as session:
            row = await session.get(m.Message, answer)
            assert row is not None
            return list(row.parts)

    collector = Collector()  # what ``metered`` folds the stream into
    progress.track(answer, collector)
    collector.add(StreamStart([]))
    collector.add(TextDelta("Hello"))
    assert await progress.save() == 1
    assert await parts() == [{"type": "text", "text": "Hello"}]
    assert await progress.save() == 0  # nothing new: no write
    assert await progress.save(beat=True) == 1  # the heartbeat touches it all the same

    async with database.unit_of_work() as session:  # the final save happens
        await session.execute(update(m.Message).where(m.Message.id == answer).values(
            writer=None, parts=[{"type": "text", "text": "Hello, world!"}],
            status="complete", error=None))
    collector.add(TextDelta(", world"))
    await progress.save()  # a late progress write changes nothing
    assert await parts() == [{"type": "text", "text": "Hello, world!"}]
    progress.forget(answer)
    assert await progress.save(beat=True) == 0  # the stream ended: forgotten
