"""``POST /v1/images/generations`` with OpenAI Images and an OpenAI-compatible images
endpoint behind it (HTTP fakes answering as OpenAI documents), driven by the official
``openai`` SDK with strict response validation: every body sent is validated against
OpenAI's OpenAPI file; pictures, usage, the usage row priced per picture, dall-e-3's one
picture per call, vendor errors in OpenAI's shape."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from decimal import Decimal

import openai
import pytest

from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.providers import create_provider, update_provider
from tests.api.chat_support import client, wait_for
from tests.fakes import openai as openai_fake
from tests.fakes.script import Fail
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.png_read import read_panel_text, read_png
from tests.server import Running, running_server
from tests.spec_validation import spec_available, validate_request


class Setup:
    def __init__(self, server: Running, fakes: dict[str, FakeVendor]) -> None:
        self.server = server
        self.fakes = fakes
        self.token = server.make_user("illustrator")
        self.client = openai.OpenAI(base_url=server.v1, api_key=self.token, max_retries=0,
                                    _strict_response_validation=True)

    def sent(self, fake: str) -> list[dict[str, object]]:
        bodies = [r.body for r in self.fakes[fake].requests
                  if r.path.endswith("/images/generations")]
        if spec_available("openai"):
            for body in bodies:
                validate_request("openai", "/images/generations", body)
        return bodies


@pytest.fixture
def setup() -> Iterator[Setup]:
    fakes = {"openai": FakeVendor(openai_fake.Wire()), "local": FakeVendor(openai_fake.Wire())}
    with running_server() as server, serve_in_thread(fakes["openai"]) as oa, \
            serve_in_thread(fakes["local"]) as lo:
        async def configure() -> None:
            db = Database.from_url(server.settings.database_url, pooled=False)
            try:
                await update_provider(db, "openai", base_url=f"{oa}/v1", enabled=True,
                                      settings={"max_retries": 0})
                await set_provider_key(db, "openai", "key-openai-000000000000001234")
                await create_provider(db, name="local", kind="openai_compatible",
                                      base_url=f"{lo}/v1",
                                      settings={"requires_api_key": False})
            finally:
                await db.dispose()

        asyncio.run(configure())
        yield Setup(server, fakes)


def test_gpt_image_1_pictures_usage_and_cost(setup: Setup) -> None:
    got = setup.client.images.generate(model="openai:gpt-image-1", prompt="a paper crane",
                                       n=2, size="1024x1536", quality="high")
    assert got.data is not None and len(got.data) == 2
    pngs = [base64.b64decode(d.b64_json or "") for d in got.data]
    assert [read_panel_text(p) for p in pngs] == [["A PAPER CRANE"]] * 2
    assert got.size == "1024x1536" and got.quality == "high"
    assert got.usage is not None and got.usage.output_tokens == 2 * 1_056
    [body] = setup.sent("openai")
    assert body == {"model": "gpt-image-1", "prompt": "a paper crane", "n": 2,
                    "size": "1024x1536", "quality": "high"}  # no response_format: refused
    rows = wait_for(setup.server, "SELECT cost, input_tokens, status, source FROM "
                    "usage_events WHERE model = 'gpt-image-1'", bool)
    cost, tokens, status, source = rows[0]
    assert (tokens, status, source) == (4, "ok", "api")  # the fake: len // 4 + 1
    # 2 pictures x $0.25 (1024x1536, high) + 4 text tokens at $5 per million
    assert Decimal(str(cost)) == Decimal("0.5") + Decimal(4 * 5) / 1_000_000


def test_dall_e_3_one_picture_per_call_with_its_revised_prompt(setup: Setup) -> None:
    got = setup.client.images.generate(model="openai:dall-e-3", prompt="a lantern", n=2,
                                       quality="hd", size="1792x1024")
    assert got.data is not None and len(got.data) == 2
    assert got.data[0].revised_prompt == "A detailed picture of a lantern"
    bodies = setup.sent("openai")
    assert len(bodies) == 2 and all(b["n"] == 1 for b in bodies)
    assert all(b["response_format"] == "b64_json" for b in bodies)  # never a vendor URL
    rows = wait_for(setup.server, "SELECT cost FROM usage_events WHERE model = 'dall-e-3'",
                    bool)
    assert Decimal(str(rows[0][0])) == Decimal("0.24")  # 2 x $0.12 (hd, 1792x1024)


def test_what_the_model_does_not_make_is_refused_before_the_call(setup: Setup) -> None:
    for extra in ({"size": "256x256"}, {"quality": "low"}, {"background": "transparent"}):
        with pytest.raises(openai.BadRequestError) as caught:
            setup.client.images.generate(  # type: ignore[call-overload]
                model="openai:dall-e-3", prompt="x", **extra)
        assert caught.value.body["param"] == next(iter(extra))  # type: ignore[index]
    assert setup.sent("openai") == []


def test_an_openai_compatible_images_endpoint(setup: Setup) -> None:
    got = setup.client.images.generate(model="local:flux-schnell", prompt="a red kite",
                                       size="512x512")
    assert got.data is not None and read_png(base64.b64decode(got.data[0].b64_json or ""))
    [body] = setup.sent("local")
    assert body["response_format"] == "b64_json" and body["size"] == "512x512"
    rows = wait_for(setup.server, "SELECT cost, status FROM usage_events "
                    "WHERE model = 'flux-schnell'", bool)
    assert rows[0] == (None, "ok")  # no price known: unknown, never zero


def test_a_vendor_failure_is_an_openai_error(setup: Setup) -> None:
    setup.fakes["openai"].then(Fail(429, "slow down", error_type="rate_limit_error",
                                    code="rate_limit_exceeded", headers={"retry-after": "3"}))
    with pytest.raises(openai.RateLimitError) as caught:
        setup.client.images.generate(model="openai:gpt-image-1", prompt="x")
    assert caught.value.response.headers["retry-after"] == "3"
    rows = wait_for(setup.server, "SELECT status, cost FROM usage_events "
                    "WHERE model = 'gpt-image-1'", bool)
    assert rows[0] == ("error", None)


def test_a_budget_is_reserved_for_every_picture_asked(setup: Setup) -> None:
    """$0.30 a day: two high 1024x1536 pictures ($0.50) are refused before any call; one
    ($0.25) is made; then the next one no longer fits what is left."""
    admin = client(setup.server, setup.server.make_user("root", role="admin"))
    me = client(setup.server, setup.token).get("/api/me").json()["id"]
    made = admin.post("/api/budgets", json={"scope": "user", "user_id": me,
                                            "amount": "0.30", "period": "day"})
    assert made.status_code == 200, made.text
    ask = {"model": "openai:gpt-image-1", "prompt": "a kite", "size": "1024x1536",
           "quality": "high"}
    with pytest.raises(openai.RateLimitError) as refused:
        setup.client.images.generate(n=2, **ask)  # type: ignore[call-overload]
    assert refused.value.code == "insufficient_quota"
    assert setup.sent("openai") == []  # refused before the vendor
    got = setup.client.images.generate(n=1, **ask)  # type: ignore[call-overload]
    assert got.data is not None and len(got.data) == 1
    wait_for(setup.server, "SELECT cost FROM usage_events WHERE model = 'gpt-image-1'", bool)
    with pytest.raises(openai.RateLimitError) as again:  # $0.25 spent (or still held)
        setup.client.images.generate(n=1, **ask)  # type: ignore[call-overload]
    assert again.value.code == "insufficient_quota"
    assert len(setup.sent("openai")) == 1
