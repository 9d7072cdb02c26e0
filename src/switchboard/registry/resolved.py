"""``ResolvedModel``: a routed model, ready to call, with the framework's policies on it.

This is where the framework wraps every adapter, so adapters stay simple:

- ``stream()`` runs the adapter's stream inside ``upstream.retrying_stream`` (the one
  retry layer: retries only before the first event reached the caller), with
  ``RetryPolicy(max_retries=<the instance's config.max_retries>)``.
- ``generate_events()`` makes the adapter's one non-streaming call, its answer as
  events (``ChatModel.generate_events``), under the same retry module and policy
  (``retrying_events``: the stream's rules on a list): a *retryable* ``ProviderError``
  raised, or returned in-band before any output was produced, is retried there (issue
  12), and the events are replayed to the caller. ``generate()`` folds them.
- ``provider_options`` that try to set a field the gateway owns (the model, the stream
  protocol, the conversation, the instance's settings...) are refused before the adapter
  runs, for every adapter alike (``registry.passthrough``).
- A provider that needs a key and has none raises its ``MissingApiKeyError`` (naming the
  env var and ``switchboard keys set NAME``) when the call is made, before any network.
- A provider with a key pool (``registry.keypool``) gets its key per ATTEMPT: each try
  (and each retry) leases a key, counted in flight until the attempt ends; a 401 before
  the first event takes that key out of the pool and the attempt is made again with
  another key at once (not counted as a retry: nothing reached the caller, and the next
  key is a different credential, not the same call again). ``key_id`` / ``key_label``
  name the key of the latest attempt, for breakers and usage; ``skip_key`` lets a caller
  keep keys out (an open breaker). Embeddings use the pool's first serving key (not
  leased per attempt yet). Decision 0066.
- ``cost()`` prices a ``Usage`` with the catalog's price; ``None`` means unknown, never 0.
- ``embed()`` splits an embedding request into the adapter's batches (its vendor's
  limits), makes each call under the same retry policy as ``generate()`` (a failed batch
  is retried alone) and returns the vectors in order; a model the catalog knows as the
  other type is refused before any call (``chat_model()`` / ``embedding_model()``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial

from switchboard.registry.keypool import KeyLease, KeyPool, PoolKey
from switchboard.registry.passthrough import check_provider_options
from switchboard.spec.collect import ChatResult, collect_stream
from switchboard.spec.embedding import EmbeddingRequest, EmbeddingResult, batches, merge
from switchboard.spec.errors import AuthenticationError, InvalidRequestError, MissingApiKeyError
from switchboard.spec.events import ErrorEvent, Finish, StreamEvent
from switchboard.spec.image import ImageRequest, ImageResult, image_cost
from switchboard.spec.image import merge as merge_images
from switchboard.spec.model import Capabilities, ImageCapabilities, ModelInfo, ModelType
from switchboard.spec.provider import ChatModel, EmbeddingModel, ImageModel, Provider
from switchboard.spec.request import ChatRequest
from switchboard.spec.usage import Price, Usage, cost
from switchboard.upstream.retry import (
    RetryPolicy,
    retrying_call,
    retrying_events,
    retrying_stream,
)

Sleep = Callable[[float], Awaitable[None]]
Attempt = Callable[[ChatModel], AsyncGenerator[StreamEvent, None]]
"""One vendor call with a given adapter model, as a stream of events."""
Answer = Callable[[ChatModel], Awaitable[list[StreamEvent]]]
"""One non-streaming vendor call with a given adapter model, its answer as events."""
_ENDS = (Finish, ErrorEvent)


@dataclass(slots=True)
class ResolvedModel:
    provider: Provider
    model_id: str
    info: ModelInfo | None
    price: Price | None
    capabilities: Capabilities
    policy: RetryPolicy
    sleep: Sleep = field(default=asyncio.sleep, repr=False)
    keys: KeyPool | None = field(default=None, repr=False)
    """The provider's stored keys (None: its one key from the config or environment)."""
    keyed: Callable[[PoolKey], Provider] | None = field(default=None, repr=False)
    """The provider built with a given key of ``keys`` (the registry's cache)."""
    skip_key: Callable[[PoolKey], bool] | None = field(default=None, repr=False)
    """Keys this call must not use (a circuit breaker that is open for a key)."""
    key_id: int | None = None
    """The stored key the latest attempt used (None: no pool, or no attempt yet)."""
    key_label: str | None = None

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
        """The adapter's model, after the key check (no network happens before it);
        with a key pool, of its first serving key (a call leases its own per attempt)."""
        model_type = self.model_type
        if model_type == "embedding":
            raise InvalidRequestError(
                f"model '{self.ref}' is an embedding model: it turns text into vectors "
                "and cannot answer messages; choose a chat model", param="model")
        if model_type == "image":
            raise InvalidRequestError(
                f"model '{self.ref}' is an image model: it draws pictures from a prompt "
                "and cannot answer messages; choose a chat model", param="model")
        self._check_key()
        return self.provider.chat_model(self.model_id)

    def _check_key(self) -> None:
        if self.keys is not None:
            self.keys.check()
        elif self.provider.requires_api_key:
            self.provider.require_api_key()

    def embedding_model(self) -> EmbeddingModel:
        """The adapter's embedding model, after the type and key checks."""
        if self.info is not None and self.info.type != "embedding":
            raise InvalidRequestError(
                f"model '{self.ref}' is a {self.info.type} model and cannot make "
                "embeddings; choose an embedding model", param="model")
        self._check_key()
        return self.provider.embedding_model(self.model_id)

    def image_model(self) -> ImageModel:
        """The adapter's image model, after the type and key checks. A chat model that
        draws (capability ``image_output``: Gemini's image models, whose pictures come in
        a ``generateContent`` answer) is one too when its provider kind says
        ``draws_with_chat_models``: its adapter asks it for pictures only (decision 0194).
        Elsewhere such a model stays a chat model (an OpenAI-compatible server's chat model
        is no reason to call that server's images endpoint)."""
        draws = (self.model_type == "chat" and self.capabilities.image_output is True
                 and self.provider.draws_with_chat_models)
        if self.info is not None and self.info.type != "image" and not draws:
            raise InvalidRequestError(
                f"model '{self.ref}' is a {self.info.type} model and cannot make images; "
                "choose an image model", param="model")
        self._check_key()
        return self.provider.image_model(self.model_id)

    @property
    def image_capabilities(self) -> ImageCapabilities | None:
        if self.info is not None and self.info.image is not None:
            return self.info.image
        return self.provider.image_capabilities(self.model_id)

    def image_request(self, request: ImageRequest) -> ImageRequest:
        """``request`` with this model's defaults, refused (naming the field) when the
        model does not make what it asks; type and key checked; no network."""
        self.image_model()
        return request.settled(self.image_capabilities)

    async def generate_images(self, request: ImageRequest) -> ImageResult:
        """``request.n`` pictures in calls of at most the model's ``max_n`` (dall-e-3
        draws one per call), each under the one retry layer; an edit (pictures given)
        goes to the adapter's ``edit_images``."""
        model = self.image_model()
        settled = request.settled(self.image_capabilities)
        per_call = self.image_capabilities.max_n if self.image_capabilities else 1
        results: list[ImageResult] = []
        left = settled.n
        while left > 0:
            part = replace(settled, n=min(left, per_call))
            call = model.edit_images if part.is_edit else model.generate_images
            results.append(await retrying_call(partial(call, part), self.policy,
                                               sleep=self.sleep))
            left -= part.n
        merged = merge_images(results)
        merged.size = merged.size or settled.size
        merged.quality = merged.quality or settled.quality
        return merged

    def image_cost(self, result: ImageResult) -> Decimal | None:
        """The price of ``result``'s pictures (``spec.image_cost``)."""
        return image_cost(self.image_capabilities, self.price, result.size, result.quality,
                          len(result.images), result.usage)

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        check_provider_options(request, self.provider)
        return self._retrying(lambda model: _generator(model.stream(request)))

    def _retrying(self, attempt: Attempt) -> AsyncIterator[StreamEvent]:
        """``attempt`` under the one retry layer; with a key pool, each try leases its
        key (``_pooled``)."""
        model = self.chat_model()  # the key check, before any network
        return retrying_stream(
            (lambda: attempt(model)) if self.keys is None else (lambda: self._pooled(attempt)),
            self.policy,
            provider=self.provider.name,
            sleep=self.sleep,
        )

    def _answering(self, answer: Answer) -> AsyncIterator[StreamEvent]:
        """``answer`` under the one retry layer, replayed as events. One generator per
        call, resumed per event, where a replayed answer used to cross two (decision
        0210)."""
        return _replay(self._answer_call(answer))

    def _answer_call(self, answer: Answer) -> Callable[[], Awaitable[list[StreamEvent]]]:
        """``answer`` under the one retry layer (``retrying_events``: the same rules as
        a stream, on the answer's list of events), to be called; with a key pool, each
        try leases its key (``_pooled_answer``). The key is checked now, before any
        network."""
        model = self.chat_model()  # the key check, before any network
        return partial(
            retrying_events,
            (lambda: answer(model)) if self.keys is None else
            (lambda: self._pooled_answer(answer)),
            self.policy,
            provider=self.provider.name,
            sleep=self.sleep,
        )

    def _lease(self, tried: set[int], refused: AuthenticationError | None) -> KeyLease:
        """A key for the next try, none of ``tried``; when every key was refused during
        this call, the vendor's own 401 is the answer."""
        assert self.keys is not None
        skip = self.skip_key
        try:
            lease = self.keys.acquire(
                lambda k: k.id in tried or (skip is not None and skip(k)))
        except MissingApiKeyError:
            if refused is not None:
                raise refused from None
            raise
        self.key_id, self.key_label = lease.key.id, lease.key.label
        return lease

    async def _pooled(self, attempt: Attempt) -> AsyncGenerator[StreamEvent, None]:
        """One try with a leased key (see the module docstring)."""
        assert self.keyed is not None
        tried: set[int] = set()
        refused: AuthenticationError | None = None
        while True:
            lease = self._lease(tried, refused)
            try:
                events = attempt(self.keyed(lease.key).chat_model(self.model_id))
                try:
                    event = await anext(events)
                except AuthenticationError as exc:
                    await events.aclose()
                    lease.fail(exc)
                    tried.add(lease.key.id)
                    refused = exc
                    continue
                except StopAsyncIteration:
                    return
                try:
                    while True:
                        if isinstance(event, Finish):
                            lease.record_tokens(event.usage.total_tokens)
                        yield event
                        event = await anext(events)
                except StopAsyncIteration:
                    return
                finally:
                    await events.aclose()
            finally:
                lease.release()

    async def _pooled_answer(self, answer: Answer) -> list[StreamEvent]:
        """``_pooled`` for a non-streaming answer: one try with a leased key, another
        key at once after a 401, the tokens of the answer's ``Finish`` counted against
        the key (those ``_pooled`` would count as the retry layer reads up to the end)."""
        assert self.keyed is not None
        tried: set[int] = set()
        refused: AuthenticationError | None = None
        while True:
            lease = self._lease(tried, refused)
            try:
                try:
                    events = await answer(self.keyed(lease.key).chat_model(self.model_id))
                except AuthenticationError as exc:
                    lease.fail(exc)
                    tried.add(lease.key.id)
                    refused = exc
                    continue
                for event in events:
                    if isinstance(event, Finish):
                        lease.record_tokens(event.usage.total_tokens)
                    if isinstance(event, _ENDS):
                        break
                return events
            finally:
                lease.release()

    def generate_events(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """ONE non-streaming vendor call, replayed as the events of a stream, under the
        same retry layer as ``stream()`` (a retryable error raised, or returned in-band
        before any output, is retried; the retries are the one loop in
        ``upstream.retry``, not a second copy here)."""
        check_provider_options(request, self.provider)
        return self._answering(lambda model: model.generate_events(request))

    def answer_events(self, request: ChatRequest) -> Awaitable[list[StreamEvent]]:
        """``generate_events`` as the list it replays: the same call, checks (now, before
        any network) and retry layer, for a caller that takes the whole answer at once
        (the pipeline's ``metered_fold``) — no generator resumed per event (issue 12,
        fifth pass). Await it: the call is made then."""
        check_provider_options(request, self.provider)
        return self._answer_call(lambda model: model.generate_events(request))()

    @property
    def native_choices(self) -> bool:
        """Whether this model answers ``n`` choices in ONE vendor call (decision 0084)."""
        return self.model_type == "chat" and self.provider.chat_model(
            self.model_id).native_choices

    def stream_choices(self, request: ChatRequest, n: int) -> AsyncIterator[StreamEvent]:
        """``stream`` of ONE call answering ``n`` choices (``Choice``-tagged events, for
        ``spec.choices.split_choices``), under the same retry layer and key pool."""
        check_provider_options(request, self.provider)
        return self._retrying(lambda model: _generator(model.stream_choices(request, n)))

    def generate_choice_events(self, request: ChatRequest,
                               n: int) -> AsyncIterator[StreamEvent]:
        """``generate_events`` of ONE non-streaming call answering ``n`` choices."""
        check_provider_options(request, self.provider)
        return self._answering(lambda model: model.generate_choices(request, n))

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
        """The call's cost; an answer's pictures (Gemini image output) at the catalog's
        price per picture (its default size and quality)."""
        each = None
        if usage.output_images:
            caps = self.info.image if self.info is not None else None
            each = caps.price_of(None, None) if caps is not None else None
        return cost(usage, self.price, each)


def _generator(events: AsyncIterator[StreamEvent]) -> AsyncGenerator[StreamEvent, None]:
    """``retrying_stream`` needs ``aclose()``: adapters' streams are async generators
    already (passed through as they are), but the contract only promises an iterator."""
    if isinstance(events, AsyncGenerator):
        return events
    return _wrap(events)


async def _replay(answer: Callable[[], Awaitable[list[StreamEvent]]]
                  ) -> AsyncGenerator[StreamEvent, None]:
    """The events of ``answer()``, awaited on the first read (not before: a caller that
    never reads makes no call)."""
    for event in await answer():
        yield event


async def _wrap(events: AsyncIterator[StreamEvent]) -> AsyncGenerator[StreamEvent, None]:
    async for event in events:
        yield event
