"""``OpenAICompatibleConfig``: the settings of one ``openai_compatible`` provider instance.

Its own module so the registry can validate a provider row's settings (and build an
instance from the environment) without importing the adapter: a start imports only the
adapters of the kinds it calls (issue 12, decision 0220)."""

from __future__ import annotations

from pydantic import Field, model_validator

from switchboard.providers.openai.quirks import Quirks
from switchboard.spec.provider import ProviderConfig


class OpenAICompatibleConfig(ProviderConfig, Quirks):
    """Connection settings plus the server's quirk flags (defaults: plain OpenAI)."""

    api_key_env: str | None = Field(
        default=None, description="environment variable holding the key, e.g. GROQ_API_KEY")
    default_model: str | None = None

    @model_validator(mode="after")
    def _needs_base_url(self) -> OpenAICompatibleConfig:
        url = self.base_url
        if not url:
            raise ValueError(
                "base_url is required for an openai_compatible provider: the server's "
                "OpenAI-compatible endpoint including its version prefix, e.g. "
                "http://localhost:11434/v1")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
        return self
