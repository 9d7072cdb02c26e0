"""Alerts over REST (admins): the rules' settings, the channels, open and recent alerts,
a round of evaluation now, and a test notice per channel. Data and rules:
``services.alerts``, ``services.alert_rules``, ``services.alert_channels``."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from switchboard.api.auth import require_admin, require_csrf, state_of
from switchboard.api.params import PathId
from switchboard.api.routes.catalog import actor_of
from switchboard.api.tokens import Principal
from switchboard.services import alert_channels, alerts
from switchboard.services.alert_channels import DeliveryFailed
from switchboard.services.alert_rules import RULES
from switchboard.services.alerts import Evaluator
from switchboard.services.keys import open_vault

router = APIRouter(tags=["alerts"])
_ADMIN_WRITE = [Depends(require_admin), Depends(require_csrf)]

RuleKind = Literal["budget_warning", "budget_exhausted", "error_rate", "latency_p95",
                   "key_expiring", "key_expiring_urgent", "key_rejected", "breaker_open",
                   "usage_behind", "failed_logins"]
assert set(RuleKind.__args__) == set(RULES)  # type: ignore[attr-defined]


class RuleBody(BaseModel):
    """Change a rule: any of its fields; the others stay."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    threshold: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False)
    window_seconds: int | None = Field(None, ge=60, le=3600)
    min_requests: int | None = Field(None, ge=1, le=1_000_000)


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    from_: str = Field(alias="from", min_length=3, max_length=254)
    to: list[str] = Field(min_length=1, max_length=20)
    username: str = Field("", max_length=200)


class ChannelBody(BaseModel):
    """A new channel. ``secret``: the webhook's URL, or the SMTP password (optional)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["email", "webhook", "slack"]
    enabled: bool = True
    settings: EmailSettings | None = None
    secret: str | None = Field(None, max_length=2000)


class ChannelChange(BaseModel):
    """Change a channel: any of its fields (``secret`` "" removes an SMTP password)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100)
    enabled: bool | None = None
    settings: EmailSettings | None = None
    secret: str | None = Field(None, max_length=2000)


def _evaluator(request: Request) -> Evaluator:
    evaluator = state_of(request).alerts
    assert evaluator is not None, "the lifespan builds the evaluator"
    return evaluator


def _email(settings: EmailSettings | None) -> dict[str, Any] | None:
    return None if settings is None else settings.model_dump(by_alias=True)


@router.get("/api/alerts", dependencies=[Depends(require_admin)])
async def list_alerts(request: Request) -> dict[str, Any]:
    return await alerts.alert_lists(state_of(request).db)


@router.post("/api/alerts/evaluate", dependencies=_ADMIN_WRITE)
async def evaluate_now(request: Request) -> dict[str, Any]:
    """Run a round of evaluation now (the server runs one every half minute anyway)."""
    state = state_of(request)
    await state.usage.flush()
    done = await _evaluator(request).run_once()
    if done is None:
        return {"ran": False, "opened": 0, "resolved": 0, "sent": 0, "failed": 0}
    return {"ran": True, "opened": len(done.opened), "resolved": len(done.resolved),
            "sent": done.sent, "failed": done.failed}


@router.get("/api/alerts/rules", dependencies=[Depends(require_admin)])
async def list_rules(request: Request) -> dict[str, Any]:
    return {"rules": await alerts.list_rules(state_of(request).db)}


@router.put("/api/alerts/rules/{kind}", dependencies=_ADMIN_WRITE)
async def update_rule(kind: RuleKind, body: RuleBody, request: Request,
                      who: Principal = Depends(require_admin)) -> dict[str, Any]:
    return await alerts.update_rule(
        state_of(request).db, actor_of(who), kind, enabled=body.enabled,
        threshold=body.threshold, window_seconds=body.window_seconds,
        min_requests=body.min_requests)


@router.get("/api/alerts/channels", dependencies=[Depends(require_admin)])
async def list_channels(request: Request) -> dict[str, Any]:
    return {"channels": await alert_channels.list_channels(state_of(request).db)}


@router.post("/api/alerts/channels", dependencies=_ADMIN_WRITE)
async def add_channel(body: ChannelBody, request: Request,
                      who: Principal = Depends(require_admin)) -> dict[str, Any]:
    return await alert_channels.create_channel(
        state_of(request).db, open_vault(), actor_of(who), name=body.name, kind=body.kind,
        settings=_email(body.settings), secret=body.secret, enabled=body.enabled)


@router.patch("/api/alerts/channels/{channel_id}", dependencies=_ADMIN_WRITE)
async def change_channel(channel_id: PathId, body: ChannelChange, request: Request,
                         who: Principal = Depends(require_admin)) -> dict[str, Any]:
    return await alert_channels.update_channel(
        state_of(request).db, open_vault(), actor_of(who), channel_id, name=body.name,
        enabled=body.enabled, settings=_email(body.settings), secret=body.secret)


@router.delete("/api/alerts/channels/{channel_id}", status_code=204,
               dependencies=_ADMIN_WRITE)
async def remove_channel(channel_id: PathId, request: Request,
                         who: Principal = Depends(require_admin)) -> None:
    await alert_channels.remove_channel(state_of(request).db, actor_of(who), channel_id)


@router.post("/api/alerts/channels/{channel_id}/test", dependencies=_ADMIN_WRITE)
async def test_channel(channel_id: PathId, request: Request) -> dict[str, Any]:
    """Send a test notice now; a failure is an answer (``sent: false`` and why), not an
    error of this request."""
    try:
        await _evaluator(request).send_test(channel_id)
    except DeliveryFailed as exc:
        return {"sent": False, "error": str(exc)}
    return {"sent": True, "error": None}
