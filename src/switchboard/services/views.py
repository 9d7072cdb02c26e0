"""What services return: plain, frozen pydantic models — never live ORM objects, never a
key in clear (``api_key_masked`` is ``…`` plus the last four characters).

Pydantic rather than dataclasses because the REST API serialises them as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Row

from switchboard.db import models as m
from switchboard.registry.keypool import PROCESS_LEDGER, key_ref
from switchboard.security.masking import mask_last4
from switchboard.spec.model import (
    Capabilities,
    EmbeddingCapabilities,
    ImageCapabilities,
    ModelInfo,
    ModelType,
    model_type_of,
)
from switchboard.spec.usage import Price


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class ModelView(_View):
    id: int
    provider_id: int
    name: str
    model_sdk_id: str
    is_default: bool
    is_enabled: bool
    capabilities: dict[str, bool | None]
    context_window: int | None
    max_output_tokens: int | None
    price_input: Decimal | None
    price_cached_input: Decimal | None
    price_output: Decimal | None
    price_cache_write: Decimal | None
    description: str | None
    created_at: datetime
    updated_at: datetime
    fallbacks: tuple[str, ...] = ()
    """The model's own fallback chain (``provider:model`` refs, in order)."""
    model_type: ModelType = "chat"
    embedding: dict[str, Any] | None = None
    image: dict[str, Any] | None = None

    @classmethod
    def of(cls, row: m.ProviderModel | Row[Any]) -> ModelView:
        """From an ORM row or a Core row of ``provider_models`` (the registry's build,
        decision 0235): the same attributes."""
        return cls(
            id=row.id,
            provider_id=row.provider_id,
            name=row.name,
            model_sdk_id=row.model_sdk_id,
            is_default=row.is_default,
            is_enabled=row.is_enabled,
            capabilities=Capabilities.from_dict(row.capabilities).as_dict(),
            context_window=row.context_window,
            max_output_tokens=row.max_output_tokens,
            price_input=row.price_input,
            price_cached_input=row.price_cached_input,
            price_output=row.price_output,
            price_cache_write=row.price_cache_write,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
            fallbacks=tuple(row.fallbacks or ()),
            model_type=model_type_of(row.model_type),
            embedding=EmbeddingCapabilities.from_dict(row.embedding).as_dict()
            if row.embedding is not None else None,
            image=ImageCapabilities.from_dict(row.image).as_dict()
            if row.image is not None else None,
        )

    @property
    def price(self) -> Price | None:
        if self.price_input is None or self.price_output is None:
            return None
        return Price(
            input=self.price_input,
            output=self.price_output,
            cached_input=self.price_cached_input,
            cache_write=self.price_cache_write,
        )

    def info(self) -> ModelInfo:
        return ModelInfo(
            id=self.model_sdk_id,
            name=self.name,
            capabilities=Capabilities.from_dict(self.capabilities),
            context_window=self.context_window,
            max_output_tokens=self.max_output_tokens,
            price=self.price,
            description=self.description,
            type=self.model_type,
            embedding=EmbeddingCapabilities.from_dict(self.embedding)
            if self.embedding is not None else None,
            image=ImageCapabilities.from_dict(self.image) if self.image is not None else None,
        )


KeyState = Literal["active", "disabled", "failed", "expired"]


def key_state(row: m.ProviderKey, now: datetime | None = None) -> KeyState:
    """Whether a stored key serves, and if not why (the first reason that applies).
    "failed" covers a refusal this process saw and the database has not recorded yet."""
    now = now or datetime.now(UTC)
    if not row.enabled:
        return "disabled"
    if row.failed_at is not None or PROCESS_LEDGER.refused(key_ref(row.id, row.set_at)):
        return "failed"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


