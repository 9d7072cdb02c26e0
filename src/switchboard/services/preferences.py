"""A user's preferences (chosen model, UI settings), stored server-side so they follow the
user to every device. One row per user, created on first write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.db import Database, utcnow
from switchboard.db import models as m


@dataclass(frozen=True, slots=True)
class Preferences:
    selected_model: str | None
    settings: dict[str, Any]
    updated_at: datetime | None


async def get_preferences(db: Database, user_id: int) -> Preferences:
    async with db.session() as session:
        row = await session.get(m.UserPreferences, user_id)
        if row is None:
            return Preferences(None, {}, None)
        return Preferences(row.selected_model, dict(row.settings or {}), row.updated_at)


async def set_preferences(db: Database, user_id: int, *, selected_model: str | None,
                          settings: dict[str, Any]) -> Preferences:
    async with db.unit_of_work() as session:
        row = await session.get(m.UserPreferences, user_id)
        if row is None:
            row = m.UserPreferences(user_id=user_id)
            session.add(row)
        row.selected_model = selected_model
        row.settings = settings
        row.updated_at = utcnow()
        await session.flush()
        return Preferences(row.selected_model, dict(row.settings), row.updated_at)
