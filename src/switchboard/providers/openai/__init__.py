"""The ``openai`` provider kind (Chat Completions API); also the wire code reused by
``openai_compatible``.

The names below are imported from their modules on first access (PEP 562): importing
one light module of this package (its ``config``, or a helper another layer uses) does
not import the whole adapter, which a start pays only for the kinds it calls (issue 12,
decision 0220).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchboard.providers.lazy_exports import lazy_exports

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


__getattr__ = lazy_exports(__name__, _EXPORTS)
