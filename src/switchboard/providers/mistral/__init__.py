"""Mistral AI (``kind = "mistral"``): chat completions and model discovery.

The names below are imported from their modules on first access (PEP 562): importing
one light module of this package (its ``config``, or a helper another layer uses) does
not import the whole adapter, which a start pays only for the kinds it calls (issue 12,
decision 0220).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.providers.mistral.config import MistralConfig
    from switchboard.providers.mistral.provider import (
        MistralChatModel,
        MistralProvider,
    )

_EXPORTS = {
    "MistralChatModel": "provider",
    "MistralConfig": "config",
    "MistralProvider": "provider",
}

__all__ = ["MistralChatModel", "MistralConfig", "MistralProvider"]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once: later lookups skip this function
    return value
