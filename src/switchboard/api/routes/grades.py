"""The leaderboard (``/api/leaderboard``), side-by-side votes (``/api/comparisons``) and
the model picker's suggestions (``/api/suggestions``): issue 16 items 4-6
(``services.grades``, ``services.grade_votes``, ``services.suggestions``).

Any signed-in member reads the leaderboard (it tells them which model answers best) and
their own suggestions; only admins see and set the excluded models and read the
suggestions' hit rate.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from switchboard.api.auth import current_principal, require_admin, require_csrf, state_of
from switchboard.api.params import RowId
from switchboard.api.routes.catalog import actor_of
from switchboard.api.tokens import Principal
from switchboard.registry import Registry
from switchboard.services import flags, grade_votes, grades, suggestions
from switchboard.services.auto.tasks import classify
from switchboard.services.chat_input import ModelNotAvailable, resolve_enabled
from switchboard.services.errors import ValidationFailed

router = APIRouter(tags=["grades"])

MAX_DRAFT_CHARS: Final = 20_000
"""As the Auto preview's bound (``api.routes.auto``): the classifier reads less anyway."""


class ExclusionsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    models: list[Annotated[str, Field(max_length=301)]] = Field(
        max_length=grades.MAX_EXCLUSIONS,
        description="model refs (provider:model) left off the board")


class ComparisonVote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: list[RowId] = Field(min_length=grade_votes.COMPARE_MIN,
                                 max_length=grade_votes.COMPARE_MAX,
                                 description="the compared answers to one question")
    winner: RowId | None = Field(None, description="the better answer; null for a tie")


@router.get("/api/leaderboard")
async def get_leaderboard(
    request: Request,
    task: str = Query(grades.ALL, max_length=40,
                      description="a task type, or all for every vote"),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    state = state_of(request)
    grades.check_task(task)
    board = state.leaderboard
    await board.refresh(state.db, task)
    await state.usage.flush()
    usage = await grades.usage_by_model(state.db, datetime.now(UTC).date())
    found = board.grades(task, include_excluded=who.is_admin)
    fitted_at = board.fitted_at(task)
    body: dict[str, Any] = {
        "task": task, "tasks": [grades.ALL, *grades.TASK_TYPES],
        "models": grades.board_view(found, usage,
                                    board.excluded() if who.is_admin else None),
        "votes": board.vote_count(task),
        "fitted_at": fitted_at.isoformat() if fitted_at else None,
    }
    if who.is_admin:
        body["excluded"] = sorted(board.excluded())
    return body


@router.put("/api/leaderboard/exclusions",
            dependencies=[Depends(require_admin), Depends(require_csrf)])
async def put_exclusions(request: Request, body: ExclusionsBody,
                         who: Principal = Depends(current_principal)) -> dict[str, Any]:
    state = state_of(request)
    excluded = await grades.set_exclusions(state.db, actor_of(who), body.models)
    await state.leaderboard.refresh(state.db)
    return {"excluded": excluded}


@router.post("/api/comparisons/vote", dependencies=[Depends(require_csrf)])
async def vote(request: Request, body: ComparisonVote,
               who: Principal = Depends(current_principal)) -> dict[str, Any]:
    flags.require("comparison", who)  # an admin's switch (decision 0124): 403
    conversation_id, votes = await grade_votes.record_comparison(
        state_of(request).db, who.user_id, body.answers, body.winner)
    return {"conversation_id": conversation_id, "votes": votes}


class SuggestionOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    taken: bool = Field(description="the turn was sent with one of the suggested models")


class DraftBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(default="", max_length=MAX_DRAFT_CHARS,
                        description="what is being typed (the classifier reads its start)")
    images: int = Field(default=0, ge=0, le=32, description="images attached to it")


def _usable(registry: Registry) -> Container[str]:
    """The models this user can pick now (enabled, provider configured)."""

    class Usable:
        def __contains__(self, ref: object) -> bool:
            try:
                resolve_enabled(registry, str(ref))
            except (ModelNotAvailable, ValidationFailed):
                return False
            return True

    return Usable()


def _suggestions_json(task: str, found: list[suggestions.Suggestion]) -> dict[str, Any]:
    return {"task": task, "suggestions": [
        {"model": s.model, "reason": s.reason, "chosen": s.chosen, "kept": s.kept,
         "rated_up": s.rated_up, "rated_down": s.rated_down, "won": s.won}
        for s in found]}


@router.get("/api/suggestions")
async def get_suggestions(
    request: Request,
    task: str = Query(grades.ALL, max_length=40,
                      description="the task type of what is being typed, or all"),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    state = state_of(request)
    grades.check_task(task)
    found = await suggestions.suggest(state.db, who.user_id,
                                      None if task == grades.ALL else task,
                                      _usable(await state.registry()))
    return _suggestions_json(task, found)


@router.post("/api/suggestions", dependencies=[Depends(require_csrf)])
async def suggest_for_draft(request: Request, body: DraftBody,
                            who: Principal = Depends(current_principal)) -> dict[str, Any]:
    """The model picker's suggestions for what is being typed: the draft is classified
    here (the local classifier, no model called), then the user's own history of that
    task type is read. A POST because a draft does not belong in a URL."""
    state = state_of(request)
    found = classify(body.prompt, images=body.images)
    picked = await suggestions.suggest(state.db, who.user_id, found.task,
                                       _usable(await state.registry()))
    return {**_suggestions_json(found.task, picked), "confidence": found.confidence}


@router.post("/api/suggestions/outcome", status_code=204, dependencies=[Depends(require_csrf)])
async def post_outcome(request: Request, body: SuggestionOutcome,
                       who: Principal = Depends(current_principal)) -> Response:
    await suggestions.record_outcome(state_of(request).db, who.user_id,
                                     datetime.now(UTC).date(), taken=body.taken)
    return Response(status_code=204)


@router.get("/api/suggestions/hit-rate", dependencies=[Depends(require_admin)])
async def get_hit_rate(
    request: Request,
    days: int = Query(30, description="the period: 1, 7, 30 or 90 days up to today (UTC)"),
) -> dict[str, Any]:
    if days not in suggestions.PERIODS:
        raise ValidationFailed("the period must be one of "
                               f"{', '.join(map(str, suggestions.PERIODS))} days", field="days")
    return await suggestions.hit_rate(state_of(request).db, datetime.now(UTC).date(), days)
