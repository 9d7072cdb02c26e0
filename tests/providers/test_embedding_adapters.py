"""The embedding adapters (OpenAI, OpenAI-compatible, Mistral, Gemini) over real HTTP
against the vendor-shaped fakes: exact request bodies snapshotted
(``UPDATE_SNAPSHOTS=1`` rewrites them) and validated against the vendors' OpenAPI files
(Gemini: against its documented field names, as its chat bodies are); batching within
each vendor's limit, a failed batch retried alone, vectors back in input order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.registry import ProviderInstance, Registry
from switchboard.spec import EmbeddingRequest, InvalidRequestError, Provider, StreamBrokenError
from tests.fakes import gemini as gemini_fake
from tests.fakes import mistral as mistral_fake
from tests.fakes import openai as openai_fake
from tests.fakes import openai_compatible as compatible_fake
from tests.fakes.embeddings import fake_vector
from tests.fakes.script import Fail, Raw
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.snapshot import assert_snapshot
from tests.spec_validation import validate_request

SNAPSHOTS = Path(__file__).parent / "snapshots" / "embeddings"
KEY = "sk-embed-test-0123456789abcdef"
TEXTS = ("The cat sat on the mat.", "Vectors, not words.")
NOW = {"retry-after": "0"}


class Vendor:
    def __init__(self, kind: str, fake: FakeVendor, base: str) -> None:
        self.kind, self.fake, self.base = kind, fake, base

    def provider(self, **config: Any) -> Provider:
        makers = {"openai": openai_fake.make_provider, "mistral": mistral_fake.make_provider,
                  "gemini": gemini_fake.make_provider,
                  "openai_compatible": compatible_fake.make_provider}
        base = f"{self.base}/v1" if self.kind in ("openai", "openai_compatible") else self.base
        return makers[self.kind](base, api_key=KEY, **config)

    def bodies(self) -> list[Any]:
        return [r.body for r in self.fake.requests]


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Vendor]]:
    wires = {"openai": openai_fake.Wire(), "openai_compatible": openai_fake.Wire(),
             "mistral": mistral_fake.Wire(), "gemini": gemini_fake.Wire()}
    fakes = {kind: FakeVendor(wire) for kind, wire in wires.items()}
    with serve_in_thread(fakes["openai"]) as a, serve_in_thread(fakes["mistral"]) as m, \
            serve_in_thread(fakes["gemini"]) as g, \
            serve_in_thread(fakes["openai_compatible"]) as c:
        bases = {"openai": a, "mistral": m, "gemini": g, "openai_compatible": c}
        yield {kind: Vendor(kind, fakes[kind], bases[kind]) for kind in fakes}


@pytest.fixture
def vendors(served: dict[str, Vendor]) -> dict[str, Vendor]:
    for vendor in served.values():
        vendor.fake.requests.clear()
        vendor.fake.script.clear()
    return served


def resolved(vendor: Vendor, model: str, **config: Any) -> Any:
    provider = vendor.provider(**config)
    registry = Registry([type(provider)], [ProviderInstance(
        "acme", provider.kind, provider.config)])
    model_ref = registry.resolve(f"acme:{model}")

    async def no_sleep(_: float) -> None:
        return None

    model_ref.sleep = no_sleep
    return model_ref


CASES = [
    ("openai", "text-embedding-3-small", EmbeddingRequest(TEXTS), "openai_texts"),
    ("openai", "text-embedding-3-large", EmbeddingRequest(TEXTS[:1], dimensions=256,
                                                          user="user-42"), "openai_dimensions"),
    ("openai", "text-embedding-3-small", EmbeddingRequest(((1212, 318), (42,))),
     "openai_token_arrays"),
    ("openai_compatible", "nomic-embed-text", EmbeddingRequest(TEXTS), "compatible_texts"),
    ("mistral", "mistral-embed", EmbeddingRequest(TEXTS), "mistral_texts"),
    ("mistral", "codestral-embed", EmbeddingRequest(TEXTS, dimensions=512),
     "mistral_dimensions"),
    ("gemini", "gemini-embedding-001", EmbeddingRequest(TEXTS[:1]), "gemini_one"),
    ("gemini", "gemini-embedding-001", EmbeddingRequest(TEXTS, dimensions=768),
     "gemini_batch"),
]
SPEC_PATHS = {"openai": "/embeddings", "openai_compatible": "/embeddings",
              "mistral": "/v1/embeddings"}
GEMINI_FIELDS = {"model", "content", "outputDimensionality", "taskType", "title"}


def check_gemini(body: dict[str, Any]) -> None:
    """https://ai.google.dev/api/embeddings#EmbedContentRequest field names."""
    for one in body.get("requests", [body]):
        assert set(one) <= GEMINI_FIELDS, set(one) - GEMINI_FIELDS
        assert set(one["content"]) == {"parts"} and all(
            set(p) == {"text"} for p in one["content"]["parts"])
        assert one["model"].startswith("models/")


