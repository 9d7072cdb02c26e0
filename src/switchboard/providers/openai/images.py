"""OpenAI's ``POST /images/generations`` (gpt-image-1, dall-e-3, dall-e-2) and every
server that speaks it (OpenAI-compatible image endpoints, e.g. Together's), and
``POST /images/edits`` (gpt-image-1, dall-e-2).

https://platform.openai.com/docs/api-reference/images/create
- GPT image models always answer ``b64_json`` and refuse ``response_format``; they take
  ``background`` and ``output_format`` and report ``usage`` in tokens.
- dall-e models answer a URL unless ``response_format: "b64_json"`` is sent, which we
  always send (a vendor URL expires within the hour and would send the user's browser to
  the vendor); dall-e-3 rewrites the prompt and says so in ``revised_prompt``.
- A compatible server with other image fields says so in its ``Quirks`` (Together:
  ``response_format: "base64"``, ``width``/``height``, ``steps``). A picture that still
  comes as a URL only is downloaded by the adapter, bounded (``fetch_urls``), so the
  user's browser never goes to the vendor and the picture outlives the URL.
The picture's media type is read from its bytes (``sniff_media_type``), not assumed.

https://platform.openai.com/docs/api-reference/images/createEdit
- Edits are ``multipart/form-data``: the pictures as files, the other fields as text.
  GPT image models take up to 16 pictures as ``image[]`` (what OpenAI's own SDKs send
  for an array); dall-e-2 takes one square PNG as ``image``. ``mask`` is a PNG file.
  The answer is the same ``ImagesResponse`` as for generations.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

import httpx

from switchboard.providers.openai.answer import data_items
from switchboard.providers.openai.quirks import OPENAI_QUIRKS, Quirks
from switchboard.spec import (
    GeneratedImage,
    ImageRequest,
    ImageResult,
    StreamBrokenError,
    Usage,
)
from switchboard.spec.image import sniff_media_type
from switchboard.spec.limits import MAX_IMAGE_BYTES
from switchboard.upstream.client import Multipart
from switchboard.upstream.fetch import Refused, fetch

FETCH_SECONDS = 60.0
"""The longest the pictures of one answer given as URLs take to download, together."""
USER_AGENT = "Switchboard (downloading a picture a provider made)"

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def is_gpt_image(model_id: str) -> bool:
    """GPT image models (``gpt-image-1``, ``gpt-image-1-mini``...): no ``response_format``."""
    return model_id.startswith("gpt-image")


def build_body(model_id: str, request: ImageRequest,
               quirks: Quirks = OPENAI_QUIRKS) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model_id, "prompt": request.prompt, "n": request.n}
    for name in ("size", "quality", "background", "output_format", "user"):
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    if quirks.image_size_fields and request.size:  # Together: width and height
        width, _, height = request.size.partition("x")
        body.pop("size")
        body["width"], body["height"] = int(width), int(height)
    if quirks.image_steps is not None:
        body["steps"] = quirks.image_steps
    if not is_gpt_image(model_id) and quirks.image_response_format is not None:
        body["response_format"] = quirks.image_response_format
    return body


async def fetch_urls(body: Any, expected: int, *, provider: str, trusted_host: str | None,
                     request_id: str | None) -> Any:
    """``body`` with each picture given only as a URL downloaded into its ``b64_json``
    (a vendor that answers URLs: dall-e-2 by default, Together unless asked for base64),
    through the bounded fetcher (``upstream.fetch``): public addresses or the provider's
    own host only, at most ``MAX_IMAGE_BYTES`` per picture, ``FETCH_SECONDS`` for all
    of them. A failure is a broken answer naming the instance, not retried (the
    pictures were already paid for). Anything else is left to ``parse_response``."""
    items = body.get("data") if isinstance(body, dict) else None
    if not isinstance(items, list) or len(items) != expected:
        return body
    wanted = [(i, item["url"]) for i, item in enumerate(items)
              if isinstance(item, dict) and not isinstance(item.get("b64_json"), str)
              and isinstance(item.get("url"), str)]
    if not wanted:
        return body

    def broken(why: str) -> StreamBrokenError:
        return StreamBrokenError(f"{provider}: images response {why}", provider=provider,
                                 request_id=request_id, retryable=False)

    try:
        async with asyncio.timeout(FETCH_SECONDS):
            for i, url in wanted:
                got = await fetch(url, max_bytes=MAX_IMAGE_BYTES, trusted_host=trusted_host,
                                  user_agent=USER_AGENT, accept="image/*")
                if got.response.status_code != 200:
                    raise broken(f"data[{i}].url answered HTTP {got.response.status_code}")
                if got.cut:
                    raise broken(f"data[{i}].url is larger than "
                                 f"{MAX_IMAGE_BYTES // (1024 * 1024)} MB")
                items[i] = {**items[i], "b64_json": base64.b64encode(got.data).decode()}
    except Refused as exc:
        raise broken(f"gave a picture URL that is not fetched: {exc}") from None
    except TimeoutError:
        raise broken(f"pictures were not downloaded within {FETCH_SECONDS:g} s") from None
    except httpx.HTTPError as exc:
        raise broken(f"picture URL could not be read ({type(exc).__name__})") from None
    return body


def build_edit_body(model_id: str, request: ImageRequest,
                    quirks: Quirks = OPENAI_QUIRKS) -> Multipart:
    """The multipart body of ``/images/edits`` for ``request.images`` (and its mask)."""
    fields = [(name, str(value))
              for name, value in build_body(model_id, request, quirks).items()]
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
