"""``/v1/images/generations`` and ``/edits`` with a Gemini image model (pictures come as
``inlineData`` parts of a ``generateContent`` answer), on the fake speaking Gemini's wire,
driven by the official ``openai`` SDK with strict response validation: the request Google
receives (prompt, ``responseModalities``, ``imageConfig``, the pictures to edit), the
pictures answered in OpenAI's ``ImagesResponse``, ``n`` as n calls, the usage row priced
per picture from the catalog, and an answer without a picture as a 502 in OpenAI's
shape (decision 0194)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openai
import pytest

from switchboard.api.openai.images import response_body
from switchboard.providers.offline.image import draw
from switchboard.spec import GeneratedImage, ImageRequest, ImageResult
from tests.api.chat_support import add_provider, wait_for
from tests.conftest import isolate
from tests.fakes import gemini as gemini_fake
from tests.fakes.script import Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.png_read import read_panel_text
from tests.server import Running, running_server

# the fake's unscripted answer: 12 prompt tokens, 12 text tokens and one 1290-token picture
ONE_PICTURE = (12 * Decimal("0.30") + 12 * Decimal("2.50")) / 1_000_000 + Decimal("0.039")


class Setup:
    def __init__(self, server: Running, fake: FakeVendor, ref: str) -> None:
        self.server = server
        self.fake = fake
        self.ref = ref
        self.client = openai.OpenAI(base_url=server.v1, api_key=server.make_user("banana"),
                                    max_retries=0, _strict_response_validation=True)

    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.fake.chat_requests()]

    def costs(self) -> list[tuple[Any, ...]]:
        return self.server.query("SELECT cost, status FROM usage_events WHERE model = "
                                 f"'{gemini_fake.IMAGE_MODEL}' ORDER BY id")


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """The module's server isolates the environment for the whole module."""
    yield


@pytest.fixture(scope="module")
def module_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    fake = FakeVendor(gemini_fake.Wire())
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("gemini-images") / "sb-data")
        with running_server() as server, serve_in_thread(fake) as url:
            ref = add_provider(server, "gem", "gemini", url, gemini_fake.IMAGE_MODEL,
                               vision=True, image_output=True)
            yield Setup(server, fake, ref)


@pytest.fixture
def setup(module_setup: Setup) -> Setup:
    module_setup.fake.requests.clear()
    module_setup.fake.script.clear()
    return module_setup


def test_generations_ask_gemini_for_a_picture_and_answer_openai_shape(setup: Setup) -> None:
    got = setup.client.images.generate(model=setup.ref, prompt="a yellow banana",
                                       size="1536x1024")
    assert got.data is not None and len(got.data) == 1
    png = base64.b64decode(got.data[0].b64_json or "")
    assert png.startswith(b"\x89PNG") and read_panel_text(png) == ["A YELLOW BANANA"]
    [body] = setup.bodies()
    assert body["contents"] == [{"role": "user", "parts": [{"text": "a yellow banana"}]}]
    config = body["generationConfig"]
    assert config["responseModalities"] == ["TEXT", "IMAGE"]
    assert config["imageConfig"] == {"aspectRatio": "3:2"}  # OpenAI's 1536x1024
    assert "tools" not in body
    [(cost, status)] = wait_for(setup.server, "SELECT cost, status FROM usage_events WHERE "
                                f"model = '{gemini_fake.IMAGE_MODEL}'", bool)
    # the same price as the same answer in a chat: prompt, words beside the picture, picture
    assert (Decimal(str(cost)), status) == (ONE_PICTURE, "ok")
    assert got.usage is not None and got.usage.input_tokens == 12


