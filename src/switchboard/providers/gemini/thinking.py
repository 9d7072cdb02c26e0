"""``reasoning_effort`` -> ``generationConfig.thinkingConfig``.

Gemini has two generations of the knob (https://ai.google.dev/gemini-api/docs/thinking):

- Gemini 2.x takes ``thinkingBudget`` in tokens (0 turns thinking off on Flash and
  Flash-Lite; Pro cannot turn it off, its minimum is 128).
- Gemini 3 and later take ``thinkingLevel`` (``minimal`` / ``low`` / ``medium`` /
  ``high``; which levels a model accepts varies, and the API says so in a clear 400).
  Google advises against ``thinkingBudget`` there. The two are mutually exclusive.

OpenAI's wider scale maps to the nearest: ``none`` is the smallest budget (0, or Pro's
minimum 128) or level ``minimal``; ``xhigh`` and ``max`` are the largest budget every 2.x
model accepts (24576) or level ``high``.

When an effort is asked for we also set ``includeThoughts`` so the thought summaries come
back as reasoning parts. Without an effort nothing is sent and the model thinks
dynamically, as by default. ``provider_options["gemini"]["generationConfig"]
["thinkingConfig"]`` overrides all of this (it is merged last).
"""

from __future__ import annotations

import re
from typing import Any, Literal

Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]

_BUDGETS: dict[str, int] = {"none": 0, "minimal": 0, "low": 1024, "medium": 8192,
                            "high": 24576, "xhigh": 24576, "max": 24576}
_LEVELS: dict[str, str] = {"none": "minimal", "xhigh": "high", "max": "high"}
_PRO_MINIMUM = 128
_LEGACY = re.compile(r"^(models/)?gemini-(1|2)(\.\d+)?-")


def uses_budget(model_id: str) -> bool:
    """Gemini 1.x / 2.x (token budget) as opposed to Gemini 3+ (levels)."""
    return bool(_LEGACY.match(model_id))


def thinking_config(model_id: str, effort: Effort) -> dict[str, Any]:
    if uses_budget(model_id):
        budget = _BUDGETS[effort]
        if budget == 0 and "-pro" in model_id:
            budget = _PRO_MINIMUM
        return {"thinkingBudget": budget, "includeThoughts": budget > 0}
    return {"thinkingLevel": _LEVELS.get(effort, effort), "includeThoughts": True}
