"""``ProviderInstance``: one configured provider (a database row, or one per env var).

An instance joins a user-facing ``name`` (unique; what appears before the colon in
``name:model``) to a ``kind`` (an adapter class), that kind's ``Config`` (key, base URL,
headers, ...), whether it is enabled (an admin's switch; having a key is the separate
"configured", asked of the built provider), the models it is known to offer (from the
pricing catalog or the database), the ones it refuses (disabled or removed models),
whether unlisted model ids pass through, and its default model.

Instances are immutable: a change is a new instance. The registry caches the ``Provider``
built from an instance and rebuilds it only when the instance it was built from is no
longer equal to the current one (config, models or ``version`` changed). A database-backed
source can bump ``version`` on every row update to make that explicit and cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from switchboard.spec.model import ModelInfo
from switchboard.spec.provider import ProviderConfig


@dataclass(frozen=True, slots=True)
class ProviderInstance:
    name: str
    kind: str
    config: ProviderConfig = field(default_factory=ProviderConfig)
    enabled: bool = True
    models: Mapping[str, ModelInfo] = field(default_factory=dict)
    default_model: str | None = None
    display_name: str | None = None
    version: int = 0
    allow_unlisted: bool = True
    """Whether a model id not in ``models`` is passed through to the vendor."""
    unavailable: Mapping[str, str] = field(default_factory=dict)
    """Model ids the catalog refuses, with why ("is disabled", "was removed..."): they
    never pass through, whatever ``allow_unlisted`` says."""
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Model id -> the refs an admin chose to answer, in order, when it fails before its
    first byte (the catalog's per-model fallback chain, decision 0064)."""

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name:
            raise ValueError(
                f"provider name {self.name!r} must be non-empty and contain no ':' "
                "(it is the part before the colon in 'provider:model')"
            )
        # Read-only view: an instance is a value, shared between registries and tasks.
        object.__setattr__(self, "models", MappingProxyType(dict(self.models)))
        object.__setattr__(self, "unavailable", MappingProxyType(dict(self.unavailable)))
        object.__setattr__(self, "fallbacks", MappingProxyType(dict(self.fallbacks)))

    def __hash__(self) -> int:  # the generated one would hash the (unhashable) config
        return hash((self.name, self.kind, self.version))


def models_by_id(models: Iterable[ModelInfo]) -> dict[str, ModelInfo]:
    """``{model.id: model}``, first one winning on duplicate ids."""
    out: dict[str, ModelInfo] = {}
    for m in models:
        out.setdefault(m.id, m)
    return out
