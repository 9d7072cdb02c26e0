"""The ``openai`` provider kind (Chat Completions API); also the wire code reused by
``openai_compatible``.

The names below are imported from their modules on first access (PEP 562): importing
one light module of this package (its ``config``, or a helper another layer uses) does
not import the whole adapter, which a start pays only for the kinds it calls (issue 12,
decision 0220).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.providers.openai.config import OpenAIConfig
    from switchboard.providers.openai.provider import OpenAIChatModel, OpenAIProvider
    from switchboard.providers.openai.quirks import Quirks

_EXPORTS = {
    "OpenAIChatModel": "provider",
    "OpenAIConfig": "config",
    "OpenAIProvider": "provider",
    "Quirks": "quirks",
}

__all__ = ["OpenAIChatModel", "OpenAIConfig", "OpenAIProvider", "Quirks"]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once: later lookups skip this function
    return value
