"""Request bodies of the catalog routes: pydantic models that refuse unknown fields.

Partial updates (PUT) use ``model_fields_set``: a field left out is unchanged, a field
sent as ``null`` clears it where that means something (``base_url``, prices, limits...)
and is refused where it does not (``name``, ``enabled``...), naming the field.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from switchboard.api.params import RowId
from switchboard.security.vault import clean_api_key
from switchboard.services.errors import ValidationFailed
from switchboard.services.fallback_chains import MAX_CHAIN, MAX_REF
from switchboard.spec.errors import SwitchboardError


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def given(self, *, not_null: frozenset[str] = frozenset(),
              rename: dict[str, str] | None = None,
              exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The fields the client sent, as keyword arguments for a service ``update_*``."""
        out: dict[str, Any] = {}
        for name in sorted(self.model_fields_set - exclude):
            value = getattr(self, name)
            if value is None and name in not_null:
                raise ValidationFailed(f"{name} cannot be null; leave it out to keep it",
                                       field=name)
            out[(rename or {}).get(name, name)] = value
        return out


def api_key_value(secret: SecretStr | None, field: str = "api_key") -> str | None:
    """The key in clear (only to hand it to the vault), checked first so a bad value is
    a 422 naming the field — the message never echoes the value."""
    if secret is None:
        return None
    try:
        return clean_api_key(secret.get_secret_value())
    except SwitchboardError as exc:
        raise ValidationFailed(exc.message, field=field) from None


class ProviderCreate(Body):
    name: str = Field(max_length=100)
    kind: str = Field(max_length=100)
    base_url: str | None = Field(default=None, max_length=2000)
    api_key: SecretStr | None = None
    image_url: str | None = Field(default=None, max_length=2000)
    enabled: bool = True
    settings: dict[str, Any] | None = None
    preset: str | None = Field(default=None, max_length=100)
    allow_unlisted_models: bool = True


class ProviderUpdate(Body):
    name: str | None = Field(default=None, max_length=100)
    base_url: str | None = Field(default=None, max_length=2000)
    api_key: SecretStr | None = None
    image_url: str | None = Field(default=None, max_length=2000)
    enabled: bool | None = None
    settings: dict[str, Any] | None = None
    allow_unlisted_models: bool | None = None

    NOT_NULL: ClassVar[frozenset[str]] = frozenset({"name", "enabled", "settings", "api_key",
                                                    "allow_unlisted_models"})


class _ModelFields(Body):
    name: str | None = Field(default=None, max_length=200)
    is_enabled: bool | None = None
    capabilities: dict[str, bool | None] | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    price_input: Decimal | None = None
    price_cached_input: Decimal | None = None
    price_output: Decimal | None = None
    price_cache_write: Decimal | None = None
    description: str | None = Field(default=None, max_length=5000)
    model_type: Literal["chat", "embedding"] | None = None
    """What the model is: ``embedding`` models answer ``/v1/embeddings`` only."""


class ModelCreate(_ModelFields):
    provider_id: RowId
    model_sdk_id: str = Field(max_length=200)


class ModelUpdate(_ModelFields):
    fallbacks: list[Annotated[str, Field(max_length=MAX_REF)]] | None = Field(
        default=None, max_length=MAX_CHAIN)
    """The model's fallback chain, replaced whole (``[]`` clears it)."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset({"name", "is_enabled", "capabilities",
                                                    "fallbacks", "model_type"})


class KeySet(Body):
    api_key: SecretStr
    expires_at: datetime | None = None


class PoolKeyAdd(Body):
    """A key added to a provider's pool (``POST /api/providers/{p}/keys``)."""

    api_key: SecretStr
    label: str | None = Field(default=None, max_length=100)
    weight: int = Field(default=1, ge=1, le=1000)
    rpm: int | None = Field(default=None, ge=1, le=1_000_000_000)
    tpm: int | None = Field(default=None, ge=1, le=1_000_000_000)
    expires_at: datetime | None = None


class PoolKeyUpdate(Body):
    """What ``PATCH /api/providers/{p}/keys/{key}`` changes (fields left out stay)."""

    label: str | None = Field(default=None, max_length=100)
    enabled: bool | None = None
    weight: int | None = Field(default=None, ge=1, le=1000)
    rpm: int | None = Field(default=None, ge=1, le=1_000_000_000)
    tpm: int | None = Field(default=None, ge=1, le=1_000_000_000)
    expires_at: datetime | None = None
