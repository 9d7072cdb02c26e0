"""The ``anthropic`` provider kind: Claude through the Messages API.

Wire basics (https://docs.anthropic.com/en/api/overview): the key goes in ``x-api-key``
(not ``Authorization``), every call names an API version in ``anthropic-version``, and
beta features are switched on with ``anthropic-beta``. ``ANTHROPIC_BASE_URL`` means what
it means to the official SDK: the host root, to which ``/v1/messages`` and ``/v1/models``
are appended. The request ids of Anthropic's responses are in the ``request-id`` header.

The conversions live in small modules next to this one; this module only does I/O.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from typing import Any

from pydantic import Field

from switchboard.spec import (
    AuthenticationError,
    Capabilities,
    ChatModel,
    ChatRequest,
    ChatResult,
    ErrorEvent,
    KeyCheck,
    ModelInfo,
    PermissionDeniedError,
    ProviderConfig,
    ProviderError,
    StreamBrokenError,
    StreamEvent,
    StreamStart,
    collect,
)
from switchboard.spec import Provider as _Provider
from switchboard.upstream import aiter_sse, iter_bytes, open_stream, request_json

from .convert_request import build_request
from .convert_response import convert_response
from .convert_stream import StreamConverter
from .models import capabilities, model_info

API_VERSION = "2023-06-01"
MAX_MODEL_PAGES = 20  # 20 pages of 1000: far beyond any real account, stops a bad cursor


class AnthropicConfig(ProviderConfig):
    anthropic_version: str = Field(
        default=API_VERSION, description="sent as the anthropic-version header")
    beta: list[str] = Field(
        default_factory=list, description="beta features, sent as the anthropic-beta header")
    default_max_tokens: int | None = Field(
        default=None, ge=1,
        description="max_tokens when a request sets none (default 4096, capped per model)")


class AnthropicProvider(_Provider):
    kind = "anthropic"
    display_name = "Anthropic"
    Config = AnthropicConfig
    api_key_env = "ANTHROPIC_API_KEY"
    base_url_env = "ANTHROPIC_BASE_URL"
    default_base_url = "https://api.anthropic.com"
    default_model = "claude-sonnet-4-5"
    docs_url = "https://docs.anthropic.com/en/api/messages"
    # Derived from the neutral request (``response_format`` is a forced tool here).
    owned_fields = frozenset({"system", "tools", "tool_choice"})

    def __init__(self, config: ProviderConfig | None = None, **kwargs: Any) -> None:
        if config is not None and not isinstance(config, AnthropicConfig):
            config = AnthropicConfig.model_validate(config.model_dump())
        super().__init__(config, **kwargs)

    @property
    def settings(self) -> AnthropicConfig:
        assert isinstance(self.config, AnthropicConfig)  # ensured by __init__
        return self.config

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def headers(self, key: str) -> dict[str, str]:
        headers = {"x-api-key": key, "anthropic-version": self.settings.anthropic_version}
        if self.settings.beta:
            headers["anthropic-beta"] = ",".join(self.settings.beta)
        headers.update(self.settings.extra_headers)
        return headers

    def chat_model(self, model_id: str) -> AnthropicChatModel:
        return AnthropicChatModel(self, model_id)

    def capabilities(self, model_id: str) -> Capabilities:
        info = self.known_models.get(model_id)
        return info.capabilities if info else capabilities(model_id)

    async def list_models(self) -> list[ModelInfo]:
        """``GET /v1/models``, following ``has_more`` / ``last_id`` -> ``after_id``
        (https://docs.anthropic.com/en/api/models-list)."""
        key = self.require_api_key()
        models: list[ModelInfo] = []
        params = {"limit": "1000"}
        seen: set[str] = set()
        for _ in range(MAX_MODEL_PAGES):
            data, _headers = await request_json(
                self.name, "GET", self.url("/v1/models"), headers=self.headers(key),
                params=params, secrets=(key,), read_timeout=self.settings.timeout,
            )
            if not isinstance(data, dict):
                raise StreamBrokenError(f"{self.name}: the model list is not a JSON object",
                                        provider=self.name)
            entries = [e for e in (data.get("data") or []) if isinstance(e, dict) and e.get("id")]
            models.extend(model_info(e) for e in entries)
            last = data.get("last_id") or (entries[-1]["id"] if entries else None)
            if not data.get("has_more") or not last or last in seen:
                break
            seen.add(last)
            params = {"limit": "1000", "after_id": str(last)}
        return models

    async def validate_key(self) -> KeyCheck:
        """List the models: a rejected key is an answer (``ok=False``), not an error;
        an unreachable server still raises."""
        started = time.perf_counter()
        try:
            models = await self.list_models()
        except (AuthenticationError, PermissionDeniedError) as exc:
            return KeyCheck(False, (time.perf_counter() - started) * 1000, exc.message)
        ms = (time.perf_counter() - started) * 1000
        return KeyCheck(True, ms, f"ok: {len(models)} models visible", len(models))


class AnthropicChatModel(ChatModel):
    provider: AnthropicProvider

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        p = self.provider
        key = p.require_api_key()
        plan = build_request(request, self.model_id, stream=True,
                             default_max_tokens=p.settings.default_max_tokens)
        async with open_stream(
            p.name, "POST", p.url("/v1/messages"), headers=p.headers(key), body=plan.body,
            secrets=(key,), read_timeout=p.settings.timeout,
        ) as response:
            yield StreamStart(plan.warnings)
            converter = StreamConverter(provider=p.name,
                                        request_id=response.headers.get("request-id"),
                                        answer_tool=plan.json_tool, secrets=(key,))
            try:
                async for sse in aiter_sse(iter_bytes(p.name, response)):
                    for event in converter.feed(sse.event, sse.data):
                        yield event
                    if converter.done:
                        return
            except ProviderError as exc:
                yield ErrorEvent(exc, usage=converter.usage)
                return
            yield ErrorEvent(StreamBrokenError(
                f"{p.name}: the stream ended before message_stop (connection closed early)",
                provider=p.name, request_id=converter.request_id, secrets=(key,),
            ), usage=converter.usage)

    async def generate(self, request: ChatRequest) -> ChatResult:
        p = self.provider
        key = p.require_api_key()
        plan = build_request(request, self.model_id, stream=False,
                             default_max_tokens=p.settings.default_max_tokens)
        data, headers = await request_json(
            p.name, "POST", p.url("/v1/messages"), headers=p.headers(key), body=plan.body,
            secrets=(key,), read_timeout=p.settings.timeout,
        )
        if not isinstance(data, dict):
            raise StreamBrokenError(f"{p.name}: the response is not a JSON object",
                                    provider=p.name, request_id=headers.get("request-id"),
                                    secrets=(key,))
        events: list[StreamEvent] = [StreamStart(plan.warnings)]
        events += convert_response(data, provider=p.name, request_id=headers.get("request-id"),
                                   answer_tool=plan.json_tool, secrets=(key,))
        return collect(events)
