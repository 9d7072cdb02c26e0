"""``GET /api/dashboard``: the admin dashboard's figures (``services.dashboard``).

The usage recorder's buffer and this process's budget counters are written first, so the
calls that just ended are in the figures (both are otherwise written behind, within a
second). Breakers and answers in progress are this process's (decision 0063: breakers are
per process).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from switchboard.api.auth import require_admin, state_of
from switchboard.api.routes.budgets import written_budgets
from switchboard.services import budgets
from switchboard.services.dashboard import dashboard
from switchboard.services.policy import wall_clock

router = APIRouter(tags=["dashboard"])


@router.get("/api/dashboard", dependencies=[Depends(require_admin)])
async def get_dashboard(
    request: Request,
    days: int = Query(7, description="the period: 1, 7, 30 or 90 days up to today (UTC)"),
) -> dict[str, Any]:
    state = state_of(request)
    await state.usage.flush()
    db = await written_budgets(request)
    now = wall_clock()
    found = await budgets.list_budgets(db, now=now, timezone=state.settings.budget_timezone)
    return await dashboard(
        db, days=days, now=datetime.fromtimestamp(now, UTC), breakers=state.breakers,
        budgets=found, answers_in_progress=state.jobs.running(),
        usage_queue=state.usage.pending)
