"""The audit trail: every security-relevant change adds one row, inside the same
transaction as the change (so there is no change without its record, and no record of a
change that was rolled back).

``details`` never holds a secret: keys appear only as their masked last four, and values
under names such as ``password`` or ``secret`` are replaced before the row is written
(defence in depth for a careless caller). A change's ``details`` carry ``before`` and
``after`` where there is a previous state.

Tamper evidence (decision 0123): every row is chained to the one before by SHA-256.
``record()`` stays synchronous (it only adds the row to the session); the chain is
computed when the session flushes (``db.audit_chain``, which also defines the canonical
form), in the caller's transaction. Who and from where (address, request id) come from the request's
context (``request_context``), set once per request by the access log middleware.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from switchboard.db import models as m
from switchboard.db import tables
from switchboard.db.engine import Database

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from switchboard.db.asyncio_engine import AsyncConnection

_audit_log = tables.audit_log
"""Core for ``latest_id``, the catalog stamp every /v1 server reads (decision 0235)."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a username (``user_id`` set), ``cli`` or ``system``."""

    name: str
    user_id: int | None = None


SYSTEM = Actor("system")
CLI = Actor("cli")


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Where a change came from: the client's address and the request id."""

    address: str | None
    request_id: str | None


request_context: ContextVar[RequestContext | None] = ContextVar("audit_request",
                                                                default=None)
"""Set by ``api.access_log`` for each HTTP request; None in the CLI and background work."""

_SECRET_NAMES = ("password", "secret", "api_key", "token", "plaintext")
MASK = "****"


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    created_at: datetime
    actor: str
    actor_user_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    address: str | None = None
    request_id: str | None = None
    seq: int | None = None
    hash: str | None = None


def scrub(value: Any) -> Any:
    """``value`` with every string under a secret-sounding name replaced by ``MASK``."""
    if isinstance(value, dict):
        return {k: (MASK if isinstance(v, str) and v and _secret_name(k) else scrub(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def _secret_name(name: object) -> bool:
    lowered = str(name).lower()
    return any(lowered == s or lowered.endswith("_" + s) for s in _SECRET_NAMES)


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    target_type: str | None = None,
    target_id: object = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the caller's transaction (chained when the session flushes)."""
    context = request_context.get()
    session.add(m.AuditLog(
        actor=actor.name,
        actor_user_id=actor.user_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:200],
        details=scrub(details or {}),
        address=context.address if context else None,
        request_id=context.request_id if context else None,
    ))


async def latest_id(runner: AsyncSession | AsyncConnection) -> int:
    """The newest audit row id (0 when empty): a cheap, cross-process catalog stamp."""
    return int((await runner.scalar(select(func.max(_audit_log.c.id)))) or 0)


async def list_entries(
    db: Database, *, target_type: str | None = None, target_id: object = None,
    limit: int = 100,
) -> list[AuditEntry]:
    query = select(m.AuditLog).order_by(m.AuditLog.id.desc()).limit(limit)
    if target_type is not None:
        query = query.where(m.AuditLog.target_type == target_type)
    if target_id is not None:
        query = query.where(m.AuditLog.target_id == str(target_id))
    async with db.unit_of_work(read_only=True) as session:
        rows = (await session.scalars(query)).all()
        return [AuditEntry.model_validate(r, from_attributes=True) for r in rows]
