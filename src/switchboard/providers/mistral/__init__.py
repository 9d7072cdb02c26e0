"""Mistral AI (``kind = "mistral"``): chat completions and model discovery."""

from switchboard.providers.mistral.provider import MistralChatModel, MistralConfig, MistralProvider

__all__ = ["MistralChatModel", "MistralConfig", "MistralProvider"]
