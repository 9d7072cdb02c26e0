"""The ``openai_compatible`` provider kind: any server speaking OpenAI's Chat
Completions wire, described by quirk flags; bundled vendors are presets (data).

The names below are imported from their modules on first access (PEP 562): importing
one light module of this package (its ``config``, or a helper another layer uses) does
not import the whole adapter, which a start pays only for the kinds it calls (issue 12,
decision 0220).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchboard.providers.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from switchboard.providers.openai_compatible.config import OpenAICompatibleConfig
    from switchboard.providers.openai_compatible.presets import Preset, load_presets
    from switchboard.providers.openai_compatible.provider import (
        OpenAICompatibleProvider,
    )

_EXPORTS = {
    "Preset": "presets",
    "load_presets": "presets",
    "OpenAICompatibleConfig": "config",
    "OpenAICompatibleProvider": "provider",
}

__all__ = ["OpenAICompatibleConfig", "OpenAICompatibleProvider", "Preset", "load_presets"]


__getattr__ = lazy_exports(__name__, _EXPORTS)
