"""``POST /v1/images/generations`` against a real server on loopback, driven by the
official ``openai`` SDK with strict response validation, with the offline image model
(``offline:offline-image``): real PNGs carrying the prompt's words, hostile input bounded
with OpenAI-shaped errors, usage rows with cost, and the model's type in listings."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.api.chat_support import wait_for
from tests.api.v1_support import V1Member, v1_member
from tests.png_read import read_panel_text, read_png
from tests.spec_validation import spec_available, validate_component

MODEL = "offline:offline-image"


Setup = V1Member


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with v1_member(tmp_path_factory, "painter", "/images/generations") as member:
        yield member


def test_the_sdk_gets_a_png_with_the_prompts_words(setup: Setup) -> None:
    got = setup.client.images.generate(model=MODEL, prompt="A teapot on the moon",
                                       size="256x256")
    assert got.data is not None and len(got.data) == 1
    b64 = got.data[0].b64_json
    assert b64 is not None and got.data[0].url is None
    png = base64.b64decode(b64)
    width, height, _ = read_png(png)
    assert (width, height) == (256, 256)
    assert read_panel_text(png) == ["A TEAPOT ON THE MOON"]
    assert got.output_format == "png" and got.usage is not None
    assert got.usage.total_tokens == 0


def test_n_pictures_and_the_models_default_size(setup: Setup) -> None:
    got = setup.client.images.generate(model=MODEL, prompt="three owls", n=3)
    assert got.data is not None and len(got.data) == 3
    pngs = [base64.b64decode(d.b64_json or "") for d in got.data]
    assert len(set(pngs)) == 3
    assert {read_png(p)[:2] for p in pngs} == {(512, 512)}


def test_url_pictures_are_kept_for_the_caller_in_the_file_store(setup: Setup) -> None:
    got = setup.client.images.generate(model=MODEL, prompt="kept for later", size="256x256",
                                       response_format="url")
    assert got.data is not None and got.data[0].b64_json is None
    url = got.data[0].url or ""
    assert url.startswith(f"{setup.server.url}/api/files/")
    mine = httpx.get(url, headers={"authorization": f"Bearer {setup.token}"}, timeout=30)
    assert mine.status_code == 200 and mine.headers["content-type"] == "image/png"
    assert read_panel_text(mine.content) == ["KEPT FOR LATER"]
    stranger = setup.server.make_user("stranger")
    theirs = httpx.get(url, headers={"authorization": f"Bearer {stranger}"}, timeout=30)
    assert theirs.status_code == 404


def test_response_matches_openai_spec(setup: Setup) -> None:
    raw = setup.raw({"model": MODEL, "prompt": "spec check", "size": "256x256"})
    assert raw.status_code == 200, raw.text
    assert raw.headers["x-switchboard-model"] == MODEL
    if spec_available("openai"):
        validate_component("openai", "ImagesResponse", raw.json())


@pytest.mark.parametrize(("body", "param", "words"), [
    ({"model": MODEL, "prompt": "x" * 32_001}, "prompt", "at most 32,000 characters"),
    ({"model": MODEL, "prompt": "   "}, "prompt", "empty"),
    ({"model": MODEL}, "prompt", "prompt is required"),
    ({"model": MODEL, "prompt": "x", "n": 5}, "n", "between 1 and 4"),
    ({"model": MODEL, "prompt": "x", "n": 0}, "n", "between 1 and 4"),
    ({"model": MODEL, "prompt": "x", "n": "2"}, "n", "integer"),
    ({"model": MODEL, "prompt": "x", "size": "4096x4096"}, "size", "must be one of"),
    ({"model": MODEL, "prompt": "x", "size": "1792x1024"}, "size", "this model makes size"),
    ({"model": MODEL, "prompt": "x", "quality": "ultra"}, "quality", "must be one of"),
    ({"model": MODEL, "prompt": "x", "background": "transparent"}, "background",
     "cannot make a transparent background"),
    ({"model": MODEL, "prompt": "x", "output_format": "webp"}, "output_format",
     "this model makes output_format png"),
    ({"model": MODEL, "prompt": "x", "response_format": "link"}, "response_format",
     "'b64_json' or 'url'"),
    ({"model": MODEL, "prompt": "x", "stream": True}, "stream", "not supported"),
    ({"model": MODEL, "prompt": "x", "style": "vivid"}, "style", "Unrecognized"),
    ({"prompt": "x"}, "model", "model is required"),
    ({"model": "offline:offline-chat", "prompt": "x"}, "model", "cannot make images"),
])
def test_hostile_input_is_bounded_with_openai_errors(setup: Setup, body: dict[str, object],
                                                     param: str, words: str) -> None:
    response = setup.raw(body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert words in error["message"]


def test_an_image_model_cannot_chat(setup: Setup) -> None:
    with pytest.raises(openai.BadRequestError) as chat:
        setup.client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "image model" in chat.value.message


def test_usage_row_with_cost(setup: Setup) -> None:
    setup.client.images.generate(model=MODEL, prompt="count this picture", n=2,
                                 size="256x256")
    rows = wait_for(setup.server,
                    "SELECT model, status, source, cost FROM usage_events "
                    "WHERE model = 'offline-image'", lambda r: len(r) >= 1)
    assert rows, "no usage row for the image call"
    assert all((m, st, src) == ("offline-image", "ok", "api") for m, st, src, _ in rows)
    assert all(c is not None and float(str(c)) == 0.0 for *_, c in rows)


def test_listed_as_a_model(setup: Setup) -> None:
    ids = [m.id for m in setup.client.models.list()]
    assert MODEL in ids
