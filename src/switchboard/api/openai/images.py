"""``POST /v1/images/generations`` and ``/v1/images/edits``: OpenAI's image endpoints
over every image model and every chat model that draws (Gemini's image models, decision
0194); edits over those whose catalog entry says ``edits``.

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

Edits (https://platform.openai.com/docs/api-reference/images/createEdit) come as
``multipart/form-data``: the pictures as files named ``image`` or ``image[]`` (OpenAI's
SDKs send an array as ``image[]``), an optional ``mask`` file, the other fields as text.
Bounded before any call: at most ``MAX_EDIT_IMAGES`` pictures of at most
``MAX_EDIT_IMAGE_BYTES`` each, PNG, JPEG or WebP by their bytes (``ImageRequest``),
at most ``MAX_EDIT_FIELDS`` form fields, and the whole body by the chat-sized body
limit (``api.body_limit``).
"""

from __future__ import annotations

import base64
import time
from dataclasses import replace
from typing import Any, Literal

from switchboard.api.openai.hand_parsed import model_ref
from switchboard.spec import GeneratedImage, ImageRequest, ImageResult, InvalidRequestError
from switchboard.spec.image import MEDIA_TYPES, sniff_media_type
from switchboard.spec.limits import MAX_EDIT_IMAGES

_FIELDS = frozenset({"model", "prompt", "n", "size", "quality", "background",
                     "output_format", "response_format", "user", "moderation", "stream"})
_EDIT_FIELDS = frozenset({"model", "prompt", "n", "size", "quality", "background",
                          "output_format", "response_format", "user", "image", "image[]",
                          "mask"})
MAX_EDIT_FIELDS = 32
"""Form fields one edit may have, files included (16 pictures, a mask, ten settings)."""
MAX_EDIT_FILES = MAX_EDIT_IMAGES + 1
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


def parse_body(data: dict[str, Any], fields: frozenset[str] = _FIELDS
               ) -> tuple[str, ImageRequest, ResponseFormat]:
    """(model ref, the neutral request, response format) or ``InvalidRequestError``."""
    model = model_ref(data, fields, "image")
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


_FILE_FIELDS = ("image", "image[]", "mask")


def parse_edit_form(fields: list[tuple[str, str]], uploads: list[tuple[str, bytes]]
                    ) -> tuple[str, ImageRequest, ResponseFormat]:
    """An edit's form (text fields; files as (field name, bytes)) as (model ref, the
    neutral request with its pictures, response format), or ``InvalidRequestError``
    naming the field."""
    data: dict[str, Any] = {}
    for name, value in fields:
        if name in data or name in _FILE_FIELDS:
            why = "is given twice" if name in data else "must be a file"
            raise InvalidRequestError(f"{name} {why}", param=name)
        data[name] = value
    stray = next((name for name, _ in uploads if name not in _FILE_FIELDS), None)
    if stray is not None:
        raise InvalidRequestError(f"{stray} must be text, not a file", param=stray)
    if "n" in data:
        raw = data["n"].strip()
        if not raw.isdigit() or len(raw) > 3:
            raise InvalidRequestError("n must be an integer", param="n")
        data["n"] = int(raw)
    pictures = [_picture(body) for name, body in uploads if name != "mask"]
    masks = [_picture(body) for name, body in uploads if name == "mask"]
    if not pictures:
        raise InvalidRequestError("image is required: the picture(s) to edit, as files",
                                  param="image")
    if len(masks) > 1:
        raise InvalidRequestError("mask: one file at most", param="mask")
    model, request, fmt = parse_body(data, fields=_EDIT_FIELDS)
    return model, replace(request, images=tuple(pictures),
                          mask=masks[0] if masks else None), fmt


def _picture(data: bytes) -> GeneratedImage:
    """A sent file as a picture, its type read from its bytes (``ImageRequest`` refuses
    what is not a PNG, JPEG or WebP)."""
    return GeneratedImage(data, sniff_media_type(data) or "application/octet-stream")


def _format_of(result: ImageResult) -> str:
    """The format the pictures came in when none was asked for (a Gemini image model
    chooses its own), ``png`` when unknown: the echo must not name another format."""
    media_type = result.images[0].media_type if result.images else "image/png"
    return next((fmt for fmt, mt in MEDIA_TYPES.items() if mt == media_type), "png")


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
    fmt = request.output_format or _format_of(result)
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
