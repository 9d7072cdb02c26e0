"""Extended thinking and the ``max_tokens`` it needs.

Anthropic enables thinking with ``thinking: {"type": "enabled", "budget_tokens": N}``
(N >= 1024, and ``max_tokens`` must be greater than N, because the budget is part of the
output: https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking).

Where the setting comes from, first match wins:

1. ``provider_options["anthropic"]["thinking"]`` — sent verbatim (any ``type``). An
   ``enabled`` budget that does not fit under ``max_output_tokens`` is an error, since the
   caller chose both numbers.
2. ``reasoning_effort`` — mapped to a budget: minimal 1024 (the API's minimum), low 4096,
   medium 16384, high 32768, xhigh 49152, max 64000; ``none`` leaves thinking off (as
   without an effort). Without ``max_output_tokens``, ``max_tokens`` becomes the
   budget plus the usual answer allowance (4096, or the configured default), capped at the
   model's ceiling (the budget shrinks to fit). With ``max_output_tokens``, that total is
   kept (our usage convention counts reasoning as output) and the budget shrinks to half
   of it if it would not fit; below 1024 thinking is skipped with a warning. Models
   without extended thinking get a warning instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard.spec import CallWarning, ChatRequest, InvalidRequestError

from .models import default_max_tokens, family

MIN_BUDGET = 1024
EFFORT_BUDGETS: dict[str, int] = {"minimal": 1024, "low": 4096, "medium": 16384, "high": 32768,
                                  "xhigh": 49152, "max": 64000}


@dataclass(frozen=True, slots=True)
class ThinkingPlan:
    thinking: dict[str, Any] | None  # the body's ``thinking`` field, None to leave it out
    max_tokens: int

    @property
    def enabled(self) -> bool:
        return self.thinking is not None and self.thinking.get("type") != "disabled"


def plan_thinking(
    request: ChatRequest, model_id: str, configured_default: int | None,
    warnings: list[CallWarning],
) -> ThinkingPlan:
    explicit = request.options_for("anthropic").get("thinking")
    if explicit is not None:
        return _explicit(explicit, request, model_id, configured_default, warnings)
    allowance = default_max_tokens(model_id, configured_default)
    effort = request.reasoning_effort
    if effort is None or effort == "none":
        return ThinkingPlan(None, request.max_output_tokens or allowance)
    if not family(model_id).thinking:
        warnings.append(CallWarning(
            "unsupported-setting",
            f"{model_id} has no extended thinking; reasoning_effort={effort!r} was ignored",
            setting="reasoning_effort",
        ))
        return ThinkingPlan(None, request.max_output_tokens or allowance)
    budget = EFFORT_BUDGETS[effort]
    if request.max_output_tokens is not None:
        max_tokens = request.max_output_tokens
        if budget >= max_tokens:
            budget = max_tokens // 2
    else:
        max_tokens = budget + allowance
        ceiling = family(model_id).max_output
        if ceiling is not None and max_tokens > ceiling:
            max_tokens = ceiling
            budget = min(budget, ceiling - allowance)
    if budget < MIN_BUDGET:
        warnings.append(CallWarning(
            "unsupported-setting",
            f"max_output_tokens={max_tokens} leaves no room for Anthropic's minimum "
            f"thinking budget ({MIN_BUDGET} tokens); reasoning_effort={effort!r} was ignored",
            setting="reasoning_effort",
        ))
        return ThinkingPlan(None, max_tokens)
    return ThinkingPlan({"type": "enabled", "budget_tokens": budget}, max_tokens)


def _explicit(
    thinking: Any, request: ChatRequest, model_id: str, configured_default: int | None,
    warnings: list[CallWarning],
) -> ThinkingPlan:
    where = "provider_options.anthropic.thinking"
    if not isinstance(thinking, dict) or not isinstance(thinking.get("type"), str):
        raise InvalidRequestError(
            f'{where} must be an object such as {{"type": "enabled", "budget_tokens": 2048}} '
            f'or {{"type": "disabled"}}', param=where,
        )
    if request.reasoning_effort is not None:
        warnings.append(CallWarning(
            "other",
            f"reasoning_effort={request.reasoning_effort!r} was ignored because {where} is set",
            setting="reasoning_effort",
        ))
    allowance = default_max_tokens(model_id, configured_default)
    if thinking["type"] != "enabled":
        return ThinkingPlan(thinking, request.max_output_tokens or allowance)
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < MIN_BUDGET:
        raise InvalidRequestError(
            f"{where}.budget_tokens must be an integer of at least {MIN_BUDGET}, "
            f"got {budget!r}", param=where,
        )
    max_tokens = request.max_output_tokens or budget + allowance
    if budget >= max_tokens:
        raise InvalidRequestError(
            f"{where}.budget_tokens ({budget}) must be less than max_output_tokens "
            f"({max_tokens}): raise max_output_tokens or lower the budget", param=where,
        )
    return ThinkingPlan(thinking, max_tokens)
