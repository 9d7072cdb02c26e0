"""Provider instances from environment variables (used until the database is set up).

The rules, so that ``switchboard chat`` works with nothing but the variables the vendors'
own SDKs already read:

- **One instance per installed kind**, named after the kind (``openai``, ``anthropic``,
  ``mistral``, ``gemini``, ``offline``, and each plugin kind), with the kind's default
  ``Config``: the adapter itself reads ``<VENDOR>_API_KEY`` / ``<VENDOR>_BASE_URL`` when
  it is called. An instance exists even without its key, so ``switchboard models`` can
  show it as "not configured" and a call names the missing variable. A kind whose
  ``Config`` cannot be built from defaults (``openai_compatible`` needs a base URL) gets
  no such instance.
- **OpenAI-compatible presets** (Groq, Together, OpenRouter, ...; data in
  ``switchboard.providers.openai_compatible``) get an instance named after the preset
  only when they are usable, so the listing is not flooded with a dozen unconfigured
  services:
  - a hosted preset (one with ``api_key_env``) when that variable is set, e.g.
    ``GROQ_API_KEY`` -> instance ``groq``;
  - a local preset (Ollama, vLLM, LM Studio: no key) only when ``<PRESET>_BASE_URL`` is
    set (``OLLAMA_BASE_URL``, ``VLLM_BASE_URL``, ``LMSTUDIO_BASE_URL``): we cannot know
    that a local server runs without probing the network, which a CLI start must not do.
  ``<PRESET>_BASE_URL`` also overrides a hosted preset's URL (a proxy, a region).
- Known models come from the pricing catalog (``switchboard.pricing.builtin_models``),
  plus the kind's or preset's default model when the catalog does not list it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from switchboard import pricing
from switchboard.registry.instance import ProviderInstance, models_by_id
from switchboard.registry.kinds import Kinds
from switchboard.spec.model import Capabilities, ModelInfo
from switchboard.spec.provider import Provider

COMPATIBLE_KIND = "openai_compatible"


def environment_instances(
    kinds: Kinds, environ: Mapping[str, str] | None = None, exclude: Collection[str] = ()
) -> list[ProviderInstance]:
    """The instances the environment defines, but none named in ``exclude`` (names a
    caller already has: a database's provider rows win over the environment).

    Built from the kinds' declarations (``Kinds.config_class``...): no adapter is
    imported here, only the OpenAI-compatible one when a preset is usable (decision
    0220)."""
    env = os.environ if environ is None else environ
    instances: list[ProviderInstance] = []
    for kind in kinds.declared():
        if kind == COMPATIBLE_KIND or kind in exclude:
            continue
        instance = _kind_instance(kinds, kind)
        if instance is not None:
            instances.append(instance)
    if COMPATIBLE_KIND in kinds.declared():
        taken = {*exclude, *(i.name for i in instances)}
        instances.extend(
            i for i in _preset_instances(kinds, env) if i.name not in taken
        )
    return instances


def _kind_instance(kinds: Kinds, kind: str) -> ProviderInstance | None:
    config_cls = kinds.config_class(kind)
    if config_cls is None:
        return None  # its adapter failed to load
    try:
        config = config_cls()
    except ValidationError:
        return None  # needs settings no environment variable provides
    default_model = kinds.default_model_of(kind)
    return ProviderInstance(
        name=kind,
        kind=kind,
        config=config,
        models=_known_models(kind, default_model),
        default_model=default_model,
        display_name=kinds.display_name_of(kind),
    )


def preset_base_url_env(preset_name: str) -> str:
    """``ollama`` -> ``OLLAMA_BASE_URL``; ``lm-studio`` -> ``LM_STUDIO_BASE_URL``."""
    return re.sub(r"[^A-Z0-9]+", "_", preset_name.upper()).strip("_") + "_BASE_URL"


def _preset_instances(kinds: Kinds, env: Mapping[str, str]) -> list[ProviderInstance]:
    load = kinds.presets_loader(COMPATIBLE_KIND)
    if load is None:
        return []
    presets: Mapping[str, Any] = load()
    usable: list[tuple[str, Any, str | None]] = []
    for name, preset in sorted(presets.items()):
        key_env: str | None = getattr(preset, "api_key_env", None)
        base_url = env.get(preset_base_url_env(name)) or None
        key = (env.get(key_env) or None) if key_env else None
        if (key_env and key is None) or (not key_env and base_url is None):
            continue
        usable.append((name, preset, base_url))
    if not usable:
        return []  # the adapter is not imported for nothing
    cls = kinds.get(COMPATIBLE_KIND)
    from_preset = getattr(cls, "from_preset", None)
    if from_preset is None:
        return []
    out: list[ProviderInstance] = []
    for name, preset, base_url in usable:
        # The key stays in the environment: the preset's config names its variable
        # (``api_key_env``) and the adapter reads it at call time.
        provider: Provider = from_preset(name, base_url=base_url)
        default_model: str | None = getattr(preset, "default_model", None)
        out.append(ProviderInstance(
            name=name,
            kind=COMPATIBLE_KIND,
            config=provider.config,
            models=_known_models(name, default_model),
            default_model=default_model,
            display_name=getattr(preset, "display_name", None),
        ))
    return out


def _known_models(catalog_kind: str, default_model: str | None) -> dict[str, ModelInfo]:
    models = models_by_id(_builtin_models(catalog_kind))
    if default_model and default_model not in models:
        models[default_model] = ModelInfo(id=default_model,
                                          capabilities=Capabilities(streaming=True))
    return models


def _builtin_models(kind: str) -> list[ModelInfo]:
    try:
        models: list[ModelInfo] = pricing.builtin_models(kind)
    except (KeyError, ValueError):  # a kind the catalog does not cover
        return []
    return models
