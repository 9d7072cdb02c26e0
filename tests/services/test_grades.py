"""Grades from feedback: the baseline's scale against a hand-solved example, side-by-side
votes as pairs, a synthetic population whose ranks the fit must recover from votes
stored in the database, exclusions, Auto's view and the refit schedule."""

from __future__ import annotations

import asyncio
import math
import random

import pytest

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import accounts, audit
from switchboard.services.bradley_terry import SCALE
from switchboard.services.grade_votes import comparison_votes
from switchboard.services.grades import (
    REFIT_SECONDS,
    Leaderboard,
    grades_from,
    set_exclusions,
)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_thumbs_against_the_baseline_match_a_hand_solved_fit() -> None:
    # X got 3 thumbs up and 1 down; the baseline plays only X. With the module's prior
    # (one virtual tie each against the reference) X and the baseline sit symmetrically
    # at +t and -t, and the likelihood's gradient for X is
    #     (1 + 3) - 2 * sigmoid(t) - 4 * sigmoid(2 t) = 0,
    # solved here by bisection. X's grade is the baseline's 1000 plus SCALE * 2t.
    low, high = 0.0, 5.0
    for _ in range(200):
        t = (low + high) / 2
        if 4 - 2 * _sigmoid(t) - 4 * _sigmoid(2 * t) > 0:
            low = t
        else:
            high = t
    [x] = grades_from([("x", None, "a", 3), ("x", None, "b", 1)], bootstrap=0)
    assert x.model == "x" and (x.votes, x.wins) == (4, 3)
    assert x.grade == pytest.approx(1000 + SCALE * 2 * low, abs=1e-6)
    assert x.strength == pytest.approx(math.exp(2 * low), rel=1e-6)
    # Half up, half down: exactly as good as the baseline.
    [even] = grades_from([("y", None, "a", 5), ("y", None, "b", 5)], bootstrap=0)
    assert even.grade == pytest.approx(1000.0, abs=1e-6)


def test_a_side_by_side_choice_is_one_vote_per_pair() -> None:
    assert comparison_votes(["a:1", "b:2", "c:3"], 1) == [("a:1", "b:2", "b"),
                                                          ("b:2", "c:3", "a")]
    assert comparison_votes(["a:1", "b:2", "c:3"], None) == [
        ("a:1", "b:2", "tie"), ("a:1", "c:3", "tie"), ("b:2", "c:3", "tie")]
    # Two answers by one model say nothing about it.
    assert comparison_votes(["a:1", "a:1", "b:2"], 0) == [("a:1", "b:2", "a")]


def _synthetic(rng: random.Random, strengths: dict[str, float], pairs: int,
               thumbs: int) -> list[m.GradeVote]:
    names = list(strengths)
    rows = []
    for _ in range(pairs):
        a, b = rng.sample(names, 2)
        p_a = _sigmoid(strengths[a] - strengths[b])
        rows.append(m.GradeVote(a=a, b=b, winner="a" if rng.random() < p_a else "b",
                                source="compare", task="code"))
    for _ in range(thumbs):
        a = rng.choice(names)
        up = rng.random() < _sigmoid(strengths[a])  # the baseline has strength 0
        rows.append(m.GradeVote(a=a, b=None, winner="a" if up else "b", source="rating"))
    return rows


async def test_a_synthetic_population_is_ranked_by_its_known_strengths(
        database: Database) -> None:
    strengths = {f"p:model-{i}": s for i, s in enumerate([1.6, 0.9, 0.3, -0.2, -0.8, -1.5])}
    rng = random.Random(7)
    async with database.unit_of_work() as session:
        session.add_all(_synthetic(rng, strengths, pairs=3000, thumbs=1500))
    clock = [0.0]
    board = Leaderboard(clock=lambda: clock[0], bootstrap=40)
    await board.refresh(database)
    found = board.grades()
    assert [g.model for g in found] == list(strengths)  # best first, as drawn
    for grade in found:
        assert grade.low <= grade.grade <= grade.high
        # On the baseline's scale the fit recovers the strengths themselves.
        assert abs(math.log(grade.strength) - strengths[grade.model]) < 0.25
    # Per task: only the side-by-side votes were tagged "code".
    await board.refresh(database, "code")
    code = board.grades("code")
    assert [g.model for g in code] == list(strengths)
    assert sum(g.votes for g in code) == 2 * 3000

    # Auto's view: strengths for the refs asked about; a task without votes of its own
    # falls back to the pooled board; a model with too few votes is left out.
    assert set(board.for_task("code", ["p:model-0", "p:model-5", "q:none"])) == {
        "p:model-0", "p:model-5"}
    assert board.for_task("math", ["p:model-1"]) == {
        "p:model-1": next(g.strength for g in found if g.model == "p:model-1")}

    # An excluded model leaves the board and Auto's view (admins still see it).
    admin = await accounts.create_user(database, "boss", "a long password 1", role="admin")
    assert await set_exclusions(database, audit.Actor("boss", admin.id),
                                [" p:model-0 ", "p:model-0"]) == ["p:model-0"]
    clock[0] += 1.0
    await board.refresh(database)
    assert "p:model-0" not in [g.model for g in board.grades()]
    assert "p:model-0" in [g.model for g in board.grades(include_excluded=True)]
    assert board.for_task("code", ["p:model-0"]) == {}

    # New votes within REFIT_SECONDS of the last fit wait for the next one.
    before = board.grades(include_excluded=True)
    async with database.unit_of_work() as session:
        session.add_all(m.GradeVote(a="p:model-5", b="p:model-0", winner="a",
                                    source="compare") for _ in range(50))
    clock[0] += 1.0
    await board.refresh(database)
    assert board.grades(include_excluded=True) == before
    clock[0] += REFIT_SECONDS
    await board.refresh(database)
    assert board.grades(include_excluded=True) != before


async def test_no_votes_no_grades(database: Database) -> None:
    board = Leaderboard()
    await board.refresh(database, "code")
    assert board.grades("code") == [] and board.for_task("code", ["a:b"]) == {}


async def test_auto_reads_grades_refreshed_behind_it(database: Database) -> None:
    async with database.unit_of_work() as session:
        session.add_all(m.GradeVote(a="p:good", b="p:bad", winner="a", source="compare")
                        for _ in range(8))
    board = Leaderboard(db=database, bootstrap=10)
    assert board.for_task("code", ["p:good", "p:bad"]) == {}  # nothing fitted yet
    await asyncio.gather(*board._background)
    grades = board.for_task("code", ["p:good", "p:bad"])  # pooled: no votes tagged code
    assert grades["p:good"] > 1 > grades["p:bad"]