def test_n_pictures_are_n_calls_and_url_answers_are_kept(setup: Setup) -> None:
    got = setup.client.images.generate(model=setup.ref, prompt="two pears", n=2,
                                       response_format="url")
    assert got.data is not None and len(got.data) == 2
    assert all((d.url or "").startswith(setup.server.url) for d in got.data)
    bodies = setup.bodies()
    assert len(bodies) == 2, "one picture per generateContent call"
    assert all(b["generationConfig"]["imageConfig"] == {"aspectRatio": "1:1"} for b in bodies)
    [(cost, status)] = wait_for(setup.server, "SELECT cost, status FROM usage_events WHERE "
                                f"model = '{gemini_fake.IMAGE_MODEL}' AND cost > 0.07", bool)
    assert (Decimal(str(cost)), status) == (2 * ONE_PICTURE, "ok")


def test_edits_show_gemini_the_pictures_before_the_prompt(setup: Setup) -> None:
    cat = draw("a cat", "256x256")
    got = setup.client.images.edit(model=setup.ref, prompt="give the cat a hat",
                                   image=[("cat.png", cat, "image/png")])
    assert got.data is not None and len(got.data) == 1
    [body] = setup.bodies()
    [turn] = body["contents"]
    assert turn["parts"] == [
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(cat).decode()}},
        {"text": "give the cat a hat"}]
    assert body["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]

    with pytest.raises(openai.BadRequestError) as caught:  # Gemini has no mask
        setup.client.images.edit(model=setup.ref, prompt="x", image=("a.png", cat, "image/png"),
                                 mask=("m.png", cat, "image/png"))
    assert caught.value.body["param"] == "mask"  # type: ignore[index]
    assert len(setup.bodies()) == 1, "refused before any call"


def test_an_answer_without_a_picture_is_a_502_that_says_so(setup: Setup) -> None:
    setup.fake.then(Reply(chunks=["I cannot draw ", "that."], pictures={}))
    with pytest.raises(openai.APIStatusError) as caught:
        setup.client.images.generate(model=setup.ref, prompt="something forbidden")
    assert caught.value.status_code == 502
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "no_image" and error["type"] == "upstream_error"
    assert "without a picture" in error["message"] and "I cannot draw that." in error["message"]
    assert len(setup.bodies()) == 1, "not retried: asking again is paid again"
    [(cost, tokens)] = wait_for(setup.server, "SELECT cost, output_tokens FROM usage_events "
                                f"WHERE model = '{gemini_fake.IMAGE_MODEL}' AND status = "
                                "'error' AND output_tokens > 0", bool)
    # the words Google billed are recorded: the reply's 12 prompt and 7 output tokens at
    # the model's token prices, no picture
    assert tokens == 7
    assert Decimal(str(cost)) == (12 * Decimal("0.30") + 7 * Decimal("2.50")) / 1_000_000


def test_sizes_gemini_cannot_make_are_refused_before_any_call(setup: Setup) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        setup.client.images.generate(model=setup.ref, prompt="x", size="256x256")
    assert caught.value.body["param"] == "size"  # type: ignore[index]
    # a Gemini chat model that does not draw is still no image model
    plain = add_provider(setup.server, "gem-text", "gemini", setup.server.url,
                         gemini_fake.MODEL)
    # a chat model that draws, of a kind whose chat models do not serve /v1/images
    other = add_provider(setup.server, "cmp", "openai_compatible", setup.server.url,
                         "painter-chat", image_output=True)
    for ref in (plain, other):
        with pytest.raises(openai.BadRequestError) as caught:
            setup.client.images.generate(model=ref, prompt="x")
        assert caught.value.body["param"] == "model", ref  # type: ignore[index]
        assert "cannot make images" in caught.value.body["message"]  # type: ignore[index]
    assert setup.bodies() == []


def test_the_echoed_format_is_the_pictures_own_when_none_was_asked() -> None:
    jpeg = GeneratedImage(b"\xff\xd8\xff\xe0" + b"\0" * 16, "image/jpeg")
    assert response_body(ImageResult([jpeg]), ImageRequest("x"))["output_format"] == "jpeg"
    png = GeneratedImage(draw("x", "256x256"))
    assert response_body(ImageResult([png]), ImageRequest("x"))["output_format"] == "png"
    asked = ImageRequest("x", output_format="webp")
    assert response_body(ImageResult([png]), asked)["output_format"] == "webp"
