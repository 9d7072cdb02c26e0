"""What the adapter knows about Claude model families, offline.

Anthropic's ``GET /v1/models`` returns ids and display names only (no limits or
capabilities), yet the Messages API *requires* ``max_tokens`` and rejects extended
thinking on models that lack it. So a small table, keyed by model-id prefix (longest
match wins, so dated ids such as ``claude-3-5-haiku-20241022`` and aliases such as
``claude-sonnet-4-5`` both resolve), records per family:

- ``max_output``: the model's output-token ceiling
  (https://docs.anthropic.com/en/docs/about-claude/models/overview);
- ``thinking``: whether extended thinking is available;
- ``exclusive_sampling``: the newer models refuse a request that sets *both*
  ``temperature`` and ``top_p`` ("use only one"), see
  https://docs.anthropic.com/en/docs/about-claude/models/migrating-to-claude-4

A model that is not in the table (a newer release) is assumed to support thinking and to
refuse ``temperature`` with ``top_p`` (every release since Opus 4.1 does; dropping
``top_p`` with a warning beats a 400), and gets no output ceiling from us: the API stays
the judge. A newer *minor* version of a listed family (``claude-opus-4-6``) is such a
newer release, not the family's first model: a prefix matches only when what follows is
nothing, a date (``-20250514``), ``-latest``, ``-0`` (the ``claude-opus-4-0`` alias) or
a non-numeric suffix.

Default ``max_tokens`` when the caller sets none: ``DEFAULT_MAX_TOKENS`` (4096), capped at
the model's ceiling. We deliberately do not default to the ceiling: Anthropic estimates
output-token rate limits from ``max_tokens`` at the start of a request, so a 64k default
would throttle a team for no benefit, and a 4096-token answer covers ordinary chat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.spec import Capabilities, ModelInfo

DEFAULT_MAX_TOKENS = 4096
CONTEXT_WINDOW = 200_000


@dataclass(frozen=True, slots=True)
class ModelFamily:
    max_output: int | None
    thinking: bool
    exclusive_sampling: bool = False


UNKNOWN = ModelFamily(max_output=None, thinking=True, exclusive_sampling=True)

_FAMILIES: dict[str, ModelFamily] = {
    "claude-opus-4-5": ModelFamily(64_000, thinking=True, exclusive_sampling=True),
    "claude-opus-4-1": ModelFamily(32_000, thinking=True, exclusive_sampling=True),
    "claude-opus-4": ModelFamily(32_000, thinking=True),
    "claude-sonnet-4-5": ModelFamily(64_000, thinking=True, exclusive_sampling=True),
    "claude-sonnet-4": ModelFamily(64_000, thinking=True),
    "claude-haiku-4-5": ModelFamily(64_000, thinking=True, exclusive_sampling=True),
    "claude-3-7-sonnet": ModelFamily(64_000, thinking=True),
    "claude-3-5-sonnet": ModelFamily(8_192, thinking=False),
    "claude-3-5-haiku": ModelFamily(8_192, thinking=False),
    "claude-3-opus": ModelFamily(4_096, thinking=False),
    "claude-3-sonnet": ModelFamily(4_096, thinking=False),
    "claude-3-haiku": ModelFamily(4_096, thinking=False),
}
_PREFIXES = sorted(_FAMILIES, key=len, reverse=True)
_NEWER_MINOR = re.compile(r"-([1-9]\d?)(?:$|[-@])")  # "-6" in claude-opus-4-6, not a date


def family(model_id: str) -> ModelFamily:
    for prefix in _PREFIXES:
        if model_id.startswith(prefix) and not _NEWER_MINOR.match(model_id, len(prefix)):
            return _FAMILIES[prefix]
    return UNKNOWN


def default_max_tokens(model_id: str, configured: int | None = None) -> int:
    """``max_tokens`` for a request that sets none (see module docstring)."""
    wanted = configured or DEFAULT_MAX_TOKENS
    ceiling = family(model_id).max_output
    return min(wanted, ceiling) if ceiling else wanted


def capabilities(model_id: str) -> Capabilities:
    """Every Claude 3+ model streams, calls tools and reads images; JSON output is done
    with a forced tool (see ``response_format``), so it is available everywhere."""
    return Capabilities(
        streaming=True,
        tools=True,
        vision=True,
        json_output=True,
        reasoning=family(model_id).thinking,
    )


def model_info(entry: dict[str, Any]) -> ModelInfo:
    """One entry of ``GET /v1/models`` (``{"type":"model","id","display_name",
    "created_at"}``, https://docs.anthropic.com/en/api/models-list) as a ``ModelInfo``."""
    model_id = str(entry["id"])
    return ModelInfo(
        id=model_id,
        name=entry.get("display_name") or None,
        capabilities=capabilities(model_id),
        context_window=CONTEXT_WINDOW,
        max_output_tokens=family(model_id).max_output,
        created=_timestamp(entry.get("created_at")),
        owned_by="anthropic",
    )


def _timestamp(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None
