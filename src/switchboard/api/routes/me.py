"""The caller's own account and preferences (``/api/me``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from switchboard.api.auth import current_principal, require_csrf, state_of
from switchboard.api.errors import ApiError
from switchboard.api.routes.session import user_json
from switchboard.api.tokens import Principal
from switchboard.services import accounts
from switchboard.services.auto.defaults import check_model
from switchboard.services.auto.picker import auto_tier
from switchboard.services.auto.tasks import TaskType
from switchboard.services.preferences import get_preferences, set_preferences
from switchboard.spec import SwitchboardError

router = APIRouter(tags=["me"])


class Advanced(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_output_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    system_prompt: str | None = Field(default=None, max_length=20_000)


class Settings(BaseModel):
    model_config = ConfigDict(extra="allow")  # UI settings may grow; known ones are checked
    theme: Literal["light", "dark", "system"] = "system"
    advanced: Advanced = Field(default_factory=Advanced)
    task_models: dict[TaskType, Annotated[str, Field(min_length=1, max_length=300)]] | None = (
        None)
    """The user's own model per task type, which ``auto`` picks first (issue 16 item 2)."""
    text_model_images: Literal["ask", "vision", "describe"] | None = None
    """A new image sent to a text-only model: the page asks each time (``ask``, the
    page's default), a vision model answers that turn (``vision``, the default when
    nobody asked) or describes it for the text model (``services.captions``,
    decision 0172)."""


class PreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    selected_model: str | None = Field(default=None, max_length=300)
    settings: Settings = Field(default_factory=Settings)


def _prefs_json(selected: str | None, settings: dict[str, Any]) -> dict[str, Any]:
    return {"selected_model": selected, "settings": Settings.model_validate(
        settings or {}).model_dump(exclude_none=True)}


@router.get("/api/me")
async def me(request: Request, who: Principal = Depends(current_principal)) -> dict[str, Any]:
    return user_json(await accounts.get_user(state_of(request).db, who.user_id))


@router.get("/api/me/preferences")
async def read_preferences(request: Request,
                           who: Principal = Depends(current_principal)) -> dict[str, Any]:
    prefs = await get_preferences(state_of(request).db, who.user_id)
    return _prefs_json(prefs.selected_model, prefs.settings)


@router.put("/api/me/preferences", dependencies=[Depends(require_csrf)])
async def write_preferences(body: PreferencesBody, request: Request,
                            who: Principal = Depends(current_principal)) -> dict[str, Any]:
    state = state_of(request)
    selected = body.selected_model
    registry = await state.registry()
    if selected and auto_tier(selected) is None:  # auto is a choice, not a model
        try:
            selected = registry.resolve(selected).ref
        except SwitchboardError as exc:
            raise ApiError(422, f"selected_model: {exc.message}", "validation_failed",
                           "selected_model") from None
    for task, ref in (body.settings.task_models or {}).items():
        try:
            body.settings.task_models[task] = check_model(registry, ref)  # type: ignore[index]
        except SwitchboardError as exc:
            field = f"settings.task_models.{task}"
            raise ApiError(422, f"{field}: {exc.message}", "validation_failed",
                           field) from None
    prefs = await set_preferences(state.db, who.user_id, selected_model=selected,
                                  settings=body.settings.model_dump(exclude_none=True))
    return _prefs_json(prefs.selected_model, prefs.settings)
