"""Gemini's image models behind the image contract (``ImageModel``): ``/v1/images/
generations`` and ``/edits`` with ``gemini-2.5-flash-image`` or ``gemini-3-pro-image-preview``.

https://ai.google.dev/gemini-api/docs/image-generation
Gemini has no images endpoint: its image models are chat models that answer pictures as
``inlineData`` parts of a ``generateContent`` answer when asked for
``generationConfig.responseModalities`` with ``IMAGE``. So one picture is one
``generateContent`` call of the chat adapter (same body builder, same answer converter,
same errors) with the prompt as the user's turn; the pictures of the answer are the result
and its words are left out (OpenAI's ``ImagesResponse`` has no place for them).

- An edit is the same call with the pictures to start from as ``inlineData`` parts before
  the prompt: Gemini edits by being shown the picture. It takes no mask.
- ``size`` maps to ``generationConfig.imageConfig``: a ``WxH`` size to the nearest of the
  aspect ratios Google documents (``aspectRatio``; the model picks the pixels, about 1024
  on the longer side), ``1K``/``2K``/``4K`` to ``imageSize`` (Gemini 3 Pro Image). Which
  sizes a model accepts is its catalog price table, checked before the call.
- One call asks for one picture (the catalog's ``max_n`` is 1; ``candidateCount`` is not
  offered for image output), so ``n`` pictures are ``n`` calls, made by the framework.
  Every picture an answer holds is returned and priced: Google bills each one drawn.
- An answer without a picture (only words: a refusal, a question back, a safety stop) is
  ``NoImageError`` carrying the model's words, never an empty success.
"""

from __future__ import annotations

import base64
from math import gcd, log

from switchboard.spec import (
    ChatRequest,
    ChatResult,
    GeneratedImage,
    ImagePart,
    ImageRequest,
    ImageResult,
    InvalidRequestError,
    Message,
    NoImageError,
    Part,
    TextPart,
)
from switchboard.spec.image import sniff_media_type

KIND = "gemini"
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
"""``imageConfig.aspectRatio`` values Google documents for its image models
(https://ai.google.dev/gemini-api/docs/image-generation#aspect_ratios)."""
IMAGE_SIZES = ("1K", "2K", "4K")
"""``imageConfig.imageSize`` values (Gemini 3 Pro Image; upper-case K, as documented)."""
MAX_SAID = 300
"""Characters of the model's words quoted in a ``NoImageError``."""


def _ratio(text: str) -> float:
    width, height = text.split(":")
    return int(width) / int(height)


def image_config(size: str | None) -> dict[str, str]:
    """``generationConfig.imageConfig`` for an OpenAI-style ``size`` (already settled
    against the model's price table); empty: the model's default."""
    if size is None:
        return {}
    if size in IMAGE_SIZES:
        return {"imageSize": size}
    width, height = (int(v) for v in size.split("x"))
    divisor = gcd(width, height)
    exact = f"{width // divisor}:{height // divisor}"
    if exact in ASPECT_RATIOS:
        return {"aspectRatio": exact}
    # 1792x1024 (7:4, dall-e-3's wide size) is no Gemini ratio: the nearest by how far the
    # shapes differ (log of the ratio), here 16:9.
    wanted = log(width / height)
    return {"aspectRatio": min(ASPECT_RATIOS, key=lambda r: abs(log(_ratio(r)) - wanted))}


def chat_request(request: ImageRequest) -> ChatRequest:
    """The one-turn conversation that asks for the picture: the pictures to edit (if
    any), then the prompt; the size as ``imageConfig`` through the adapter's own options
    (``build_body`` merges them into ``generationConfig``)."""
    if request.mask is not None:
        raise InvalidRequestError("Gemini edits by being shown the picture and takes no "
                                  "mask; describe the change in the prompt", param="mask")
    parts: list[Part] = [ImagePart.from_bytes(p.data, p.media_type) for p in request.images]
    parts.append(TextPart(text=request.prompt))
    config = image_config(request.size)
    options = {KIND: {"generationConfig": {"imageConfig": config}}} if config else {}
    return ChatRequest(messages=[Message(role="user", parts=parts)],
                       provider_options=options)


def image_result(answer: ChatResult, *, provider: str, size: str | None) -> ImageResult:
    """The pictures of one answer, with its usage, or ``NoImageError`` when it has none
    (the model's words quoted, so the caller learns why)."""
    if answer.error is not None:
        raise answer.error
    pictures: list[GeneratedImage] = []
    for part in answer.parts:
        if isinstance(part, ImagePart) and part.data is not None:
            data = base64.b64decode(part.data)  # checked when it was read (convert_stream)
            pictures.append(GeneratedImage(data, sniff_media_type(data) or part.media_type))
    if not pictures:
        said = " ".join(answer.text.split())[:MAX_SAID]
        why = f": {said!r}" if said else " (it answered nothing)"
        finish = answer.finish_reason.unified if answer.finish_reason is not None else None
        if finish == "content_filter" and not said:
            why = " (it stopped for safety)"
        error = NoImageError(f"the model answered without a picture{why}",
                             provider=provider, request_id=answer.metadata.request_id,
                             retryable=False)
        error.usage = answer.usage
        raise error
    return ImageResult(pictures, answer.usage, answer.metadata.model, size, None,
                       list(answer.warnings))
