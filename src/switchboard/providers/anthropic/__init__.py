"""Anthropic (Claude) through the Messages API."""

from switchboard.providers.anthropic.provider import (
    AnthropicChatModel,
    AnthropicConfig,
    AnthropicProvider,
)

__all__ = ["AnthropicChatModel", "AnthropicConfig", "AnthropicProvider"]
