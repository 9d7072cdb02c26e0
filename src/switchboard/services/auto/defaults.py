"""Per-task default models (issue 16 item 2; decision 0113).

- **Administrators** set one model per task type (table ``task_defaults``): a catalog
  write (``catalog_write``: audited, and every process's cache drops it), read through
  the catalog cache, so an ``auto`` call costs no query for them while nothing changed.
- **Users** override per task in their preferences: ``settings["task_models"]``, a
  ``{task: ref}`` map in the row ``services.preferences`` already keeps (no second
  store of "what this user prefers").

A ref is checked against the registry when it is set (it must name an enabled chat
model) and stored as ``provider:model``, the form routing compares. A model removed
later stays in the row; Auto then skips it and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.registry import Registry
from switchboard.services import audit
from switchboard.services.auto.picker import Defaults, auto_tier
from switchboard.services.auto.tasks import TASK_TYPES, TaskType
from switchboard.services.cache import catalog_cache
from switchboard.services.errors import ValidationFailed
from switchboard.services.preferences import get_preferences
from switchboard.services.principal import Principal
from switchboard.services.registry_view import stamp
from switchboard.services.transactions import cache_scope, catalog_write

PREFERENCE_KEY = "task_models"
"""Where a user's per-task models live in ``user_preferences.settings``."""


def check_task(task: str, field: str = "task") -> TaskType:
    if task not in TASK_TYPES:
        raise ValidationFailed(
            f"unknown task type {task!r}; one of: {', '.join(TASK_TYPES)}", field=field)
    return task


def check_model(registry: Registry, ref: str, field: str = "model") -> str:
    """``ref`` as the ``provider:model`` of an enabled chat model (not an auto ref)."""
    if auto_tier(ref) is not None:
        raise ValidationFailed("a task's default must be a model, not auto", field=field)
    model = registry.resolve(ref)
    if model.info is not None and model.info.type != "chat":
        raise ValidationFailed(f"{model.ref!r} is not a chat model", field=field)
    return model.ref


async def admin_defaults(db: Database) -> dict[str, str]:
    """Task type → model ref, from the catalog cache."""
    scope = cache_scope(db)
    return await catalog_cache().get((scope, "task_defaults"), lambda: _load(db),
                                     probe=lambda: stamp(db), scope=scope)


async def _load(db: Database) -> dict[str, str]:
    async with db.unit_of_work(read_only=True) as session:
        rows = (await session.scalars(select(m.TaskDefault))).all()
        return {row.task: row.model_ref for row in rows if row.task in TASK_TYPES}


async def set_admin_defaults(db: Database, registry: Registry,
                             values: Mapping[TaskType, str | None] | Mapping[str, str | None],
                             actor: audit.Actor) -> dict[str, str]:
    """Set (a ref) or clear (None or "") the default of each task named in ``values``;
    other tasks keep theirs. Every value is checked before anything is written."""
    checked: dict[TaskType, str | None] = {}
    for task, ref in values.items():
        name = check_task(task, field=f"defaults.{task}")
        checked[name] = check_model(registry, ref, field=f"defaults.{task}") if ref else None
    async with catalog_write(db, "setting task defaults") as session:
        for task, ref in checked.items():
            await session.execute(delete(m.TaskDefault).where(m.TaskDefault.task == task))
            if ref is not None:
                session.add(m.TaskDefault(task=task, model_ref=ref))
        audit.record(session, actor, "task_defaults.set", target_type="task_defaults",
                     details={t: r for t, r in checked.items()})
    return await _load(db)


def user_overrides(settings: Mapping[str, Any]) -> dict[str, str]:
    """The valid entries of a user's ``task_models`` preference (anything else in it is
    ignored, not an error: preferences are the user's free-form store)."""
    raw = settings.get(PREFERENCE_KEY)
    if not isinstance(raw, dict):
        return {}
    return {t: r for t, r in raw.items()
            if t in TASK_TYPES and isinstance(r, str) and 0 < len(r) <= 300}


class DatabaseDefaults:
    """The defaults an ``auto`` call of ``principal`` sees: the administrator's (cached)
    and the user's own (one primary-key read, only for auto calls)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, principal: Principal) -> Defaults:
        admin = await admin_defaults(self.db)
        user: dict[str, str] = {}
        if principal.user_id:
            user = user_overrides((await get_preferences(self.db, principal.user_id)).settings)
        return Defaults(admin=admin, user=user)


__all__ = ["PREFERENCE_KEY", "DatabaseDefaults", "admin_defaults", "check_model",
           "check_task", "set_admin_defaults", "user_overrides"]
