"""``get_formatted_model_registry``: what the UI's model picker shows, from the cache.

Every enabled provider with its enabled models (grouped), plus the default model. Built
from the database once per catalog version (see ``services.cache``), so serving it costs
no query while the catalog is unchanged.
"""

from __future__ import annotations

from sqlalchemy import select

from switchboard.db import models as m
from switchboard.db.engine import Database
from switchboard.services import audit
from switchboard.services.cache import catalog_cache
from switchboard.services.transactions import cache_scope
from switchboard.services.validation import installed_kinds
from switchboard.services.views import (
    ModelRegistry,
    RegistryModel,
    RegistryProvider,
    primary_key,
)
from switchboard.spec.model import Capabilities, model_type_of


async def get_formatted_model_registry(db: Database) -> ModelRegistry:
    scope = cache_scope(db)
    return await catalog_cache().get(
        (scope, "model-registry"), lambda: _build(db), probe=lambda: stamp(db), scope=scope
    )


async def stamp(db: Database) -> int:
    """The catalog stamp of ``db`` (newest audit id): changes with every catalog write,
    from any process."""
    async with db.transaction(read_only=True) as conn:
        return await audit.latest_id(conn)


async def _build(db: Database) -> ModelRegistry:
    version = catalog_cache().version
    kinds = installed_kinds()
    async with db.unit_of_work(read_only=True) as session:
        rows = (await session.scalars(
            select(m.Provider).where(m.Provider.enabled.is_(True)).order_by(m.Provider.name)
        )).all()
        default_id: int | None = None
        default_ref: str | None = None
        providers = []
        for row in rows:
            models = []
            for model in row.models:
                if not model.is_enabled:
                    continue
                ref = f"{row.name}:{model.model_sdk_id}"
                if model.is_default:
                    default_id, default_ref = model.id, ref
                models.append(RegistryModel(
                    id=model.id, name=model.name, model_sdk_id=model.model_sdk_id, ref=ref,
                    is_default=model.is_default,
                    capabilities=Capabilities.from_dict(model.capabilities).as_dict(),
                    context_window=model.context_window,
                    price_input=model.price_input, price_output=model.price_output,
                    type=model_type_of(model.model_type),
                ))
            providers.append(RegistryProvider(
                id=row.id, name=row.name, kind=row.kind,
                # the declaration's: no adapter imported for a listing (decision 0220)
                display_name=kinds.display_name_of(row.kind) or row.kind,
                image_url=row.image_url, status=row.status,
                has_api_key=primary_key(row) is not None, models=models,
            ))
    return ModelRegistry(providers=providers, default_model_id=default_id,
                         default_model_ref=default_ref, version=version)
