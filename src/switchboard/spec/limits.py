"""How big one chat request may be: every size limit, as named data, in one place.

A request comes from a member or a token holder and is hostile until bounded: one body of
34 MB with a million messages once held the event loop for 17.5 s. ``ChatRequest``
enforces these limits on construction, so every surface (``/v1``, ``/api/chat``, the CLI,
a plugin calling a model) gets them with a message naming the field; the ``/v1`` wire
layer checks the same numbers on the raw JSON first (``api/openai/bounds.py``), before the
expensive validation, and names the caller's own parameter. Decision 0013.

Each limit is far above what any model accepts today, so no real request meets it; they
exist so the work per request has a ceiling:

- the JSON Schemas of a request (tools + ``response_format``) are validated against the
  draft 2020-12 meta-schema (``schema_check``), about 0.15 ms per schema value:
  ``MAX_SCHEMA_NODES`` keeps that near 2 s of a worker thread at worst (and repeated
  schemas are checked once);
- ``MAX_SCHEMA_DEPTH`` stays well below where ``jsonschema`` (recursion) and ``orjson``
  (254 levels when the vendor body is encoded) fail;
- ``MAX_TEXT_CHARS``: 16 M characters is about 4 M tokens, twice the largest context
  window offered today;
- ``MAX_IMAGE_BYTES`` per inline image or file (OpenAI takes up to 20 MB per image).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

MAX_MESSAGES = 10_000
MAX_PARTS_PER_MESSAGE = 1_000
MAX_PARTS = 20_000
MAX_TEXT_CHARS = 16_000_000
MAX_TOOLS = 128
MAX_SCHEMA_NODES = 10_000
MAX_SCHEMA_DEPTH = 64
MAX_STOP_SEQUENCES = 16
MAX_STOP_CHARS = 1_000
MAX_IMAGES = 500
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_OPTION_NODES = 10_000
MAX_OPTION_DEPTH = 32
MAX_BODY_STRINGS = 500_000
"""JSON strings (keys and values) in one raw chat body; a request within the limits above
holds at most about 300,000."""
MAX_BODY_STRUCTURE = 500_000
"""``{``, ``[`` and ``,`` outside strings in one raw chat body (objects, arrays, items)."""


class TooLarge(ValueError):
    """A JSON value over its node or depth budget (the message says which)."""

    def __init__(self, message: str, *, too_deep: bool) -> None:
        super().__init__(message)
        self.too_deep = too_deep


def json_size(value: Any, *, max_nodes: int, max_depth: int, what: str) -> int:
    """The number of JSON values in ``value`` (objects, arrays and scalars, keys not
    counted), walked iteratively; ``TooLarge`` as soon as it passes ``max_nodes`` or
    ``max_depth``, so the walk itself costs at most ``max_nodes`` steps whatever the size."""
    nodes = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise TooLarge(f"{what} has more than {max_nodes:,} JSON values; the limit is "
                           f"{max_nodes:,}", too_deep=False)
        if depth > max_depth:
            raise TooLarge(f"{what} is nested more than {max_depth} levels deep; the limit "
                           f"is {max_depth}", too_deep=True)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return nodes


def inline_data_problem(data: str) -> str | None:
    """Why ``data`` is not acceptable inline base64 (too large, not base64), or None.

    Decoded in C with strict checking: cheap next to sending the bytes to a vendor, and
    a vendor's own 400 for a broken image would arrive only after the call was paid for."""
    if len(data) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        return (f"is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB, the limit for one "
                "inline image or file")
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return "is not valid base64"
    if not data:
        return "is empty"
    return None


def raw_json_problem(raw: bytes) -> str | None:
    """Why the raw JSON ``raw`` holds too many strings or objects to parse, or None.

    Parsing (``orjson.loads``, ``json.loads``) is one C call holding the GIL: a 30 MB
    body of a million tiny messages took ~2 s of it (and ``[{},{},...]`` in 64 MB, tens
    of millions of objects, much longer), during which no other request is served,
    worker thread or not. Counted here at C speed, without building anything: first two
    passes that over-count (a ``"`` or a ``{``/``[``/``,`` inside a string counts too)
    and clear every ordinary body, large images included; only a body they cannot clear
    is counted exactly: escaped backslashes and quotes are blanked (left to right, as a
    JSON parser pairs them), so every remaining ``"`` delimits a string, and the
    structure is counted outside them. Malformed JSON is left to the parser's error."""
    strings = raw.count(b'"') // 2
    structure = len(raw) - len(raw.translate(None, b"{[,"))
    if strings <= MAX_BODY_STRINGS and structure <= MAX_BODY_STRUCTURE:
        return None
    blanked = raw.replace(b"\\\\", b"__").replace(b'\\"', b"__")
    strings = blanked.count(b'"') // 2
    if strings > MAX_BODY_STRINGS:
        return (f"the request body holds {strings:,} JSON strings; a chat request holds at "
                f"most {MAX_BODY_STRINGS:,} (and at most {MAX_MESSAGES:,} messages, "
                f"{MAX_PARTS:,} parts)")
    if structure <= MAX_BODY_STRUCTURE:
        return None
    outside = blanked.split(b'"')[0::2]
    structure = sum(len(s) - len(s.translate(None, b"{[,")) for s in outside)
    if structure > MAX_BODY_STRUCTURE:
        return (f"the request body holds {structure:,} JSON objects, arrays and items; a "
                f"chat request holds at most {MAX_BODY_STRUCTURE:,}")
    return None

# -- embeddings (``spec.embedding``, ``POST /v1/embeddings``) ------------------------------
# OpenAI's own per-request limits are 2,048 inputs and 300,000 tokens
# (https://platform.openai.com/docs/api-reference/embeddings/create); ours sit above them,
# so no valid request meets them, and bound what one request can make us hold and send.
MAX_EMBEDDING_INPUTS = 2_048
MAX_EMBEDDING_CHARS = 4_000_000
"""Characters of text in all inputs of one request (~1 M tokens)."""
MAX_EMBEDDING_TOKEN_IDS = 400_000
"""Token ids in all token-array inputs of one request (below ``MAX_BODY_STRUCTURE``, so
a large body of ids is refused with this message rather than the raw-JSON one)."""
MAX_TOKEN_ID = 2**31 - 1
"""The largest token id accepted (vocabularies hold at most a few hundred thousand)."""
MAX_EMBEDDING_DIMENSIONS = 65_536
"""The largest ``dimensions`` one may ask for (the longest vectors offered today: 4,096)."""

# -- image generation (``spec.image``, ``POST /v1/images/generations``) ---------------------
# OpenAI's limits: a prompt of 32,000 characters for gpt-image-1 (4,000 for dall-e-3) and
# n up to 10 (https://platform.openai.com/docs/api-reference/images/create). Ours are
# tighter on n: each picture is priced and held in memory, and a chat turn shows a few.
MAX_IMAGE_PROMPT_CHARS = 32_000
MAX_IMAGES_PER_REQUEST = 4
IMAGE_SIZES = ("auto", "256x256", "512x512", "1024x1024", "1536x1024", "1024x1536",
               "1792x1024", "1024x1792", "1K", "2K", "4K")
"""Every size any built-in image model makes (a model accepts those its price table
lists); anything else is refused before a call. ``1K``/``2K``/``4K`` are Gemini 3 Pro
Image's resolutions (``imageConfig.imageSize``, https://ai.google.dev/gemini-api/docs/
image-generation)."""
IMAGE_QUALITIES = ("auto", "low", "medium", "high", "standard", "hd")
IMAGE_BACKGROUNDS = ("auto", "transparent", "opaque")
IMAGE_FORMATS = ("png", "jpeg", "webp")
MAX_EDIT_IMAGES = 16
"""Pictures one edit may start from: OpenAI's limit for GPT image models
(https://platform.openai.com/docs/api-reference/images/createEdit)."""
MAX_EDIT_IMAGE_BYTES = 20 * 1024 * 1024
"""Bytes of one picture to edit (OpenAI takes up to 50 MB for GPT image models; we hold
each in memory, as ``MAX_IMAGE_BYTES`` for a chat image)."""
EDIT_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
"""What a picture to edit may be (OpenAI: png, webp or jpg), read from its bytes."""