class ProviderKeyView(_View):
    """One key of a provider's pool, as people see it: never the key, only its tail."""

    id: int
    provider_id: int
    label: str
    masked: str
    master_key_id: str
    weight: int
    rpm: int | None
    tpm: int | None
    enabled: bool
    expires_at: datetime | None
    failed_at: datetime | None
    set_at: datetime
    state: KeyState
    in_flight: int
    """Calls using this key right now, in THIS process (the counters are per process)."""

    @classmethod
    def of(cls, row: m.ProviderKey, now: datetime | None = None) -> ProviderKeyView:
        return cls(
            id=row.id, provider_id=row.provider_id, label=row.label,
            masked=mask_last4(row.last4), master_key_id=row.master_key_id,
            weight=row.weight, rpm=row.rpm, tpm=row.tpm, enabled=row.enabled,
            expires_at=row.expires_at, failed_at=row.failed_at, set_at=row.set_at,
            state=key_state(row, now),
            in_flight=PROCESS_LEDGER.in_flight(key_ref(row.id, row.set_at)),
        )


def primary_key(row: m.Provider) -> m.ProviderKey | None:
    """The key a provider's card shows as "the key": its first serving one."""
    now = datetime.now(UTC)
    return next((k for k in row.keys if key_state(k, now) == "active"), None)


class ProviderView(_View):
    id: int
    name: str
    kind: str
    base_url: str | None
    enabled: bool
    """The admin's switch only (decision 0035); see ``CatalogEntry.configured``."""
    allow_unlisted_models: bool
    removed_models: list[str]
    has_api_key: bool
    api_key_masked: str | None
    api_key_key_id: str | None
    api_key_set_at: datetime | None
    api_key_expires_at: datetime | None
    image_url: str | None
    status: str
    status_checked_at: datetime | None
    status_latency_ms: int | None
    status_error: str | None
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    models: list[ModelView]

    keys: list[ProviderKeyView]
    """The key pool (``api_key_*`` above describe its first serving key)."""

    @classmethod
    def of(cls, row: m.Provider, models: list[m.ProviderModel] | None = None) -> ProviderView:
        key = primary_key(row)
        return cls(
            id=row.id,
            name=row.name,
            kind=row.kind,
            base_url=row.base_url,
            enabled=row.enabled,
            allow_unlisted_models=row.allow_unlisted_models,
            removed_models=list(row.removed_models or []),
            has_api_key=key is not None,
            api_key_masked=mask_last4(key.last4) if key is not None else None,
            api_key_key_id=key.master_key_id if key is not None else None,
            api_key_set_at=key.set_at if key is not None else None,
            api_key_expires_at=key.expires_at if key is not None else None,
            keys=[ProviderKeyView.of(k) for k in row.keys],
            image_url=row.image_url,
            status=row.status,
            status_checked_at=row.status_checked_at,
            status_latency_ms=row.status_latency_ms,
            status_error=row.status_error,
            settings=dict(row.settings or {}),
            created_at=row.created_at,
            updated_at=row.updated_at,
            models=[ModelView.of(x) for x in (row.models if models is None else models)],
        )


class RegistryModel(_View):
    """A model as the UI's model picker needs it."""

    id: int
    name: str
    model_sdk_id: str
    ref: str  # "provider:model_sdk_id", what the chat and /v1 APIs accept
    is_default: bool
    capabilities: dict[str, bool | None]
    context_window: int | None
    price_input: Decimal | None
    price_output: Decimal | None
    type: ModelType = "chat"
    """``embedding`` models are listed (the catalog shows them) but the chat page never
    offers them: they cannot answer a message."""


class RegistryProvider(_View):
    id: int
    name: str
    kind: str
    display_name: str
    image_url: str | None
    status: str
    has_api_key: bool
    models: list[RegistryModel]


class ModelRegistry(_View):
    """Every enabled provider with its enabled models, plus the default model."""

    providers: list[RegistryProvider]
    default_model_id: int | None
    default_model_ref: str | None
    version: int


class KeyStatus(_View):
    provider: str
    has_api_key: bool
    api_key_masked: str | None
    api_key_key_id: str | None
    api_key_set_at: datetime | None


class TestResult(_View):
    provider: str
    ok: bool
    status: str
    latency_ms: int | None
    message: str
    models_seen: int | None
    checked_at: datetime


class ImportResult(_View):
    provider: str
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    total_listed: int
