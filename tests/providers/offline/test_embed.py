"""``offline-embed``: hashed character n-grams, deterministic unit vectors, and the
framework's batching / type checks around an embedding model (``ResolvedModel.embed``)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from switchboard.providers.offline import OfflineProvider
from switchboard.providers.offline.embed import DIMENSIONS, embed_one
from switchboard.registry import Registry
from switchboard.registry.instance import ProviderInstance
from switchboard.spec import EmbeddingRequest, InvalidRequestError, UnknownModelError
from switchboard.spec.embedding import batches, merge


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_unit_vectors_same_text_same_vector() -> None:
    a = embed_one("Retrieval augmented generation")
    assert len(a) == DIMENSIONS and math.isclose(cosine(a, a), 1.0)
    assert embed_one("Retrieval augmented generation") == a
    assert embed_one("RETRIEVAL   augmented\tgeneration") == a, "case and spacing ignored"


def test_same_vector_in_another_process() -> None:
    """CRC-32, not Python's per-process salted ``hash``: stable across processes."""
    code = ("from switchboard.providers.offline.embed import embed_one;"
            "print(repr(embed_one('stable across processes')[:8]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123"}).stdout.strip()
    assert out == repr(embed_one("stable across processes")[:8])


@pytest.mark.parametrize(("text", "near", "far"), [
    ("the cat sat on the mat", "a cat sat on a mat", "interest rates rose in march"),
    ("python asyncio event loop", "the asyncio event loop in python", "baking sourdough bread"),
    ("invoice overdue payment", "overdue invoices and payments", "mountain hiking trail"),
])
def test_similar_texts_are_closer_than_unrelated(text: str, near: str, far: str) -> None:
    v = embed_one(text)
    assert cosine(v, embed_one(near)) > cosine(v, embed_one(far)) + 0.2


def test_dimensions_shorten_and_stay_unit() -> None:
    v = embed_one("short vectors", 32)
    assert len(v) == 32 and math.isclose(cosine(v, v), 1.0)


def test_batches_respect_count_and_size() -> None:
    request = EmbeddingRequest((*(f"text {i}" for i in range(10)), "x" * 50))
    sizes = [len(b.inputs) for b in batches(request, max_inputs=4, max_chars=40)]
    assert sizes == [4, 4, 2, 1]  # the long input travels alone
    assert [i for b in batches(request, 4, 40) for i in b.inputs] == list(request.inputs)


def registry() -> Registry:
    return Registry([OfflineProvider], [ProviderInstance("offline", "offline")])


async def test_resolved_model_embeds_in_batches_in_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.providers.offline import provider as offline

    monkeypatch.setattr(offline.OfflineEmbeddingModel, "max_batch", 3)
    calls: list[int] = []
    real = offline.OfflineEmbeddingModel.embed_batch

    async def counted(self: offline.OfflineEmbeddingModel, request: EmbeddingRequest):  # type: ignore[no-untyped-def]
        calls.append(len(request.inputs))
        return await real(self, request)

    monkeypatch.setattr(offline.OfflineEmbeddingModel, "embed_batch", counted)
    texts = tuple(f"document number {i}" for i in range(7))
    result = await registry().resolve("offline:offline-embed").embed(EmbeddingRequest(texts))
    assert calls == [3, 3, 1]
    assert result.vectors == [embed_one(t) for t in texts]
    assert result.usage.input_tokens == sum(-(-len(t) // 4) for t in texts)
    assert result.usage.output_tokens == 0


def test_types_are_refused_both_ways() -> None:
    reg = registry()
    with pytest.raises(InvalidRequestError, match="embedding model"):
        reg.resolve("offline:offline-embed").chat_model()
    with pytest.raises(InvalidRequestError, match="cannot make embeddings"):
        OfflineProvider().embedding_model("offline-chat")
    with pytest.raises(UnknownModelError, match="offline-embed"):
        OfflineProvider().embedding_model("nomic-embed")


def test_merge_keeps_unknown_usage_unknown() -> None:
    from switchboard.spec import EmbeddingResult, Usage

    known = EmbeddingResult([[1.0]], Usage(input_tokens=3, output_tokens=0))
    unknown = EmbeddingResult([[0.0]], Usage())
    assert merge([known, known]).usage.input_tokens == 6
    assert merge([known, unknown]).usage.input_tokens is None
