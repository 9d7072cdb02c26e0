"""The audit trail: every admin change to a provider, model or key adds one row, inside the
same transaction as the change (so there is no change without its record, and no record
of a change that was rolled back).

``details`` never holds a secret: keys appear only as their masked last four.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.db import models as m
from switchboard.db.engine import Database


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a username (``user_id`` set), ``cli`` or ``system``."""

    name: str
    user_id: int | None = None


SYSTEM = Actor("system")
CLI = Actor("cli")


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


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    target_type: str | None = None,
    target_id: object = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the caller's transaction."""
    session.add(m.AuditLog(
        actor=actor.name,
        actor_user_id=actor.user_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details or {},
    ))


async def latest_id(session: AsyncSession) -> int:
    """The newest audit row id (0 when empty): a cheap, cross-process catalog stamp."""
    return int((await session.scalar(select(func.max(m.AuditLog.id)))) or 0)


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
