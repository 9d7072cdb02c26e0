"""``AnthropicConfig``: the settings of one ``anthropic`` provider instance.

Its own module so the registry can validate a provider row's settings (and build an
instance from the environment) without importing the adapter: a start imports only the
adapters of the kinds it calls (issue 12, decision 0220)."""

from __future__ import annotations

from pydantic import Field

from switchboard.spec.provider import ProviderConfig

API_VERSION = "2023-06-01"


class AnthropicConfig(ProviderConfig):
    anthropic_version: str = Field(
        default=API_VERSION, description="sent as the anthropic-version header")
    beta: list[str] = Field(
        default_factory=list, description="beta features, sent as the anthropic-beta header")
    default_max_tokens: int | None = Field(
        default=None, ge=1,
        description="max_tokens when a request sets none (default 4096, capped per model)")
