"""What ``switchboard.pricing`` knows about a model (prices, capabilities, limits).

Plugins may have no entry in the bundled catalog: unknown means ``None``, never zero.
"""

from __future__ import annotations

from switchboard import pricing
from switchboard.spec.model import ModelInfo
from switchboard.spec.usage import Price


def builtin_models(catalog_kind: str) -> list[ModelInfo]:
    """The bundled models of a kind (or preset name), newest data first; [] if unknown."""
    try:
        return list(pricing.builtin_models(catalog_kind))
    except (KeyError, ValueError):
        return []


def known_model(catalog_kind: str, model_id: str) -> ModelInfo | None:
    """What the catalog knows of ``model_id`` (aliases and dated snapshots resolved)."""
    found = pricing.find_row(catalog_kind, model_id)
    if found is None:
        return None
    info: ModelInfo = found[1].info(model_id, catalog_kind)
    return info


def lookup_price(catalog_kind: str, model_id: str) -> Price | None:
    price: Price | None = pricing.lookup(catalog_kind, model_id)
    return price
