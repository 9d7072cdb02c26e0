"""``open_registry()``: the one way surfaces (CLI, API, web) get the registry.

The registry comes from the database catalog (``switchboard.services.registry_source``):
the schema is brought to head and a first run is seeded, then the provider rows, their
enabled models and the default model become the registry, with each provider's stored
key decrypted when that provider is first used (the environment variable is the fallback
for a row without a key). ``Registry.from_environment()`` remains for callers that want
the environment alone. A long-lived process with its own ``Database`` should call
``switchboard.services.registry_source.load_registry(db)`` (cached per catalog version).
"""

from __future__ import annotations

from switchboard.registry.registry import Registry


async def open_registry() -> Registry:
    # Imported here: services depend on the registry, not the other way round.
    from switchboard.services.registry_source import open_database_registry

    return await open_database_registry()
