"""The neutral image-generation contract: a prompt in, pictures out.

A third model type (``ModelInfo.type == "image"``, capability ``image_output``). An
adapter implements ``ImageModel.generate_images()`` (``spec.provider``) for ONE upstream
call of at most its ``ImageCapabilities.max_n`` pictures; asking for more in calls of that
size, retrying each and putting the pictures together is the framework's job
(``registry.ResolvedModel.generate_images``), as for embeddings.

Pictures travel as bytes with their media type, never as a vendor URL: a vendor's URL
expires (OpenAI's after an hour) and would send the user's browser to the vendor, so an
adapter that is given a URL downloads it. Cost is per picture by size and quality, as
vendors publish it (``ImageCapabilities.price_of``), plus the prompt's tokens at the
model's input price when the vendor counts them (gpt-image-1 does): ``image_cost``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from switchboard.spec.errors import InvalidRequestError
from switchboard.spec.events import CallWarning
from switchboard.spec.limits import (
    EDIT_IMAGE_TYPES,
    IMAGE_BACKGROUNDS,
    IMAGE_FORMATS,
    IMAGE_QUALITIES,
    IMAGE_SIZES,
    MAX_EDIT_IMAGE_BYTES,
    MAX_EDIT_IMAGES,
    MAX_IMAGE_PROMPT_CHARS,
    MAX_IMAGES_PER_REQUEST,
)
from switchboard.spec.model import ImageCapabilities
from switchboard.spec.usage import Price, Usage

_MILLION = Decimal(1_000_000)
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """What to draw. ``None`` fields are the model's defaults (``auto``). Checked on
    construction against ``spec.limits``, so every surface is bounded the same way."""

    prompt: str
    n: int = 1
    size: str | None = None
    quality: str | None = None
    background: str | None = None
    output_format: str | None = None
    user: str | None = None
    images: tuple[GeneratedImage, ...] = ()
    """An edit: the pictures to start from (OpenAI's ``image[]``); empty: draw anew."""
    mask: GeneratedImage | None = None
    """An edit's mask: where the first picture may change (its transparent areas)."""

    @property
    def is_edit(self) -> bool:
        return bool(self.images)

    def __post_init__(self) -> None:
        if not self.prompt.strip():
            raise InvalidRequestError("prompt must describe the picture; it is empty",
                                      param="prompt")
        if len(self.prompt) > MAX_IMAGE_PROMPT_CHARS:
            raise InvalidRequestError(
                f"prompt: at most {MAX_IMAGE_PROMPT_CHARS:,} characters; this one has "
                f"{len(self.prompt):,}", param="prompt")
        if not 1 <= self.n <= MAX_IMAGES_PER_REQUEST:
            raise InvalidRequestError(
                f"n must be between 1 and {MAX_IMAGES_PER_REQUEST}; got {self.n:,}",
                param="n")
        for name, value, allowed in (("size", self.size, IMAGE_SIZES),
                                     ("quality", self.quality, IMAGE_QUALITIES),
                                     ("background", self.background, IMAGE_BACKGROUNDS),
                                     ("output_format", self.output_format, IMAGE_FORMATS)):
            if value is not None and value not in allowed:
                raise InvalidRequestError(
                    f"{name} must be one of {', '.join(allowed)}; got {value[:40]!r}",
                    param=name)
        if len(self.images) > MAX_EDIT_IMAGES:
            raise InvalidRequestError(f"image: at most {MAX_EDIT_IMAGES} pictures to edit; "
                                      f"got {len(self.images):,}", param="image")
        if self.mask is not None and not self.images:
            raise InvalidRequestError("mask needs a picture to edit", param="mask")
        for name, picture in [*(("image", p) for p in self.images),
                              *([("mask", self.mask)] if self.mask is not None else [])]:
            _check_edit_picture(name, picture)

    def settled(self, caps: ImageCapabilities | None) -> ImageRequest:
        """This request with ``auto``/absent size and quality replaced by the model's
        defaults, and refused (naming the field) when the model does not make that size,
        quality, background or format: the price table is the list of what it makes."""
        size = None if self.size in (None, "auto") else self.size
        quality = None if self.quality in (None, "auto") else self.quality
        if caps is None:
            return replace(self, size=size, quality=quality)
        if self.is_edit and not caps.edits:
            raise InvalidRequestError("this model cannot edit pictures; choose one that "
                                      "can, or leave the pictures out", param="image")
        size = size or caps.default_size
        quality = quality or caps.default_quality
        checks = (("size", size, caps.sizes),
                  ("quality", quality, caps.qualities if caps.default_quality else ()),
                  ("output_format", self.output_format, caps.output_formats))
        for name, value, allowed in checks:
            if value is not None and allowed and value not in allowed:
                raise InvalidRequestError(
                    f"this model makes {name} {', '.join(allowed)}; not {value}", param=name)
        if quality is not None and not caps.default_quality:
            raise InvalidRequestError("this model has no quality setting", param="quality")
        if self.background not in (None, "auto") and self.background not in caps.backgrounds:
            raise InvalidRequestError(
                f"this model cannot make a {self.background} background", param="background")
        return replace(self, size=size, quality=quality)


def _check_edit_picture(name: str, picture: GeneratedImage) -> None:
    """A picture to edit: within ``MAX_EDIT_IMAGE_BYTES`` and a PNG, JPEG or WebP by its
    bytes (its stated type corrected to what the bytes are, never trusted)."""
    if not picture.data:
        raise InvalidRequestError(f"{name}: the picture is empty", param=name)
    if len(picture.data) > MAX_EDIT_IMAGE_BYTES:
        raise InvalidRequestError(
            f"{name}: at most {MAX_EDIT_IMAGE_BYTES // (1024 * 1024)} MB per picture; this "
            f"one has {len(picture.data):,} bytes", param=name)
    if sniff_media_type(picture.data) not in EDIT_IMAGE_TYPES:
        raise InvalidRequestError(f"{name}: a picture to edit must be a PNG, JPEG or WebP "
                                  "file", param=name)


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One picture: its bytes and media type, and the prompt the vendor actually drew
    (dall-e-3 rewrites prompts; ``None`` when unchanged or not said)."""

    data: bytes
    media_type: str = "image/png"
    revised_prompt: str | None = None


@dataclass(slots=True)
class ImageResult:
    """The pictures of one request, with what they were made as (for pricing)."""

    images: list[GeneratedImage]
    usage: Usage = field(default_factory=Usage)
    """Token counts when the vendor gives them (gpt-image-1); else empty."""
    model: str | None = None
    size: str | None = None
    quality: str | None = None
    warnings: list[CallWarning] = field(default_factory=list)


def sniff_media_type(data: bytes) -> str | None:
    """The media type of picture bytes by their signature (PNG, JPEG, WebP, GIF), or
    ``None``: a vendor's word for the format is checked, never trusted."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def image_cost(caps: ImageCapabilities | None, price: Price | None, size: str | None,
               quality: str | None, images: int, usage: Usage | None = None) -> Decimal | None:
    """USD for ``images`` pictures of ``size``/``quality``, plus the prompt's counted
    input tokens at ``price.input``; ``None`` when the picture's price is unknown.

    A chat model that draws (Gemini's image models) says which of its output tokens drew
    pictures (``usage.image_output_tokens``): its other output tokens (the words beside
    the picture, its thinking) are paid at ``price.output`` too, as ``spec.usage.cost``
    prices the same answer in a chat, so one picture costs the same on both paths."""
    if caps is None:
        return None
    each = caps.price_of(size, quality)
    if each is None:
        return None
    total = each * images
    if usage is not None and usage.input_tokens and price is not None:
        total += usage.input_tokens * price.input / _MILLION
    if (usage is not None and usage.image_output_tokens is not None and price is not None
            and usage.output_tokens):
        words = max(usage.output_tokens - usage.image_output_tokens, 0)
        total += words * price.output / _MILLION
    return total


def merge(results: list[ImageResult]) -> ImageResult:
    """The results of consecutive calls as one (token counts added; unknown stays
    unknown when any call's count is unknown)."""
    images: list[GeneratedImage] = []
    warnings: list[CallWarning] = []
    counts: list[int | None] = [0, 0, 0]
    for result in results:
        images.extend(result.images)
        warnings.extend(w for w in result.warnings if w not in warnings)
        usage = result.usage
        for i, got in enumerate((usage.input_tokens, usage.output_tokens,
                                 usage.image_output_tokens)):
            previous = counts[i]
            counts[i] = None if previous is None or got is None else previous + got
    first = results[0] if results else ImageResult([])
    return ImageResult(images, Usage(input_tokens=counts[0], output_tokens=counts[1],
                                     image_output_tokens=counts[2] if results else None),
                       first.model, first.size, first.quality, warnings)
