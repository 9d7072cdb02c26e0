"""``GET /api/usage``: the usage report (``services.usage_report``).

``scope=me`` (default) reports the caller's own calls; ``scope=all`` everyone's, for
admins only. ``by=user`` adds ``by_user`` ("who spent what"): for an admin, every user
(the scope defaults to ``all`` then); for a member, only their own row. The usage
recorder's buffer is flushed first, so calls this process just made are in the report
(they are otherwise written in batches, every half second).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from switchboard.api.auth import current_principal, state_of
from switchboard.api.errors import ApiError
from switchboard.api.tokens import Principal
from switchboard.services.usage_report import default_range, usage_report

router = APIRouter(tags=["usage"])


@router.get("/api/usage")
async def get_usage(
    request: Request,
    start: date | None = Query(None, alias="from", description="first day, YYYY-MM-DD"),
    end: date | None = Query(None, alias="to", description="last day, YYYY-MM-DD"),
    scope: Literal["me", "all"] | None = Query(
        None, description="me (default) or all (admins); with by=user an admin gets all"),
    by: Literal["user"] | None = Query(None, description="user: add the per-user figures"),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    if scope is None:
        scope = "all" if by == "user" and who.is_admin else "me"
    if scope == "all" and not who.is_admin:
        raise ApiError(403, "scope=all needs an admin account; use scope=me for your own "
                       "usage", "forbidden", "scope")
    default_start, default_end = default_range()
    end = end or (default_end if start is None else max(default_end, start))
    start = start or min(default_start, end)
    state = state_of(request)
    await state.usage.flush()
    return await usage_report(state.db, start, end,
                              user_id=who.user_id if scope == "me" else None,
                              by_user=by == "user")
