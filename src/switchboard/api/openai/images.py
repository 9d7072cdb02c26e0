"""``POST /v1/images/generations``: OpenAI's image endpoint over every image model.

https://platform.openai.com/docs/api-reference/images/create
The body is parsed by hand, as for embeddings, so each field gets a precise OpenAI-shaped
error naming it; sizes, qualities, ``n`` and the prompt are bounded by ``spec.limits``
(``ImageRequest`` checks them) and by what the model makes (its price table).

Pictures are returned as ``b64_json`` unless ``response_format: "url"`` is asked for:
then each picture is kept in the file store (``services.files``, decision 0081) for the
caller and the URL is ``/api/files/{sha256}`` on this server, readable with the same
token — never the vendor's own URL, which would name the vendor and expire within the
hour. ``usage`` is reported as OpenAI reports it for gpt-image-1 (input and
output tokens, input split into text and image tokens), 0 where a model counts none.
"""

from __future__ import annotations

import base64
import time
from typing import Any, Literal

from switchboard.api.openai.hand_parsed import model_ref
from switchboard.spec import ImageRequest, ImageResult, InvalidRequestError

_FIELDS = frozenset({"model", "prompt", "n", "size", "quality", "background",
                     "output_format", "response_format", "user", "moderation", "stream"})
# What OpenAI's ImagesResponse may echo (its enums): other values are left out rather
# than sent, so a strict client (the official SDKs validate these) accepts the answer.
_ECHO = {"quality": {"low", "medium", "high"},
         "size": {"1024x1024", "1024x1536", "1536x1024"},
         "background": {"transparent", "opaque"},
         "output_format": {"png", "webp", "jpeg"}}


def _optional_str(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be a string", param=name)
    return value


ResponseFormat = Literal["b64_json", "url"]


def parse_body(data: dict[str, Any]) -> tuple[str, ImageRequest, ResponseFormat]:
    """(model ref, the neutral request, response format) or ``InvalidRequestError``."""
    model = model_ref(data, _FIELDS, "image")
    prompt = data.get("prompt")
    if not isinstance(prompt, str):
        raise InvalidRequestError("prompt is required: a text describing the picture",
                                  param="prompt")
    n = data.get("n", 1)
    if n is None:
        n = 1
    if not isinstance(n, int) or isinstance(n, bool):
        raise InvalidRequestError("n must be an integer", param="n")
    if data.get("stream") not in (None, False):
        raise InvalidRequestError("streaming partial images is not supported; leave "
                                  "stream unset", param="stream")
    raw_fmt = data.get("response_format")
    fmt: ResponseFormat = "url" if raw_fmt == "url" else "b64_json"
    if raw_fmt not in (None, "b64_json", "url"):
        raise InvalidRequestError("response_format must be 'b64_json' or 'url'",
                                  param="response_format")
    moderation = data.get("moderation")
    if moderation not in (None, "auto", "low"):
        raise InvalidRequestError("moderation must be 'auto' or 'low'", param="moderation")
    request = ImageRequest(
        prompt, n, _optional_str(data, "size"), _optional_str(data, "quality"),
        _optional_str(data, "background"), _optional_str(data, "output_format"),
        _optional_str(data, "user"))
    return model, request, fmt


def response_body(result: ImageResult, request: ImageRequest,
                  urls: list[str] | None = None, created: int | None = None) -> dict[str, Any]:
    """OpenAI's ``ImagesResponse``: each picture as ``b64_json``, or as its URL in
    ``urls`` (same order) when given."""
    data: list[dict[str, Any]] = []
    for i, image in enumerate(result.images):
        item: dict[str, Any] = ({"url": urls[i]} if urls is not None else
                                {"b64_json": base64.b64encode(image.data).decode("ascii")})
        if image.revised_prompt:
            item["revised_prompt"] = image.revised_prompt
        data.append(item)
    body: dict[str, Any] = {"created": created if created is not None else int(time.time()),
                            "data": data}
    fmt = request.output_format or "png"
    for name, value in (("quality", result.quality), ("size", result.size),
                        ("background", request.background), ("output_format", fmt)):
        if value in _ECHO[name]:
            body[name] = value
    tokens_in = result.usage.input_tokens or 0
    tokens_out = result.usage.output_tokens or 0
    body["usage"] = {"input_tokens": tokens_in, "output_tokens": tokens_out,
                     "total_tokens": tokens_in + tokens_out,
                     "input_tokens_details": {"text_tokens": tokens_in, "image_tokens": 0}}
    return body
