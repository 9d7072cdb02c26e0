"""Where an OpenAI-compatible server departs from OpenAI's own Chat Completions API.

The ``openai`` kind uses the defaults (plain OpenAI). The ``openai_compatible`` kind's
``Config`` inherits these fields, so a vendor that differs is described by data (a preset
row or an admin's settings), never by a copy of the converters.

Model-family rules (which ids are reasoning models) live here too, because they decide
how a request is shaped: OpenAI's reasoning models reject sampling parameters and take
``developer`` instead of ``system`` messages.
https://platform.openai.com/docs/guides/reasoning
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ReasoningField = Literal["reasoning_content", "reasoning"]


class Quirks(BaseModel):
    """Wire differences of one OpenAI-compatible server (defaults: OpenAI itself)."""

    model_config = ConfigDict(extra="forbid")

    # OpenAI deprecated ``max_tokens`` for ``max_completion_tokens`` (reasoning models
    # reject the old name); most compatible servers only know ``max_tokens``.
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_completion_tokens"
    # ``stream_options: {"include_usage": true}`` is how OpenAI is asked for usage in a
    # stream; some servers reject the field, some send usage anyway.
    supports_stream_options: bool = True
    supports_parallel_tool_calls: bool = True
    # Without it, a JSON-schema response format falls back to ``json_object`` (warned).
    supports_json_schema: bool = True
    supports_seed: bool = True
    # Send ``developer`` instead of ``system`` to OpenAI reasoning models.
    supports_developer_role: bool = True
    supports_reasoning_effort: bool = True
    # ``logprobs`` / ``top_logprobs`` (Groq refuses them with a 400).
    supports_logprobs: bool = True
    # Field of a (delta) message carrying reasoning text: DeepSeek, xAI, LM Studio and
    # Fireworks use ``reasoning_content``; OpenRouter, Groq, Ollama and vLLM >= 0.11 use
    # ``reasoning``. OpenAI's Chat Completions API streams no reasoning text (None).
    reasoning_field: ReasoningField | None = None
    requires_api_key: bool = True
    # Image endpoints (``/images/generations``) that follow OpenAI's shape with their
    # own fields, e.g. Together's (https://docs.together.ai/reference/post-images-generations):
    # the ``response_format`` value that asks for base64 ("base64" there; None: not sent,
    # the server answers base64 or a URL as it likes: a URL is fetched, bounded),
    # the size as integer ``width``/``height`` instead of ``size``, and ``steps``.
    image_response_format: str | None = "b64_json"
    image_size_fields: bool = False
    image_steps: int | None = Field(default=None, ge=1, le=100)


OPENAI_QUIRKS = Quirks()

QUIRK_FIELDS: frozenset[str] = frozenset(Quirks.model_fields)

# o1, o3, o3-mini, o4-mini, o1-pro...; gpt-5, gpt-5-mini, gpt-5.1... but not
# gpt-5-chat-latest, which is the non-reasoning ChatGPT model.
_REASONING = re.compile(r"^(o\d+(-|$)|gpt-5(?!-chat))")
_NOT_REASONING = re.compile(r"^(gpt-3\.5|gpt-4|chatgpt-|gpt-5-chat)")


def _base_id(model_id: str) -> str:
    """``openai/o3-mini`` (an OpenRouter-style id) -> ``o3-mini``."""
    return model_id.rsplit("/", 1)[-1].lower()


@lru_cache(maxsize=1024)
def is_reasoning_model(model_id: str) -> bool:
    """An OpenAI reasoning model (o-series, gpt-5 family), judged by its id (kept per id:
    a regular expression per call for a handful of ids)."""
    return bool(_REASONING.match(_base_id(model_id)))


@lru_cache(maxsize=1024)
def is_known_non_reasoning_model(model_id: str) -> bool:
    """An OpenAI model known to reject ``reasoning_effort`` (gpt-4o, gpt-4.1, ...)."""
    return bool(_NOT_REASONING.match(_base_id(model_id)))
