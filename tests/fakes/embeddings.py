"""Embedding responses of the fake vendors, as each vendor's reference shows them.

- OpenAI (and compatible servers): https://platform.openai.com/docs/api-reference/embeddings/object
  ``{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model",
  "usage": {"prompt_tokens", "total_tokens"}}``; ``encoding_format: "base64"`` gives each
  vector as base64 of little-endian float32.
- Mistral: https://docs.mistral.ai/api/#tag/embeddings — the same, plus ``id``.
- Gemini: https://ai.google.dev/api/embeddings — ``{"embedding": {"values"}}`` for
  ``embedContent``, ``{"embeddings": [{"values"}]}`` for ``batchEmbedContents``; no usage.

The vectors are made up but deterministic: ``fake_vector(text, n)`` puts the text's length
first, so a test can tell which vector belongs to which input.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

DEFAULT_DIMENSIONS = 8


def fake_vector(item: Any, dimensions: int | None) -> list[float]:
    size = len(item) if isinstance(item, str | list) else 0
    n = dimensions or DEFAULT_DIMENSIONS
    return [float(size)] + [round(0.5 / (k + 1), 6) for k in range(n - 1)]


def tokens(item: Any) -> int:
    return len(item) if isinstance(item, list) else len(str(item)) // 4 + 1


def _inputs(body: dict[str, Any]) -> list[Any]:
    value = body.get("input")
    if isinstance(value, str) or (isinstance(value, list) and value
                                  and all(isinstance(v, int) for v in value)):
        return [value]
    return list(value or [])


def openai_body(body: dict[str, Any], *, dimensions_field: str = "dimensions",
                with_id: bool = False) -> dict[str, Any]:
    inputs = _inputs(body)
    b64 = body.get("encoding_format") == "base64"
    data = []
    for i, item in enumerate(inputs):
        vector = fake_vector(item, body.get(dimensions_field))
        encoded: Any = (base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
                        if b64 else vector)
        data.append({"object": "embedding", "index": i, "embedding": encoded})
    used = sum(tokens(i) for i in inputs)
    out: dict[str, Any] = {"object": "list", "data": data, "model": body.get("model"),
                           "usage": {"prompt_tokens": used, "total_tokens": used}}
    if with_id:
        out = {"id": "embd-fake0123", **out}
    return out


def gemini_body(path: str, body: dict[str, Any]) -> dict[str, Any]:
    def one(request: dict[str, Any]) -> dict[str, Any]:
        text = "".join(p.get("text", "") for p in request["content"]["parts"])
        return {"values": fake_vector(text, request.get("outputDimensionality"))}

    if path.endswith(":embedContent"):
        return {"embedding": one(body)}
    return {"embeddings": [one(r) for r in body["requests"]]}
