"""Grades per (model, task type) learned from feedback (issue 16 item 5; decisions
0136-0138).

Every piece of feedback is one Bradley-Terry comparison in ``grade_votes``
(``services.grade_votes``, decision 0136); thumbs and regenerations compare a model with
the *baseline*, a virtual model standing for "a satisfactory answer".

The fit (``services.bradley_terry``, decision 0135) takes the votes folded per (task,
a, b, winner) by one grouped read — O(cells), not O(votes) — and reports each model's
grade relative to the baseline: 1000 is "as good as a satisfactory answer", +400 means
10:1 odds of a better answer (decision 0137). Error rate, latency and cost are not
votes: they come from the usage roll-ups and are shown beside the grade.

Fits are cached per task type and redone when the votes changed (their count and
newest id), at most once per ``REFIT_SECONDS`` — in a worker thread, because a fit with
its bootstrap takes a good fraction of a second with 20 models (``bench/grades.py``).
A vote's task type is its answer's (``messages.task``: the question classified when the
turn started; NULL on older answers); the leaderboard's ``all`` pools every vote.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import delete, func, select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import audit, usage_rollup
from switchboard.services.auto.tasks import TASK_TYPES
from switchboard.services.bradley_terry import BASE, SCALE, PairCounts, Rating, Vote, fit
from switchboard.services.errors import ValidationFailed

_log = logging.getLogger("switchboard.grades")

ALL: Final = "all"
"""The leaderboard over every vote, whatever its task type (and untagged ones)."""
BASELINE: Final = ""
"""The virtual "satisfactory answer" thumbs and regenerations are compared with (no
model ref is empty)."""
BOOTSTRAP: Final = 200
"""Resamples per fit: a 95% interval's ends move by well under its width between seeds."""
SEED: Final = 16
REFIT_SECONDS: Final = 5.0
"""Bound on how often votes arriving one by one cause a refit."""
MAX_MODELS: Final = 60
"""Most-voted models fitted per task (the fit's Newton step is cubic in models)."""
MIN_VOTES_FOR_AUTO: Final = 5
"""Auto only trusts a grade with at least this many votes."""
USAGE_DAYS: Final = 30
"""Error rate, latency and cost beside a grade: the last 30 days."""
MAX_EXCLUSIONS: Final = 500


def check_task(task: str) -> str:
    if task != ALL and task not in TASK_TYPES:
        raise ValidationFailed(f"unknown task type {task[:40]!r}: one of {ALL}, "
                               f"{', '.join(TASK_TYPES)}", field="task")
    return task


# -- exclusions -----------------------------------------------------------------------------

async def excluded_models(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.scalars(
            select(m.GradeExclusion.model).order_by(m.GradeExclusion.model))).all())


async def set_exclusions(db: Database, actor: audit.Actor, models: Iterable[str]) -> list[str]:
    """Replace the excluded models (audited). A ref need not be in the catalog: a model
    removed from it keeps its votes, and may still be excluded."""
    wanted = sorted({x.strip() for x in models if x.strip()})
    if len(wanted) > MAX_EXCLUSIONS:
        raise ValidationFailed(f"at most {MAX_EXCLUSIONS} excluded models", field="models")
    async with db.unit_of_work() as session:
        before = set((await session.scalars(select(m.GradeExclusion.model))).all())
        await session.execute(delete(m.GradeExclusion))
        session.add_all(m.GradeExclusion(model=ref) for ref in wanted)
        if before != set(wanted):
            audit.record(session, actor, "leaderboard.exclusions", target_type="leaderboard",
                         details={"added": sorted(set(wanted) - before),
                                  "removed": sorted(before - set(wanted))})
    return wanted


# -- the leaderboard ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Grade:
    model: str
    grade: float
    """Elo-like, relative to the baseline (1000 = as good as a satisfactory answer)."""
    low: float
    high: float
    votes: float
    wins: float

    @property
    def strength(self) -> float:
        """The Bradley-Terry strength against the baseline (a ratio scale: what Auto
        divides by a price)."""
        return math.exp((self.grade - BASE) / SCALE)


