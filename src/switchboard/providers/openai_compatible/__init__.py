"""The ``openai_compatible`` provider kind: any server speaking OpenAI's Chat
Completions wire, described by quirk flags; bundled vendors are presets (data)."""

from switchboard.providers.openai_compatible.presets import Preset, load_presets
from switchboard.providers.openai_compatible.provider import (
    OpenAICompatibleConfig,
    OpenAICompatibleProvider,
)

__all__ = ["OpenAICompatibleConfig", "OpenAICompatibleProvider", "Preset", "load_presets"]
