"""The built-in ``offline`` provider: a deterministic model with no key and no network.

The names below are imported from their modules on first access (PEP 562): importing
one light module of this package (its ``config``, or a helper another layer uses) does
not import the whole adapter, which a start pays only for the kinds it calls (issue 12,
decision 0220).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchboard.providers.lazy_exports import lazy_exports

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


__getattr__ = lazy_exports(__name__, _EXPORTS)
