"""The chat services below the HTTP layer: history conversion (pure), titles, and the SQL
that differs per database — conversation search and the usage report's day buckets —
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import usage_rollup
from switchboard.services.chat import title_from
from switchboard.services.chat_history import (
    StoredMessage,
    build_history,
    dump_parts,
    reads_pdfs,
)
from switchboard.services.conversations import list_conversations, money_text
from switchboard.services.errors import ValidationFailed
from switchboard.services.usage_report import usage_report
from switchboard.spec import ImagePart, ReasoningPart, TextPart, ToolCallPart, ToolResultPart

IMAGE = ImagePart(media_type="image/png", data="aGVsbG8=")


def _row(i: int, role: str, *parts: object, status: str = "complete") -> StoredMessage:
    return StoredMessage(i, role, dump_parts(parts), status)  # type: ignore[arg-type]


def test_history_keeps_what_vendors_accept_and_warns_about_the_rest() -> None:
    rows = [
        _row(1, "user", TextPart(text="look"), IMAGE),
        _row(2, "assistant", ReasoningPart(text="hm", provider_metadata={"x": {"s": "1"}}),
             TextPart(text="a cat")),
        _row(3, "user", TextPart(text="weather?")),
        _row(4, "assistant", ToolCallPart(id="c1", name="weather", arguments="{}")),
        _row(5, "tool", ToolResultPart(tool_call_id="c1", content="sunny")),
        _row(6, "assistant", TextPart(text="sunny"),
             ToolCallPart(id="cut", name="weather", arguments='{"ci')),
        _row(7, "user", TextPart(text="again")),
        StoredMessage(8, "assistant", [], "error"),
        StoredMessage(9, "assistant", [{"type": "hologram"}], "complete"),
        _row(10, "user", TextPart(text="last")),
    ]
    history, warnings = build_history(rows, vision=False)
    assert [(msg.role, [p.type for p in msg.parts]) for msg in history] == [
        ("user", ["text"]), ("assistant", ["reasoning", "text"]), ("user", ["text"]),
        ("assistant", ["tool-call"]), ("tool", ["tool-result"]),
        ("assistant", ["text"]),  # the interrupted call is not sent
        ("user", ["text"]), ("user", ["text"]),
    ]
    assert warnings == ["message 9 could not be read and was left out",
                        "1 earlier image(s) were left out: this model does not accept images"]
    with_vision, none = build_history(rows[:2], vision=True)
    assert [p.type for p in with_vision[0].parts] == ["text", "image"] and none == []


def test_a_pdf_is_sent_whole_only_to_models_that_read_pdfs_and_only_when_short() -> None:
    pdf = {"type": "file", "media_type": "application/pdf", "data": "JVBERi0=",
           "filename": "plan.pdf", "text": "the plan", "pages": 3}
    long = {**pdf, "pages": 101}
    rows = [StoredMessage(1, "user", [{"type": "text", "text": "read"}, pdf, long],
                          "complete")]
    native, _ = build_history(rows, vision=True, pdfs=True)
    assert [p.type for p in native[0].parts] == ["text", "file", "text"]
    assert native[0].parts[1].model_dump(exclude_none=True) == {
        "type": "file", "media_type": "application/pdf", "data": "JVBERi0=",
        "filename": "plan.pdf"}
    as_text, _ = build_history(rows, vision=True)
    assert [p.type for p in as_text[0].parts] == ["text", "text", "text"]
    assert reads_pdfs("anthropic", True) and reads_pdfs("gemini", True)
    assert not reads_pdfs("openai", False) and not reads_pdfs("mistral", True)


def test_a_referenced_pdf_is_read_back_and_an_inline_one_still_works() -> None:
    """Decision 0186: a part referencing a kept file gets its bytes from ``inline``
    (without them — not read, or gone — its kept text stands for it); a row written
    before, with base64 in the part, is read as it is."""
    sha = "e" * 64
    kept = {"type": "file", "media_type": "application/pdf", "filename": "plan.pdf",
            "text": "the plan", "pages": 3, "file": {"sha256": sha, "size": 5}}
    legacy = {"type": "file", "media_type": "application/pdf", "data": "JVBERi0=",
              "filename": "old.pdf", "text": "the old plan", "pages": 1}
    rows = [StoredMessage(1, "user", [kept, legacy], "complete")]
    inline = {sha: {"media_type": "application/pdf", "data": "JVBERi0xLjc="}}
    native, _ = build_history(rows, vision=True, inline=inline, pdfs=True)
    assert [(p.type, getattr(p, "data", None)) for p in native[0].parts] == [
        ("file", "JVBERi0xLjc="), ("file", "JVBERi0=")]
    missing, warnings = build_history(rows, vision=True, inline={}, pdfs=True)
    assert [p.type for p in missing[0].parts] == ["text", "file"] and warnings == []
    assert "the plan" in missing[0].parts[0].model_dump()["text"]


def test_title_is_the_first_message_on_one_line_cut_at_a_word() -> None:
    assert title_from("  Hello\n  world ") == "Hello world"
    long = "word " * 30
    title = title_from(long)
    assert title.endswith("…") and len(title) <= 61 and "  " not in title
    assert title_from("x" * 100) == "x" * 60 + "…"


def test_money_text() -> None:
    assert money_text(None) is None
    assert money_text(Decimal("0E-10")) == "0"
    assert money_text(Decimal("0.0001230000")) == "0.000123"
    assert money_text(Decimal("100")) == "100"


async def _user(db: Database, name: str) -> int:
    async with db.unit_of_work() as session:
        user = m.User(username=name, role="user")
        session.add(user)
        await session.flush()
        return user.id


async def test_search_on_every_backend(database: Database) -> None:
    alice, bob = await _user(database, "alice"), await _user(database, "bob")
    async with database.unit_of_work() as session:
        convs = [m.Conversation(user_id=alice, title=t) for t in
                 ("Trip to Oslo", "Recipes", "Ünïcode ÉTÉ", "misc")]
        convs.append(m.Conversation(user_id=bob, title="Oslo for bob"))
        session.add_all(convs)
        await session.flush()
        session.add_all([
            m.Message(conversation_id=convs[1].id, role="user",
                      parts=dump_parts([TextPart(text='add 50% "sugar"_now')])),
            m.Message(conversation_id=convs[3].id, role="user",
                      parts=dump_parts([TextPart(text="see"), IMAGE])),
        ])
    ids = [c.id for c in convs]

    async def search(q: str) -> list[int]:
        items, _ = await list_conversations(database, alice, q=q)
        return [i.id for i in items]

    assert await search("oslo") == [ids[0]]
    assert await search('50% "sugar"_') == [ids[1]]
    assert await search("50%%") == []
    assert await search("text") == []  # a JSON key, not text
    assert await search("aGVsbG8") == []  # image data, not text
    assert await search("Ünïcode") == [ids[2]]
    items, next_before = await list_conversations(database, alice, limit=3)
    assert [i.id for i in items] == ids[3::-1][:3] and next_before == ids[1]
    assert items[0].message_count == 1
    with pytest.raises(ValidationFailed) as info:
        await list_conversations(database, alice, limit=0)
    assert info.value.field == "limit"


async def test_usage_days_are_utc_days_on_every_backend(database: Database) -> None:
    alice, bob = await _user(database, "alice"), await _user(database, "bob")

    def event(at: datetime, user: int, **kw: object) -> m.UsageEvent:
        values: dict[str, object] = {"provider": "p", "model": "m1", "source": "chat",
                                     "status": "ok", "input_tokens": 10, "output_tokens": 5,
                                     "cost": Decimal("0.25"), "latency_ms": 100, **kw}
        return m.UsageEvent(created_at=at, user_id=user, **values)

    async with database.unit_of_work() as session:
        session.add_all([
            event(datetime(2024, 3, 1, 0, 0, 0, tzinfo=UTC), alice),
            event(datetime(2024, 3, 1, 23, 59, 59, tzinfo=UTC), alice, model="m2",
                  status="error", cost=None, latency_ms=300),
            event(datetime(2024, 3, 2, 0, 0, 1, tzinfo=UTC), alice, source="api",
                  provider="q", cost=Decimal("0.5")),
            event(datetime(2024, 3, 4, 0, 0, 0, tzinfo=UTC), alice),  # after the range
            event(datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC), alice),  # before it
            event(datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC), bob, estimated=True),
        ])
    # Written past the usage recorder, which keeps the roll-ups the report reads: build
    # them from the rows, as after any bulk import (decision 0129).
    await usage_rollup.rebuild(database)
    mine = await usage_report(database, date(2024, 3, 1), date(2024, 3, 3), user_id=alice)
    assert [(d["day"], d["requests"], d["errors"], d["cost"]) for d in mine["days"]] == [
        ("2024-03-01", 2, 1, "0.25"), ("2024-03-02", 1, 0, "0.5"), ("2024-03-03", 0, 0, "0")]
    assert mine["totals"] == {"requests": 3, "errors": 1, "input_tokens": 30,
                              "output_tokens": 15, "cached_tokens": 0, "reasoning_tokens": 0,
                              "cost": "0.75", "avg_latency_ms": 167, "estimated": 0}
    assert mine["by_provider"][0]["provider"] == "p" and mine["by_provider"][0]["requests"] == 2
    assert {x["ref"]: x["cost"] for x in mine["by_model"]} == {
        "p:m1": "0.25", "p:m2": None, "q:m1": "0.5"}
    assert mine["days"][0]["by_provider"] == {"p": {
        "requests": 2, "errors": 1, "input_tokens": 20, "output_tokens": 10, "cost": "0.25",
        "avg_latency_ms": 200, "estimated": 0}}
    assert "by_user" not in mine  # only when asked for
    everyone = await usage_report(database, date(2024, 3, 1), date(2024, 3, 3), user_id=None,
                                  by_user=True)
    assert everyone["scope"] == "all" and everyone["totals"]["requests"] == 4
    assert everyone["totals"]["estimated"] == 1
    assert [(u["username"], u["requests"], u["cost"], u["estimated"])
            for u in everyone["by_user"]] == [("alice", 3, "0.75", 0), ("bob", 1, "0.25", 1)]
    with pytest.raises(ValidationFailed):
        await usage_report(database, date(2024, 3, 3), date(2024, 3, 1), user_id=None)
