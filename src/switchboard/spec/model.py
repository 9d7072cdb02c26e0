"""What a model can do and what it costs: the catalog's vocabulary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
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


ModelType = Literal["chat", "embedding"]
"""What a model is called for: ``chat`` (``ChatModel``: messages in, an answer out) or
``embedding`` (``EmbeddingModel``: texts in, one vector each). A model has one type; the
chat selector offers only chat models and ``/v1/embeddings`` only embedding models."""

MODEL_TYPES: tuple[ModelType, ...] = ("chat", "embedding")


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

    @property
    def display_name(self) -> str:
        return self.name or self.id
