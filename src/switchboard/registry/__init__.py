"""The provider registry: kinds (adapters, built-in or plugin) + instances + models.

- ``kinds``: discovering adapter classes (built-ins by dotted path, plugins by entry point).
- ``instance``: ``ProviderInstance``, one configured provider.
- ``registry``: ``Registry`` — builds and caches providers, routes ``provider:model``.
- ``resolved``: ``ResolvedModel`` — a routed model with retries and pricing applied.
- ``environment``: instances from environment variables.
"""

from switchboard.registry.catalog import CatalogEntry
from switchboard.registry.errors import (
    KindNotInstalledError,
    ModelUnavailableError,
    ProviderDisabledError,
)
from switchboard.registry.instance import ProviderInstance
from switchboard.registry.kinds import (
    BUILTIN_KINDS,
    ENTRY_POINT_GROUP,
    BuiltinKind,
    KindFailure,
    KindInfo,
    Kinds,
    load_kinds,
)
from switchboard.registry.registry import DEFAULT_MODEL_REF, Registry
from switchboard.registry.resolved import ResolvedModel

__all__ = [
    "BUILTIN_KINDS", "DEFAULT_MODEL_REF", "ENTRY_POINT_GROUP", "BuiltinKind", "CatalogEntry",
    "KindFailure", "KindInfo", "KindNotInstalledError", "Kinds", "ModelUnavailableError",
    "ProviderDisabledError", "ProviderInstance", "Registry", "ResolvedModel", "load_kinds",
]
