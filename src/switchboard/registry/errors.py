"""Routing errors that only the registry can raise (the rest live in ``spec.errors``).

They subclass the spec's ``ConfigurationError`` so every surface already knows how to
show them: an operator must change something, the request itself is fine.
"""

from __future__ import annotations

from switchboard.spec.errors import ConfigurationError, UnknownModelError


class ProviderDisabledError(ConfigurationError):
    code = "provider_disabled"


class KindNotInstalledError(ConfigurationError):
    """An instance names a kind whose adapter is not installed (or failed to load)."""

    code = "kind_not_installed"


class ModelUnavailableError(UnknownModelError):
    """The catalog refuses this model: disabled or removed by an admin, or not listed
    by a provider that accepts only listed models. A 404 on every surface (like an
    unknown model), with a message naming the model and why."""

    code = "model_not_available"
