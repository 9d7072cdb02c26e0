"""Budgets over REST: admins manage them (``/api/budgets``); everyone sees the ones that
limit their own calls (``/api/me/budgets``). Data and rules: ``services.budgets``."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from switchboard.api.auth import current_principal, require_admin, require_csrf, state_of
from switchboard.api.params import PathId, RowId
from switchboard.api.routes.catalog import actor_of
from switchboard.api.tokens import Principal
from switchboard.db import Database
from switchboard.services import budgets
from switchboard.services.policy import wall_clock

router = APIRouter(tags=["budgets"])


class BudgetBody(BaseModel):
    """Create a budget, or change the amount of the one with the same subject, period and
    kind (``soft``)."""

    model_config = ConfigDict(extra="forbid")
    scope: Literal["global", "user", "token"]
    user_id: RowId | None = None
    """For ``scope: user``."""
    api_token_id: RowId | None = None
    """For ``scope: token``."""
    amount: str = Field(min_length=1, max_length=40, pattern=r"^\$?[0-9]+(\.[0-9]+)?$",
                        description="US dollars per period, e.g. \"5\" or \"12.50\"")
    period: Literal["day", "week", "month"]
    soft: bool = False


def _timezone(request: Request) -> str:
    return state_of(request).settings.budget_timezone


async def written_budgets(request: Request) -> Database:
    """The database, with this process's budget counters written first
    (``AppState.write_budgets``). One short write, only when someone looks."""
    state = state_of(request)
    await state.write_budgets()
    return state.db


@router.get("/api/budgets", dependencies=[Depends(require_admin)])
async def list_budgets(request: Request) -> dict[str, Any]:
    found = await budgets.list_budgets(await written_budgets(request), now=wall_clock(),
                                       timezone=_timezone(request))
    return {"timezone": _timezone(request), "budgets": [s.as_dict() for s in found]}


@router.post("/api/budgets", dependencies=[Depends(require_admin), Depends(require_csrf)])
async def set_budget(body: BudgetBody, request: Request,
                     who: Principal = Depends(require_admin)) -> dict[str, Any]:
    db = await written_budgets(request)
    budget = await budgets.set_budget(
        db, actor_of(who), scope=body.scope, user_id=body.user_id,
        token_id=body.api_token_id, amount=body.amount, period=body.period, soft=body.soft)
    state = await budgets.states(db, [budget], now=wall_clock(), timezone=_timezone(request))
    return state[0].as_dict()


@router.delete("/api/budgets/{budget_id}", status_code=204,
               dependencies=[Depends(require_admin), Depends(require_csrf)])
async def remove_budget(budget_id: PathId, request: Request,
                        who: Principal = Depends(require_admin)) -> None:
    await budgets.remove_budget(state_of(request).db, actor_of(who), budget_id)


@router.get("/api/me/budgets")
async def my_budgets(request: Request,
                     who: Principal = Depends(current_principal)) -> dict[str, Any]:
    found = await budgets.budgets_of(await written_budgets(request), who.user_id, now=wall_clock(),
                                     timezone=_timezone(request))
    return {"timezone": _timezone(request), "budgets": [s.as_dict() for s in found]}
