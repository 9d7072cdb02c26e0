"""An OpenAI-compatible images endpoint with its own quirks (Together's, on a loopback
fake): the body as that server takes it, base64 or a URL in the answer, a URL fetched
bounded and hostile-safe, image models found in the server's model list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.providers.openai import images as images_module
from switchboard.providers.openai_compatible import OpenAICompatibleProvider
from switchboard.spec import ImageRequest, StreamBrokenError
from switchboard.spec.image import sniff_media_type
from tests.fakes.server import serve_in_thread
from tests.fakes.together import IMAGE_MODEL, TogetherImages
from tests.png_read import read_panel_text


@pytest.fixture(scope="module")
def _fake() -> Iterator[tuple[TogetherImages, str]]:
    fake = TogetherImages()
    with serve_in_thread(fake) as url:  # type: ignore[arg-type]
        yield fake, url


@pytest.fixture
def fake(_fake: tuple[TogetherImages, str]) -> tuple[TogetherImages, str]:
    _fake[0].requests.clear()
    _fake[0].url_to = None
    return _fake


def together(url: str, **quirks: object) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider.from_preset("together", api_key="tg-key",
                                                base_url=f"{url}/v1", **quirks)


async def test_the_preset_asks_as_together_documents(fake: tuple[TogetherImages, str]) -> None:
    server, url = fake
    model = together(url).image_model(IMAGE_MODEL)
    got = await model.generate_images(ImageRequest("a red kite", n=2, size="512x512"))
    [body] = server.requests
    assert body == {"model": IMAGE_MODEL, "prompt": "a red kite", "n": 2, "width": 512,
                    "height": 512, "response_format": "base64"}
    assert [read_panel_text(p.data) for p in got.images] == [["A RED KITE"]] * 2


async def test_a_url_answer_is_downloaded_from_the_providers_own_host(
        fake: tuple[TogetherImages, str]) -> None:
    server, url = fake
    model = together(url, image_response_format=None, image_steps=4).image_model(IMAGE_MODEL)
    got = await model.generate_images(ImageRequest("a lighthouse", size="1024x1024"))
    assert server.requests[0]["steps"] == 4 and "response_format" not in server.requests[0]
    [picture] = got.images
    assert sniff_media_type(picture.data) == "image/png"
    assert read_panel_text(picture.data) == ["A LIGHTHOUSE"]


@pytest.mark.parametrize(("where", "error"), [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.0.0.7/picture.png", "private network"),
    ("file:///etc/passwd", "only http and https"),
    ("{base}/v1/files/huge.png", "larger than 20 MB"),
    ("{base}/v1/files/redirect.png", "link-local"),
    ("{base}/v1/files/slow.png", "not downloaded within"),
])
async def test_a_hostile_picture_url_is_refused_and_not_retried(
        fake: tuple[TogetherImages, str], monkeypatch: pytest.MonkeyPatch, where: str,
        error: str) -> None:
    server, url = fake
    monkeypatch.setattr(images_module, "FETCH_SECONDS", 0.5)
    server.url_to = where.format(base=url)
    model = together(url, image_response_format=None).image_model(IMAGE_MODEL)
    with pytest.raises(StreamBrokenError) as caught:
        await model.generate_images(ImageRequest("x"))
    assert error in caught.value.message and not caught.value.retryable
    assert "tg-key" not in caught.value.message


async def test_image_models_are_found_in_the_model_list(
        fake: tuple[TogetherImages, str]) -> None:
    _, url = fake
    found = {m.id: m for m in await together(url).list_models()}
    image = found[IMAGE_MODEL]
    assert image.type == "image" and image.capabilities.image_output
    assert image.name == "FLUX.1 [schnell]"
