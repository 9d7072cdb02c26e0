"""Images for models that cannot see them (issue 15 item 3; decisions 0147 and 0148).

A text-only model sent an image answers with a vendor 400 (OpenAI: "image_url is only
supported by certain models"). The web chat never lets that happen:

- **which model reads images**: the user's own choice for the ``vision`` task
  (``settings["task_models"]``), else the administrator's task default for ``vision``
  (``task_defaults``), else the catalog's first usable vision model — the same two
  stores Auto reads, so "the default vision model" is one concept, not a new setting;
- **a new image to a text-only model**: by the user's preference
  ``settings["text_model_images"]`` either the vision model answers that turn
  (``"vision"``, the default; the answer says "read by X: Y cannot see images") or the
  image is described and the text model answers (``"describe"``); or ``"ask"``: the page
  asks each time and sends the answer as the turn's ``images_to``, which overrides the
  preference (a turn nobody asked about gets ``"vision"``; decision 0172);
- **earlier images in the conversation**: replaced, for a text-only model, by a caption
  the vision model made ONCE — through the pipeline (admitted, metered, source
  ``chat``, on the user's budget) — and kept in ``image_captions`` keyed by the SHA-256
  of the image's bytes and the captioning model, so switching vision → text → vision
  costs one caption per image, ever.

Bounded: at most ``MAX_CAPTIONS_PER_TURN`` new captions per turn (more images are left
out with a warning; the next turn captions the rest), a caption of at most
``MAX_CAPTION_CHARS`` characters from at most ``CAPTION_TOKENS`` output tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.registry import Registry, ResolvedModel
from switchboard.services.auto.defaults import admin_defaults, user_overrides
from switchboard.services.pipeline import Pipeline
from switchboard.services.policy import CallSpec
from switchboard.services.preferences import get_preferences
from switchboard.services.principal import Principal
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    ImagePart,
    Message,
    Part,
    SwitchboardError,
    TextPart,
)

log = logging.getLogger("switchboard.captions")

PREFERENCE_KEY = "text_model_images"
"""Where a user says what happens to a new image sent to a text-only model."""
ImageHandling = Literal["vision", "describe"]
IMAGE_HANDLINGS: tuple[ImageHandling, ...] = ("vision", "describe")

MAX_CAPTIONS_PER_TURN = 8
"""New captions made for one turn at most: each is an upstream call the user pays for."""
CAPTION_TOKENS = 400
MAX_CAPTION_CHARS = 2000
CAPTION_PROMPT = (
    "Describe this image for someone who cannot see it, so they can answer questions "
    "about it: what it shows, its layout, colours and any visible text (transcribed "
    "exactly). Plain prose, at most 150 words, no preamble.")


def has_images(messages: Sequence[Message]) -> bool:
    return any(isinstance(p, ImagePart) for msg in messages for p in msg.parts)


def image_key(part: ImagePart) -> str:
    """The cache key of an image: the SHA-256 of its bytes (inline base64), or of its
    URL for a linked image (whose bytes we never fetch)."""
    if part.data is not None:
        try:
            raw = base64.b64decode(part.data, validate=True)
        except (binascii.Error, ValueError):
            raw = part.data.encode()
        return hashlib.sha256(raw).hexdigest()
    return hashlib.sha256((part.url or "").encode()).hexdigest()


async def image_handling(db: Database, user_id: int) -> ImageHandling:
    value = (await get_preferences(db, user_id)).settings.get(PREFERENCE_KEY)
    return value if value in IMAGE_HANDLINGS else "vision"


def _usable_vision(registry: Registry, ref: str | None) -> ResolvedModel | None:
    if not ref:
        return None
    try:
        model = registry.resolve(ref)
        model.chat_model()  # configured: a key is stored
    except SwitchboardError:
        return None
    if model.info is None or model.capabilities.vision is not True:
        return None
    return model


async def vision_model(db: Database, registry: Registry, user_id: int) -> ResolvedModel | None:
    """The model that reads images for this user (see the module docstring), or None
    when no enabled, configured model is known to accept images."""
    # the web chat's input checks (and the toolbox they name) are imported with the
    # first image sent to a text-only model, not at every start (decision 0221)
    from switchboard.services.chat_input import vision_suggestion

    overrides: dict[str, str] = {}
    if user_id:
        overrides = user_overrides((await get_preferences(db, user_id)).settings)
    for ref in (overrides.get("vision"), (await admin_defaults(db)).get("vision"),
                vision_suggestion(registry)):
        model = _usable_vision(registry, ref)
        if model is not None:
            return model
    return None


async def _cached(db: Database, model_ref: str, keys: set[str]) -> dict[str, str]:
    if not keys:
        return {}
    async with db.unit_of_work(read_only=True) as session:
        rows = (await session.execute(select(m.ImageCaption.sha256, m.ImageCaption.caption)
                                      .where(m.ImageCaption.model_ref == model_ref,
                                             m.ImageCaption.sha256.in_(keys)))).all()
    return {sha: caption for sha, caption in rows}


async def _keep(db: Database, model_ref: str, sha256: str, caption: str) -> None:
    try:
        async with db.unit_of_work() as session:
            session.add(m.ImageCaption(sha256=sha256, model_ref=model_ref, caption=caption))
    except IntegrityError:
        pass  # another turn captioned the same image meanwhile: theirs is as good


async def _caption(pipeline: Pipeline, principal: Principal, model: ResolvedModel,
                   image: ImagePart) -> str:
    request = ChatRequest(messages=[Message(role="user", parts=[
        TextPart(text=CAPTION_PROMPT), image])], max_output_tokens=CAPTION_TOKENS)
    spec = CallSpec(principal, "chat", request, model.ref, [], stream=False)
    result = (await pipeline.complete(spec)).result
    text = " ".join(result.text.split())
    if result.error is not None and not text:
        raise result.error
    if not text:
        raise ValueError("the vision model said nothing")
    return text[:MAX_CAPTION_CHARS]


def caption_part(model_ref: str, caption: str) -> TextPart:
    """How a text model is shown an image: what the vision model said it shows."""
    return TextPart(text=f'<image described_by="{model_ref}">\n{caption}\n</image>')


async def describe_images(pipeline: Pipeline, db: Database, principal: Principal,
                          reader: ResolvedModel, messages: list[Message],
                          ) -> tuple[list[Message], list[str]]:
    """``messages`` with every image replaced by its caption (cached, else made now by
    ``reader``), and warnings for images that could not be described (left out)."""
    images = [p for msg in messages for p in msg.parts if isinstance(p, ImagePart)]
    if not images:
        return messages, []
    captions = await _cached(db, reader.ref, {image_key(p) for p in images})
    made = failed = skipped = 0
    tried: set[str] = set()
    for image in images:
        key = image_key(image)
        if key in captions or key in tried:  # each distinct image once
            continue
        tried.add(key)
        if made >= MAX_CAPTIONS_PER_TURN:
            skipped += 1
            continue
        made += 1
        try:
            caption = await _caption(pipeline, principal, reader, image)
        except (SwitchboardError, ValueError) as exc:
            log.info("captioning an image with %s failed: %s", reader.ref,
                     getattr(exc, "code", type(exc).__name__))
            failed += 1
            continue
        captions[key] = caption
        await _keep(db, reader.ref, key, caption)
    out: list[Message] = []
    for msg in messages:
        parts: list[Part] = []
        for part in msg.parts:
            if not isinstance(part, ImagePart):
                parts.append(part)
                continue
            found = captions.get(image_key(part))
            if found is not None:
                parts.append(caption_part(reader.ref, found))
        if parts:
            out.append(msg.model_copy(update={"parts": parts}))
    warnings = []
    if failed:
        warnings.append(f"{failed} image(s) could not be described by {reader.ref} and "
                        "were left out")
    if skipped:
        warnings.append(f"{skipped} image(s) were left out: at most "
                        f"{MAX_CAPTIONS_PER_TURN} images are described per message")
    return out, warnings


async def vision_stand_in(db: Database, registry: Registry, spec: CallSpec,
                          ) -> tuple[CallSpec, CallWarning | None]:
    """``/v1``'s opt-in (header ``x-switchboard-images: vision``; decision 0147): a call
    with images to a model known not to see goes to the caller's vision model instead,
    with a warning saying so. Anything else — no images, a model that sees or may, an
    unknown ref (the pipeline reports it), no vision model — is left as it was, so the
    pipeline's capability check still answers 400 when nothing can read the images."""
    request = spec.request
    if not isinstance(request, ChatRequest) or not has_images(request.messages):
        return spec, None
    try:
        asked = registry.resolve(spec.model or registry.default_model_ref or "")
    except SwitchboardError:
        return spec, None
    if asked.info is None or asked.capabilities.vision is not False:
        return spec, None
    reader = await vision_model(db, registry, spec.principal.user_id)
    if reader is None:
        return spec, None
    fallbacks = [ref for ref in spec.fallbacks if _may_see(registry, ref)]
    warning = CallWarning("other", f"read by {reader.ref}: {asked.ref} cannot see images")
    return replace(spec, model=reader.ref, fallbacks=fallbacks), warning


def _may_see(registry: Registry, ref: str) -> bool:
    try:
        return registry.resolve(ref).capabilities.vision is not False
    except SwitchboardError:
        return True  # the pipeline reports it as it would have


__all__ = ["IMAGE_HANDLINGS", "MAX_CAPTIONS_PER_TURN", "PREFERENCE_KEY", "ImageHandling",
           "caption_part", "describe_images", "has_images", "image_handling", "image_key",
           "vision_model", "vision_stand_in"]
