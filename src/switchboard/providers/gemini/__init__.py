"""Google Gemini (the Gemini API of Google AI Studio): ``contents`` / ``parts``,
``systemInstruction``, ``generationConfig``, ``functionDeclarations``; streamed as SSE
where every event is a whole ``GenerateContentResponse``."""

from switchboard.providers.gemini.provider import GeminiChatModel, GeminiConfig, GeminiProvider

__all__ = ["GeminiChatModel", "GeminiConfig", "GeminiProvider"]
