"""What a model can do and what it costs: the catalog's vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from switchboard.spec.usage import Price


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Every flag defaults to unsupported: a model claims only what it was shown to do."""

    streaming: bool = False
    tools: bool = False
    vision: bool = False
    image_output: bool = False
    json_output: bool = False
    reasoning: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in _CAPABILITY_NAMES}

    @classmethod
    def from_dict(cls, data: dict[str, bool] | None) -> Capabilities:
        return cls(**{k: bool(v) for k, v in (data or {}).items() if k in _CAPABILITY_SET})


# ``dataclasses.fields()`` per call showed up in registry builds of large catalogs.
_CAPABILITY_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Capabilities))
_CAPABILITY_SET = frozenset(_CAPABILITY_NAMES)


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

    @property
    def display_name(self) -> str:
        return self.name or self.id
