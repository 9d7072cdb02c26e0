"""Shared helpers for the offline provider tests: a model with no chunk delay."""

from __future__ import annotations

from typing import Any

from switchboard.providers.offline import OfflineChatModel, OfflineConfig, OfflineProvider
from switchboard.spec import ChatRequest, Message, StreamEvent

MODEL = "offline-chat"
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def model(chunk_delay_ms: int = 0) -> OfflineChatModel:
    return OfflineProvider(OfflineConfig(chunk_delay_ms=chunk_delay_ms)).chat_model(MODEL)


def ask(text: str, **fields: Any) -> ChatRequest:
    return ChatRequest(messages=[Message.user(text)], **fields)


async def events_of(request: ChatRequest, chunk_delay_ms: int = 0) -> list[StreamEvent]:
    return [e async for e in model(chunk_delay_ms).stream(request)]
