"""Helpers for the budget tests: principals with rows behind them, admissions, outcomes."""

from __future__ import annotations

from decimal import Decimal

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services.metering import CallOutcome
from switchboard.services.policy import Admission, CallSpec
from switchboard.services.principal import Principal
from switchboard.spec import ChatRequest, Collector, Message


class Clock:
    """A settable clock (seconds since the epoch): tests never sleep."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def add_user(db: Database, name: str, *, token: str | None = None) -> Principal:
    """A user (and an API token when ``token`` names one) in the database."""
    async with db.unit_of_work() as session:
        user = m.User(username=name, role="user", is_active=True)
        session.add(user)
        await session.flush()
        token_id = None
        if token is not None:
            row = m.ApiToken(user_id=user.id, name=token, token_hash=f"{name}-{token}" * 4,
                             prefix="sb-x")
            session.add(row)
            await session.flush()
            token_id = row.id
        return Principal(user_id=user.id, username=name, role="user", token_id=token_id)


def admission(principal: Principal, cost: str | Decimal | None) -> Admission:
    spec = CallSpec(principal=principal, surface="api",
                    request=ChatRequest(messages=[Message.user("hi")]), model=None)
    return Admission(spec=spec, model=None, estimated_input_tokens=1, max_output_tokens=16,
                     reserved_cost=None if cost is None else Decimal(cost))


def outcome(cost: str | Decimal | None) -> CallOutcome:
    return CallOutcome(provider="fake", kind="openai", model="m", result=Collector().result(),
                       status="ok", started_at=0.0, latency_ms=1, ttft_ms=1,
                       cost=None if cost is None else Decimal(cost))
