"""The built-in offline provider: a deterministic model that needs no key and no network.

It is the default model of a fresh install (the chat works before any key is entered) and
the stand-in for a real model in tests of everything above the adapters, so it keeps the
full adapter contract: ``StreamStart`` with warnings, ``ResponseMetadata``, text in
word-ish deltas (or one tool call as start / deltas / complete call), one ``Finish`` with
estimated usage. ``generate()`` folds the very same events with ``collect``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from decimal import Decimal
from typing import ClassVar

from switchboard.providers.offline.answer import Answer, plan_answer
from switchboard.providers.offline.chunks import argument_pieces, text_pieces
from switchboard.providers.offline.compose import MODEL_ID
from switchboard.providers.offline.config import OfflineConfig
from switchboard.providers.offline.embed import (
    EMBED_CAPABILITIES,
    EMBED_MODEL_ID,
    embed,
)
from switchboard.providers.offline.image import IMAGE_CAPABILITIES, IMAGE_MODEL_ID, generate
from switchboard.providers.offline.limits import MAX_OUTPUT_TOKENS, MAX_STREAM_PAUSE_S
from switchboard.providers.offline.pacing import paced
from switchboard.spec import (
    Capabilities,
    ChatModel,
    ChatRequest,
    ChatResult,
    EmbeddingModel,
    EmbeddingRequest,
    EmbeddingResult,
    Finish,
    ImageCapabilities,
    ImageModel,
    ImageRequest,
    ImageResult,
    InvalidRequestError,
    KeyCheck,
    ModelInfo,
    ModelType,
    Price,
    Provider,
    ProviderConfig,
    ResponseMetadata,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    UnknownModelError,
    collect,
)

CAPABILITIES = Capabilities.exactly(("streaming", "tools", "vision", "json_output"))
FREE = Price(input=Decimal(0), output=Decimal(0), cached_input=Decimal(0))
CONTEXT_WINDOW = 128_000

MODEL_INFO = ModelInfo(
    id=MODEL_ID,
    name="Offline chat (built-in)",
    capabilities=CAPABILITIES,
    context_window=CONTEXT_WINDOW,
    max_output_tokens=MAX_OUTPUT_TOKENS,
    price=FREE,
    description="Deterministic built-in model: works without a key or network.",
    owned_by="switchboard",
)

EMBED_MODEL_INFO = ModelInfo(
    id=EMBED_MODEL_ID,
    name="Offline embeddings (built-in)",
    capabilities=Capabilities.exactly(()),
    context_window=CONTEXT_WINDOW,
    price=FREE,
    description="Deterministic built-in embeddings (hashed character n-grams): same "
                "text, same vector; similar spelling, closer vectors. For tests and demos.",
    owned_by="switchboard",
    type="embedding",
    embedding=EMBED_CAPABILITIES,
)
IMAGE_MODEL_INFO = ModelInfo(
    id=IMAGE_MODEL_ID,
    name="Offline images (built-in)",
    capabilities=Capabilities.exactly(("image_output",)),
    context_window=CONTEXT_WINDOW,
    price=FREE,
    description="Deterministic built-in pictures: shapes coloured by the prompt and the "
                "prompt's words, as a real PNG. For tests and demos.",
    owned_by="switchboard",
    type="image",
    image=IMAGE_CAPABILITIES,
)
EMBED_IN_THREAD_CHARS = 64 * 1024
"""Above this much text, vectors are computed in a worker thread (the loop keeps
serving): about 1.7 microseconds per character (1 M characters: 1.7 s)."""


def answer_events(answer: Answer, model_id: str) -> Iterator[StreamEvent]:
    """The answer as neutral events (shared by ``stream`` and ``generate``)."""
    yield StreamStart(warnings=list(answer.warnings))
    yield ResponseMetadata(response_id=answer.response_id, model=model_id)
    call = answer.tool_call
    if call is not None:
        yield ToolCallStart(id=call.id, name=call.name)
        for piece in argument_pieces(call.arguments):
            yield ToolCallDelta(id=call.id, arguments_delta=piece)
        yield ToolCall(id=call.id, name=call.name, arguments=call.arguments)
    else:
        for piece in text_pieces(answer.text):
            yield TextDelta(text=piece)
    yield Finish(finish_reason=answer.finish, usage=answer.usage)


class OfflineChatModel(ChatModel):
    provider: OfflineProvider

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        answer = plan_answer(request, self.model_id)
        events = list(answer_events(answer, self.model_id))
        deltas = sum(isinstance(e, TextDelta | ToolCallDelta) for e in events)
        delay = min(self.provider.config.chunk_delay_ms / 1000,
                    MAX_STREAM_PAUSE_S / max(deltas, 1))
        async for event in paced(events, delay):
            yield event

    async def generate(self, request: ChatRequest) -> ChatResult:
        return collect(answer_events(plan_answer(request, self.model_id), self.model_id))


class OfflineEmbeddingModel(EmbeddingModel):
    token_input = True

    async def embed_batch(self, request: EmbeddingRequest) -> EmbeddingResult:
        size = sum(len(i) for i in request.inputs)
        if size > EMBED_IN_THREAD_CHARS:
            return await asyncio.to_thread(embed, request)
        return embed(request)


class OfflineImageModel(ImageModel):
    async def generate_images(self, request: ImageRequest) -> ImageResult:
        return await asyncio.to_thread(generate, request)  # ~0.1 s per 1024x1024

    async def edit_images(self, request: ImageRequest) -> ImageResult:
        # the pictures are decoded in pure Python: never on the event loop
        return await asyncio.to_thread(generate, request)


class OfflineProvider(Provider):
    kind: ClassVar[str] = "offline"
    display_name: ClassVar[str] = "Offline (built-in)"
    Config: ClassVar[type[ProviderConfig]] = OfflineConfig
    default_model: ClassVar[str | None] = MODEL_ID
    requires_api_key: ClassVar[bool] = False
    config: OfflineConfig

    def chat_model(self, model_id: str) -> OfflineChatModel:
        if model_id == EMBED_MODEL_ID:
            raise InvalidRequestError(_wrong_type(model_id, "an embedding", "chat"),
                                      param="model")
        if model_id == IMAGE_MODEL_ID:
            raise InvalidRequestError(_wrong_type(model_id, "an image", "chat"),
                                      param="model")
        if model_id != MODEL_ID:
            raise UnknownModelError(
                f"the offline provider has no model {model_id!r}: its only model is "
                f"{MODEL_ID!r}"
            )
        return OfflineChatModel(self, model_id)

    def embedding_model(self, model_id: str) -> OfflineEmbeddingModel:
        if model_id == MODEL_ID:
            raise InvalidRequestError(_wrong_type(model_id, "a chat", "make embeddings"),
                                      param="model")
        if model_id != EMBED_MODEL_ID:
            raise UnknownModelError(
                f"the offline provider has no embedding model {model_id!r}: its embedding "
                f"model is {EMBED_MODEL_ID!r}")
        return OfflineEmbeddingModel(self, model_id)

    def image_model(self, model_id: str) -> OfflineImageModel:
        if model_id != IMAGE_MODEL_ID:
            raise InvalidRequestError(
                f"model 'offline:{model_id}' cannot make images: the offline image model "
                f"is {IMAGE_MODEL_ID!r}", param="model")
        return OfflineImageModel(self, model_id)

    def model_type(self, model_id: str) -> ModelType:
        if model_id == IMAGE_MODEL_ID:
            return "image"
        return "embedding" if model_id == EMBED_MODEL_ID else super().model_type(model_id)

    async def list_models(self) -> list[ModelInfo]:
        return [MODEL_INFO, EMBED_MODEL_INFO, IMAGE_MODEL_INFO]

    def capabilities(self, model_id: str) -> Capabilities:
        if model_id == EMBED_MODEL_ID:
            return EMBED_MODEL_INFO.capabilities
        if model_id == IMAGE_MODEL_ID:
            return IMAGE_MODEL_INFO.capabilities
        return CAPABILITIES if model_id == MODEL_ID else super().capabilities(model_id)

    def image_capabilities(self, model_id: str) -> ImageCapabilities | None:
        if model_id == IMAGE_MODEL_ID:
            return IMAGE_CAPABILITIES
        return super().image_capabilities(model_id)

    def price_for(self, model_id: str) -> Price | None:
        if model_id in (MODEL_ID, EMBED_MODEL_ID, IMAGE_MODEL_ID):
            return FREE
        return super().price_for(model_id)

    async def validate_key(self) -> KeyCheck:
        return KeyCheck(True, 0.0, "ok: the offline model needs no key", 2)


def _wrong_type(model_id: str, what: str, cannot: str) -> str:
    return f"model 'offline:{model_id}' is {what} model and cannot {cannot}"
