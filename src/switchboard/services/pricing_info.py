"""What ``switchboard.pricing`` knows about a model (prices, capabilities, limits).

The pricing package is optional at import time for this module (it is written in
parallel and plugins may have no entry in it): unknown means ``None``, never zero.
"""

from __future__ import annotations

from typing import Any

from switchboard.spec.model import ModelInfo
from switchboard.spec.usage import Price


def _pricing() -> Any:
    try:
        from switchboard import pricing
    except ImportError:
        return None
    return pricing


def builtin_models(catalog_kind: str) -> list[ModelInfo]:
    """The bundled models of a kind (or preset name), newest data first; [] if unknown."""
    pricing = _pricing()
    builtin = getattr(pricing, "builtin_models", None)
    if builtin is None:
        return []
    try:
        return list(builtin(catalog_kind))
    except (KeyError, ValueError):
        return []


def known_model(catalog_kind: str, model_id: str) -> ModelInfo | None:
    """What the catalog knows of ``model_id`` (aliases and dated snapshots resolved)."""
    pricing = _pricing()
    find_row = getattr(pricing, "find_row", None)
    if find_row is not None:
        found = find_row(catalog_kind, model_id)
        if found is None:
            return None
        info: ModelInfo = found[1].info(model_id, catalog_kind)
        return info
    for candidate in builtin_models(catalog_kind):
        if candidate.id == model_id:
            return candidate
    return None


def lookup_price(catalog_kind: str, model_id: str) -> Price | None:
    pricing = _pricing()
    lookup = getattr(pricing, "lookup", None)
    if lookup is None:
        return None
    price: Price | None = lookup(catalog_kind, model_id)
    return price
