"""What a call used when the vendor did not say: an estimate, flagged as one.

A stopped or broken answer usually arrives without the vendor's usage (OpenAI sends it in
the last chunk; a stream cut before that has none), yet the vendor produced — and bills —
the tokens. Recording 0 tokens and $0 would hide real spending, so ``metering`` fills the
missing counts from here and marks the call ``estimated``:

* the vendor's own figures are kept wherever it sent them (Anthropic, say, reports the
  prompt size at the start of a stream: only the output is then estimated);
* the rest is estimated with the offline model's rule of thumb (about four characters per
  token, plus OpenAI's per-message framing; ``providers/offline/tokens.py``) — the one
  token heuristic in the code base. No vendor tokenizer is loaded (decision 0025: the
  only offline copy of an OpenAI encoding is cl100k, which current OpenAI models no longer
  use, and loading it costs a second of CPU and ~46 MB per process). The heuristic's
  error on English prose is within about 25 %; the UI shows the figure as approximate.

A call that failed before producing anything (a 401, a 429) is not estimated: the vendor
did not run it.
"""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.providers.offline import tokens as heuristic
from switchboard.spec import (
    ChatRequest,
    ChatResult,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    Usage,
)


def output_tokens(parts: Sequence[Part]) -> int:
    """Estimated tokens of what the model produced (text, reasoning, tool calls)."""
    total = 0
    for part in parts:
        if isinstance(part, TextPart | ReasoningPart):
            total += heuristic.text_tokens(part.text)
        elif isinstance(part, ToolCallPart):
            total += heuristic.text_tokens(part.name) + heuristic.text_tokens(part.arguments)
    return total


def produced_something(result: ChatResult) -> bool:
    """Did the vendor run the call (anything generated, or a finish)?"""
    return bool(result.parts) or result.finish_reason is not None


def fill_usage(request: ChatRequest | None, result: ChatResult) -> tuple[Usage, bool]:
    """``result.usage`` with the counts the vendor left out estimated, and whether any
    was. ``request`` None (unknown prompt) leaves the input count as reported."""
    usage = result.usage
    if not produced_something(result):
        return usage, False
    missing_output = usage.output_tokens is None
    missing_input = usage.input_tokens is None and request is not None
    if not (missing_output or missing_input):
        return usage, False
    filled = Usage(
        input_tokens=(heuristic.input_tokens(request) if missing_input and request is not None
                      else usage.input_tokens),
        output_tokens=output_tokens(result.parts) if missing_output else usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        raw=usage.raw,
    )
    return filled, True


def estimated_usage(request: ChatRequest, parts: Sequence[Part]) -> Usage:
    """The whole usage of a call known only by its prompt and what it produced (an
    answer closed after a crash)."""
    return Usage(input_tokens=heuristic.input_tokens(request),
                 output_tokens=output_tokens(parts))


def prompt_tokens(request: ChatRequest) -> int:
    """The prompt's estimated size in tokens (``/v1/messages/count_tokens``: no vendor
    is asked, so every provider answers, and no call is billed)."""
    return heuristic.input_tokens(request)