@pytest.mark.parametrize(("kind", "model", "request_", "name"), CASES,
                         ids=[c[3] for c in CASES])
async def test_request_bodies(vendors: dict[str, Vendor], kind: str, model: str,
                              request_: EmbeddingRequest, name: str) -> None:
    vendor = vendors[kind]
    result = await resolved(vendor, model).embed(request_)
    [sent] = vendor.fake.requests
    assert_snapshot({"path": sent.path, "body": sent.body}, SNAPSHOTS / f"{name}.json")
    if kind in SPEC_PATHS:
        validate_request("mistral" if kind == "mistral" else "openai", SPEC_PATHS[kind],
                         sent.body)
    else:
        check_gemini(sent.body)
    wanted = request_.dimensions
    assert result.vectors == [fake_vector(i if isinstance(i, str) else list(i), wanted)
                              for i in request_.inputs]
    if kind == "gemini":
        assert result.usage.input_tokens is None, "Gemini reports no count"
    else:
        assert result.usage.input_tokens and result.usage.output_tokens == 0
    assert sent.headers.get("authorization", sent.headers.get("x-goog-api-key", "")) \
        .endswith(KEY)


@pytest.mark.parametrize(("kind", "model"), [("mistral", "mistral-embed"),
                                             ("gemini", "gemini-embedding-001")])
async def test_token_arrays_refused_before_any_call_where_text_only(
        vendors: dict[str, Vendor], kind: str, model: str) -> None:
    with pytest.raises(InvalidRequestError, match="text only"):
        await resolved(vendors[kind], model).embed(EmbeddingRequest(((1, 2, 3),)))
    assert vendors[kind].fake.requests == []


async def test_gemini_batches_hold_at_most_100(vendors: dict[str, Vendor]) -> None:
    texts = tuple(f"text number {i}" for i in range(205))
    result = await resolved(vendors["gemini"], "gemini-embedding-001").embed(
        EmbeddingRequest(texts))
    sizes = [len(b["requests"]) if "requests" in b else 1 for b in vendors["gemini"].bodies()]
    assert sizes == [100, 100, 5]
    assert [v[0] for v in result.vectors] == [float(len(t)) for t in texts]


async def test_mistral_batches_stay_under_its_token_limit(vendors: dict[str, Vendor]) -> None:
    texts = tuple("word " * 2000 for _ in range(7))  # 10,000 characters each
    await resolved(vendors["mistral"], "mistral-embed").embed(EmbeddingRequest(texts))
    sizes = [len(b["input"]) for b in vendors["mistral"].bodies()]
    assert sizes == [3, 3, 1]


async def test_a_failed_batch_is_retried_alone(vendors: dict[str, Vendor]) -> None:
    vendor = vendors["gemini"]
    texts = tuple(f"t{i}" for i in range(150))
    vendor.fake.then(Fail(503, "overloaded", headers=NOW))  # the first call fails once
    model = resolved(vendor, "gemini-embedding-001", max_retries=1)
    result = await model.embed(EmbeddingRequest(texts))
    assert [len(b["requests"]) for b in vendor.bodies()] == [100, 100, 50]
    assert len(result.vectors) == 150


async def test_a_short_answer_is_an_error_not_misaligned_vectors(
        vendors: dict[str, Vendor]) -> None:
    vendor = vendors["openai"]
    vendor.fake.then(Raw(200, b'{"object":"list","data":[{"object":"embedding","index":0,'
                              b'"embedding":[1.0]}],"model":"text-embedding-3-small",'
                              b'"usage":{"prompt_tokens":2,"total_tokens":2}}',
                         headers={"x-request-id": "req_short"}))
    with pytest.raises(StreamBrokenError, match="1 vectors for 2 inputs") as caught:
        await resolved(vendor, "text-embedding-3-small").embed(EmbeddingRequest(TEXTS))
    assert "acme" in caught.value.message, "the instance is named"
