"""``CatalogEntry``: one model of one provider instance, as ``switchboard models`` shows it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from switchboard.spec.model import (
    Capabilities,
    EmbeddingCapabilities,
    ImageCapabilities,
    ModelType,
)
from switchboard.spec.usage import Price


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    provider: str
    kind: str
    model_id: str
    name: str
    capabilities: Capabilities
    price: Price | None
    context_window: int | None
    max_output_tokens: int | None
    configured: bool
    enabled: bool
    is_default: bool
    type: ModelType = "chat"
    embedding: EmbeddingCapabilities | None = None
    image: ImageCapabilities | None = None

    @property
    def ref(self) -> str:
        return f"{self.provider}:{self.model_id}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready. Prices are USD per million tokens (numbers; ``null`` = unknown)."""
        price = None
        if self.price is not None:
            p = self.price
            price = {
                "input": _num(p.input),
                "cached_input": _num(p.input if p.cached_input is None else p.cached_input),
                "output": _num(p.output),
                "cache_write": _num(p.cache_write) if p.cache_write is not None else None,
            }
        return {
            "ref": self.ref,
            "provider": self.provider,
            "kind": self.kind,
            "model": self.model_id,
            "name": self.name,
            "capabilities": self.capabilities.as_dict(),
            "price_per_million": price,
            "context_window": self.context_window,
            "max_output_tokens": self.max_output_tokens,
            "configured": self.configured,
            "enabled": self.enabled,
            "default": self.is_default,
            "type": self.type,
            "embedding": self.embedding.as_dict() if self.embedding is not None else None,
            "image": self.image.as_dict() if self.image is not None else None,
        }


def _num(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
