"""Tool-call ids that Anthropic accepts.

The Messages API requires ``tool_use.id`` and ``tool_result.tool_use_id`` to match
``^[a-zA-Z0-9_-]+$`` (see ``RequestToolUseBlock`` in the API's OpenAPI description).
Other vendors' ids do not always fit (Mistral's are short alphanumerics, but OpenAI-
compatible servers have been seen to send ``call:0`` or ids with dots), and a conversation
may move between vendors. ``anthropic_tool_id`` is a pure function of the original id, so a
call and its result, converted separately, still pair up; a hash suffix keeps two ids that
differ only in disallowed characters (``a.b`` and ``a:b``) apart.
"""

from __future__ import annotations

import hashlib
import re

_VALID = re.compile(r"^[a-zA-Z0-9_-]+$")
_INVALID_CHARS = re.compile(r"[^a-zA-Z0-9_-]+")
_MAX_LEN = 64  # for ids we build; valid ids are kept whatever their length


def anthropic_tool_id(original: str) -> str:
    if _VALID.match(original):
        return original
    digest = hashlib.sha256(original.encode("utf-8")).hexdigest()[:12]
    cleaned = _INVALID_CHARS.sub("_", original).strip("_")[: _MAX_LEN - 14]
    return f"{cleaned}_{digest}" if cleaned else f"toolu_{digest}"
