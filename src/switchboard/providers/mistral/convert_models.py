"""``GET /v1/models`` cards -> ``ModelInfo`` for the chat catalog.

Each card has a ``capabilities`` object (``completion_chat``, ``function_calling``,
``vision``, ``reasoning``, ...) and ``max_context_length``
(https://docs.mistral.ai/api/#tag/models). Cards without ``completion_chat`` (embeddings,
OCR, moderation, transcription) and archived fine-tunes are not chat models and are
skipped. JSON mode is available on every Mistral chat model
(https://docs.mistral.ai/capabilities/structured-output/json_mode/).
"""

from __future__ import annotations

from typing import Any

from switchboard.spec import Capabilities, ModelInfo


def model_info(card: Any) -> ModelInfo | None:
    if not isinstance(card, dict) or not isinstance(card.get("id"), str):
        return None
    caps = card.get("capabilities")
    if not isinstance(caps, dict) or not caps.get("completion_chat"):
        return None
    if card.get("archived") is True:
        return None
    context = card.get("max_context_length")
    created = card.get("created")
    return ModelInfo(
        id=card["id"],
        name=card.get("name") if isinstance(card.get("name"), str) else None,
        capabilities=Capabilities(
            streaming=True,
            tools=bool(caps.get("function_calling")),
            vision=bool(caps.get("vision")),
            json_output=True,
            reasoning=bool(caps.get("reasoning")),
        ),
        context_window=context if isinstance(context, int) else None,
        description=card.get("description") if isinstance(card.get("description"), str)
        else None,
        created=created if isinstance(created, int) else None,
        owned_by=card.get("owned_by") if isinstance(card.get("owned_by"), str) else None,
    )


def convert_models(body: Any) -> list[ModelInfo]:
    """Chat models of a ``ModelList``, first card per id (aliases are listed as cards)."""
    data = body.get("data") if isinstance(body, dict) else None
    seen: dict[str, ModelInfo] = {}
    for card in data if isinstance(data, list) else []:
        info = model_info(card)
        if info is not None and info.id not in seen:
            seen[info.id] = info
    return list(seen.values())
