"""``search_conversations``: the user's own conversations only (another user's are never
found, whatever the query), the current conversation left out, snippets around the
match, bounded query and result count."""

from __future__ import annotations

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services.chat_history import dump_parts
from switchboard.services.principal import Principal
from switchboard.services.tools.builtin.search_conversations import SearchConversations
from switchboard.services.tools.contract import ToolContext
from switchboard.spec.messages import TextPart


async def _user(db: Database, name: str) -> int:
    async with db.unit_of_work() as session:
        user = m.User(username=name, role="user")
        session.add(user)
        await session.flush()
        return user.id


async def _conversation(db: Database, user_id: int, title: str, *texts: str) -> int:
    async with db.unit_of_work() as session:
        row = m.Conversation(user_id=user_id, title=title)
        session.add(row)
        await session.flush()
        for i, text in enumerate(texts):
            session.add(m.Message(conversation_id=row.id,
                                  role="user" if i % 2 == 0 else "assistant",
                                  parts=dump_parts([TextPart(text=text)])))
        return row.id


async def test_own_conversations_only_with_snippets(database: Database) -> None:
    alice, bob = await _user(database, "alice"), await _user(database, "bob")
    trip = await _conversation(database, alice, "Trip to Oslo",
                               "Where should we stay?",
                               "Stay near the harbour; the fjord ferry leaves at 9.")
    await _conversation(database, alice, "Recipes", "Bread with 500 g flour")
    secret = await _conversation(database, bob, "Bob's fjord plans",
                                 "My fjord password is hunter2")
    current = await _conversation(database, alice, "Now", "what did we say about the fjord?")
    tool = SearchConversations(database)
    as_alice = ToolContext(Principal(alice, "alice", "user"), conversation_id=current)

    out = await tool.run({"query": "FJORD"}, as_alice)
    assert not out.is_error
    assert out.structured is not None
    [hit] = out.structured["results"]
    assert hit["conversation_id"] == trip and hit["title"] == "Trip to Oslo"
    assert hit["snippet"] == "Stay near the harbour; the fjord ferry leaves at 9."
    assert f"[conversation {trip}] Trip to Oslo" in out.text
    assert "hunter2" not in out.text and "Bob" not in out.text

    out = await tool.run({"query": "hunter2"}, as_alice)  # bob's words: never found
    assert out.text == "No earlier conversation mentions 'hunter2'."
    as_bob = ToolContext(Principal(bob, "bob", "user"))
    out = await tool.run({"query": "fjord"}, as_bob)
    assert out.structured is not None
    assert [r["conversation_id"] for r in out.structured["results"]] == [secret]

    out = await tool.run({"query": "oslo"}, as_alice)  # a title match: no snippet needed
    assert out.structured is not None and out.structured["results"][0]["conversation_id"] == trip


async def test_bounds(sqlite_database: Database) -> None:
    alice = await _user(sqlite_database, "alice")
    for i in range(12):
        await _conversation(sqlite_database, alice, f"Note {i}", f"remember item {i}")
    tool = SearchConversations(sqlite_database)
    who = ToolContext(Principal(alice, "alice", "user"))
    out = await tool.run({"query": "remember"}, who)
    assert out.structured is not None and len(out.structured["results"]) == 5  # the default
    out = await tool.run({"query": "remember", "limit": 10}, who)
    assert out.structured is not None and len(out.structured["results"]) == 10
    for limit in (0, 500, "all", True, -1):  # out of bounds: the default
        out = await tool.run({"query": "remember", "limit": limit}, who)
        assert out.structured is not None and len(out.structured["results"]) == 5
    out = await tool.run({"query": "x" * 201}, who)
    assert out.is_error and "at most 200" in out.text
    for bad in ("", "   ", None, 42):
        assert (await tool.run({"query": bad}, who)).is_error
    out = await tool.run({"query": "100% _sure_"}, who)  # LIKE wildcards are literal
    assert not out.is_error and "No earlier conversation" in out.text
