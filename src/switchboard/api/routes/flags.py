"""Feature flags for admins (``services.flags``; decision 0124).

- ``GET /api/flags`` — every known flag and its rule.
- ``PUT /api/flags/{name}`` — replace a flag's rule: ``on``, ``off`` (the kill switch:
  every worker follows within a second) or ``rollout`` (users, roles, a percentage).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from switchboard.api.auth import require_admin, require_csrf, state_of
from switchboard.api.tokens import Principal
from switchboard.services import flags
from switchboard.services.audit import Actor

router = APIRouter(tags=["flags"], dependencies=[Depends(require_admin)])

Name = Annotated[str, Path(max_length=64)]


class FlagBody(BaseModel):
    """A flag's rule: ``on``, ``off``, or ``rollout`` with users, roles and a percentage."""

    model_config = ConfigDict(extra="forbid")
    mode: flags.Mode
    percent: int = Field(default=0, ge=0, le=100)
    users: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=flags.MAX_LISTED)
    roles: list[Annotated[str, Field(max_length=16)]] = Field(default_factory=list,
                                                             max_length=10)


@router.get("/api/flags")
async def list_flags(request: Request) -> dict[str, Any]:
    views = await flags.list_flags(state_of(request).db)
    return {"flags": [v.model_dump(mode="json") for v in views]}


@router.put("/api/flags/{name}", dependencies=[Depends(require_csrf)])
async def set_flag(request: Request, name: Name, body: FlagBody,
                   who: Principal = Depends(require_admin)) -> dict[str, Any]:
    view = await flags.set_flag(state_of(request).db, name, Actor(who.username, who.user_id),
                                mode=body.mode, percent=body.percent, users=body.users,
                                roles=body.roles)
    return view.model_dump(mode="json")
