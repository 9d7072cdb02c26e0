"""Task types and Auto over REST (issue 16 items 2 and 3).

- ``GET /api/task-defaults`` — the task types and the administrator's default model of
  each (null: the global default applies); anyone signed in may read it (the model
  picker shows it).
- ``PUT /api/task-defaults`` (admin) — ``{"defaults": {"code": "provider:model",
  "chat": null}}``: set or clear the named tasks' defaults; the others keep theirs.
- ``POST /api/auto/preview`` — what Auto would pick for a turn being typed (the
  composer asks as the user types, debounced): ``{"prompt", "images", "history",
  "tools", "model"}`` → ``{"task", "confidence", "tier", "model", "why", "reason"}``.
  Bounded: the prompt and each earlier message at most ``MAX_PREVIEW_CHARS``, at most
  ``HISTORY`` earlier messages; no model is called, nothing is written.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from switchboard.api.auth import current_principal, require_admin, require_csrf, state_of
from switchboard.api.tokens import Principal
from switchboard.services.audit import Actor
from switchboard.services.auto.defaults import admin_defaults, set_admin_defaults
from switchboard.services.auto.picker import AUTO_REFS
from switchboard.services.auto.route import AutoRouter, preview_turn
from switchboard.services.auto.tasks import HISTORY, TASK_TYPES, TaskType

router = APIRouter(tags=["auto"])

MAX_PREVIEW_CHARS = 20_000
"""The composer sends what is typed; the classifier reads less than this anyway."""


class TaskDefaultsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    defaults: dict[TaskType, Annotated[str, Field(max_length=300)] | None] = Field(
        max_length=len(TASK_TYPES))


class PreviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(default="", max_length=MAX_PREVIEW_CHARS)
    images: int = Field(default=0, ge=0, le=32)
    history: list[Annotated[str, Field(max_length=MAX_PREVIEW_CHARS)]] = Field(
        default_factory=list, max_length=HISTORY)
    tools: bool = False
    model: Literal["auto", "auto:cheap", "auto:best"] = "auto"


def _defaults_json(values: dict[str, str]) -> dict[str, Any]:
    return {"task_types": list(TASK_TYPES),
            "defaults": {task: values.get(task) for task in TASK_TYPES}}


@router.get("/api/task-defaults")
async def read_task_defaults(request: Request,
                             who: Principal = Depends(current_principal)) -> dict[str, Any]:
    return _defaults_json(await admin_defaults(state_of(request).db))


@router.put("/api/task-defaults",
            dependencies=[Depends(require_admin), Depends(require_csrf)])
async def write_task_defaults(body: TaskDefaultsBody, request: Request,
                              who: Principal = Depends(current_principal)) -> dict[str, Any]:
    state = state_of(request)
    values = await set_admin_defaults(state.db, await state.registry(), body.defaults,
                                      Actor(who.username, who.user_id))
    return _defaults_json(values)


@router.post("/api/auto/preview", dependencies=[Depends(require_csrf)])
async def preview(body: PreviewBody, request: Request,
                  who: Principal = Depends(current_principal)) -> dict[str, Any]:
    state = state_of(request)
    auto = state.pipeline.router
    if not isinstance(auto, AutoRouter):
        auto = AutoRouter(auto)
    turn = preview_turn(body.prompt, images=body.images, history=body.history,
                        tools=body.tools)
    chosen = await auto.choose(who, AUTO_REFS[body.model], turn, await state.registry())
    return chosen.as_dict()
