"""What the pure wire-translation tests share (``test_anthropic_translate``,
``test_responses_translate``): a 1x1 PNG to send as an image, and the decoding of a
rendered stream of named server-sent events (``event: <name>`` then ``data: <json>``,
the framing both Anthropic's Messages and OpenAI's Responses streams use)."""

from __future__ import annotations

import json
from typing import Any

PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
         "AAAABJRU5ErkJggg==")


def named_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """``raw`` rendered events as (name, data) pairs, in order."""
    out = []
    for block in raw.decode().strip().split("\n\n"):
        name, data = block.split("\n", 1)
        out.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return out
