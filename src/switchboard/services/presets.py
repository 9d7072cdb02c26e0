"""OpenAI-compatible presets (Groq, Together, OpenRouter, Ollama, ...) as catalog rows.

A preset is data published by the ``openai_compatible`` kind (``load_presets()`` and
``from_preset(name, ...)``, the same hooks the environment registry uses): it gives the
base URL and the quirk settings of one vendor. Creating a provider from a preset stores
them in the row, so the row alone describes the provider.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from switchboard.services.errors import ValidationFailed
from switchboard.spec.provider import Provider


def load_presets(cls: type[Provider]) -> Mapping[str, Any]:
    load = getattr(cls, "load_presets", None)
    if load is None:
        load = getattr(importlib.import_module(cls.__module__), "load_presets", None)
    if load is None:
        return {}
    presets: Mapping[str, Any] = load()
    return presets


def apply_preset(
    cls: type[Provider],
    preset: str,
    base_url: str | None,
    settings: dict[str, Any] | None,
) -> tuple[str | None, dict[str, Any]]:
    """The preset's base URL and settings, overridden by what the caller gave."""
    presets = load_presets(cls)
    from_preset = getattr(cls, "from_preset", None)
    if preset not in presets or from_preset is None:
        names = ", ".join(sorted(presets)) or "none"
        raise ValidationFailed(
            f"unknown preset {preset!r} for kind {cls.kind!r}; presets: {names}"
            + ("" if presets else " (presets exist for kind 'openai_compatible')"),
            field="preset",
        )
    provider: Provider = from_preset(preset, api_key=None, base_url=None)
    config = provider.config
    values = config.model_dump(
        exclude={"api_key", "base_url"}, exclude_defaults=True, mode="json"
    )
    values.update(settings or {})
    return (base_url or config.base_url or getattr(presets[preset], "base_url", None)), values
