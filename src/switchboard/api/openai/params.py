"""What ``/v1/chat/completions`` does with each top-level parameter (decision 0031).

Every property of OpenAI's ``CreateChatCompletionRequest`` schema has a row here, and so
does every field of ``wire.ChatCompletionRequest``: ``tests/api/test_wire_spec.py`` loads
the OpenAPI spec and fails when OpenAI adds a parameter (or an enum value) that is not
decided here, so the wire model cannot fall behind silently.

Policies:

- ``neutral``: translated into the neutral ``ChatRequest`` and honoured (or warned about)
  by every adapter.
- ``vendor``: an OpenAI feature with no neutral equivalent. Forwarded unchanged, through
  ``provider_options``, to the provider kinds listed (the caller's own
  ``provider_options`` win); any other kind ignores it with a ``CallWarning``.
- ``rejected``: a clear 400 naming the parameter, with the reason.
- ``extra``: not in OpenAI's API: a common sampler setting that SDKs send through
  ``extra_body`` for OpenAI-compatible servers (vLLM, Together, OpenRouter, ...).
  Forwarded to ``openai_compatible`` providers; ``top_k`` is also neutral (Anthropic and
  Gemini honour it). Any other unknown parameter stays a 400, as at OpenAI.
- ``gateway``: ours (``provider_options``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Policy = Literal["neutral", "vendor", "rejected", "extra", "gateway"]

OPENAI: frozenset[str] = frozenset({"openai"})
OPENAI_FAMILY: frozenset[str] = frozenset({"openai", "openai_compatible"})
COMPATIBLE: frozenset[str] = frozenset({"openai_compatible"})


@dataclass(frozen=True, slots=True)
class Param:
    policy: Policy
    reason: str
    kinds: frozenset[str] = frozenset()  # ``vendor`` / ``extra``: who receives it


def _n(reason: str) -> Param:
    return Param("neutral", reason)


def _v(reason: str, kinds: frozenset[str] = OPENAI) -> Param:
    return Param("vendor", reason, kinds)


PARAMS: dict[str, Param] = {
    "model": _n("routed by the registry ('provider:model' or a bare model id); '' is a 400"),
    "messages": _n("converted to neutral messages"),
    "stream": _n("SSE chunks"),
    "stream_options": _n("include_usage honoured; include_obfuscation accepted (no effect)"),
    "temperature": _n("sampling"),
    "top_p": _n("sampling"),
    "n": _n("fanned out as n parallel calls, n <= 8 (decision 0034)"),
    "stop": _n("stop sequences"),
    "max_tokens": _n("max_output_tokens (deprecated name)"),
    "max_completion_tokens": _n("max_output_tokens"),
    "presence_penalty": _n("sampling"),
    "frequency_penalty": _n("sampling"),
    "seed": _n("best-effort determinism"),
    "tools": _n("function tools"),
    "tool_choice": _n("auto / none / required / a named function"),
    "parallel_tool_calls": _n("forwarded where the vendor has it"),
    "response_format": _n("text / json_object / json_schema"),
    "reasoning_effort": _n("every spec value; adapters map it to their own knob"),
    "user": _n("end-user id"),
    "logprobs": _n("neutral logprobs (decision 0033); warned where unsupported"),
    "top_logprobs": _n("neutral logprobs alternatives (0-20); needs logprobs: true"),
    "modalities": _n("['text'] is what every model answers; 'audio' is a 400"),
    "service_tier": _v("OpenAI's processing tier"),
    "store": _v("OpenAI's stored completions"),
    "metadata": _v("tags for OpenAI's stored completions"),
    "prompt_cache_key": _v("OpenAI's prompt-cache routing key"),
    "prompt_cache_retention": _v("OpenAI's prompt-cache lifetime (deprecated by OpenAI)"),
    "prompt_cache_options": _v("OpenAI's prompt-cache settings"),
    "safety_identifier": _v("OpenAI's abuse-detection end-user id"),
    "verbosity": _v("OpenAI's answer length hint (GPT-5)"),
    "logit_bias": _v("token ids are per tokenizer; OpenAI-compatible servers take it too",
                     OPENAI_FAMILY),
    "prediction": _v("OpenAI's predicted outputs"),
    "web_search_options": _v("OpenAI's search models"),
    "moderation": _v("OpenAI's moderated completions"),
    "audio": Param("rejected", "audio output is not supported"),
    "functions": Param("rejected", "deprecated by OpenAI; use tools"),
    "function_call": Param("rejected", "deprecated by OpenAI; use tool_choice"),
    "provider_options": Param("gateway", "vendor-only settings keyed by provider kind"),
    "models": Param("gateway", "fallback models tried in order after 'model' when it fails "
                    "before answering (OpenRouter's field; at most 5; decision 0054)"),
    "server_tools": Param("gateway", "Switchboard's tools the server runs in a tool loop, "
                          "answering with the final text (decision 0162)"),
    "top_k": Param("extra", "neutral top_k (Anthropic, Gemini); sent as-is to "
                   "OpenAI-compatible servers", COMPATIBLE),
    "min_p": Param("extra", "vLLM, llama.cpp, Together, OpenRouter...", COMPATIBLE),
    "top_a": Param("extra", "OpenRouter", COMPATIBLE),
    "typical_p": Param("extra", "vLLM, Text Generation Inference", COMPATIBLE),
    "repetition_penalty": Param("extra", "vLLM, Together, OpenRouter...", COMPATIBLE),
    "min_tokens": Param("extra", "vLLM", COMPATIBLE),
}

# Neutral parameters whose name on the wire depends on what the caller sent, for errors
# raised by the neutral request (see ``convert_request.wire_param``).
NEUTRAL_TO_WIRE: dict[str, str] = {
    "top_k": "top_k",
    "tools": "tools",
    "response_format": "response_format.json_schema",
    "tool_choice": "tool_choice",
}

MAX_N = 8
"""Above this ``n`` is a 400: each choice is a whole upstream call (decision 0034)."""


def vendor_params() -> list[str]:
    return [name for name, p in PARAMS.items() if p.policy in ("vendor", "extra")]


VENDOR_PARAMS: tuple[str, ...] = tuple(vendor_params())
"""``vendor_params()`` worked out once, in ``PARAMS`` order (the order of the warnings and
of the options added): ``for_provider`` runs on every call and attempt."""
VENDOR_PARAM_SET: frozenset[str] = frozenset(VENDOR_PARAMS)
