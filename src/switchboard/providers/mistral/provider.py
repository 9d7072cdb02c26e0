"""The Mistral provider: ``POST /v1/chat/completions`` and ``GET /v1/models``.

API reference: https://docs.mistral.ai/api/ . The official SDK's server URL is
``https://api.mistral.ai`` and the paths carry ``/v1``; a base URL given with a trailing
``/v1`` (as OpenAI-style clients expect) is accepted too. Bearer authentication.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import ClassVar

from switchboard.providers.mistral.config import MistralConfig
from switchboard.providers.mistral.convert_models import convert_models
from switchboard.providers.mistral.convert_request import build_body
from switchboard.providers.mistral.convert_response import response_events
from switchboard.providers.mistral.convert_stream import StreamConverter
from switchboard.providers.openai.embeddings import parse_response as parse_embeddings
from switchboard.spec import (
    ChatModel,
    ChatRequest,
    ChatResult,
    EmbeddingModel,
    EmbeddingRequest,
    EmbeddingResult,
    ModelInfo,
    Provider,
    ProviderConfig,
    StreamEvent,
)
from switchboard.upstream import request_json
from switchboard.upstream.driver import (
    HttpCall,
    StartStream,
    generate_call,
    post_call,
    stream_call,
)
from switchboard.upstream.errors import request_id

KIND = "mistral"
# The request id comes from ``mistral-correlation-id`` (or its Kong gateway's
# ``x-kong-request-id``): both are among ``upstream.errors.request_id``'s names.
CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
EMBEDDINGS_PATH = "/v1/embeddings"


class MistralChatModel(ChatModel):
    provider: MistralProvider

    def _headers(self, key: str, accept: str) -> dict[str, str]:
        headers = dict(self.provider.config.extra_headers)
        headers["authorization"] = f"Bearer {key}"
        headers["accept"] = accept
        return headers

    def _call(self, request: ChatRequest, stream: bool) -> HttpCall:
        p = self.provider
        key = p.require_api_key()
        body, warnings = build_body(self.model_id, request, stream=stream)
        accept = "text/event-stream" if stream else "application/json"
        return HttpCall(p.name, p.url(CHAT_PATH), self._headers(key, accept), body, key,
                        warnings, read_timeout=p.config.timeout)

    def _stream(self, request: ChatRequest) -> tuple[HttpCall, StartStream]:
        call = self._call(request, stream=True)
        return call, lambda headers: StreamConverter(request_id(headers), call.secrets,
                                                     provider=call.instance)

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        return stream_call(lambda: self._stream(request))

    async def generate(self, request: ChatRequest) -> ChatResult:
        call = self._call(request, stream=False)
        return await generate_call(call, lambda headers, data: response_events(
            data, request_id(headers), call.secrets, provider=call.instance))


class MistralEmbeddingModel(EmbeddingModel):
    """``POST /v1/embeddings`` (https://docs.mistral.ai/api/#tag/embeddings): text only;
    ``dimensions`` travels as ``output_dimension`` (Codestral Embed; Mistral Embed has
    one size). The response has OpenAI's shape, read by the same function. Mistral
    refuses a batch over 16,384 tokens in all ("Too many tokens overall"): batches hold
    at most 32,000 characters (2 characters per token, a margin for dense text) and 512
    inputs."""

    provider: MistralProvider
    max_batch = 512
    max_batch_chars = 32_000

    async def embed_batch(self, request: EmbeddingRequest) -> EmbeddingResult:
        p = self.provider
        key = p.require_api_key()
        body: dict[str, object] = {"model": self.model_id, "input": request.texts()}
        if request.dimensions is not None:
            body["output_dimension"] = request.dimensions
        headers = dict(p.config.extra_headers)
        headers["authorization"] = f"Bearer {key}"
        headers["accept"] = "application/json"
        call = HttpCall(p.name, p.url(EMBEDDINGS_PATH), headers, body, key,
                        read_timeout=p.config.timeout)
        data, response_headers = await post_call(call)
        return parse_embeddings(data, len(request.inputs), provider=call.instance,
                                request_id=request_id(response_headers), secrets=call.secrets)


class MistralProvider(Provider):
    kind: ClassVar[str] = KIND
    display_name: ClassVar[str] = "Mistral AI"
    Config: ClassVar[type[ProviderConfig]] = MistralConfig
    api_key_env: ClassVar[str | None] = "MISTRAL_API_KEY"
    base_url_env: ClassVar[str | None] = "MISTRAL_BASE_URL"
    default_base_url: ClassVar[str | None] = "https://api.mistral.ai"
    default_model: ClassVar[str | None] = "mistral-small-latest"
    docs_url: ClassVar[str | None] = "https://docs.mistral.ai/api/"

    def url(self, path: str) -> str:
        base = self.base_url
        if base.endswith("/v1"):
            base = base[: -len("/v1")]
        return base + path

    def chat_model(self, model_id: str) -> MistralChatModel:
        return MistralChatModel(self, model_id)

    def embedding_model(self, model_id: str) -> MistralEmbeddingModel:
        return MistralEmbeddingModel(self, model_id)

    async def list_models(self) -> list[ModelInfo]:
        key = self.require_api_key()
        headers = dict(self.config.extra_headers)
        headers["authorization"] = f"Bearer {key}"
        data, _ = await request_json(
            self.name, "GET", self.url(MODELS_PATH), headers=headers, secrets=(key,),
            read_timeout=self.config.timeout,
        )
        return convert_models(data)
