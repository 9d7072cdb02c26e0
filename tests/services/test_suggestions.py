"""Suggestions from a user's own synthetic history: what they chose, kept and rated well
for a task type ranks the models; another user's history and other task types do not
count; unusable models are skipped; the hit rate's counters."""

from __future__ import annotations

from datetime import date

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import accounts
from switchboard.services.suggestions import (
    MAX_SHOWN_PER_DAY,
    _reason,
    _Tally,
    hit_rate,
    record_outcome,
    suggest,
)


async def _history(database: Database, user_id: int, answers: list[tuple[str, str, int | None,
                                                                          bool]]) -> None:
    """One conversation per answer: (ref, task, rating, regenerated)."""
    async with database.unit_of_work() as session:
        for ref, task, rating, regenerated in answers:
            provider, model = ref.split(":")
            conversation = m.Conversation(user_id=user_id, title="t")
            session.add(conversation)
            await session.flush()
            question = m.Message(conversation_id=conversation.id, role="user", parts=[])
            session.add(question)
            await session.flush()
            answer = m.Message(conversation_id=conversation.id, role="assistant", parts=[],
                               parent_id=question.id, provider=provider, model=model,
                               task=task, rating=rating)
            session.add(answer)
            await session.flush()
            if regenerated:
                session.add(m.GradeVote(user_id=user_id, a=ref, b=None, winner="b",
                                        source="regenerate", task=task,
                                        message_id=answer.id))


async def test_suggestions_follow_the_users_own_history(database: Database) -> None:
    ada = await accounts.create_user(database, "ada", "a long password 1")
    bob = await accounts.create_user(database, "bob", "a long password 2")
    await _history(database, ada.id, [
        *[("an:sonnet", "code", None, False)] * 6,   # chosen 6, kept
        ("an:sonnet", "code", 1, False),             # + rated up
        *[("oa:gpt", "code", None, True)] * 5,       # chosen 5, all asked again: 0
        *[("oa:mini", "code", None, False)] * 3,
        ("oa:mini", "code", -1, False),              # rated down: 3 + 1 - 2
        ("ge:flash", "code", 1, False),
        *[("oa:gpt", "writing", 1, False)] * 4,      # another task type
    ])
    await _history(database, bob.id, [("oa:gpt", "code", 1, False)] * 20)

    found = await suggest(database, ada.id, "code")
    assert [(s.model, s.score) for s in found] == [("an:sonnet", 9), ("ge:flash", 3),
                                                   ("oa:mini", 2)]
    assert found[0].reason == "you chose it 7 times for code, rated it up once"
    assert (found[0].chosen, found[0].kept, found[0].rated_up) == (7, 7, 1)
    writing = await suggest(database, ada.id, "writing")
    assert [s.model for s in writing] == ["oa:gpt"]
    assert writing[0].reason == "you chose it 4 times for writing, rated it up 4 times"
    # Any task: everything of the user's, still not bob's.
    assert [s.model for s in await suggest(database, ada.id, None)][:1] == ["oa:gpt"]
    # A model the user cannot pick now is skipped, and the next one moves up.
    usable = {"ge:flash", "oa:mini", "oa:gpt"}
    assert [s.model for s in await suggest(database, ada.id, "code", usable)] == [
        "ge:flash", "oa:mini"]  # oa:gpt scores 0 for code: never suggested
    assert await suggest(database, ada.id, "math") == []


async def test_hit_rate_counts_per_user_and_day(database: Database) -> None:
    ada = await accounts.create_user(database, "ada", "a long password 1")
    bob = await accounts.create_user(database, "bob", "a long password 2")
    today, earlier = date(2026, 12, 4), date(2026, 11, 20)
    for taken in (True, True, False):
        await record_outcome(database, ada.id, today, taken=taken)
    await record_outcome(database, bob.id, today, taken=False)
    await record_outcome(database, bob.id, earlier, taken=True)
    assert await hit_rate(database, today, 1) == {
        "days": 1, "shown": 4, "taken": 2, "users": 2, "hit_rate": 0.5}
    assert (await hit_rate(database, today, 30))["shown"] == 5
    empty = await hit_rate(database, date(2026, 1, 1), 7)
    assert empty["shown"] == 0 and empty["hit_rate"] is None
    # The day's counter is bounded whatever a client reports.
    async with database.unit_of_work() as session:
        row = await session.get(m.SuggestionDaily, 1)
        assert row is not None
        row.shown = MAX_SHOWN_PER_DAY
    await record_outcome(database, ada.id, today, taken=True)
    assert (await hit_rate(database, today, 1))["shown"] == MAX_SHOWN_PER_DAY + 1


def test_the_reason_names_the_task_in_words() -> None:
    assert _reason(_Tally(chosen=2, up=1), "qa") == (
        "you chose it 2 times for factual questions, rated it up once")
    assert _reason(_Tally(chosen=1), None) == "you chose it once"
