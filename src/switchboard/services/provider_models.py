"""Models in the catalog: add, read, update, delete, and the one default model.

"Exactly one default" is kept in two halves: the database's partial unique index allows at
most one, and every change that could leave none (deleting or disabling the default, or its
provider) is refused with a message saying to pick another default first.
``set_default_model`` clears the old default and sets the new one in one transaction; on
PostgreSQL it first takes a transaction-scoped advisory lock, because under READ
COMMITTED two concurrent calls could each clear the default they saw and then collide on
the unique index (or, worse, both succeed in sequence with a stale view).
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text, update

from switchboard.db import models as m
from switchboard.db.engine import Database
from switchboard.services import validation
from switchboard.services.audit import SYSTEM, Actor, record
from switchboard.services.errors import Conflict, NotFound, ValidationFailed
from switchboard.services.fallback_chains import set_fallbacks
from switchboard.services.pricing_info import known_model, lookup_price
from switchboard.services.providers import UNSET, ProviderRef, load_provider
from switchboard.services.transactions import catalog_write
from switchboard.services.views import ModelView
from switchboard.spec.model import MODEL_TYPES, Capabilities, ModelInfo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_LOCK_KEY = zlib.crc32(b"switchboard.catalog.default_model")

ModelRef = int | tuple[ProviderRef, str]
"""A model by id, or by (provider id or name, model_sdk_id)."""


def catalog_kind(row: m.Provider) -> str:
    """The pricing catalog's name for this provider's models: the kind, or for an
    OpenAI-compatible row, the preset it was made from (matched by name or base URL)."""
    if row.kind != "openai_compatible":
        return row.kind
    from switchboard.services.presets import load_presets

    try:
        presets = load_presets(validation.provider_class(row.kind))
    except ValidationFailed:
        return row.kind
    if row.name in presets:
        return row.name
    base = (row.base_url or "").rstrip("/")
    for name, preset in presets.items():
        if str(getattr(preset, "base_url", "")).rstrip("/") == base:
            return name
    return row.kind


async def load_model(session: AsyncSession, ref: ModelRef) -> m.ProviderModel:
    if isinstance(ref, int):
        row = await session.get(m.ProviderModel, ref)
        if row is None:
            raise NotFound(f"no model with id {ref}")
        return row
    provider_ref, sdk_id = ref
    provider = await load_provider(session, provider_ref)
    row = await session.scalar(select(m.ProviderModel).where(
        m.ProviderModel.provider_id == provider.id, m.ProviderModel.model_sdk_id == sdk_id))
    if row is None:
        ids = [x.model_sdk_id for x in provider.models]
        raise NotFound(
            f"provider {provider.name!r} has no model {sdk_id!r}; its models: "
            f"{', '.join(ids) or 'none'} (add it with `switchboard models add "
            f"{provider.name} {sdk_id}` or `switchboard models import {provider.name}`)"
        )
    return row


def _price(value: Decimal | float | str | None, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        price = Decimal(str(value))
    except ArithmeticError:
        raise ValidationFailed(f"{field} is not a number: {value!r}", field=field) from None
    if not price.is_finite() or price < 0:
        raise ValidationFailed(f"{field} must be a price >= 0 (USD per million tokens)",
                               field=field)
    return price


def _positive(value: int | None, field: str) -> int | None:
    if value is not None and value <= 0:
        raise ValidationFailed(f"{field} must be a positive number of tokens", field=field)
    return value


def _capabilities(value: dict[str, bool | None] | None) -> dict[str, bool | None]:
    known = set(Capabilities().as_dict())
    unknown = sorted(set(value or {}) - known)
    if unknown:
        raise ValidationFailed(
            f"unknown capabilities {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            field="capabilities",
        )
    return Capabilities.from_dict(value).as_dict()


def _model_type(value: str) -> str:
    if value not in MODEL_TYPES:
        raise ValidationFailed(f"model_type must be one of {', '.join(MODEL_TYPES)}",
                               field="model_type")
    return value


def fill_from_info(row: m.ProviderModel, info: ModelInfo, *, overwrite: bool) -> bool:
    """Copy what ``info`` knows onto ``row`` (only empty fields unless ``overwrite``);
    True when something changed."""
    changed = False
    values: dict[str, Any] = {
        "capabilities": info.capabilities.as_dict() if info.capabilities != Capabilities()
        else None,
        "context_window": info.context_window,
        "max_output_tokens": info.max_output_tokens,
        "description": info.description,
    }
    if info.type != "chat":
        values["model_type"] = info.type
    if info.embedding is not None:
        values["embedding"] = info.embedding.as_dict()
    if info.image is not None:
        values["image"] = info.image.as_dict()
    if info.price is not None:
        values.update(price_input=info.price.input, price_output=info.price.output,
                      price_cached_input=info.price.cached_input,
                      price_cache_write=info.price.cache_write)
    for key, value in values.items():
        if value is None:
            continue
        current = getattr(row, key)
        if not overwrite and key in ("image", "embedding") and isinstance(current, dict) \
                and current and isinstance(value, dict):
            # a field the catalog learned since the row was written (an image model's
            # ``edits``) is filled in; what the row already says is kept
            value = {**value, **current}
        if (overwrite or current in (None, {}) or key in ("image", "embedding")) \
                and current != value:
            setattr(row, key, value)
            changed = True
    return changed


async def create_model(
    db: Database,
    provider: ProviderRef,
    model_sdk_id: str,
    *,
    name: str | None = None,
    enabled: bool = True,
    capabilities: dict[str, bool | None] | None = None,
    context_window: int | None = None,
    max_output_tokens: int | None = None,
    price_input: Decimal | float | str | None = None,
    price_output: Decimal | float | str | None = None,
    price_cached_input: Decimal | float | str | None = None,
    price_cache_write: Decimal | float | str | None = None,
    description: str | None = None,
    model_type: str | None = None,
    actor: Actor = SYSTEM,
) -> ModelView:
    """Add a model to a provider. What is not given comes from ``switchboard.pricing``
    when it knows the model (prices stay unknown otherwise, never zero). ``model_type``
    (``chat`` / ``embedding``): what the model is, when the catalog does not know it (an
    embedding model of an OpenAI-compatible server, say)."""
    sdk_id = validation.model_sdk_id(model_sdk_id)
    row = m.ProviderModel(
        model_sdk_id=sdk_id,
        name=validation.display_name(name, sdk_id),
        is_enabled=enabled,
        capabilities=_capabilities(capabilities) if capabilities is not None else {},
        context_window=_positive(context_window, "context_window"),
        max_output_tokens=_positive(max_output_tokens, "max_output_tokens"),
        price_input=_price(price_input, "price_input"),
        price_output=_price(price_output, "price_output"),
        price_cached_input=_price(price_cached_input, "price_cached_input"),
        price_cache_write=_price(price_cache_write, "price_cache_write"),
        description=description,
    )
    if model_type is not None:
        row.model_type = _model_type(model_type)
    async with catalog_write(db, f"adding model {sdk_id!r}") as session:
        owner = await load_provider(session, provider)
        if any(x.model_sdk_id == sdk_id for x in owner.models):
            raise Conflict(
                f"provider {owner.name!r} already has model {sdk_id!r}; change it with "
                f"`switchboard models enable|disable {owner.name} {sdk_id}`"
            )
        row.provider_id = owner.id
        if sdk_id in (owner.removed_models or []):
            # Added again on purpose: no longer a removed model (decision 0036).
            owner.removed_models = [x for x in owner.removed_models if x != sdk_id]
        info = known_model(catalog_kind(owner), sdk_id)
        if info is not None:
            fill_from_info(row, info, overwrite=False)
            if name is None and info.name:
                row.name = info.name
        if row.price_input is None:
            price = lookup_price(catalog_kind(owner), sdk_id)
            if price is not None:
                row.price_input, row.price_output = price.input, price.output
                row.price_cached_input, row.price_cache_write = (
                    price.cached_input, price.cache_write)
        if not row.capabilities:
            row.capabilities = Capabilities(streaming=True).as_dict()
        session.add(row)
        await session.flush()
        record(session, actor, "model.create", target_type="model", target_id=row.id,
               details={"provider": owner.name, "model_sdk_id": sdk_id})
        await session.refresh(row)
        return ModelView.of(row)


async def get_models_by_provider_id(db: Database, provider: ProviderRef) -> list[ModelView]:
    async with db.unit_of_work(read_only=True) as session:
        owner = await load_provider(session, provider)
        return [ModelView.of(x) for x in owner.models]


async def get_model_by_id(db: Database, model: ModelRef) -> ModelView:
    async with db.unit_of_work(read_only=True) as session:
        return ModelView.of(await load_model(session, model))


async def update_model(
    db: Database,
    model: ModelRef,
    *,
    name: str = UNSET,
    enabled: bool = UNSET,
    capabilities: dict[str, bool | None] = UNSET,
    context_window: int | None = UNSET,
    max_output_tokens: int | None = UNSET,
    price_input: Decimal | float | str | None = UNSET,
    price_output: Decimal | float | str | None = UNSET,
    price_cached_input: Decimal | float | str | None = UNSET,
    price_cache_write: Decimal | float | str | None = UNSET,
    description: str | None = UNSET,
    fallbacks: list[str] = UNSET,
    model_type: str = UNSET,
    actor: Actor = SYSTEM,
) -> ModelView:
    """Change what is given; ``fallbacks`` replaces the model's fallback chain (checked
    by ``services.fallback_chains``; ``[]`` clears it)."""
    values: dict[str, Any] = {}
    if name is not UNSET:
        values["name"] = validation.display_name(name, "")
        if not values["name"]:
            raise ValidationFailed("a model's display name cannot be empty", field="name")
    if enabled is not UNSET:
        values["is_enabled"] = bool(enabled)
    if capabilities is not UNSET:
        values["capabilities"] = _capabilities(capabilities)
    for key, val in (("context_window", context_window),
                     ("max_output_tokens", max_output_tokens)):
        if val is not UNSET:
            values[key] = _positive(val, key)
    for key, price in (("price_input", price_input), ("price_output", price_output),
                       ("price_cached_input", price_cached_input),
                       ("price_cache_write", price_cache_write)):
        if price is not UNSET:
            values[key] = _price(price, key)
    if description is not UNSET:
        values["description"] = description
    if model_type is not UNSET:
        values["model_type"] = _model_type(model_type)
    async with catalog_write(db, f"updating model {model!r}") as session:
        row = await load_model(session, model)
        if values.get("model_type") == "embedding" and row.is_default:
            raise Conflict(
                f"{row.model_sdk_id!r} is the default model, which must be able to chat; "
                "choose another default first")
        if values.get("is_enabled") is False and row.is_default:
            raise Conflict(
                f"cannot disable {row.model_sdk_id!r}: it is the default model; choose "
                "another default first with `switchboard models set-default PROVIDER MODEL`"
            )
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        for key, val in changed.items():
            setattr(row, key, val)
        chain_changed = fallbacks is not UNSET and await set_fallbacks(
            session, row, list(fallbacks), actor)
        if chain_changed and not changed:
            await session.flush()
            await session.refresh(row)
        if changed:
            record(session, actor, "model.update", target_type="model", target_id=row.id,
                   details={"model_sdk_id": row.model_sdk_id,
                            "changes": {k: _jsonable(v) for k, v in changed.items()}})
            await session.flush()
            await session.refresh(row)
        return ModelView.of(row)


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


async def delete_model(db: Database, model: ModelRef, *, actor: Actor = SYSTEM) -> None:
    """Remove a model from the catalog. Its id is remembered on the provider
    (``removed_models``) so it is refused from then on even where the provider lets
    unlisted models through, and an import does not bring it back; adding it again with
    ``create_model`` undoes that (decision 0036)."""
    async with catalog_write(db, f"deleting model {model!r}") as session:
        row = await load_model(session, model)
        if row.is_default:
            raise Conflict(
                f"cannot delete {row.model_sdk_id!r}: it is the default model; choose "
                "another default first with `switchboard models set-default PROVIDER MODEL`"
            )
        owner = await session.get(m.Provider, row.provider_id)
        if owner is not None and row.model_sdk_id not in (owner.removed_models or []):
            owner.removed_models = [*(owner.removed_models or []), row.model_sdk_id]
        record(session, actor, "model.delete", target_type="model", target_id=row.id,
               details={"model_sdk_id": row.model_sdk_id, "provider_id": row.provider_id})
        await session.delete(row)


async def set_default_model(db: Database, model: ModelRef, *, actor: Actor = SYSTEM) -> ModelView:
    """Make ``model`` the one default (enabling nothing: it must be enabled already)."""
    async with catalog_write(db, f"setting the default model to {model!r}") as session:
        if db.engine.dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                  {"k": DEFAULT_LOCK_KEY})
        row = await load_model(session, model)
        if row.model_type == "embedding":
            raise Conflict(f"{row.model_sdk_id!r} is an embedding model: it cannot answer "
                           "chats, so it cannot be the default model")
        owner = await session.get(m.Provider, row.provider_id)
        assert owner is not None
        if not row.is_enabled or not owner.enabled:
            what = "model" if not row.is_enabled else f"provider {owner.name!r}"
            raise Conflict(
                f"cannot make {owner.name}:{row.model_sdk_id} the default: the {what} is "
                "disabled; enable it first"
            )
        previous = await session.scalar(select(m.ProviderModel).where(
            m.ProviderModel.is_default.is_(True)))
        if previous is not None and previous.id == row.id:
            return ModelView.of(row)
        await session.execute(update(m.ProviderModel)
                              .where(m.ProviderModel.is_default.is_(True))
                              .values(is_default=False)
                              .execution_options(synchronize_session=False))
        await session.flush()
        row.is_default = True
        record(session, actor, "model.set_default", target_type="model", target_id=row.id,
               details={"model": f"{owner.name}:{row.model_sdk_id}",
                        "previous_model_id": previous.id if previous else None})
        await session.flush()
        await session.refresh(row)
        return ModelView.of(row)
