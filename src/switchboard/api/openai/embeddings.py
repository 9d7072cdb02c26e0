"""``POST /v1/embeddings``: OpenAI's embeddings endpoint over every embedding model.

https://platform.openai.com/docs/api-reference/embeddings/create
The body is parsed by hand, not with a pydantic model: ``input`` may be 2,048 arrays of
token ids, and each shape gets its own precise error (naming ``input[3]``), checked
before anything is built. Sizes are bounded by ``spec.limits`` (``EmbeddingRequest``
checks them), so one request is at most a few megabytes of text or 400,000 ids.

Vectors are returned as JSON numbers, or with ``encoding_format: "base64"`` as the
little-endian float32 bytes of each vector in base64, which is what the official SDKs
ask for by default and decode (``numpy.frombuffer(..., dtype="float32")``).
"""

from __future__ import annotations

import base64
import struct
from typing import Any, Literal

from switchboard.api.openai.hand_parsed import model_ref
from switchboard.spec import EmbeddingInput, EmbeddingRequest, EmbeddingResult, InvalidRequestError
from switchboard.spec.limits import MAX_EMBEDDING_INPUTS

EncodingFormat = Literal["float", "base64"]
_FIELDS = frozenset({"model", "input", "encoding_format", "dimensions", "user"})


def parse_body(data: dict[str, Any]) -> tuple[str | None, EmbeddingRequest, EncodingFormat]:
    """(model ref, the neutral request, encoding format) or ``InvalidRequestError``."""
    model = model_ref(data, _FIELDS, "embedding")
    raw_fmt = data.get("encoding_format")
    fmt: EncodingFormat
    if raw_fmt is None or raw_fmt == "float":
        fmt = "float"
    elif raw_fmt == "base64":
        fmt = "base64"
    else:
        raise InvalidRequestError("encoding_format must be 'float' or 'base64'",
                                  param="encoding_format")
    dimensions = data.get("dimensions")
    if dimensions is not None and (not isinstance(dimensions, int)
                                   or isinstance(dimensions, bool)):
        raise InvalidRequestError("dimensions must be an integer", param="dimensions")
    user = data.get("user")
    if user is not None and not isinstance(user, str):
        raise InvalidRequestError("user must be a string", param="user")
    request = EmbeddingRequest(_inputs(data.get("input")), dimensions, user)
    return model, request, fmt


def _inputs(value: Any) -> tuple[EmbeddingInput, ...]:
    """OpenAI's four shapes of ``input``: a string, strings, ids, arrays of ids."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not value:
        raise InvalidRequestError(
            "input must be a string, an array of strings, an array of token ids or an "
            "array of such arrays, and not empty", param="input")
    if len(value) > MAX_EMBEDDING_INPUTS and not _is_ids(value):
        raise InvalidRequestError(
            f"input: at most {MAX_EMBEDDING_INPUTS:,} inputs per request; this one has "
            f"{len(value):,}", param="input")
    if _is_ids(value):
        return (tuple(value),)
    out: list[EmbeddingInput] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, list) and item and _is_ids(item):
            out.append(tuple(item))
        else:
            raise InvalidRequestError(
                f"input[{i}] must be a string or a non-empty array of token ids (integers)",
                param="input")
    return tuple(out)


def _is_ids(value: list[Any]) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in value)


def _base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def response_body(result: EmbeddingResult, model_ref: str,
                  fmt: EncodingFormat) -> dict[str, Any]:
    """OpenAI's ``CreateEmbeddingResponse``."""
    tokens = result.usage.input_tokens or 0
    encode = _base64 if fmt == "base64" else None
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i,
                  "embedding": encode(v) if encode is not None else v}
                 for i, v in enumerate(result.vectors)],
        "model": model_ref,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
