"""The catalog's JSON shapes on ``/api`` (ProviderView, ModelView, RegistryModel, ...).

Built here, from the services' frozen views, as plain JSON values: money as string
decimals (never floats), times as ISO-8601 UTC, and a key only as its mask. Shared by
``routes.catalog`` and ``routes.providers`` so one shape cannot drift between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from switchboard.security.masking import ELLIPSIS
from switchboard.services.breakers import Snapshot
from switchboard.services.catalog_queries import CatalogEntry
from switchboard.services.views import ModelView, ProviderView

JSON = dict[str, Any]
HIDDEN = ELLIPSIS
"""What a non-admin sees instead of a header value (``extra_headers`` may carry a token)."""


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def decimal(value: Decimal | None) -> str | None:
    """``Decimal("0.150000")`` -> ``"0.15"``; never exponent notation."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def status(view: ProviderView, *, admin: bool = True) -> JSON:
    """The last connection test. Its error text is configuration (it may name hosts,
    accounts, key fragments a vendor echoed): admins only (issue 11, item 6)."""
    return {"state": view.status, "checked_at": iso(view.status_checked_at),
            "latency_ms": view.status_latency_ms,
            "error": view.status_error if admin else None}


def breakers(snapshots: Iterable[Snapshot], key_labels: Mapping[str, str], *,
             admin: bool) -> list[JSON]:
    """Circuit breakers (``services.breakers``), a key's with its label. The last error
    is the error's code, but kept for admins like the connection test's error."""
    out = []
    for snapshot in snapshots:
        item = snapshot.as_dict()
        del item["provider"]
        if snapshot.key_id is not None:
            item["key_label"] = key_labels.get(snapshot.key_id)
        if not admin:
            item["last_error"] = None
        out.append(item)
    return out


def key(view: ProviderView) -> JSON | None:
    if not view.has_api_key:
        return None
    masked = view.api_key_masked or ELLIPSIS
    return {"masked": masked, "last4": masked.removeprefix(ELLIPSIS) or None,
            "set_at": iso(view.api_key_set_at), "expires_at": iso(view.api_key_expires_at)}


def settings(view: ProviderView, *, admin: bool) -> JSON:
    values = dict(view.settings)
    headers = values.get("extra_headers")
    if not admin and isinstance(headers, dict):
        values["extra_headers"] = {name: HIDDEN for name in headers}
    return values


def provider(entry: CatalogEntry, *, admin: bool) -> JSON:
    """ProviderView of the contract."""
    view = entry.provider
    return {
        "id": view.id, "name": view.name, "kind": view.kind,
        "display_name": entry.display_name, "base_url": view.base_url,
        "image_url": view.image_url, "enabled": view.enabled, "configured": entry.configured,
        "usable": view.enabled and entry.configured,
        "allow_unlisted_models": view.allow_unlisted_models,
        "removed_models": list(view.removed_models),
        "key": key(view), "status": status(view), "settings": settings(view, admin=admin),
        "model_count": len(view.models),
        "created_at": iso(view.created_at), "updated_at": iso(view.updated_at),
    }


def provider_summary(entry: CatalogEntry, *, admin: bool) -> JSON:
    """An item of ``GET /api/providers``: connection state, no settings. A member sees
    whether a provider can be used, never its configuration (base URL, key hint, last
    error: issue 11, item 6)."""
    view = entry.provider
    item: JSON = {
        "id": view.id, "name": view.name, "kind": view.kind,
        "display_name": entry.display_name, "image_url": view.image_url,
        "enabled": view.enabled, "configured": entry.configured,
        "usable": view.enabled and entry.configured,
        "status": status(view, admin=admin),
    }
    if admin:
        item.update(base_url=view.base_url, key=key(view))
    return item


def price(model: ModelView) -> JSON:
    return {"input": decimal(model.price_input),
            "cached_input": decimal(model.price_cached_input),
            "output": decimal(model.price_output),
            "cache_write": decimal(model.price_cache_write)}


def model(view: ModelView, provider_name: str) -> JSON:
    """ModelView of the contract."""
    return {
        "id": view.id, "provider_id": view.provider_id, "provider": provider_name,
        "ref": f"{provider_name}:{view.model_sdk_id}", "name": view.name,
        "model_sdk_id": view.model_sdk_id, "is_default": view.is_default,
        "is_enabled": view.is_enabled, "capabilities": dict(view.capabilities),
        "context_window": view.context_window, "max_output_tokens": view.max_output_tokens,
        "price": price(view), "description": view.description,
        "fallbacks": list(view.fallbacks),
        "model_type": view.model_type, "embedding": view.embedding,
        "created_at": iso(view.created_at), "updated_at": iso(view.updated_at),
    }


def registry_model(view: ModelView, provider_name: str, *, with_enabled: bool) -> JSON:
    """RegistryModel of the contract (``+ is_enabled`` for ``/api/models``)."""
    item: JSON = {
        "id": view.id, "ref": f"{provider_name}:{view.model_sdk_id}", "name": view.name,
        "model_sdk_id": view.model_sdk_id, "capabilities": dict(view.capabilities),
        "price": price(view), "context_window": view.context_window,
        "max_output_tokens": view.max_output_tokens, "is_default": view.is_default,
        "type": view.model_type,  # the chat page never offers "embedding" models
    }
    if view.image is not None:  # an image model: may a picture be sent to it (an edit)?
        item["edits"] = bool(view.image.get("edits"))
    if with_enabled:
        item["is_enabled"] = view.is_enabled
    return item


def registry_provider(entry: CatalogEntry, *, all_models: bool) -> JSON:
    view = entry.provider
    models = view.models if all_models else [x for x in view.models if x.is_enabled]
    return {
        "id": view.id, "name": view.name, "kind": view.kind,
        "display_name": entry.display_name, "image_url": view.image_url,
        "configured": entry.configured, "enabled": view.enabled,
        "usable": view.enabled and entry.configured,
        "status": status(view, admin=False),  # the same bytes for every user
        "models": [registry_model(x, view.name, with_enabled=all_models) for x in models],
    }
