"""Settings and parts the offline model cannot honour, reported as ``CallWarning``s.

The model is deterministic, so sampling settings have no effect (``seed`` is honoured
trivially: every request is reproducible). It does not reason and reads no reasoning
parts, and it accepts no ``provider_options``.
"""

from __future__ import annotations

from switchboard.spec import CallWarning, ChatRequest, ReasoningPart

_SAMPLING = ("temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty")


def call_warnings(request: ChatRequest) -> list[CallWarning]:
    warnings: list[CallWarning] = []
    for name in _SAMPLING:
        if getattr(request, name) is not None:
            warnings.append(CallWarning(
                "unsupported-setting",
                f"the offline model is deterministic: {name} has no effect",
                setting=name,
            ))
    if request.reasoning_effort is not None:
        warnings.append(CallWarning(
            "unsupported-setting",
            "the offline model does not reason: reasoning_effort has no effect",
            setting="reasoning_effort",
        ))
    if request.logprobs is not None:
        warnings.append(CallWarning(
            "unsupported-setting",
            "the offline model has no token probabilities: logprobs were not returned",
            setting="logprobs",
        ))
    for key in sorted(request.options_for("offline")):
        warnings.append(CallWarning(
            "unsupported-setting",
            f"the offline model takes no provider option {key!r}: it was ignored",
            setting=f"provider_options.offline.{key}",
        ))
    reasoning = sum(
        isinstance(p, ReasoningPart) for m in request.messages for p in m.parts
    )
    if reasoning:
        warnings.append(CallWarning(
            "unsupported-part",
            f"the offline model ignores reasoning parts in the history ({reasoning} dropped)",
        ))
    return warnings
