"""``OpenAIConfig``: the settings of one ``openai`` provider instance.

Its own module so the registry can validate a provider row's settings (and build an
instance from the environment) without importing the adapter: a start imports only the
adapters of the kinds it calls (issue 12, decision 0220)."""

from __future__ import annotations

from pydantic import Field

from switchboard.spec.provider import ProviderConfig


class OpenAIConfig(ProviderConfig):
    """OpenAI settings. ``organization`` / ``project`` default to ``OPENAI_ORG_ID`` /
    ``OPENAI_PROJECT_ID``, as in the official SDK, and are sent as headers."""

    organization: str | None = Field(default=None, description="OpenAI-Organization header")
    project: str | None = Field(default=None, description="OpenAI-Project header")
