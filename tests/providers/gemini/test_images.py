"""Gemini's image models behind the image contract (``providers/gemini/images.py``): the
size as ``imageConfig``, the one-turn request, an answer's pictures, and an answer with
none as ``NoImageError`` carrying the model's words and what it counted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from switchboard.pricing import builtin_models
from switchboard.providers.gemini.images import chat_request, image_config, image_result
from switchboard.providers.offline.image import draw
from switchboard.spec import (
    ChatResult,
    FinishReason,
    GeneratedImage,
    ImagePart,
    ImageRequest,
    ImageResult,
    InvalidRequestError,
    NoImageError,
    ResponseMetadata,
    TextPart,
    Usage,
)
from switchboard.spec.image import image_cost, merge
from switchboard.spec.model import ImageCapabilities
from switchboard.spec.usage import Price

PNG = draw("x", "256x256")


@pytest.mark.parametrize(("size", "config"), [
    (None, {}),
    ("1024x1024", {"aspectRatio": "1:1"}),
    ("1536x1024", {"aspectRatio": "3:2"}),
    ("1024x1536", {"aspectRatio": "2:3"}),
    ("1792x1024", {"aspectRatio": "16:9"}),  # 7:4 is no Gemini ratio: the nearest
    ("1024x1792", {"aspectRatio": "9:16"}),
    ("4K", {"imageSize": "4K"}),
])
def test_sizes_map_to_image_config(size: str | None, config: dict[str, str]) -> None:
    assert image_config(size) == config


def test_the_request_shows_the_pictures_then_the_prompt() -> None:
    request = ImageRequest("a hat", size="1536x1024",
                           images=(GeneratedImage(PNG, "image/png"),))
    chat = chat_request(request)
    [message] = chat.messages
    assert [p.type for p in message.parts] == ["image", "text"]
    assert chat.provider_options == {
        "gemini": {"generationConfig": {"imageConfig": {"aspectRatio": "3:2"}}}}
    with pytest.raises(InvalidRequestError) as caught:
        chat_request(ImageRequest("a hat", images=(GeneratedImage(PNG),),
                                  mask=GeneratedImage(PNG)))
    assert caught.value.param == "mask"


def _answer(*parts: TextPart | ImagePart, finish: str = "stop") -> ChatResult:
    text = "".join(p.text for p in parts if isinstance(p, TextPart))
    return ChatResult(text=text, parts=list(parts), tool_calls=[],
                      finish_reason=FinishReason(finish, "STOP"),  # type: ignore[arg-type]
                      usage=Usage(input_tokens=5, output_tokens=1300,
                                  image_output_tokens=1290, output_images=1),
                      warnings=[], metadata=ResponseMetadata(model="m", request_id="r1"))


def test_the_pictures_of_an_answer_are_the_result_its_words_left_out() -> None:
    got = image_result(_answer(TextPart(text="Here:"), ImagePart.from_bytes(PNG, "image/png")),
                       provider="gem", size="1024x1024")
    assert [(i.data, i.media_type) for i in got.images] == [(PNG, "image/png")]
    assert got.usage.image_output_tokens == 1290 and got.size == "1024x1024"


def test_an_answer_without_a_picture_says_why_and_what_it_counted() -> None:
    with pytest.raises(NoImageError) as caught:
        image_result(_answer(TextPart(text="I  cannot\ndraw that.")), provider="gem", size=None)
    error = caught.value
    assert "'I cannot draw that.'" in error.message and not error.retryable
    assert error.usage is not None and error.usage.output_tokens == 1300
    assert error.request_id == "r1"
    with pytest.raises(NoImageError) as caught:
        image_result(_answer(finish="content_filter"), provider="gem", size=None)
    assert "safety" in caught.value.message


def test_words_beside_a_picture_are_paid_at_the_output_price() -> None:
    caps = ImageCapabilities(prices={"standard": {"1024x1024": Decimal("0.039")}},
                             default_size="1024x1024", default_quality="standard")
    price = Price(input=Decimal("0.30"), output=Decimal("2.50"))
    one = ImageResult([GeneratedImage(PNG)], Usage(input_tokens=12, output_tokens=1302,
                                                   image_output_tokens=1290))
    both = merge([one, one])
    assert both.usage.image_output_tokens == 2580
    assert image_cost(caps, price, None, None, 2, both.usage) == (
        2 * Decimal("0.039") + (24 * Decimal("0.30") + 24 * Decimal("2.50")) / 1_000_000)
    # a vendor that does not say which tokens drew (gpt-image-1): output tokens unpriced
    plain = Usage(input_tokens=12, output_tokens=1302)
    assert image_cost(caps, price, None, None, 1, plain) == (
        Decimal("0.039") + 12 * Decimal("0.30") / 1_000_000)
    assert merge([ImageResult([], plain)]).usage.image_output_tokens is None


@pytest.mark.parametrize(("model_id", "default"), [("gemini-2.5-flash-image", "1024x1024"),
                                                   ("gemini-3-pro-image-preview", "1K")])
def test_the_catalog_sizes_settle_and_edit(model_id: str, default: str) -> None:
    """Each Gemini image model: one picture per call, edits, its default size a valid
    request size (3 Pro Image's ``1K`` was refused by ``ImageRequest`` before)."""
    info = {m.id: m for m in builtin_models("gemini")}[model_id]
    caps = info.image
    assert caps is not None and caps.max_n == 1 and caps.edits
    settled = ImageRequest("x", n=2).settled(caps)
    assert settled.size == default and settled.n == 2
    wide = ImageRequest("x", size="1792x1024").settled(caps)
    assert image_config(wide.size) == {"aspectRatio": "16:9"}
    with pytest.raises(InvalidRequestError) as caught:
        ImageRequest("x", size="256x256").settled(caps)
    assert caught.value.param == "size"
