"""Gemini's model list (``GET /v1beta/models``) -> ``ModelInfo``.

https://ai.google.dev/api/models#method:-models.list

The list is paginated (``pageSize`` up to 1000, ``nextPageToken`` / ``pageToken``) and
holds embedding, TTS and other models too: only those whose ``supportedGenerationMethods``
include ``generateContent`` are chat models. Ids drop the ``models/`` prefix (the adapter
adds it back). ``inputTokenLimit`` / ``outputTokenLimit`` are the context window and the
output cap; ``thinking: true`` marks a reasoning model.

The listing says nothing about tools or vision, and capability flags default to
"unsupported". We grant tools, vision and JSON output to the ``gemini-*`` chat families,
which all document them, except text-to-speech and image-generation variants; image
generation variants get ``image_output``. A model unknown to this rule claims only
streaming.
"""

from __future__ import annotations

from typing import Any

from switchboard.spec import Capabilities, ModelInfo

PREFIX = "models/"


def strip_prefix(name: str) -> str:
    return name[len(PREFIX):] if name.startswith(PREFIX) else name


def guess_capabilities(model_id: str, *, thinking: bool | None = None) -> Capabilities:
    mid = strip_prefix(model_id).lower()
    family = mid.startswith("gemini-")
    speech = "-tts" in mid or "native-audio" in mid
    image_gen = "-image" in mid
    chat = family and not speech and not image_gen
    reasoning = thinking if thinking is not None else (
        family and not mid.startswith(("gemini-1", "gemini-2.0")) and chat
    )
    return Capabilities(
        streaming=True,
        tools=chat,
        vision=family and not speech,
        image_output=family and image_gen,
        json_output=chat,
        reasoning=bool(reasoning),
    )


def model_info(entry: dict[str, Any]) -> ModelInfo | None:
    """One entry of the list, or None when it is not a ``generateContent`` model."""
    methods = entry.get("supportedGenerationMethods") or []
    name = entry.get("name")
    if "generateContent" not in methods or not isinstance(name, str):
        return None
    model_id = strip_prefix(name)
    thinking = entry.get("thinking")
    return ModelInfo(
        id=model_id,
        name=entry.get("displayName") or None,
        capabilities=guess_capabilities(
            model_id, thinking=thinking if isinstance(thinking, bool) else None
        ),
        context_window=_int(entry.get("inputTokenLimit")),
        max_output_tokens=_int(entry.get("outputTokenLimit")),
        description=entry.get("description") or None,
        owned_by="google",
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None