def grades_from(cells: Iterable[tuple[str, str | None, str, int]], *,
                bootstrap: int = BOOTSTRAP, seed: int = SEED,
                max_models: int = MAX_MODELS) -> list[Grade]:
    """Grades from folded votes ``(a, b or None for the baseline, winner, count)``, best
    first. Pure and CPU-bound: the caller runs it in a thread."""
    cells = list(cells)
    played: dict[str, float] = {}
    for a, b, _, n in cells:
        for ref in (a, b):
            if ref:
                played[ref] = played.get(ref, 0.0) + n
    kept = set(sorted(played, key=lambda r: (-played[r], r))[:max_models])
    counts = PairCounts[str]()
    for a, b, winner, n in cells:
        b_key = b or BASELINE
        if a in kept and (b_key == BASELINE or b_key in kept) and winner in ("a", "b", "tie"):
            counts.add(Vote(a, b_key, winner, float(n)))  # type: ignore[arg-type]
    ratings: list[Rating[str]] = fit(counts, bootstrap=bootstrap, seed=seed)
    baseline = next((r for r in ratings if r.model == BASELINE), None)
    shift = BASE - baseline.rating if baseline is not None else 0.0
    return [Grade(r.model, r.rating + shift, r.low + shift, r.high + shift, r.votes, r.wins)
            for r in ratings if r.model != BASELINE]


@dataclass(slots=True)
class _Fitted:
    signature: tuple[int, int]
    grades: list[Grade]
    fitted_at: datetime
    fitted_clock: float


@dataclass(slots=True)
class Leaderboard:
    """The fitted grades per task type, refitted when the votes change. Also what Auto
    consults (``for_task``: the ``Grades`` protocol of ``services.auto.picker``)."""

    clock: Callable[[], float] = time.monotonic
    bootstrap: int = BOOTSTRAP
    db: Database | None = None
    """Given, Auto's reads (``for_task``) refresh the pooled board in the background."""
    _background: set[asyncio.Task[None]] = field(default_factory=set)
    _fits: dict[str, _Fitted] = field(default_factory=dict)
    _checked: dict[str, float] = field(default_factory=dict)
    _excluded: frozenset[str] = frozenset()
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def refresh(self, db: Database, task: str = ALL, *,
                      check_every: float = 0.0) -> None:
        """Refit ``task``'s grades if its votes changed: the change is looked for at most
        once per ``check_every`` seconds (Auto, on every turn, passes ``REFIT_SECONDS``;
        a leaderboard read looks every time), and a refit happens at most once per
        ``REFIT_SECONDS`` per task (a stream of votes does not make every read a fit:
        the board is then at most that many seconds behind)."""
        check_task(task)
        now = self.clock()
        if now - self._checked.get(task, -math.inf) < check_every:
            return
        async with self._lock:
            self._excluded = frozenset(await excluded_models(db))
            where = [] if task == ALL else [m.GradeVote.task == task]
            known = self._fits.get(task)
            async with db.session() as session:
                count, newest = (await session.execute(
                    select(func.count(), func.max(m.GradeVote.id)).where(*where))).one()
                signature = (int(count or 0), int(newest or 0))
                due = known is None or now - known.fitted_clock >= REFIT_SECONDS
                if known is None or (known.signature != signature and due):
                    cells = (await session.execute(
                        select(m.GradeVote.a, m.GradeVote.b, m.GradeVote.winner, func.count())
                        .where(*where)
                        .group_by(m.GradeVote.a, m.GradeVote.b, m.GradeVote.winner))).all()
                    grades = await asyncio.to_thread(
                        grades_from, [(a, b, w, int(n)) for a, b, w, n in cells],
                        bootstrap=self.bootstrap)
                    self._fits[task] = _Fitted(signature, grades, datetime.now(UTC),
                                               self.clock())
            self._checked[task] = self.clock()

    def grades(self, task: str = ALL, *, include_excluded: bool = False) -> list[Grade]:
        fitted = self._fits.get(task)
        found = fitted.grades if fitted else []
        return found if include_excluded else [g for g in found
                                               if g.model not in self._excluded]

    def excluded(self) -> frozenset[str]:
        return self._excluded

    def vote_count(self, task: str = ALL) -> int:
        """Votes in the last fit (a comparison of three answers is three votes)."""
        fitted = self._fits.get(task)
        return fitted.signature[0] if fitted else 0

    def fitted_at(self, task: str = ALL) -> datetime | None:
        fitted = self._fits.get(task)
        return fitted.fitted_at if fitted else None

    def for_task(self, task: str, refs: Sequence[str]) -> Mapping[str, float]:
        """Auto's view: strengths (ratio scale, 1 = the baseline) of ``refs`` with enough
        votes for ``task``, from the last fit; the pooled grades while the task has none
        of its own (votes are not tagged with a task type until the classifier is in)."""
        self._refresh_behind(task)
        wanted = set(refs)
        for board in (task, ALL):
            found = {g.model: g.strength for g in self.grades(board)
                     if g.model in wanted and g.votes >= MIN_VOTES_FOR_AUTO}
            if found:
                return found
        return {}


    def _refresh_behind(self, task: str) -> None:
        """Auto asks synchronously, from the last fit; a refresh (a cheap check at most
        every ``REFIT_SECONDS``, a refit when votes changed) runs behind it, so the first
        turns after a start decide without grades and later ones with them."""
        if self.db is None or self._lock.locked():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        boards = [ALL] if task == ALL or task not in TASK_TYPES else [task, ALL]
        job = loop.create_task(self._refresh_quietly(self.db, boards))
        self._background.add(job)
        job.add_done_callback(self._background.discard)

    async def _refresh_quietly(self, db: Database, boards: Sequence[str]) -> None:
        try:
            for board in boards:
                await self.refresh(db, board, check_every=REFIT_SECONDS)
        except Exception:  # a busy database must not fail a turn that asked for grades
            _log.warning("grades: background refresh failed", exc_info=True)


