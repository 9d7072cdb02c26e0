"""Gemini embeddings: ``models/{id}:embedContent`` for one text,
``models/{id}:batchEmbedContents`` for several.

https://ai.google.dev/api/embeddings
One text: ``{"model", "content": {"parts": [{"text"}]}, "outputDimensionality"}`` ->
``{"embedding": {"values": [...]}}``. Several: ``{"requests": [<the same>, ...]}`` ->
``{"embeddings": [{"values": [...]}, ...]}`` in request order; at most 100 requests per
batch (the API refuses more). ``dimensions`` is ``outputDimensionality`` (Gemini
Embedding: 128 to 3,072). Text only. The responses carry no token count: usage is left
unknown here and estimated (and flagged) by the framework.
"""

from __future__ import annotations

from typing import Any

from switchboard.spec import EmbeddingRequest, EmbeddingResult, StreamBrokenError, Usage

MAX_BATCH = 100


def one_request(model_name: str, text: str, dimensions: int | None) -> dict[str, Any]:
    """One ``EmbedContentRequest`` (``model_name``: ``models/<id>``)."""
    body: dict[str, Any] = {"model": model_name, "content": {"parts": [{"text": text}]}}
    if dimensions is not None:
        body["outputDimensionality"] = dimensions
    return body


def build_body(model_name: str, request: EmbeddingRequest) -> tuple[str, dict[str, Any]]:
    """(method, body): ``embedContent`` for one text, ``batchEmbedContents`` else."""
    texts = request.texts()
    if len(texts) == 1:
        return "embedContent", one_request(model_name, texts[0], request.dimensions)
    return "batchEmbedContents", {
        "requests": [one_request(model_name, t, request.dimensions) for t in texts]}


def parse_response(body: Any, expected: int, *, provider: str, request_id: str | None,
                   secrets: tuple[str, ...] = ()) -> EmbeddingResult:
    def broken(why: str) -> StreamBrokenError:
        return StreamBrokenError(f"{provider}: embeddings response {why}", provider=provider,
                                 request_id=request_id, secrets=secrets)

    if not isinstance(body, dict):
        raise broken("is not a JSON object")
    if "embedding" in body:
        items: Any = [body["embedding"]]
    else:
        items = body.get("embeddings")
    if not isinstance(items, list) or len(items) != expected:
        got = len(items) if isinstance(items, list) else "no"
        raise broken(f"holds {got} vectors for {expected} inputs")
    vectors: list[list[float]] = []
    for item in items:
        values = item.get("values") if isinstance(item, dict) else None
        if not (isinstance(values, list) and values and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in values)):
            raise broken("has an embedding that is not a list of numbers")
        vectors.append([float(v) for v in values])
    return EmbeddingResult(vectors, Usage(input_tokens=None, output_tokens=0))
