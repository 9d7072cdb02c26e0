"""``MistralConfig``: the settings of one ``mistral`` provider instance.

Its own module so the registry can validate a provider row's settings (and build an
instance from the environment) without importing the adapter: a start imports only the
adapters of the kinds it calls (issue 12, decision 0220)."""

from __future__ import annotations

from switchboard.spec.provider import ProviderConfig


class MistralConfig(ProviderConfig):
    """No Mistral-only instance settings: per-call ones go in
    ``provider_options["mistral"]`` (see ``options.MistralOptions``)."""
