"""Suggested models for what a user is about to ask, from their OWN history (issue 16
item 4; decision 0138).

For a task type, each model the user has had answers from is scored on the user's last
``HISTORY`` answers of that type: every answer **chosen** counts one, an answer asked
again (a ``regenerate`` vote: not **kept**) takes that back, a thumbs up (**rated
well**) adds two and a thumbs down takes two, a side-by-side win adds two. The three
best with a positive score are suggested, each with its reason in words ("you chose it
9 times for code, kept 8, rated it up 2 times"). Nobody else's use enters a user's
suggestions: the leaderboard is where everyone's feedback meets.

The **hit rate** — of the turns sent while suggestions were shown, how many used one of
them — is counted per user and day (``suggestion_daily``) from what the picker reports,
and read by admins over a period (the dashboard's data).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services.auto.tasks import TASK_WORDS

HISTORY: Final = 500
"""The user's most recent answers (of the task type) read per suggestion: bounded work,
and the suggestions follow what the user does now."""
SUGGESTED: Final = 3
MAX_SHOWN_PER_DAY: Final = 5_000
"""A client cannot report more than this per user and day (the counters stay honest
enough, and the row cannot be driven to overflow)."""
PERIODS: Final = (1, 7, 30, 90)


@dataclass(frozen=True, slots=True)
class Suggestion:
    model: str
    score: float
    reason: str
    chosen: int
    kept: int
    rated_up: int
    rated_down: int
    won: int


@dataclass(slots=True)
class _Tally:
    chosen: int = 0
    regenerated: int = 0
    up: int = 0
    down: int = 0
    won: int = 0

    def score(self) -> float:
        return self.chosen - self.regenerated + 2 * (self.up - self.down + self.won)


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _reason(t: _Tally, task: str | None) -> str:
    where = f" for {TASK_WORDS.get(task, task)}" if task else ""
    parts = [f"you chose it {_times(t.chosen)}{where}"]
    if t.regenerated:
        parts.append(f"kept {t.chosen - t.regenerated}")
    if t.up:
        parts.append(f"rated it up {_times(t.up)}")
    if t.won:
        parts.append(f"preferred it side by side {_times(t.won)}")
    return ", ".join(parts)


async def suggest(db: Database, user_id: int, task: str | None,
                  usable: Container[str] | None = None) -> list[Suggestion]:
    """Up to three models for ``task`` (None: any task) from ``user_id``'s own history,
    best first; ``usable`` (the models the user can pick now) filters them."""
    conditions = [m.Conversation.user_id == user_id, m.Message.role == "assistant",
                  m.Message.provider.is_not(None), m.Message.model.is_not(None)]
    if task is not None:
        conditions.append(m.Message.task == task)
    recent = (select(m.Message.id, m.Message.provider, m.Message.model, m.Message.rating)
              .join(m.Conversation, m.Conversation.id == m.Message.conversation_id)
              .where(*conditions).order_by(m.Message.id.desc()).limit(HISTORY)
              .subquery())
    async with db.session() as session:
        rows = (await session.execute(select(recent))).all()
        ids = [r.id for r in rows]
        votes = (await session.execute(
            select(m.GradeVote.message_id, m.GradeVote.source, m.GradeVote.a,
                   m.GradeVote.b, m.GradeVote.winner)
            .where(m.GradeVote.message_id.in_(ids), m.GradeVote.user_id == user_id,
                   m.GradeVote.source.in_(("regenerate", "compare"))))).all() if ids else []
    tallies: dict[str, _Tally] = {}
    for row in rows:
        t = tallies.setdefault(f"{row.provider}:{row.model}", _Tally())
        t.chosen += 1
        t.up += row.rating == 1
        t.down += row.rating == -1
    for _, source, a, b, winner in votes:
        if source == "regenerate" and a in tallies:
            tallies[a].regenerated += 1
        elif source == "compare" and winner in ("a", "b"):
            won = a if winner == "a" else b
            if won in tallies:
                tallies[won].won += 1
    ranked = sorted(((ref, t) for ref, t in tallies.items()
                     if t.score() > 0 and (usable is None or ref in usable)),
                    key=lambda item: (-item[1].score(), item[0]))
    return [Suggestion(model=ref, score=t.score(), reason=_reason(t, task),
                       chosen=t.chosen, kept=t.chosen - t.regenerated, rated_up=t.up,
                       rated_down=t.down, won=t.won)
            for ref, t in ranked[:SUGGESTED]]


async def record_outcome(db: Database, user_id: int, day: date, *, taken: bool) -> None:
    """One turn sent while suggestions were shown; ``taken``: its model was one of them."""
    row = m.SuggestionDaily
    change = update(row).where(and_(row.day == day, row.user_id == user_id,
                                    row.shown < MAX_SHOWN_PER_DAY)).values(
        shown=row.shown + 1, taken=row.taken + (1 if taken else 0))
    for _ in range(2):  # a first report of the day races another: insert, else update
        async with db.unit_of_work() as session:
            if (await session.execute(change)).rowcount:  # type: ignore[attr-defined]
                return
            exists = await session.scalar(select(row.id).where(row.day == day,
                                                               row.user_id == user_id))
            if exists is not None:
                return  # over the day's bound
        try:
            async with db.unit_of_work() as session:
                session.add(row(day=day, user_id=user_id, shown=1, taken=int(taken)))
            return
        except IntegrityError:
            continue


async def hit_rate(db: Database, today: date, days: int) -> dict[str, Any]:
    """Suggestions shown and taken over the last ``days`` UTC days, everyone together,
    with the number of users they were shown to."""
    row = m.SuggestionDaily
    since = today - timedelta(days=days - 1)
    async with db.session() as session:
        shown, taken, users = (await session.execute(
            select(func.coalesce(func.sum(row.shown), 0), func.coalesce(func.sum(row.taken), 0),
                   func.count(func.distinct(row.user_id)))
            .where(row.day >= since, row.day <= today))).one()
    shown, taken = int(shown), int(taken)
    return {"days": days, "shown": shown, "taken": taken, "users": int(users),
            "hit_rate": round(taken / shown, 4) if shown else None}


__all__ = ["PERIODS", "Suggestion", "hit_rate", "record_outcome", "suggest"]
