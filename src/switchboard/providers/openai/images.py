"""OpenAI's ``POST /images/generations`` (gpt-image-1, dall-e-3, dall-e-2) and every
server that speaks it (OpenAI-compatible image endpoints, e.g. Together's), and
``POST /images/edits`` (gpt-image-1, dall-e-2).

https://platform.openai.com/docs/api-reference/images/create
- GPT image models always answer ``b64_json`` and refuse ``response_format``; they take
  ``background`` and ``output_format`` and report ``usage`` in tokens.
- dall-e models answer a URL unless ``response_format: "b64_json"`` is sent, which we
  always send (a vendor URL expires within the hour and would send the user's browser to
  the vendor); dall-e-3 rewrites the prompt and says so in ``revised_prompt``.
The picture's media type is read from its bytes (``sniff_media_type``), not assumed.

https://platform.openai.com/docs/api-reference/images/createEdit
- Edits are ``multipart/form-data``: the pictures as files, the other fields as text.
  GPT image models take up to 16 pictures as ``image[]`` (what OpenAI's own SDKs send
  for an array); dall-e-2 takes one square PNG as ``image``. ``mask`` is a PNG file.
  The answer is the same ``ImagesResponse`` as for generations.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from switchboard.providers.openai.answer import data_items
from switchboard.spec import GeneratedImage, ImageRequest, ImageResult, Usage
from switchboard.spec.image import sniff_media_type
from switchboard.upstream.client import Multipart

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def is_gpt_image(model_id: str) -> bool:
    """GPT image models (``gpt-image-1``, ``gpt-image-1-mini``...): no ``response_format``."""
    return model_id.startswith("gpt-image")


def build_body(model_id: str, request: ImageRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model_id, "prompt": request.prompt, "n": request.n}
    for name in ("size", "quality", "background", "output_format", "user"):
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    if not is_gpt_image(model_id):
        body["response_format"] = "b64_json"
    return body


def build_edit_body(model_id: str, request: ImageRequest) -> Multipart:
    """The multipart body of ``/images/edits`` for ``request.images`` (and its mask)."""
    fields = [(name, str(value)) for name, value in build_body(model_id, request).items()]
    gpt = is_gpt_image(model_id)
    files = [("image[]" if gpt else "image", f"image-{i}.{_EXTENSIONS.get(p.media_type, 'png')}",
              p.data, p.media_type) for i, p in enumerate(request.images if gpt
                                                           else request.images[:1])]
    if request.mask is not None:
        files.append(("mask", "mask.png", request.mask.data, request.mask.media_type))
    return Multipart(fields, files)


def parse_response(body: Any, expected: int, *, provider: str, request_id: str | None,
                   secrets: tuple[str, ...] = ()) -> ImageResult:
    """``{"created", "data": [{"b64_json", "revised_prompt"?}], "usage"?, ...}`` -> the
    pictures; anything else (a URL only, bad base64, bytes that are not a picture, the
    wrong count) is an error naming the instance."""
    data, broken = data_items(body, expected, what="images",
                              counted="pictures for {expected} asked", provider=provider,
                              request_id=request_id, secrets=secrets)
    images: list[GeneratedImage] = []
    for i, item in enumerate(data):
        item = item if isinstance(item, dict) else {}
        encoded = item.get("b64_json")
        if not isinstance(encoded, str):
            raise broken(f"data[{i}] has no b64_json (a URL only is not accepted)")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise broken(f"data[{i}].b64_json is not base64") from None
        media_type = sniff_media_type(raw)
        if media_type is None:
            raise broken(f"data[{i}] is not a PNG, JPEG, WebP or GIF picture")
        revised = item.get("revised_prompt")
        images.append(GeneratedImage(raw, media_type,
                                     revised if isinstance(revised, str) else None))
    raw_usage = body.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    tokens_in, tokens_out = usage.get("input_tokens"), usage.get("output_tokens")
    size, quality = body.get("size"), body.get("quality")
    return ImageResult(
        images,
        Usage(input_tokens=tokens_in if isinstance(tokens_in, int) else None,
              output_tokens=tokens_out if isinstance(tokens_out, int) else None),
        size=size if isinstance(size, str) else None,
        quality=quality if isinstance(quality, str) else None)
