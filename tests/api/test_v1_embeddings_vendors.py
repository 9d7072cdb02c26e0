"""``POST /v1/embeddings`` with each vendor behind it (HTTP fakes of OpenAI, Mistral,
Gemini and an OpenAI-compatible server), driven by the official ``openai`` SDK with
strict response validation: vectors, dimensions, the usage row with its cost (estimated
and flagged for Gemini, which reports no count), vendor errors in OpenAI's shape."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import openai
import pytest

from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.providers import create_provider, update_provider
from tests.api.chat_support import wait_for
from tests.fakes import gemini as gemini_fake
from tests.fakes import mistral as mistral_fake
from tests.fakes import openai as openai_fake
from tests.fakes.embeddings import fake_vector
from tests.fakes.script import Fail
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

TEXTS = ["first chunk of a document", "second chunk"]


class Setup:
    def __init__(self, server: Running, fakes: dict[str, FakeVendor]) -> None:
        self.server = server
        self.fakes = fakes
        self.token = server.make_user("rag-app")
        self.client = openai.OpenAI(base_url=server.v1, api_key=self.token, max_retries=0,
                                    _strict_response_validation=True)


@pytest.fixture
def setup() -> Iterator[Setup]:
    """Per test, not per module: stored keys are encrypted with the test's own master key
    file (the per-test environment), so a module-wide server could not read them."""
    fakes = {"openai": FakeVendor(openai_fake.Wire()), "mistral": FakeVendor(mistral_fake.Wire()),
             "gemini": FakeVendor(gemini_fake.Wire()), "local": FakeVendor(openai_fake.Wire())}
    with running_server() as server, serve_in_thread(fakes["openai"]) as oa, \
            serve_in_thread(fakes["mistral"]) as mi, serve_in_thread(fakes["gemini"]) as ge, \
            serve_in_thread(fakes["local"]) as lo:
        async def configure() -> None:
            db = Database.from_url(server.settings.database_url, pooled=False)
            try:
                for name, url in (("openai", f"{oa}/v1"), ("mistral", mi), ("gemini", ge)):
                    await update_provider(db, name, base_url=url, enabled=True,
                                          settings={"max_retries": 0})
                    await set_provider_key(db, name, f"key-{name}-000000000000001234")
                await create_provider(db, name="local", kind="openai_compatible",
                                      base_url=f"{lo}/v1",
                                      settings={"requires_api_key": False})
            finally:
                await db.dispose()

        asyncio.run(configure())
        yield Setup(server, fakes)


CASES = [("openai:text-embedding-3-small", None), ("openai:text-embedding-3-large", 256),
         ("mistral:mistral-embed", None), ("mistral:codestral-embed", 512),
         ("gemini:gemini-embedding-001", None), ("gemini:gemini-embedding-001", 768),
         ("local:nomic-embed-text", None)]


def test_every_vendor_answers_the_sdk_and_errors_are_openai_shaped(setup: Setup) -> None:
    for model, dimensions in CASES:
        extra = {"dimensions": dimensions} if dimensions else {}
        got = setup.client.embeddings.create(model=model, input=TEXTS,
                                             encoding_format="float", **extra)  # type: ignore[arg-type]
        assert got.model == model
        assert [d.embedding for d in got.data] == [fake_vector(t, dimensions) for t in TEXTS]
        assert got.usage.prompt_tokens > 0
    _token_arrays_reach_openai_as_they_are(setup)
    _text_only_vendor_refuses_token_arrays_in_openai_shape(setup)
    _a_model_without_custom_dimensions_is_refused_before_the_call(setup)
    _a_vendor_failure_is_an_openai_error(setup)


def _token_arrays_reach_openai_as_they_are(setup: Setup) -> None:
    got = setup.client.embeddings.create(model="openai:text-embedding-3-small",
                                         input=[[1212, 318, 257], [42]], encoding_format="float")
    assert len(got.data) == 2
    assert setup.fakes["openai"].last.body["input"] == [[1212, 318, 257], [42]]


def _text_only_vendor_refuses_token_arrays_in_openai_shape(setup: Setup) -> None:
    before = len(setup.fakes["mistral"].requests)
    with pytest.raises(openai.BadRequestError) as caught:
        setup.client.embeddings.create(model="mistral:mistral-embed", input=[[1, 2, 3]])
    assert caught.value.body["param"] == "input"  # type: ignore[index]
    assert len(setup.fakes["mistral"].requests) == before, "no upstream call"


def _a_model_without_custom_dimensions_is_refused_before_the_call(setup: Setup) -> None:
    with pytest.raises(openai.BadRequestError, match="does not accept dimensions"):
        setup.client.embeddings.create(model="mistral:mistral-embed", input="x", dimensions=8)


def _a_vendor_failure_is_an_openai_error(setup: Setup) -> None:
    setup.fakes["openai"].then(Fail(429, "slow down", error_type="rate_limit_error",
                                    code="rate_limit_exceeded", headers={"retry-after": "3"}))
    with pytest.raises(openai.RateLimitError) as caught:
        setup.client.embeddings.create(model="openai:text-embedding-3-small", input="x")
    assert caught.value.response.headers["retry-after"] == "3"


def test_usage_rows_with_cost_and_the_catalog(setup: Setup) -> None:
    setup.client.embeddings.create(model="openai:text-embedding-3-small",
                                   input=["cost me", "please"], encoding_format="float")
    setup.client.embeddings.create(model="gemini:gemini-embedding-001",
                                   input=["estimate me"], encoding_format="float")
    rows = wait_for(setup.server,
                    "SELECT model, input_tokens, output_tokens, cost, estimated, status "
                    "FROM usage_events WHERE model IN ('text-embedding-3-small', "
                    "'gemini-embedding-001') AND status = 'ok' ORDER BY id",
                    lambda r: {x[0] for x in r} >= {"text-embedding-3-small",
                                                    "gemini-embedding-001"})
    openai_row = [r for r in rows if r[0] == "text-embedding-3-small"][-1]
    gemini_row = [r for r in rows if r[0] == "gemini-embedding-001"][-1]
    tokens = openai_row[1]  # the fake counts len // 4 + 1 per input: 2 + 2
    assert (tokens, openai_row[2], bool(openai_row[4])) == (4, 0, False)
    assert Decimal(str(openai_row[3])) == Decimal("0.02") * tokens / 1_000_000
    assert gemini_row[1] == 3 and bool(gemini_row[4]) is True  # ceil(11 / 4), estimated
    assert Decimal(str(gemini_row[3])) == Decimal("0.15") * 3 / 1_000_000
    listed = {m.id for m in setup.client.models.list()}
    assert {"openai:text-embedding-3-small", "mistral:mistral-embed",
            "gemini:gemini-embedding-001", "offline:offline-embed"} <= listed
    with pytest.raises(openai.BadRequestError, match="embedding model"):
        setup.client.chat.completions.create(
            model="openai:text-embedding-3-small", messages=[{"role": "user", "content": "x"}])
