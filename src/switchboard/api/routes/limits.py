"""Rate limits for admins (``/api/limits``): the defaults per role and the overrides per
role, user and API token (``services.rate_limit_rules``; docs/configuration.md).

- ``GET /api/limits`` — whether limits are on, the configured default and the effective
  limits of each role, and every override (with its target's name).
- ``PUT /api/limits/{roles|users|tokens}/{target}`` — create or replace an override
  (``null`` inherits, ``0`` is no limit).
- ``DELETE /api/limits/{roles|users|tokens}/{target}`` — drop it (the defaults apply).

A change reaches every server process at once (the catalog cache is dropped everywhere).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from switchboard.api.auth import require_admin, require_csrf, state_of
from switchboard.api.params import PathId
from switchboard.api.tokens import Principal
from switchboard.db.models import USER_ROLES
from switchboard.services import rate_limit_rules as rules
from switchboard.services.audit import Actor

router = APIRouter(tags=["limits"], dependencies=[Depends(require_admin)])

Limit = int | None
NAMES = ("requests_per_minute", "tokens_per_minute", "concurrent")


class LimitsBody(BaseModel):
    """An override: each limit a whole number (0: no limit) or null (inherit)."""

    model_config = ConfigDict(extra="forbid")
    requests_per_minute: Limit = Field(default=None, ge=0, le=rules.MAX_LIMIT)
    tokens_per_minute: Limit = Field(default=None, ge=0, le=rules.MAX_LIMIT)
    concurrent: Limit = Field(default=None, ge=0, le=rules.MAX_LIMIT)

    def values(self) -> rules.Triple:
        return self.requests_per_minute, self.tokens_per_minute, self.concurrent


def _triple(values: tuple[int | None, int | None, int | None]) -> dict[str, int | None]:
    return dict(zip(NAMES, values, strict=True))


def _actor(who: Principal) -> Actor:
    return Actor(who.username, who.user_id)


@router.get("/api/limits")
async def get_limits(request: Request) -> dict[str, Any]:
    state = state_of(request)
    configured = state.settings.rate_limits
    snapshot = await rules.load_rules(state.db)
    roles = {}
    for role in USER_ROLES:
        limits = rules.role_limits(snapshot, configured or {}, role)
        default = (configured or {}).get(role, (None, None, None))
        roles[role] = {
            # 0 = no limit, as everywhere a limit is written
            "effective": _triple((limits.requests or 0, limits.tokens or 0,
                                  limits.concurrent or 0)),
            "configured": _triple((default[0] or 0, default[1] or 0, default[2] or 0)),
            "override": _triple(snapshot.roles[role]) if role in snapshot.roles else None,
        }
    overrides = [{
        "scope": o.scope, "role": o.role, "user_id": o.user_id, "token_id": o.token_id,
        "name": o.name, "owner": o.owner,
        **_triple((o.requests_per_minute, o.tokens_per_minute, o.concurrent)),
    } for o in await rules.list_rules(state.db) if o.scope != "role"]
    return {"enabled": configured is not None, "roles": roles, "overrides": overrides}


async def _put(request: Request, who: Principal, scope: rules.Scope, target: str | int,
               body: LimitsBody) -> Response:
    await rules.set_rule(state_of(request).db, _actor(who), scope, target, body.values())
    return Response(status_code=204)


async def _delete(request: Request, who: Principal, scope: rules.Scope,
                  target: str | int) -> Response:
    await rules.remove_rule(state_of(request).db, _actor(who), scope, target)
    return Response(status_code=204)


@router.put("/api/limits/roles/{role}", status_code=204, dependencies=[Depends(require_csrf)])
async def put_role(role: Literal["user", "admin"], body: LimitsBody, request: Request,
                   who: Principal = Depends(require_admin)) -> Response:
    return await _put(request, who, "role", role, body)


@router.put("/api/limits/users/{user_id}", status_code=204,
            dependencies=[Depends(require_csrf)])
async def put_user(user_id: PathId, body: LimitsBody, request: Request,
                   who: Principal = Depends(require_admin)) -> Response:
    return await _put(request, who, "user", user_id, body)


@router.put("/api/limits/tokens/{token_id}", status_code=204,
            dependencies=[Depends(require_csrf)])
async def put_token(token_id: PathId, body: LimitsBody, request: Request,
                    who: Principal = Depends(require_admin)) -> Response:
    return await _put(request, who, "token", token_id, body)


@router.delete("/api/limits/roles/{role}", status_code=204,
               dependencies=[Depends(require_csrf)])
async def delete_role(role: Literal["user", "admin"], request: Request,
                      who: Principal = Depends(require_admin)) -> Response:
    return await _delete(request, who, "role", role)


@router.delete("/api/limits/users/{user_id}", status_code=204,
               dependencies=[Depends(require_csrf)])
async def delete_user(user_id: PathId, request: Request,
                      who: Principal = Depends(require_admin)) -> Response:
    return await _delete(request, who, "user", user_id)


@router.delete("/api/limits/tokens/{token_id}", status_code=204,
               dependencies=[Depends(require_csrf)])
async def delete_token(token_id: PathId, request: Request,
                       who: Principal = Depends(require_admin)) -> Response:
    return await _delete(request, who, "token", token_id)
