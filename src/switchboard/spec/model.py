"""What a model can do and what it costs: the catalog's vocabulary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Literal

from switchboard.spec.usage import Price


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a model can do, each flag tri-state: ``True`` (known to work), ``False``
    (known to be absent) or ``None`` (nobody said: a vendor listing without parameters,
    a model the catalog does not know). Every flag defaults to unknown.

    Only a capability KNOWN to be absent may be refused before a call; an unknown one is
    left to the vendor, which answers for itself (decision 0036). Code that needs "does
    it?" as a yes/no for display treats unknown as "not shown"; code that refuses input
    must test ``is False``.
    """

    streaming: bool | None = None
    tools: bool | None = None
    vision: bool | None = None
    image_output: bool | None = None
    json_output: bool | None = None
    reasoning: bool | None = None

    def as_dict(self) -> dict[str, bool | None]:
        return {name: getattr(self, name) for name in _CAPABILITY_NAMES}

    @classmethod
    def from_dict(cls, data: Mapping[str, bool | None] | None) -> Capabilities:
        """A missing key or ``None`` is unknown; anything else is read as a yes/no."""
        return cls(**{k: None if v is None else bool(v)
                      for k, v in (data or {}).items() if k in _CAPABILITY_SET})

    @classmethod
    def exactly(cls, present: Iterable[str]) -> Capabilities:
        """A complete description: the named capabilities are present, every other one is
        known to be absent (a curated catalog entry)."""
        have = set(present)
        return cls(**{name: name in have for name in _CAPABILITY_NAMES})


# ``dataclasses.fields()`` per call showed up in registry builds of large catalogs.
_CAPABILITY_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Capabilities))
_CAPABILITY_SET = frozenset(_CAPABILITY_NAMES)


ModelType = Literal["chat", "embedding", "image"]
"""What a model is called for: ``chat`` (``ChatModel``: messages in, an answer out),
``embedding`` (``EmbeddingModel``: texts in, one vector each) or ``image``
(``ImageModel``: a prompt in, pictures out; capability ``image_output``). A model has one
type; the chat selector offers only chat models, ``/v1/embeddings`` only embedding models
and ``/v1/images/generations`` only image models."""

MODEL_TYPES: tuple[ModelType, ...] = ("chat", "embedding", "image")


def model_type_of(text: str | None) -> ModelType:
    """A stored type word as a ``ModelType`` (anything unknown reads as ``chat``)."""
    for known in MODEL_TYPES:
        if text == known:
            return known
    return "chat"


@dataclass(frozen=True, slots=True)
class EmbeddingCapabilities:
    """What an embedding model can do, beside ``Capabilities`` (which describe chat).

    ``dimensions``: the length of the vectors it returns by default (``None``: unknown).
    ``custom_dimensions``: whether it accepts a requested, shorter length (OpenAI's
    ``dimensions``, Gemini's ``outputDimensionality``, Mistral's ``output_dimension``);
    tri-state like ``Capabilities``: only ``False`` refuses a request before the call.
    """

    dimensions: int | None = None
    custom_dimensions: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"dimensions": self.dimensions, "custom_dimensions": self.custom_dimensions}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> EmbeddingCapabilities:
        data = data or {}
        dims = data.get("dimensions")
        custom = data.get("custom_dimensions")
        return cls(
            dimensions=dims if isinstance(dims, int) and not isinstance(dims, bool)
            and dims > 0 else None,
            custom_dimensions=None if custom is None else bool(custom))


@dataclass(frozen=True, slots=True)
class ImageCapabilities:
    """What an image model makes and what each picture costs, beside ``Capabilities``.

    ``prices``: USD per image by quality then size, as vendors publish them (OpenAI's
    pricing page lists gpt-image-1 and dall-e-3 this way); the sizes and qualities a
    model accepts are the keys. ``default_quality`` is the quality asked for when the
    request names none (``None``: the model has no quality setting, key ``"standard"``).
    ``max_n``: pictures per upstream call (dall-e-3 makes one)."""

    prices: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    default_size: str | None = None
    default_quality: str | None = None
    max_n: int = 1
    backgrounds: tuple[str, ...] = ()
    """Background settings it accepts besides none (``transparent``, ``opaque``)."""
    output_formats: tuple[str, ...] = ("png",)
    edits: bool = False
    """It also edits pictures it is given (OpenAI's ``/images/edits``: gpt-image-1,
    dall-e-2); only such a model is sent an edit."""

    @property
    def qualities(self) -> tuple[str, ...]:
        return tuple(self.prices)

    @property
    def sizes(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for by_size in self.prices.values():
            seen.update(dict.fromkeys(by_size))
        return tuple(seen)

    def price_of(self, size: str | None, quality: str | None) -> Decimal | None:
        """USD for one picture of ``size``/``quality`` (defaults filled in), or ``None``
        when the table has no such entry (unknown is never zero)."""
        by_size = self.prices.get(quality or self.default_quality or "standard")
        if by_size is None:
            return None
        return by_size.get(size or self.default_size or "")

    def as_dict(self) -> dict[str, Any]:
        return {"prices": {q: {s: str(p) for s, p in by.items()}
                           for q, by in self.prices.items()},
                "default_size": self.default_size, "default_quality": self.default_quality,
                "max_n": self.max_n, "backgrounds": list(self.backgrounds),
                "output_formats": list(self.output_formats), "edits": self.edits}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ImageCapabilities:
        data = data or {}
        prices: dict[str, dict[str, Decimal]] = {}
        raw = data.get("prices")
        for quality, by_size in (raw.items() if isinstance(raw, Mapping) else ()):
            if isinstance(quality, str) and isinstance(by_size, Mapping):
                prices[quality] = {s: Decimal(str(p)) for s, p in by_size.items()
                                   if isinstance(s, str) and isinstance(p, str | int | float)}
        max_n = data.get("max_n")
        size, quality = data.get("default_size"), data.get("default_quality")
        return cls(prices=prices,
                   default_size=size if isinstance(size, str) else None,
                   default_quality=quality if isinstance(quality, str) else None,
                   max_n=max_n if isinstance(max_n, int) and max_n > 0 else 1,
                   backgrounds=tuple(str(b) for b in data.get("backgrounds") or ()),
                   output_formats=tuple(str(f) for f in data.get("output_formats") or ("png",)),
                   edits=data.get("edits") is True)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model as a provider lists it (``list_models``) or the price table knows it."""

    id: str
    name: str | None = None
    capabilities: Capabilities = field(default_factory=Capabilities)
    context_window: int | None = None
    max_output_tokens: int | None = None
    price: Price | None = None
    description: str | None = None
    created: int | None = None
    owned_by: str | None = None
    type: ModelType = "chat"
    embedding: EmbeddingCapabilities | None = None
    """Set for ``type == "embedding"`` when anything is known of the vectors."""
    image: ImageCapabilities | None = None
    """Set for ``type == "image"``, and for a chat model that draws (capability
    ``image_output``: its pictures' price, and what it makes on ``/v1/images``): sizes,
    qualities and the price of each picture."""

    @property
    def display_name(self) -> str:
        return self.name or self.id
