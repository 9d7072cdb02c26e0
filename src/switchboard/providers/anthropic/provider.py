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

import httpx

from switchboard.providers.anthropic.config import AnthropicConfig
from switchboard.spec import (
    AuthenticationError,
    Capabilities,
    ChatModel,
    ChatRequest,
    ChatResult,
    KeyCheck,
    ModelInfo,
    PermissionDeniedError,
    ProviderConfig,
    StreamBrokenError,
    StreamEvent,
)
from switchboard.spec import Provider as _Provider
from switchboard.upstream import request_json
from switchboard.upstream.driver import HttpCall, StartStream, generate_call, stream_call

from .convert_request import build_request
from .convert_response import convert_response
from .convert_stream import StreamConverter
from .models import capabilities, model_info

MAX_MODEL_PAGES = 20  # 20 pages of 1000: far beyond any real account, stops a bad cursor


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

    def _call(self, request: ChatRequest, stream: bool) -> tuple[HttpCall, str | None]:
        """The call, and the name of the forced tool whose input is the answer."""
        p = self.provider
        key = p.require_api_key()
        plan = build_request(request, self.model_id, stream=stream,
                             default_max_tokens=p.settings.default_max_tokens)
        return HttpCall(p.name, p.url("/v1/messages"), p.headers(key), plan.body, key,
                        plan.warnings, read_timeout=p.settings.timeout), plan.json_tool

    def _stream(self, request: ChatRequest) -> tuple[HttpCall, StartStream]:
        call, answer_tool = self._call(request, stream=True)
        return call, lambda headers: StreamConverter(
            provider=call.instance, request_id=headers.get("request-id"),
            answer_tool=answer_tool, secrets=call.secrets)

    def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        return stream_call(lambda: self._stream(request))

    async def generate(self, request: ChatRequest) -> ChatResult:
        call, answer_tool = self._call(request, stream=False)

        def convert(headers: httpx.Headers, data: Any) -> list[StreamEvent]:
            if not isinstance(data, dict):
                raise StreamBrokenError(f"{call.instance}: the response is not a JSON object",
                                        provider=call.instance,
                                        request_id=headers.get("request-id"),
                                        secrets=call.secrets)
            return convert_response(data, provider=call.instance,
                                    request_id=headers.get("request-id"),
                                    answer_tool=answer_tool, secrets=call.secrets)

        return await generate_call(call, convert)
