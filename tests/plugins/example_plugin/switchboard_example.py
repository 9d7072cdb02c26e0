"""``example``: a complete, minimal Switchboard provider plugin.

It adapts a deliberately tiny chat API (the "Example Chat API") so that the whole
contract fits on one screen. The wire, as its (imaginary) vendor documents it:

- ``POST {base_url}/chat`` with ``Authorization: Bearer <key>`` and
  ``{"model", "messages": [{"role": "system"|"user"|"assistant", "content": str}],
  "stream": bool, "max_tokens"?, "temperature"?, "stop"?}``.
- Non-streaming answer: ``{"id", "model", "text", "finish": "stop"|"length",
  "usage": {"input": int, "output": int}}``.
- Streaming answer (SSE): ``event: delta`` / ``{"text"}`` per chunk, then
  ``event: done`` / ``{"id", "model", "finish", "usage"}``; a failure mid-stream is
  ``event: error`` / ``{"error": {"type", "message"}}``.
- Errors before the answer: an HTTP status with ``{"error": {"type", "message"}}``.
- ``GET {base_url}/models`` -> ``{"models": [{"id", "context"}]}``.

Everything else — retries, usage accounting, prices, routing ``example:MODEL`` — is
Switchboard's job. See docs/writing-a-provider.md.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from switchboard.spec import (
    CallWarning,
    Capabilities,
    ChatModel,
    ChatRequest,
    ChatResult,
    ErrorEvent,
    Finish,
    FinishReason,
    ModelInfo,
    Provider,
    ProviderConfig,
    ProviderError,
    ResponseMetadata,
    StreamBrokenError,
    StreamEvent,
    StreamStart,
    TextDelta,
    Usage,
    collect,
)
from switchboard.upstream import (
    aiter_sse,
    error_from_event,
    iter_bytes,
    open_stream,
    request_json,
)

# Settings of ChatRequest this API has no field for: reported, never silently dropped.
_UNSUPPORTED = ("top_p", "top_k", "frequency_penalty", "presence_penalty", "seed",
                "tools", "tool_choice", "parallel_tool_calls", "response_format",
                "reasoning_effort")


class ExampleConfig(ProviderConfig):
    """Settings of one ``example`` instance (unknown settings are refused)."""

    greeting: str | None = None  # an example of a vendor-only setting


class ExampleProvider(Provider):
    kind: ClassVar[str] = "example"
    display_name: ClassVar[str] = "Example Chat API"
    Config: ClassVar[type[ProviderConfig]] = ExampleConfig
    api_key_env: ClassVar[str | None] = "EXAMPLE_API_KEY"
    base_url_env: ClassVar[str | None] = "EXAMPLE_BASE_URL"
    default_base_url: ClassVar[str | None] = "https://api.example.com/v1"
    default_model: ClassVar[str | None] = "example-small"
    docs_url: ClassVar[str | None] = "https://example.com/docs/chat"

    def chat_model(self, model_id: str) -> ChatModel:
        return ExampleChatModel(self, model_id)

    def capabilities(self, model_id: str) -> Capabilities:
        return Capabilities(streaming=True)

    async def list_models(self) -> list[ModelInfo]:
        key = self.require_api_key()
        data, _ = await request_json(self.name, "GET", f"{self.base_url}/models",
                                     headers=_auth(key), secrets=(key,))
        return [ModelInfo(id=m["id"], context_window=m.get("context"),
                          capabilities=Capabilities(streaming=True))
                for m in data.get("models", [])]


class ExampleChatModel(ChatModel):
    provider: ExampleProvider

    def _body(self, request: ChatRequest, stream: bool) -> tuple[dict[str, Any],
                                                                 list[CallWarning]]:
        warnings = [CallWarning("unsupported-setting", f"the Example API ignores {name}",
                                setting=name)
                    for name in _UNSUPPORTED if getattr(request, name) is not None]
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        for message in request.messages:
            if any(p.type != "text" for p in message.parts) or message.role == "tool":
                warnings.append(CallWarning(
                    "unsupported-part",
                    f"the Example API takes text only; dropped the non-text parts of a "
                    f"{message.role} message"))
            if message.role != "tool" and message.text:
                messages.append({"role": message.role, "content": message.text})
        body: dict[str, Any] = {"model": self.model_id, "messages": messages,
                                "stream": stream}
        if request.max_output_tokens is not None:
            body["max_tokens"] = request.max_output_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.stop:
            body["stop"] = request.stop
        return body, warnings

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        p = self.provider
        key = p.require_api_key()  # before any network I/O
        body, warnings = self._body(request, stream=True)
        # Status errors raise here, before the first event: the framework may retry them.
        async with open_stream(p.name, "POST", f"{p.base_url}/chat", headers=_auth(key),
                               body=body, secrets=(key,),
                               read_timeout=p.config.timeout) as response:
            yield StreamStart(warnings)
            try:
                async for sse in aiter_sse(iter_bytes(p.name, response)):
                    data = json.loads(sse.data)
                    if sse.event == "delta":
                        yield TextDelta(data["text"])
                    elif sse.event == "error":
                        yield ErrorEvent(error_from_event(p.name, data))
                        return
                    elif sse.event == "done":
                        yield ResponseMetadata(response_id=data.get("id"),
                                               model=data.get("model"))
                        yield Finish(_finish(data), _usage(data))
                        return
            except ProviderError as exc:  # the connection broke or went silent
                yield ErrorEvent(exc)
                return
            yield ErrorEvent(StreamBrokenError(f"{p.name}: stream ended without 'done'",
                                               provider=p.name))

    async def generate(self, request: ChatRequest) -> ChatResult:
        p = self.provider
        key = p.require_api_key()
        body, warnings = self._body(request, stream=False)
        data, _ = await request_json(p.name, "POST", f"{p.base_url}/chat",
                                     headers=_auth(key), body=body, secrets=(key,),
                                     read_timeout=p.config.timeout)
        return collect([
            StreamStart(warnings),
            ResponseMetadata(response_id=data.get("id"), model=data.get("model")),
            TextDelta(data.get("text", "")),
            Finish(_finish(data), _usage(data)),
        ])


def _auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _finish(data: dict[str, Any]) -> FinishReason:
    raw = data.get("finish")
    return FinishReason("length" if raw == "length" else "stop" if raw == "stop" else "other",
                        raw)


def _usage(data: dict[str, Any]) -> Usage:
    usage = data.get("usage") or {}
    return Usage(input_tokens=usage.get("input"), output_tokens=usage.get("output"),
                 raw=usage)
