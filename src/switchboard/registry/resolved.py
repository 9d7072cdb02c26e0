"""``ResolvedModel``: a routed model, ready to call, with the framework's policies on it.

This is where the framework wraps every adapter, so adapters stay simple:

- ``stream()`` runs the adapter's stream inside ``upstream.retrying_stream`` (the one
  retry layer: retries only before the first event reached the caller), with
  ``RetryPolicy(max_retries=<the instance's config.max_retries>)``.
- ``generate_events()`` makes the adapter's one non-streaming call, replayed as events,
  under the same ``retrying_stream`` and policy: a *retryable* ``ProviderError`` raised,
  or returned in-band before any output was produced, is retried there — one retry loop
  for both modes (issue 12). ``generate()`` folds it.
- ``provider_options`` that try to set a field the gateway owns (the model, the stream
  protocol, the conversation, the instance's settings...) are refused before the adapter
  runs, for every adapter alike (``registry.passthrough``).
- A provider that needs a key and has none raises its ``MissingApiKeyError`` (naming the
  env var and ``switchboard keys set NAME``) when the call is made, before any network.
- ``cost()`` prices a ``Usage`` with the catalog's price; ``None`` means unknown, never 0.
- ``embed()`` splits an embedding request into the adapter's batches (its vendor's
  limits), makes each call under the same retry policy as ``generate()`` (a failed batch
  is retried alone) and returns the vectors in order; a model the catalog knows as the
  other type is refused before any call (``chat_model()`` / ``embedding_model()``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from switchboard.registry.passthrough import check_provider_options
from switchboard.spec.collect import ChatResult, collect_stream, result_events
from switchboard.spec.embedding import EmbeddingRequest, EmbeddingResult, batches, merge
from switchboard.spec.errors import InvalidRequestError
from switchboard.spec.events import StreamEvent
from switchboard.spec.model import Capabilities, ModelInfo, ModelType
from switchboard.spec.provider import ChatModel, EmbeddingModel, Provider
from switchboard.spec.request import ChatRequest
from switchboard.spec.usage import Price, Usage, cost
from switchboard.upstream.retry import RetryPolicy, retrying_call, retrying_stream

Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class ResolvedModel:
    provider: Provider
    model_id: str
    info: ModelInfo | None
    price: Price | None
    capabilities: Capabilities
    policy: RetryPolicy
    sleep: Sleep = field(default=asyncio.sleep, repr=False)

    @property
    def provider_name(self) -> str:
        return self.provider.name

    @property
    def kind(self) -> str:
        return self.provider.kind

    @property
    def ref(self) -> str:
        """``provider:model`` — the one string that names this model everywhere."""
        return f"{self.provider.name}:{self.model_id}"

    @property
    def display_name(self) -> str:
        return self.info.display_name if self.info is not None else self.model_id

    @property
    def model_type(self) -> ModelType:
        """``chat`` or ``embedding``: the catalog's word, else the adapter's guess."""
        if self.info is not None:
            return self.info.type
        return self.provider.model_type(self.model_id)

    def chat_model(self) -> ChatModel:
        """The adapter's model, after the key check (no network happens before it)."""
        if self.model_type == "embedding":
            raise InvalidRequestError(
                f"model '{self.ref}' is an embedding model: it turns text into vectors "
                "and cannot answer messages; choose a chat model", param="model")
        if self.provider.requires_api_key:
            self.provider.require_api_key()
        return self.provider.chat_model(self.model_id)

    def embedding_model(self) -> EmbeddingModel:
        """The adapter's embedding model, after the type and key checks."""
        if self.info is not None and self.info.type != "embedding":
            raise InvalidRequestError(
                f"model '{self.ref}' is a {self.info.type} model and cannot make "
                "embeddings; choose an embedding model", param="model")
        if self.provider.requires_api_key:
            self.provider.require_api_key()
        return self.provider.embedding_model(self.model_id)

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        check_provider_options(request, self.provider)
        model = self.chat_model()
        return retrying_stream(
            lambda: _generator(model.stream(request)),
            self.policy,
            provider=self.provider.name,
            sleep=self.sleep,
        )

    def generate_events(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """ONE non-streaming vendor call, replayed as the events of a stream, under the
        same retry layer as ``stream()`` (a retryable error raised, or returned in-band
        before any output, is retried; the retries are the one loop in
        ``upstream.retry``, not a second copy here)."""
        check_provider_options(request, self.provider)
        model = self.chat_model()
        return retrying_stream(
            lambda: _one_shot(model, request),
            self.policy,
            provider=self.provider.name,
            sleep=self.sleep,
        )

    async def generate(self, request: ChatRequest) -> ChatResult:
        """``generate_events`` folded: the whole answer (its error, if it failed after
        the retries, is in ``result.error``)."""
        return await collect_stream(self.generate_events(request))

    def embedder(self, request: EmbeddingRequest) -> EmbeddingModel:
        """The adapter's embedding model for ``request``: the model's type, the key and
        what the adapter accepts (token arrays) are checked, without any network."""
        model = self.embedding_model()
        if not model.token_input:
            request.texts()  # refuses token arrays before any call
        known = self.info.embedding if self.info is not None else None
        if (request.dimensions is not None and known is not None
                and known.custom_dimensions is False):
            size = f"{known.dimensions:,}" if known.dimensions else "its own number of"
            raise InvalidRequestError(
                f"model '{self.ref}' always makes vectors of {size} dimensions: it does "
                "not accept dimensions", param="dimensions")
        return model

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResult:
        """Vectors for every input, made in the adapter's batches (see module doc)."""
        model = self.embedder(request)
        results: list[EmbeddingResult] = []
        for batch in batches(request, model.max_batch, model.max_batch_chars):
            results.append(await retrying_call(partial(model.embed_batch, batch),
                                               self.policy, sleep=self.sleep))
        return merge(results)

    def cost(self, usage: Usage) -> Decimal | None:
        return cost(usage, self.price)


def _generator(events: AsyncIterator[StreamEvent]) -> AsyncGenerator[StreamEvent, None]:
    """``retrying_stream`` needs ``aclose()``: adapters' streams are async generators
    already (passed through as they are), but the contract only promises an iterator."""
    if isinstance(events, AsyncGenerator):
        return events
    return _wrap(events)


async def _one_shot(model: ChatModel, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
    result = await model.generate(request)
    for event in result_events(result):
        yield event


async def _wrap(events: AsyncIterator[StreamEvent]) -> AsyncGenerator[StreamEvent, None]:
    async for event in events:
        yield event
