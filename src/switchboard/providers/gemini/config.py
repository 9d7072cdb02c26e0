"""``GeminiConfig``: the settings of one ``gemini`` provider instance.

Its own module so the registry can validate a provider row's settings (and build an
instance from the environment) without importing the adapter: a start imports only the
adapters of the kinds it calls (issue 12, decision 0220)."""

from __future__ import annotations

from pydantic import Field

from switchboard.spec.provider import ProviderConfig

DEFAULT_API_VERSION = "v1beta"


class GeminiConfig(ProviderConfig):
    api_version: str = Field(
        default=DEFAULT_API_VERSION,
        pattern=r"^v\d+(alpha|beta)?\d*$",
        description="API version path segment appended to the base URL (v1beta, v1, v1alpha)",
    )
