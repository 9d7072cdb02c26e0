"""A fake OpenAI-compatible server: the OpenAI wire (``tests.fakes.openai.Wire``) reached
through an ``openai_compatible`` provider pointed at the fake's base URL."""

from __future__ import annotations

from typing import Any

from switchboard.providers.openai_compatible import (
    OpenAICompatibleConfig,
    OpenAICompatibleProvider,
)
from switchboard.spec import Provider
from tests.fakes.openai import Wire

__all__ = ["KIND", "MODEL", "VISION_MODEL", "Wire", "make_provider"]

KIND = "openai_compatible"
MODEL = "llama-3.3-70b"
VISION_MODEL = "llama-3.2-11b-vision"


def make_provider(base_url: str, api_key: str | None = "test-key", **config: Any) -> Provider:
    return OpenAICompatibleProvider(
        OpenAICompatibleConfig(base_url=base_url, api_key=api_key, **config))