# -- usage beside the grades ----------------------------------------------------------------

async def usage_by_model(db: Database, today: date,
                         days: int = USAGE_DAYS) -> dict[str, dict[str, Any]]:
    """Per model ref over the last ``days`` UTC days, from the roll-ups: requests, error
    rate, median latency and average cost per call (None when no call had a price)."""
    since = today - timedelta(days=days - 1)
    table, hist = m.UsageDailyModel, m.UsageDailyLatency
    async with db.session() as session:
        sums = (await session.execute(
            select(table.provider, table.model, func.sum(table.requests),
                   func.sum(table.errors), func.sum(table.cost), func.sum(table.priced))
            .where(table.day >= since)
            .group_by(table.provider, table.model))).all()
        buckets = (await session.execute(
            select(hist.provider, hist.model, hist.bucket, func.sum(hist.calls))
            .where(hist.day >= since)
            .group_by(hist.provider, hist.model, hist.bucket))).all()
    latency: dict[str, dict[int, int]] = {}
    for provider, model, bucket, calls in buckets:
        latency.setdefault(f"{provider}:{model}", {})[int(bucket)] = int(calls)
    # the conversations service (and its history, files, votes modules) with the first
    # leaderboard page, not with every start that builds a Leaderboard (decision 0221)
    from switchboard.services.conversations import money_text

    found: dict[str, dict[str, Any]] = {}
    for provider, model, requests, errors, cost, priced in sums:
        ref, requests, errors = f"{provider}:{model}", int(requests or 0), int(errors or 0)
        found[ref] = {
            "requests": requests,
            "error_rate": round(errors / requests, 4) if requests else 0.0,
            "p50_ms": usage_rollup.percentile(latency.get(ref, {}), 0.5),
            "cost_per_request": money_text(Decimal(cost) / int(priced))
            if priced and cost is not None else None,
        }
    return found


def board_view(grades: Sequence[Grade], usage: Mapping[str, Mapping[str, Any]],
               excluded: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """The leaderboard's rows (``excluded`` given: an admin's view, flagged)."""
    rows = []
    for rank, g in enumerate(grades, start=1):
        row: dict[str, Any] = {
            "rank": rank, "model": g.model, "grade": round(g.grade),
            "low": round(g.low), "high": round(g.high),
            "votes": round(g.votes, 1), "wins": round(g.wins, 1),
            "usage": dict(usage.get(g.model, {})) or None,
        }
        if excluded is not None:
            row["excluded"] = g.model in excluded
        rows.append(row)
    return rows


__all__ = ["ALL", "BASELINE", "TASK_TYPES", "Grade", "Leaderboard", "board_view",
           "check_task", "excluded_models", "grades_from", "set_exclusions",
           "usage_by_model"]
