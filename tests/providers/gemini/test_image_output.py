"""Gemini's image output: pictures among the text of one answer, in order, priced per
picture (https://ai.google.dev/gemini-api/docs/image-generation)."""

from __future__ import annotations

import base64
from decimal import Decimal

from switchboard.providers.gemini.convert_stream import ResponseConverter
from switchboard.spec import (
    ChatRequest,
    Finish,
    ImageOutput,
    ImagePart,
    Message,
    ResponseMetadata,
    TextDelta,
    TextPart,
    Usage,
    collect,
)
from switchboard.spec.image import sniff_media_type
from switchboard.spec.usage import Price, cost
from tests.fakes.gemini import IMAGE_MODEL, IMAGE_TOKENS, MODEL, make_provider
from tests.fakes.script import Reply
from tests.providers.gemini.conftest import Server
from tests.providers.gemini.wire_fields import check_request

DRAW = ChatRequest(messages=[Message.user("a red kite over the sea")])


async def test_an_image_model_is_asked_for_pictures_and_streams_them_in_place(
        server: Server) -> None:
    provider = make_provider(server.base_url)
    events = [e async for e in provider.chat_model(IMAGE_MODEL).stream(DRAW)]
    body = server.vendor.last.body
    check_request(body)
    assert body["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]
    shown = [e for e in events if isinstance(e, TextDelta | ImageOutput)]
    assert [type(e).__name__ for e in shown] == ["TextDelta", "TextDelta", "ImageOutput",
                                                 "TextDelta"]
    picture = shown[2]
    assert isinstance(picture, ImageOutput)
    assert picture.media_type == "image/png" and sniff_media_type(picture.data) == "image/png"
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert finish.usage.output_images == 1
    assert finish.usage.image_output_tokens == IMAGE_TOKENS
    result = collect(events)
    assert [p.type for p in result.parts] == ["text", "image", "text"]
    assert result.text == "Here is a red kite over the sea: I hope you like it."


async def test_the_whole_answer_keeps_text_and_pictures_in_order(server: Server) -> None:
    server.vendor.then(Reply(chunks=["One. ", "Two. ", "Three."],
                             pictures={0: "first", 1: "second"}))
    result = await make_provider(server.base_url).chat_model(IMAGE_MODEL).generate(DRAW)
    kinds = [(p.type, p.text if isinstance(p, TextPart) else None) for p in result.parts]
    assert kinds == [("text", "One. "), ("image", None), ("text", "Two. "), ("image", None),
                     ("text", "Three.")]
    first, second = (p for p in result.parts if isinstance(p, ImagePart))
    assert first.data != second.data, "each picture is its own"
    assert result.usage.output_images == 2


async def test_a_text_model_is_not_asked_for_pictures(server: Server) -> None:
    await make_provider(server.base_url).chat_model(MODEL).generate(DRAW)
    assert "responseModalities" not in server.vendor.last.body.get("generationConfig", {})


def _chunk(parts: list[dict[str, object]]) -> dict[str, object]:
    return {"candidates": [{"content": {"role": "model", "parts": parts},
                            "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3}}


def test_a_broken_picture_is_left_out_with_a_note_not_an_error() -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 20).decode()
    cases = [{"mimeType": "image/png", "data": "not base64!"},
             {"mimeType": "image/png", "data": base64.b64encode(b"<svg/>").decode()},
             {"mimeType": "image/png", "data": "A" * (30 * 1024 * 1024)},
             {"mimeType": "application/pdf", "data": png}]
    for inline in cases:
        events = ResponseConverter().response(_chunk([{"text": "Hi"}, {"inlineData": inline}]))
        assert not any(isinstance(e, ImageOutput) for e in events)
        finish = events[-1]
        assert isinstance(finish, Finish) and finish.finish_reason.unified == "stop"
        extra = {k: v for e in events if isinstance(e, ResponseMetadata) for k, v in
                 e.extra.items()}
        assert "unconverted_parts" in extra or "image_warning" in extra
        assert finish.usage.output_images is None


def test_each_picture_is_priced_once_as_google_publishes_it() -> None:
    price = Price(input=Decimal("0.30"), output=Decimal("2.50"))
    usage = Usage(input_tokens=1_000, output_tokens=100 + IMAGE_TOKENS,
                  image_output_tokens=IMAGE_TOKENS, output_images=1)
    expected = (1_000 * Decimal("0.30") + 100 * Decimal("2.50")) / 1_000_000 + Decimal("0.039")
    assert cost(usage, price, Decimal("0.039")) == expected
    assert cost(usage, price) is None, "a picture without a known price is an unknown cost"
    assert cost(Usage(input_tokens=1, output_tokens=1), price) is not None
