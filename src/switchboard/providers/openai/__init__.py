"""The ``openai`` provider kind (Chat Completions API); also the wire code reused by
``openai_compatible``."""

from switchboard.providers.openai.provider import OpenAIChatModel, OpenAIConfig, OpenAIProvider
from switchboard.providers.openai.quirks import Quirks

__all__ = ["OpenAIChatModel", "OpenAIConfig", "OpenAIProvider", "Quirks"]
