"""Gemini's ``usageMetadata`` -> ``Usage`` (the neutral convention of ``spec.usage``).

https://ai.google.dev/api/generate-content#UsageMetadata

- ``promptTokenCount`` already *includes* ``cachedContentTokenCount`` (the cached part is
  a subset of the prompt), so it is the neutral ``input_tokens`` as is.
- ``toolUsePromptTokenCount`` (results of server-side tools such as Google Search that the
  model read) is billed as input but reported apart: it is added to ``input_tokens``.
- ``candidatesTokenCount`` excludes thinking; ``thoughtsTokenCount`` is reported apart.
  Neutral ``output_tokens`` includes reasoning, so it is their sum.
- ``candidatesTokensDetails`` splits the answer's tokens by modality; the ``IMAGE``
  entry (pictures an image model drew) is ``image_output_tokens``, priced per picture
  instead (``spec.usage.cost``).
- Gemini has no "cache write" count (explicit caches are created by a separate call).

In a stream every chunk carries ``usageMetadata`` with the running totals; the last one
is complete, so later reports simply replace earlier ones.
"""

from __future__ import annotations

from typing import Any

from switchboard.spec import Usage


def _int(block: dict[str, Any], key: str) -> int | None:
    value = block.get(key)
    return value if isinstance(value, int) else None


def convert_usage(block: dict[str, Any]) -> Usage:
    prompt = _int(block, "promptTokenCount")
    tool_prompt = _int(block, "toolUsePromptTokenCount")
    candidates = _int(block, "candidatesTokenCount")
    thoughts = _int(block, "thoughtsTokenCount")
    input_tokens = None if prompt is None and tool_prompt is None else (
        (prompt or 0) + (tool_prompt or 0)
    )
    output_tokens = None if candidates is None and thoughts is None else (
        (candidates or 0) + (thoughts or 0)
    )
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=_int(block, "cachedContentTokenCount"),
        reasoning_tokens=thoughts,
        image_output_tokens=_modality(block.get("candidatesTokensDetails"), "IMAGE"),
        raw=dict(block),
    )


def _modality(details: Any, modality: str) -> int | None:
    """The token count of ``modality`` in a ``ModalityTokenCount`` list (None: absent)."""
    if not isinstance(details, list):
        return None
    counts = [d.get("tokenCount") for d in details
              if isinstance(d, dict) and d.get("modality") == modality]
    found = [c for c in counts if isinstance(c, int)]
    return sum(found) if found else None
