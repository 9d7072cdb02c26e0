"""``open_registry()``: the one way surfaces (CLI, API, web) get the registry.

For now the registry comes from environment variables. Once the database exists, this
body changes to build it from the database rows (with the environment as fallback); the
callers do not change.
"""

from __future__ import annotations

from switchboard.registry.registry import Registry


async def open_registry() -> Registry:
    return Registry.from_environment()
