"""The Mistral provider: ``POST /v1/chat/completions`` and ``GET /v1/models``.

API reference: https://docs.mistral.ai/api/ . The official SDK's server URL is
``https://api.mistral.ai`` and the paths carry ``/v1``; a base URL given with a trailing
``/v1`` (as OpenAI-style clients expect) is accepted too. Bearer authentication.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import ClassVar

import orjson

from switchboard.providers.mistral.convert_models import convert_models
from switchboard.providers.mistral.convert_request import build_body
from switchboard.providers.mistral.convert_response import response_events
from switchboard.providers.mistral.convert_stream import StreamConverter
from switchboard.spec import (
    ChatModel,
    ChatRequest,
    ChatResult,
    ErrorEvent,
    ModelInfo,
    Provider,
    ProviderConfig,
    ProviderError,
    StreamBrokenError,
    StreamEvent,
    StreamStart,
    collect,
)
from switchboard.upstream import aiter_sse, iter_bytes, open_stream, request_json
from switchboard.upstream.errors import request_id

KIND = "mistral"
# The request id comes from ``mistral-correlation-id`` (or its Kong gateway's
# ``x-kong-request-id``): both are among ``upstream.errors.request_id``'s names.
CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"


class MistralConfig(ProviderConfig):
    """No Mistral-only instance settings: per-call ones go in
    ``provider_options["mistral"]`` (see ``options.MistralOptions``)."""


class MistralChatModel(ChatModel):
    provider: MistralProvider

    def _headers(self, key: str, accept: str) -> dict[str, str]:
        headers = dict(self.provider.config.extra_headers)
        headers["authorization"] = f"Bearer {key}"
        headers["accept"] = accept
        return headers

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        key = self.provider.require_api_key()
        body, warnings = build_body(self.model_id, request, stream=True)
        async with open_stream(
            KIND, "POST", self.provider.url(CHAT_PATH),
            headers=self._headers(key, "text/event-stream"), body=body, secrets=(key,),
            read_timeout=self.provider.config.timeout,
        ) as response:
            converter = StreamConverter(request_id=request_id(response.headers),
                                        secrets=(key,))
            yield StreamStart(warnings)
            try:
                async for sse in aiter_sse(iter_bytes(KIND, response)):
                    if sse.data == "[DONE]":
                        for event in converter.done():
                            yield event
                        return
                    try:
                        chunk = orjson.loads(sse.data)
                    except orjson.JSONDecodeError:
                        chunk = None
                    if not isinstance(chunk, dict):
                        yield ErrorEvent(StreamBrokenError(
                            f"{KIND}: the stream sent a chunk that is not a JSON object: "
                            f"{sse.data[:200]!r}", provider=KIND,
                            request_id=converter.request_id, secrets=(key,),
                        ), usage=converter.usage)
                        return
                    for event in converter.feed(chunk):
                        yield event
                        if isinstance(event, ErrorEvent):
                            return
            except ProviderError as exc:
                yield ErrorEvent(exc, usage=converter.usage)
                return
            yield ErrorEvent(StreamBrokenError(
                f"{KIND}: the stream ended without its end marker (data: [DONE])",
                provider=KIND, request_id=converter.request_id, secrets=(key,),
            ), usage=converter.usage)

    async def generate(self, request: ChatRequest) -> ChatResult:
        key = self.provider.require_api_key()
        body, warnings = build_body(self.model_id, request, stream=False)
        data, headers = await request_json(
            KIND, "POST", self.provider.url(CHAT_PATH),
            headers=self._headers(key, "application/json"), body=body, secrets=(key,),
            read_timeout=self.provider.config.timeout,
        )
        return collect(response_events(data, warnings, request_id(headers), (key,)))


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

    async def list_models(self) -> list[ModelInfo]:
        key = self.require_api_key()
        headers = dict(self.config.extra_headers)
        headers["authorization"] = f"Bearer {key}"
        data, _ = await request_json(
            KIND, "GET", self.url(MODELS_PATH), headers=headers, secrets=(key,),
            read_timeout=self.config.timeout,
        )
        return convert_models(data)
