"""The neutral embedding contract: texts (or token ids) in, one vector each out.

A second model type beside chat (``ModelInfo.type == "embedding"``). An adapter
implements ``EmbeddingModel.embed_batch()`` (``spec.provider``) for ONE upstream call,
holding at most its vendor's ``max_batch`` inputs; splitting a request into such batches
(``batches``), retrying each batch and putting the vectors back in order is the
framework's job (``registry.ResolvedModel.embed``), as retries are for chat.

Usage is ``Usage(input_tokens=N, output_tokens=0)``: an embedding has no output tokens,
and its price is per million input tokens (``Price.output`` is 0), so ``spec.cost``
prices it unchanged. Vendors that report no token count (Gemini) leave ``input_tokens``
``None``; the framework then estimates it and says so (``estimated``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from switchboard.spec.errors import InvalidRequestError
from switchboard.spec.events import CallWarning
from switchboard.spec.limits import (
    MAX_EMBEDDING_CHARS,
    MAX_EMBEDDING_DIMENSIONS,
    MAX_EMBEDDING_INPUTS,
    MAX_EMBEDDING_TOKEN_IDS,
    MAX_TOKEN_ID,
)
from switchboard.spec.usage import Usage

TokenIds = tuple[int, ...]
EmbeddingInput = str | TokenIds


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    """What to embed. ``inputs`` are all texts or all token-id arrays (OpenAI's
    ``input``: a string, strings, an array of ids, arrays of ids). ``dimensions``: the
    vector length wanted (``None``: the model's own). Checked on construction against
    ``spec.limits`` (count, total size, ids, dimensions), so every surface is bounded."""

    inputs: tuple[EmbeddingInput, ...]
    dimensions: int | None = None
    user: str | None = None

    def __post_init__(self) -> None:
        check_inputs(self.inputs)
        if self.dimensions is not None and not 1 <= self.dimensions <= MAX_EMBEDDING_DIMENSIONS:
            raise InvalidRequestError(
                f"dimensions must be between 1 and {MAX_EMBEDDING_DIMENSIONS:,}; got "
                f"{self.dimensions:,}", param="dimensions")

    def texts(self) -> list[str]:
        """The inputs as texts; raises when they are token ids (for vendors that take
        only text: token ids belong to one tokenizer, which theirs is not)."""
        out = [i for i in self.inputs if isinstance(i, str)]
        if len(out) != len(self.inputs):
            raise InvalidRequestError(
                "this model takes text only: token arrays are ids of OpenAI's tokenizer "
                "and mean nothing to it; send the text instead", param="input")
        return out

    @property
    def has_token_ids(self) -> bool:
        return any(not isinstance(i, str) for i in self.inputs)


def check_inputs(inputs: Sequence[EmbeddingInput]) -> None:
    """Refuse an empty, oversized or mixed list of inputs (``InvalidRequestError``)."""
    if not inputs:
        raise InvalidRequestError("input must hold at least one text", param="input")
    if len(inputs) > MAX_EMBEDDING_INPUTS:
        raise InvalidRequestError(
            f"input: at most {MAX_EMBEDDING_INPUTS:,} inputs per request; this one has "
            f"{len(inputs):,}", param="input")
    chars = ids = 0
    kinds = set()
    for i, item in enumerate(inputs):
        if isinstance(item, str):
            kinds.add("text")
            if not item:
                raise InvalidRequestError(f"input[{i}] is empty: an empty text has no "
                                          "embedding", param="input")
            chars += len(item)
        else:
            kinds.add("tokens")
            if not item:
                raise InvalidRequestError(f"input[{i}] is an empty token array",
                                          param="input")
            ids += len(item)
            if ids > MAX_EMBEDDING_TOKEN_IDS:
                break
            for token in item:
                if not 0 <= token <= MAX_TOKEN_ID:
                    raise InvalidRequestError(
                        f"input[{i}]: token ids are between 0 and {MAX_TOKEN_ID:,}",
                        param="input")
    if len(kinds) > 1:
        raise InvalidRequestError("input mixes texts and token arrays; send one or the other",
                                  param="input")
    if chars > MAX_EMBEDDING_CHARS:
        raise InvalidRequestError(
            f"input: at most {MAX_EMBEDDING_CHARS:,} characters of text per request; this "
            f"one has {chars:,}", param="input")
    if ids > MAX_EMBEDDING_TOKEN_IDS:
        raise InvalidRequestError(
            f"input: at most {MAX_EMBEDDING_TOKEN_IDS:,} token ids per request",
            param="input")


@dataclass(slots=True)
class EmbeddingResult:
    """One vector per input, in the inputs' order."""

    vectors: list[list[float]]
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    """The model id the vendor says answered (may name a dated snapshot)."""
    warnings: list[CallWarning] = field(default_factory=list)


def batches(request: EmbeddingRequest, max_inputs: int,
            max_chars: int) -> Iterator[EmbeddingRequest]:
    """``request`` split into consecutive requests of at most ``max_inputs`` inputs and
    ``max_chars`` characters (an input longer than that travels alone: the vendor
    answers for it)."""
    current: list[EmbeddingInput] = []
    size = 0
    for item in request.inputs:
        length = len(item) if isinstance(item, str) else 0
        if current and (len(current) >= max_inputs or size + length > max_chars):
            yield EmbeddingRequest(tuple(current), request.dimensions, request.user)
            current, size = [], 0
        current.append(item)
        size += length
    if current:
        yield EmbeddingRequest(tuple(current), request.dimensions, request.user)


def merge(results: Sequence[EmbeddingResult]) -> EmbeddingResult:
    """The results of consecutive batches as one (usage added up; unknown stays
    unknown when any batch's count is unknown)."""
    vectors: list[list[float]] = []
    warnings: list[CallWarning] = []
    tokens: int | None = 0
    for result in results:
        vectors.extend(result.vectors)
        warnings.extend(w for w in result.warnings if w not in warnings)
        if tokens is not None and result.usage.input_tokens is not None:
            tokens += result.usage.input_tokens
        else:
            tokens = None
    model = next((r.model for r in results if r.model), None)
    return EmbeddingResult(vectors, Usage(input_tokens=tokens, output_tokens=0), model,
                           warnings)
