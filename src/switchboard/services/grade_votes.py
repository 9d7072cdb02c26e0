"""Feedback as Bradley-Terry comparisons, written where the feedback is given (issue 16
items 5 and 6; decision 0136). ``services.grades`` fits them.

* a **thumbs up** is a win of the answer's model against the *baseline* — a virtual
  model standing for "a satisfactory answer" — and a **thumbs down** a loss; rating an
  answer again replaces its vote, a neutral rating removes it;
* a **regenerated** answer is a loss against the baseline (once per answer, however
  often it is regenerated): the user asked for another because this one did not do;
* a **side-by-side** vote between 2-4 answers to one question is a win of the chosen
  model over each other one, or a tie between every pair.

A vote takes the task type of the answer it is about (``Message.task``, written when the
turn starts by ``services.chat``; NULL on older answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services.bradley_terry import Outcome
from switchboard.services.errors import NotFound, ValidationFailed

COMPARE_MIN: Final = 2
COMPARE_MAX: Final = 4


def _ref(row: m.Message) -> str | None:
    return f"{row.provider}:{row.model}" if row.provider and row.model else None


async def record_rating(session: AsyncSession, answer: m.Message, user_id: int,
                        rating: int) -> None:
    """The vote of a thumbs up (1) or down (-1) on ``answer``; 0 takes it back."""
    await session.execute(delete(m.GradeVote).where(m.GradeVote.message_id == answer.id,
                                                    m.GradeVote.source == "rating"))
    ref = _ref(answer)
    if rating and ref:
        session.add(m.GradeVote(user_id=user_id, a=ref, b=None, source="rating", task=answer.task,
                                winner="a" if rating > 0 else "b", message_id=answer.id))


async def record_regenerate(session: AsyncSession, answer_id: int | None,
                            user_id: int) -> None:
    """An answer asked again counts against its model, once per answer."""
    if answer_id is None:
        return
    answer = await session.get(m.Message, answer_id)
    ref = _ref(answer) if answer is not None and answer.role == "assistant" else None
    if answer is None or ref is None or answer.status != "complete":
        return  # a failed answer is the error rate's business, not a vote
    seen = await session.scalar(select(m.GradeVote.id).where(
        m.GradeVote.message_id == answer_id, m.GradeVote.source == "regenerate"))
    if seen is None:
        session.add(m.GradeVote(user_id=user_id, a=ref, b=None, winner="b", task=answer.task,
                                source="regenerate", message_id=answer_id))


def comparison_votes(refs: Sequence[str], winner: int | None) -> list[tuple[str, str, Outcome]]:
    """The pairwise votes of one side-by-side choice among ``refs`` (``winner`` an index,
    None = a tie between all): the winner beats each other model; answers by the same
    model say nothing about it."""
    votes: list[tuple[str, str, Outcome]] = []
    for i, a in enumerate(refs):
        for j in range(i + 1, len(refs)):
            b = refs[j]
            if a == b:
                continue
            if winner is None:
                votes.append((a, b, "tie"))
            elif winner in (i, j):
                votes.append((a, b, "a" if winner == i else "b"))
    return votes


async def record_comparison(db: Database, user_id: int, answer_ids: Sequence[int],
                            winner_id: int | None) -> tuple[int, int]:
    """A side-by-side vote among the user's own answers to one question (siblings in the
    conversation's tree). The chosen answer becomes the conversation's answer (the others
    stay as its versions); a tie makes it the first listed — the answer shown before the
    comparison (each compared answer, written as a regenerate, moved the conversation
    on to itself while it was written). Votes are recorded once per
    comparison: voting again on the same answers replaces the earlier vote. Returns the
    conversation's id and the number of pairwise votes."""
    ids = list(dict.fromkeys(answer_ids))
    if not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
        raise ValidationFailed(f"a comparison has {COMPARE_MIN} to {COMPARE_MAX} different "
                               "answers", field="answers")
    if winner_id is not None and winner_id not in ids:
        raise ValidationFailed("the chosen answer is not one of the compared answers",
                               field="winner")
    async with db.unit_of_work() as session:
        rows = {r.id: r for r in (await session.scalars(
            select(m.Message).join(m.Conversation, m.Conversation.id == m.Message.conversation_id)
            .where(m.Message.id.in_(ids), m.Conversation.user_id == user_id))).all()}
        missing = [i for i in ids if i not in rows]
        if missing:
            raise NotFound(f"no answer {missing[0]} (it does not exist, or it is not yours)")
        answers = [rows[i] for i in ids]
        if (any(r.role != "assistant" for r in answers)
                or len({(r.conversation_id, r.parent_id) for r in answers}) != 1):
            raise ValidationFailed("only answers to the same question can be compared",
                                   field="answers")
        refs = [_ref(r) for r in answers]
        if any(ref is None for r, ref in zip(answers, refs, strict=True)):
            raise ValidationFailed("an answer without a model cannot be compared",
                                   field="answers")
        await session.execute(delete(m.GradeVote).where(
            m.GradeVote.message_id.in_(ids), m.GradeVote.source == "compare"))
        index = {r.id: k for k, r in enumerate(answers)}
        pairs = comparison_votes([ref or "" for ref in refs],
                                 None if winner_id is None else index[winner_id])
        by_ref = {ref: r.id for r, ref in zip(answers, refs, strict=True)}
        for a, b, outcome in pairs:
            session.add(m.GradeVote(user_id=user_id, a=a, b=b, winner=outcome,
                                    task=answers[0].task, source="compare",
                                    message_id=by_ref[a]))
        conversation_id = answers[0].conversation_id
        conversation = await session.get(m.Conversation, conversation_id)
        if conversation is not None:
            conversation.leaf_id = winner_id if winner_id is not None else ids[0]
    return conversation_id, len(pairs)


__all__ = ["COMPARE_MAX", "COMPARE_MIN", "comparison_votes", "record_comparison",
           "record_rating", "record_regenerate"]
