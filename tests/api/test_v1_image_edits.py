"""``POST /v1/images/edits`` (multipart: pictures as files) with OpenAI Images behind it
(an HTTP fake answering as OpenAI documents), driven by the official ``openai`` SDK
with strict response validation: the multipart body sent upstream is checked against
OpenAI's ``CreateImageEditRequest`` schema; pictures, usage and the usage row priced
per picture plus the counted input tokens; bounded input refused in OpenAI's shape."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from switchboard.db import Database
from switchboard.providers.offline.image import draw, draw_edit
from switchboard.services.keys import set_provider_key
from switchboard.services.providers import update_provider
from tests.api.chat_support import wait_for
from tests.conftest import isolate
from tests.fakes import openai as openai_fake
from tests.fakes.images import IMAGE_TOKENS_PER_INPUT, edit_as_schema
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.png_read import read_panel_text
from tests.server import Running, running_server
from tests.spec_validation import spec_available, validate_component

PNG = draw("a cat", "256x256")


class Setup:
    def __init__(self, server: Running, fake: FakeVendor) -> None:
        self.server = server
        self.fake = fake
        self.token = server.make_user("editor")
        self.client = openai.OpenAI(base_url=server.v1, api_key=self.token, max_retries=0,
                                    _strict_response_validation=True)

    def sent(self) -> list[dict[str, Any]]:
        forms = [r.body for r in self.fake.requests if r.path.endswith("/images/edits")]
        if spec_available("openai"):
            for form in forms:
                validate_component("openai", "CreateImageEditRequest", edit_as_schema(form))
        return forms

    def post(self, **kwargs: Any) -> httpx.Response:
        return httpx.post(f"{self.server.v1}/images/edits", timeout=30,
                          headers={"authorization": f"Bearer {self.token}"}, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """The module's server isolates the environment for the whole module."""
    yield


@pytest.fixture(scope="module")
def module_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    fake = FakeVendor(openai_fake.Wire())
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("edits") / "sb-data")
        with running_server() as server, serve_in_thread(fake) as url:
            async def configure() -> None:
                db = Database.from_url(server.settings.database_url, pooled=False)
                try:
                    await update_provider(db, "openai", base_url=f"{url}/v1", enabled=True,
                                          settings={"max_retries": 0})
                    await set_provider_key(db, "openai", "key-openai-000000000000001234")
                finally:
                    await db.dispose()

            asyncio.run(configure())
            yield Setup(server, fake)


@pytest.fixture
def setup(module_setup: Setup) -> Setup:
    module_setup.fake.requests.clear()
    module_setup.fake.script.clear()
    return module_setup


def test_gpt_image_1_edits_two_pictures_with_the_official_client(setup: Setup) -> None:
    got = setup.client.images.edit(model="openai:gpt-image-1", prompt="a cat in a hat",
                                   image=[("cat.png", PNG, "image/png"),
                                          ("hat.png", draw("a hat", "256x256"), "image/png")])
    assert got.data is not None and len(got.data) == 1
    assert read_panel_text(base64.b64decode(got.data[0].b64_json or "")) == ["A CAT IN A HAT"]
    [form] = setup.sent()
    files = form["_files"]
    assert [f["name"] for f in files] == ["image[]", "image[]"]
    assert files[0]["data"] == PNG and files[0]["content_type"] == "image/png"
    assert form["model"] == "gpt-image-1" and form["prompt"] == "a cat in a hat"
    assert "response_format" not in form  # GPT image models refuse it
    assert got.usage is not None
    rows = wait_for(setup.server, "SELECT cost, input_tokens, status FROM usage_events "
                    "WHERE model = 'gpt-image-1'", bool)
    cost, tokens, status = rows[0]
    text_tokens = len("a cat in a hat") // 4 + 1
    assert (tokens, status) == (text_tokens + 2 * IMAGE_TOKENS_PER_INPUT, "ok")
    # one medium 1024x1024 picture ($0.042) + the counted input tokens at $5 per million
    assert Decimal(str(cost)) == Decimal("0.042") + Decimal(tokens * 5) / 1_000_000


def test_dall_e_2_edits_one_picture_with_a_mask(setup: Setup) -> None:
    got = setup.client.images.edit(model="openai:dall-e-2", prompt="a red door",
                                   image=("door.png", PNG, "image/png"),
                                   mask=("mask.png", draw("mask", "256x256"), "image/png"),
                                   size="512x512", response_format="b64_json")
    assert got.data is not None and len(got.data) == 1
    [form] = setup.sent()
    assert [f["name"] for f in form["_files"]] == ["image", "mask"]
    assert form["response_format"] == "b64_json"  # never a vendor URL


def test_models_that_cannot_edit_and_bad_pictures_are_refused_before_any_call(
        setup: Setup) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        setup.client.images.edit(model="openai:dall-e-3", prompt="x",
                                 image=("a.png", PNG, "image/png"))
    assert caught.value.body["param"] == "image", caught.value.body  # type: ignore[index]
    # the offline image model edits with no key (decision 0187)
    offline = setup.client.images.edit(model="offline:offline-image", prompt="x",
                                       image=("a.png", PNG, "image/png"), size="256x256")
    assert offline.data is not None and offline.data[0].b64_json
    assert base64.b64decode(offline.data[0].b64_json) == draw_edit("x", "256x256", (PNG,))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"data": {"model": "openai:gpt-image-1", "prompt": "x"},
          "files": [("image", ("a.svg", b"<svg onload=alert(1)/>", "image/svg+xml"))]}, "image"),
        ({"data": {"model": "openai:gpt-image-1", "prompt": "x"},
          "files": [("mask", ("m.png", PNG, "image/png"))]}, "image"),
        ({"data": {"model": "openai:gpt-image-1", "prompt": "x", "n": "ten"},
          "files": [("image", ("a.png", PNG, "image/png"))]}, "n"),
        ({"data": {"model": "openai:gpt-image-1", "prompt": "x", "colour": "red"},
          "files": [("image", ("a.png", PNG, "image/png"))]}, "colour"),
        ({"data": {"model": "openai:gpt-image-1", "prompt": "x"},
          "files": [("image[]", (f"{i}.png", PNG, "image/png")) for i in range(17)]}, "image"),
    ]
    for kwargs, param in cases:
        answer = setup.post(**kwargs)
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["type"] == "invalid_request_error" and error["param"] == param, error
    many_fields = setup.post(data={f"f{i}": "x" for i in range(40)},
                             files=[("image", ("a.png", PNG, "image/png"))])
    assert many_fields.status_code == 400 and "multipart" in many_fields.json()["error"]["message"]
    as_json = setup.post(json={"model": "openai:gpt-image-1", "prompt": "x"})
    assert as_json.status_code == 400 and "multipart" in as_json.json()["error"]["message"]
    assert setup.sent() == []
    anonymous = httpx.post(f"{setup.server.v1}/images/edits",
                           files=[("image", ("a.png", PNG, "image/png"))], timeout=10)
    assert anonymous.status_code == 401
