"""The OpenAI Images wire (``providers/openai/images.py``): bodies per model family
(validated against OpenAI's OpenAPI file) and answers that are not pictures refused."""

from __future__ import annotations

import base64

import pytest

from switchboard.providers.offline.image import draw
from switchboard.providers.openai.images import build_body, parse_response
from switchboard.spec import ImageRequest, StreamBrokenError
from tests.spec_validation import spec_available, validate_request

PNG = draw("x", "256x256")


@pytest.mark.parametrize("model", ["gpt-image-1", "dall-e-3", "dall-e-2"])
def test_bodies_validate_against_openais_schema(model: str) -> None:
    request = ImageRequest("a cat", n=1, size="1024x1024",
                           quality="medium" if model == "gpt-image-1" else "standard",
                           background="transparent" if model == "gpt-image-1" else None,
                           user="u-1")
    body = build_body(model, request)
    assert ("response_format" in body) is (model != "gpt-image-1")
    if spec_available("openai"):
        validate_request("openai", "/images/generations", body)


def _parse(data: list[object], n: int = 1) -> object:
    return parse_response({"created": 1, "data": data}, n, provider="openai",
                          request_id=None)


def test_pictures_are_read_with_their_media_type_from_the_bytes() -> None:
    result = parse_response({"created": 1, "data": [{"b64_json": base64.b64encode(PNG).decode(),
                                                     "revised_prompt": "a cat, detailed"}],
                             "usage": {"input_tokens": 3, "output_tokens": 272}},
                            1, provider="openai", request_id="req_1")
    [image] = result.images
    assert (image.data, image.media_type, image.revised_prompt) == (
        PNG, "image/png", "a cat, detailed")
    assert (result.usage.input_tokens, result.usage.output_tokens) == (3, 272)


@pytest.mark.parametrize(("data", "n", "words"), [
    ([{"url": "https://example.invalid/x.png"}], 1, "no b64_json"),
    ([{"b64_json": "%%%"}], 1, "not base64"),
    ([{"b64_json": base64.b64encode(b"<svg onload=alert(1)>").decode()}], 1, "not a PNG"),
    ([], 1, "holds 0 pictures for 1"),
])
def test_what_is_not_a_picture_is_an_error(data: list[object], n: int, words: str) -> None:
    with pytest.raises(StreamBrokenError, match=words):
        _parse(data, n)
