"""OpenAI's ``POST /embeddings`` (and every server that speaks it: compatible servers,
Mistral's ``/v1/embeddings``, whose response has the same shape).

https://platform.openai.com/docs/api-reference/embeddings/create
Limits (the same page): at most 2,048 inputs and 300,000 tokens per request, 8,192
tokens per input. ``max_batch_chars`` keeps a batch under the token limit at ~2.7
characters per token, a margin for text that tokenizes densely (code, non-Latin
scripts). Vectors are asked for as ``float`` — every compatible server supports that,
not all support ``base64``; a base64 answer is decoded anyway.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

from switchboard.providers.openai.answer import Broken, data_items
from switchboard.spec import EmbeddingRequest, EmbeddingResult, Usage


def build_body(model_id: str, request: EmbeddingRequest) -> dict[str, Any]:
    """The request body. Token arrays travel as they are (OpenAI's ``int[][]``)."""
    inputs = [i if isinstance(i, str) else list(i) for i in request.inputs]
    body: dict[str, Any] = {"model": model_id, "input": inputs, "encoding_format": "float"}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if request.user is not None:
        body["user"] = request.user
    return body


def parse_response(body: Any, expected: int, *, provider: str, request_id: str | None,
                   secrets: tuple[str, ...] = ()) -> EmbeddingResult:
    """``{"data": [{"index", "embedding"}], "model", "usage"}`` -> vectors in input
    order; a body that is not that (or holds the wrong number of vectors) is an error
    naming the instance, never a silent misalignment of vectors and texts."""
    data, broken = data_items(body, expected, what="embeddings",
                              counted="vectors for {expected} inputs", provider=provider,
                              request_id=request_id, secrets=secrets)
    vectors: list[list[float] | None] = [None] * expected
    for position, item in enumerate(data):
        item = item if isinstance(item, dict) else {}
        index = item.get("index", position)
        if not isinstance(index, int) or not 0 <= index < expected or vectors[index]:
            raise broken(f"has a bad index at data[{position}]")
        vectors[index] = _vector(item.get("embedding"), broken)
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    model = body.get("model")
    return EmbeddingResult(
        [v for v in vectors if v is not None],
        Usage(input_tokens=tokens if isinstance(tokens, int) else None, output_tokens=0),
        model if isinstance(model, str) else None)


def _vector(value: Any, broken: Broken) -> list[float]:
    if isinstance(value, str):  # base64 of little-endian float32, as OpenAI sends it
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise broken("has an embedding that is neither numbers nor base64") from None
        if len(raw) % 4:
            raise broken("has a base64 embedding of a partial float")
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    if (isinstance(value, list) and value
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        return [float(v) for v in value]
    raise broken("has an embedding that is not a list of numbers")
