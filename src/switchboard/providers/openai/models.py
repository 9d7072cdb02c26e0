"""``GET /models`` -> ``ModelInfo``.

OpenAI's model list says only ``id``, ``created`` and ``owned_by``: nothing about what a
model can do. Capabilities are therefore guessed from the id by family (documented at
https://platform.openai.com/docs/models), and models that cannot chat (embeddings, audio,
image generation, moderation, legacy completions) are left out of the list, since the
catalog offers chat models: the id rule is ``model_filter.is_chat_model_id``, shared with
compatible servers. An id we do not recognise gets streaming only: a capability
is claimed only when known (Capabilities defaults to "unsupported").

Compatible servers often say more; ``compatible_model_info`` reads the common extras:
``context_length`` / ``context_window`` (Together, Groq, OpenRouter), OpenRouter's
``architecture.input_modalities`` and ``supported_parameters``, and Together's ``type``.
A model is left out when its ``type`` is not a chat one, its ``output_modalities`` hold no
text (OpenRouter), or its id plainly names an embedding, speech, image or rerank model.
"""

from __future__ import annotations

import re
from typing import Any

from switchboard.providers.openai.model_filter import is_chat_model_id
from switchboard.providers.openai.quirks import is_reasoning_model
from switchboard.spec.model import Capabilities, ModelInfo

_CHAT = re.compile(r"^(gpt-|o\d|chatgpt-)")
_VISION = re.compile(
    r"^(gpt-4o|gpt-4\.1|gpt-4-turbo|gpt-4\.5|gpt-5|o1(?!-mini|-preview)|o3(?!-mini)|o4|chatgpt-4o)")
_NO_TOOLS = re.compile(r"^(o1-mini|o1-preview|chatgpt-|gpt-5-chat|gpt-4o(-mini)?-search)")
_JSON = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-4-turbo|gpt-3\.5-turbo|gpt-5|o1|o3|o4)")


def openai_capabilities(model_id: str) -> Capabilities:
    mid = model_id.lower()
    if not _CHAT.match(mid):
        return Capabilities(streaming=True)
    return Capabilities(
        streaming=True,
        tools=not _NO_TOOLS.match(mid),
        vision=bool(_VISION.match(mid)),
        json_output=bool(_JSON.match(mid)),
        reasoning=is_reasoning_model(mid),
    )


def _items(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else body
    return [m for m in data or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def openai_model_info(body: Any) -> list[ModelInfo]:
    return [
        ModelInfo(id=m["id"], capabilities=openai_capabilities(m["id"]),
                  created=_int(m.get("created")), owned_by=m.get("owned_by"))
        for m in _items(body)
        if is_chat_model_id(m["id"], openai=True)
    ]


def compatible_model_info(body: Any) -> list[ModelInfo]:
    out: list[ModelInfo] = []
    for m in _items(body):
        kind = m.get("type")
        if kind == "image":  # Together's image models: served by /images/generations
            out.append(ModelInfo(id=m["id"], name=m.get("name") or m.get("display_name"),
                                 capabilities=Capabilities(image_output=True),
                                 type="image", created=_int(m.get("created")),
                                 owned_by=m.get("owned_by")))
            continue
        if isinstance(kind, str) and kind not in ("chat", "language"):
            continue  # Together lists embedding, rerank, audio... models too
        if not is_chat_model_id(m["id"]):
            continue
        # A listing that says nothing about a capability leaves it unknown (None), not
        # "absent": most OpenAI-compatible servers list bare ids. Only OpenRouter-style
        # listings say what a model supports (``supported_parameters``,
        # ``architecture.input_modalities``):
        # https://openrouter.ai/docs/api-reference/list-available-models
        listed = m.get("supported_parameters")
        params = set(listed) if isinstance(listed, list) else None
        arch = m.get("architecture")
        arch = arch if isinstance(arch, dict) else {}
        outputs = arch.get("output_modalities")
        if isinstance(outputs, list) and outputs and "text" not in outputs:
            continue  # OpenRouter: an image-only model
        modalities = arch.get("input_modalities")
        out.append(ModelInfo(
            id=m["id"],
            name=m.get("name") or m.get("display_name"),
            capabilities=Capabilities(
                streaming=True,
                tools=None if params is None else "tools" in params,
                vision="image" in modalities if isinstance(modalities, list) else None,
                json_output=None if params is None
                else bool(params & {"response_format", "structured_outputs"}),
                reasoning=None if params is None else "reasoning" in params,
            ),
            context_window=_int(m.get("context_length")) or _int(m.get("context_window")),
            description=m.get("description"),
            created=_int(m.get("created")),
            owned_by=m.get("owned_by"),
        ))
    return out
