"""First-run catalog: the chat works before any key is entered.

On an EMPTY catalog (no provider rows) this adds, in one transaction:

- the ``offline`` provider (enabled) with ``offline-chat`` as the global default model;
- one provider per built-in vendor kind (openai, anthropic, mistral, gemini), named
  after the kind, ENABLED, with the models and prices of ``switchboard.pricing``. A
  vendor without a key is "not configured" (derived from the key, never stored): the UI
  shows "Configure API key" for it, and it works the moment a key exists — stored with
  ``switchboard keys set NAME`` / the settings page, or in its environment variable
  (``OPENAI_API_KEY``..., read by the adapter at call time, never copied into the
  database). "Disabled" is only ever an admin's choice (decision 0035).

Idempotent: a catalog with any provider is left alone (an admin who deleted the seeded
rows does not get them back). Concurrent first starts are serialised (PostgreSQL advisory
lock; SQLite ``BEGIN IMMEDIATE``) and re-check emptiness inside the lock.
"""

from __future__ import annotations

import zlib

from sqlalchemy import func, select, text

from switchboard.db import models as m
from switchboard.db import tables
from switchboard.db.engine import Database
from switchboard.services.audit import SYSTEM, Actor, record
from switchboard.services.pricing_info import builtin_models
from switchboard.services.provider_models import fill_from_info
from switchboard.services.transactions import catalog_write
from switchboard.services.validation import installed_kinds
from switchboard.spec.model import Capabilities

OFFLINE_KIND = "offline"
OFFLINE_MODEL = "offline-chat"
VENDOR_KINDS = ("openai", "anthropic", "mistral", "gemini")
SEED_LOCK_KEY = zlib.crc32(b"switchboard.catalog.seed")
_providers = tables.providers
"""Core: every server start asks ``is_seeded``; an ORM query would configure all the
mappers for it (decision 0235)."""


async def is_seeded(db: Database) -> bool:
    async with db.transaction(read_only=True) as conn:
        return bool(await conn.scalar(select(func.count()).select_from(_providers)))


async def seed_catalog(db: Database, *, actor: Actor = SYSTEM) -> bool:
    """Seed an empty catalog; True when rows were added."""
    if await is_seeded(db):
        return False
    kinds = installed_kinds()
    async with catalog_write(db, "seeding the catalog") as session:
        if db.engine.dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                  {"k": SEED_LOCK_KEY})
        if await session.scalar(select(func.count()).select_from(m.Provider)):
            return False  # another process seeded while we waited
        seeded: list[str] = []
        for kind in (OFFLINE_KIND, *VENDOR_KINDS):
            if kind not in kinds:
                continue
            provider = m.Provider(name=kind, kind=kind, enabled=True, settings={})
            session.add(provider)
            await session.flush()
            infos = builtin_models(kind)
            if kind == OFFLINE_KIND and not any(i.id == OFFLINE_MODEL for i in infos):
                from switchboard.spec.model import ModelInfo

                infos = [ModelInfo(id=OFFLINE_MODEL, name="Offline chat",
                                   capabilities=Capabilities(streaming=True)), *infos]
            for info in infos:
                row = m.ProviderModel(
                    provider_id=provider.id, model_sdk_id=info.id,
                    name=info.display_name, is_enabled=True,
                    is_default=kind == OFFLINE_KIND and info.id == OFFLINE_MODEL,
                    capabilities={},
                )
                fill_from_info(row, info, overwrite=True)
                if not row.capabilities:
                    row.capabilities = Capabilities(streaming=True).as_dict()
                session.add(row)
            seeded.append(f"{kind} ({len(infos)} models)")
        record(session, actor, "catalog.seed", target_type="catalog",
               details={"providers": seeded})
    return True
