"""Shared helpers for the services tests."""

from __future__ import annotations

from sqlalchemy import func, select

from switchboard.db import Database
from switchboard.db import models as m


async def table_snapshot(db: Database) -> dict[str, object]:
    """Everything a refused call must leave as it was."""
    async with db.unit_of_work() as s:
        providers = (await s.execute(select(
            m.Provider.id, m.Provider.name, m.Provider.kind, m.Provider.base_url,
            m.Provider.enabled, m.Provider.settings,
        ).order_by(m.Provider.id))).all()
        keys = (await s.execute(select(
            m.ProviderKey.id, m.ProviderKey.provider_id, m.ProviderKey.label,
            m.ProviderKey.ciphertext, m.ProviderKey.enabled, m.ProviderKey.failed_at,
        ).order_by(m.ProviderKey.id))).all()
        models = (await s.execute(select(
            m.ProviderModel.id, m.ProviderModel.provider_id, m.ProviderModel.model_sdk_id,
            m.ProviderModel.name, m.ProviderModel.is_default, m.ProviderModel.is_enabled,
            m.ProviderModel.price_input,
        ).order_by(m.ProviderModel.id))).all()
        audits = await s.scalar(select(func.count()).select_from(m.AuditLog))
    return {"providers": providers, "keys": keys, "models": models, "audits": audits}
