"""Google Gemini (the Gemini API of Google AI Studio): ``contents`` / ``parts``,
``systemInstruction``, ``generationConfig``, ``functionDeclarations``; streamed as SSE
where every event is a whole ``GenerateContentResponse``.

The names below are imported from their modules on first access (PEP 562): importing
one light module of this package (its ``config``, or a helper another layer uses) does
not import the whole adapter, which a start pays only for the kinds it calls (issue 12,
decision 0220).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchboard.providers.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from switchboard.providers.gemini.config import GeminiConfig
    from switchboard.providers.gemini.provider import GeminiChatModel, GeminiProvider

_EXPORTS = {
    "GeminiChatModel": "provider",
    "GeminiConfig": "config",
    "GeminiProvider": "provider",
}

__all__ = ["GeminiChatModel", "GeminiConfig", "GeminiProvider"]


__getattr__ = lazy_exports(__name__, _EXPORTS)
