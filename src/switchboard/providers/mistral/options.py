"""``provider_options["mistral"]``: the Mistral-only settings a caller may pass through.

Only fields that Mistral documents on ``ChatCompletionRequest`` are accepted (openapi at
https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post).
Mistral's schema forbids unknown fields (``additionalProperties: false``) and answers 422
to a typo, so we refuse an unknown key *before* the call, naming the allowed ones.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from switchboard.spec import InvalidRequestError


class Prediction(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["content"] = "content"
    content: str = ""


class MistralOptions(BaseModel):
    """Fields copied into the request body as they are (``None`` = not sent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    safe_prompt: bool | None = None
    prompt_mode: Literal["reasoning"] | None = None
    # Mistral's own scale, wider than the neutral one ("none", "xhigh"); overrides
    # ``ChatRequest.reasoning_effort`` when given.
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    prompt_cache_key: str | None = None
    service_tier: Literal["auto", "standard_only"] | None = None
    metadata: dict[str, Any] | None = None
    prediction: Prediction | None = None
    guardrails: list[dict[str, Any]] | None = None

    def body_fields(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


ALLOWED = tuple(MistralOptions.model_fields)


def parse_options(raw: dict[str, Any]) -> MistralOptions:
    """Validate ``provider_options["mistral"]``; ``InvalidRequestError`` names the fix."""
    unknown = sorted(set(raw) - set(ALLOWED))
    if unknown:
        raise InvalidRequestError(
            f"provider_options['mistral'] has unknown key(s) {', '.join(map(repr, unknown))}: "
            f"Mistral rejects fields it does not document. Allowed: {', '.join(ALLOWED)}",
            param="provider_options.mistral",
        )
    try:
        return MistralOptions.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidRequestError(
            f"provider_options['mistral'] is invalid: {problems}",
            param="provider_options.mistral",
        ) from None
