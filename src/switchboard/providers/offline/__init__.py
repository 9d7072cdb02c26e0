"""The built-in ``offline`` provider: a deterministic model with no key and no network.

The names below are imported from their modules on first access (PEP 562): importing
one light module of this package (its ``config``, or a helper another layer uses) does
not import the whole adapter, which a start pays only for the kinds it calls (issue 12,
decision 0220).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.providers.offline.config import OfflineConfig
    from switchboard.providers.offline.provider import (
        OfflineChatModel,
        OfflineProvider,
    )

_EXPORTS = {
    "OfflineChatModel": "provider",
    "OfflineConfig": "config",
    "OfflineProvider": "provider",
}

__all__ = ["OfflineChatModel", "OfflineConfig", "OfflineProvider"]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once: later lookups skip this function
    return value
