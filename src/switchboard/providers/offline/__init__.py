"""The built-in ``offline`` provider: a deterministic model with no key and no network."""

from switchboard.providers.offline.provider import (
    OfflineChatModel,
    OfflineConfig,
    OfflineProvider,
)

__all__ = ["OfflineChatModel", "OfflineConfig", "OfflineProvider"]
