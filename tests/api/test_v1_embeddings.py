"""``POST /v1/embeddings`` against a real server on loopback, driven by the official
``openai`` SDK with strict response validation, with the offline embedding model
(``offline:offline-embed``): every input shape, base64, dimensions, hostile input bounded
with OpenAI-shaped errors, usage rows with cost, and the model's type in listings."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterator

import openai
import pytest

from tests.api.chat_support import wait_for
from tests.api.v1_support import V1Member, v1_member
from tests.spec_validation import spec_available, validate_component

MODEL = "offline:offline-embed"


Setup = V1Member


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with v1_member(tmp_path_factory, "embedder", "/embeddings") as member:
        yield member


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_string_input_gives_one_unit_vector(setup: Setup) -> None:
    got = setup.client.embeddings.create(model=MODEL, input="The cat sat on the mat",
                                         encoding_format="float")
    assert got.object == "list" and got.model == MODEL
    assert len(got.data) == 1 and got.data[0].index == 0
    vector = got.data[0].embedding
    assert len(vector) == 256
    assert math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-9)
    assert got.usage.prompt_tokens == got.usage.total_tokens == 6  # ceil(22 / 4)


def test_same_text_same_vector_similar_texts_closer(setup: Setup) -> None:
    texts = ["The cat sat on the mat", "A cat was sitting on a mat",
             "Quarterly revenue grew by twelve percent", "The cat sat on the mat"]
    got = setup.client.embeddings.create(model=MODEL, input=texts, encoding_format="float")
    vectors = [d.embedding for d in sorted(got.data, key=lambda d: d.index)]
    assert [d.index for d in got.data] == [0, 1, 2, 3]
    assert vectors[0] == vectors[3]
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.3


def test_token_arrays(setup: Setup) -> None:
    one = setup.client.embeddings.create(model=MODEL, input=[1212, 318, 257, 1332],
                                         encoding_format="float")
    many = setup.client.embeddings.create(model=MODEL, input=[[1212, 318, 257, 1332], [42]],
                                          encoding_format="float")
    assert len(one.data) == 1 and len(many.data) == 2
    assert one.data[0].embedding == many.data[0].embedding
    assert many.usage.prompt_tokens == 5  # one token per id


def test_base64_is_what_the_sdk_decodes(setup: Setup) -> None:
    as_float = setup.client.embeddings.create(model=MODEL, input="hello world",
                                              encoding_format="float")
    # The SDK asks for base64 by default and decodes it into floats itself. Not with
    # strict validation: that checks the body against ``embedding: List[float]`` before
    # decoding (openai 3.60), so it would refuse OpenAI's own base64 answer too.
    lenient = openai.OpenAI(base_url=setup.server.v1, api_key=setup.token, max_retries=0)
    default = lenient.embeddings.create(model=MODEL, input="hello world")
    assert default.data[0].embedding == pytest.approx(as_float.data[0].embedding, abs=1e-7)
    raw = setup.raw({"model": MODEL, "input": "hello world", "encoding_format": "base64"})
    encoded = raw.json()["data"][0]["embedding"]
    assert isinstance(encoded, str)
    floats = struct.unpack("<256f", base64.b64decode(encoded))
    assert floats == pytest.approx(as_float.data[0].embedding, abs=1e-7)


def test_dimensions(setup: Setup) -> None:
    got = setup.client.embeddings.create(model=MODEL, input=["short one", "another"],
                                         dimensions=64, encoding_format="float")
    assert [len(d.embedding) for d in got.data] == [64, 64]
    assert math.isclose(sum(v * v for v in got.data[0].embedding), 1.0, rel_tol=1e-9)
    with pytest.raises(openai.BadRequestError) as caught:
        setup.client.embeddings.create(model=MODEL, input="x", dimensions=4096)
    assert caught.value.body["param"] == "dimensions"  # type: ignore[index]
    assert "at most 256" in caught.value.message


def test_response_matches_openai_spec(setup: Setup) -> None:
    raw = setup.raw({"model": MODEL, "input": ["a", "b"]})
    assert raw.status_code == 200, raw.text
    if spec_available("openai"):
        validate_component("openai", "CreateEmbeddingResponse", raw.json())


@pytest.mark.parametrize(("body", "param", "words"), [
    ({"model": MODEL, "input": ["x"] * 2049}, "input", "at most 2,048 inputs"),
    ({"model": MODEL, "input": "y" * 4_000_001}, "input", "4,000,000 characters"),
    ({"model": MODEL, "input": [[1] * 200_000, [2] * 200_001]}, "input", "token ids"),
    ({"model": MODEL, "input": [[1, -3]]}, "input", "between 0 and"),
    ({"model": MODEL, "input": [[1, 2**40]]}, "input", "between 0 and"),
    ({"model": MODEL, "input": "x", "dimensions": 0}, "dimensions", "between 1 and"),
    ({"model": MODEL, "input": "x", "dimensions": 10**9}, "dimensions", "between 1 and"),
    ({"model": MODEL, "input": "x", "dimensions": "12"}, "dimensions", "integer"),
    ({"model": MODEL, "input": []}, "input", "not empty"),
    ({"model": MODEL, "input": [""]}, "input", "empty"),
    ({"model": MODEL, "input": ["a", [1, 2]]}, "input", "mixes"),
    ({"model": MODEL, "input": [{"text": "a"}]}, "input", "input[0]"),
    ({"model": MODEL, "input": "x", "encoding_format": "int8"}, "encoding_format", "base64"),
    ({"model": MODEL, "input": "x", "temperature": 1}, "temperature", "Unrecognized"),
    ({"input": "x"}, "model", "model is required"),
])
def test_hostile_input_is_bounded_with_openai_errors(setup: Setup, body: dict[str, object],
                                                     param: str, words: str) -> None:
    response = setup.raw(body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert words in error["message"]


def test_chat_model_is_refused_and_embedding_model_cannot_chat(setup: Setup) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        setup.client.embeddings.create(model="offline:offline-chat", input="x")
    assert "cannot make embeddings" in caught.value.message
    with pytest.raises(openai.BadRequestError) as chat:
        setup.client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "embedding model" in chat.value.message


def test_usage_row_with_cost(setup: Setup) -> None:
    setup.client.embeddings.create(model=MODEL, input=["count me", "and me too"],
                                   encoding_format="float")
    rows = wait_for(setup.server,
                    "SELECT model, input_tokens, output_tokens, cost, status, source "
                    "FROM usage_events WHERE model = 'offline-embed' AND input_tokens = 5",
                    bool)
    assert rows, "no usage row for the embedding call"
    model, tokens, output, cost, status, source = rows[0]
    assert (model, tokens, output, status, source) == ("offline-embed", 5, 0, "ok", "api")
    assert cost is not None and float(str(cost)) == 0.0


def test_listed_as_an_embedding_model(setup: Setup) -> None:
    ids = [m.id for m in setup.client.models.list()]
    assert MODEL in ids and "offline:offline-chat" in ids
