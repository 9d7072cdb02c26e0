"""Mistral chunks -> neutral events, one chunk at a time.

Stream chunks are OpenAI-like (``choices[0].delta``, ``finish_reason``); the last chunk
carries ``usage`` without any ``stream_options``, and ``data: [DONE]`` ends the stream
(https://docs.mistral.ai/api/#tag/chat). Quirks handled here:

- ``delta.content`` is a string, or (Magistral reasoning models) a list of chunks where
  ``{"type": "thinking", "thinking": [{"type": "text", ...}]}`` is reasoning and
  ``{"type": "text"}`` is answer (https://docs.mistral.ai/capabilities/reasoning/).
- Tool calls usually arrive whole in one delta (id, name and all arguments), but are
  accepted fragmented too: later pieces with the same ``index`` and no new id append to
  the arguments. Mistral's ``ToolCall.id`` defaults to the string ``"null"``, which counts
  as "no id". ``arguments`` may be a JSON object instead of a string.
- Complete ``ToolCall`` events are emitted when the choice reports its finish reason;
  ``Finish`` only at ``[DONE]`` (no end marker = a broken stream, decided by the caller).

The non-streaming response goes through the same converter (``message`` in place of
``delta``), so both modes share one path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from switchboard.providers.mistral.convert_usage import convert_usage
from switchboard.providers.mistral.map_finish import map_finish
from switchboard.providers.mistral.tool_ids import mistral_tool_id
from switchboard.spec import (
    ErrorEvent,
    Finish,
    ReasoningDelta,
    ResponseMetadata,
    StreamBrokenError,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)
from switchboard.upstream import SSEEvent, error_from_event

KIND = "mistral"


@dataclass(slots=True)
class _Call:
    id: str
    name: str
    ordinal: int
    args: list[str] = field(default_factory=list)
    emitted: bool = False


def is_error_payload(chunk: dict[str, Any]) -> bool:
    """An error object sent in place of a chunk (``{"object": "error", ...}``)."""
    if "choices" in chunk:
        return False
    return chunk.get("object") == "error" or any(k in chunk for k in ("error", "detail",
                                                                       "message"))


class StreamConverter:
    """Feed decoded chunks; call ``done()`` at the end marker. ``provider`` is the
    instance name its errors carry."""

    def __init__(self, request_id: str | None = None, secrets: tuple[str, ...] = (),
                 provider: str = KIND) -> None:
        self.provider = provider
        self.request_id = request_id
        self.secrets = secrets  # the call's key: redacted from any error built here
        self.usage: Usage | None = None
        self.finish_raw: str | None = None
        self._response_id: str | None = None
        self._metadata_sent = False
        self._calls: list[_Call] = []
        self._by_index: dict[int, _Call] = {}
        self._reasoning_blocks = 0
        self._in_reasoning = False

    # -- entry points ------------------------------------------------------------
    def feed(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        if is_error_payload(chunk):
            error = error_from_event(self.provider, chunk, request_id=self.request_id,
                                     secrets=self.secrets)
            return [ErrorEvent(error, usage=self.usage)]
        events: list[StreamEvent] = []
        if not self._metadata_sent:
            self._metadata_sent = True
            self._response_id = _str(chunk.get("id"))
            events.append(ResponseMetadata(
                response_id=self._response_id,
                model=_str(chunk.get("model")),
                request_id=self.request_id,
            ))
        usage = convert_usage(chunk.get("usage"))
        if usage is not None:
            self.usage = usage
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue  # we never ask for n > 1
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta, dict):
                events.extend(self._content(delta.get("content")))
                events.extend(self._tool_calls(delta.get("tool_calls")))
            reason = choice.get("finish_reason")
            if isinstance(reason, str):
                self.finish_raw = reason
                events.extend(self._complete_calls())
        return events

    def done(self) -> list[StreamEvent]:
        """The end marker arrived: complete any open tool call, then ``Finish``."""
        events = self._complete_calls()
        events.append(Finish(map_finish(self.finish_raw), self.usage or Usage()))
        return events

    def sse(self, event: SSEEvent) -> list[StreamEvent]:
        """``upstream.driver``'s entry point: one SSE event (only its ``data`` matters)."""
        if event.data == "[DONE]":
            return self.done()
        try:
            chunk = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            chunk = None
        if not isinstance(chunk, dict):
            return [ErrorEvent(StreamBrokenError(
                f"{self.provider}: the stream sent a chunk that is not a JSON object: "
                f"{event.data[:200]!r}", provider=self.provider,
                request_id=self.request_id, secrets=self.secrets,
            ), usage=self.usage)]
        return self.feed(chunk)

    def end(self) -> list[StreamEvent]:
        """The body ended without ``data: [DONE]``."""
        return [ErrorEvent(StreamBrokenError(
            f"{self.provider}: the stream ended without its end marker (data: [DONE])",
            provider=self.provider, request_id=self.request_id, secrets=self.secrets,
        ), usage=self.usage)]

    # -- content -----------------------------------------------------------------
    def _content(self, content: Any) -> list[StreamEvent]:
        if isinstance(content, str):
            return self._text(content)
        if not isinstance(content, list):
            return []
        events: list[StreamEvent] = []
        for chunk in content:
            if not isinstance(chunk, dict):
                continue
            kind = chunk.get("type")
            if kind == "text":
                events.extend(self._text(_str(chunk.get("text")) or ""))
            elif kind == "thinking":
                events.extend(self._thinking(chunk))
            # "reference" / "tool_reference" chunks (citations of built-in tools) carry
            # no text of the answer; they are not part of the neutral stream.
        return events

    def _text(self, text: str) -> list[StreamEvent]:
        if not text:
            return []
        self._in_reasoning = False
        return [TextDelta(text)]

    def _thinking(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        if not self._in_reasoning:
            self._in_reasoning = True
            self._reasoning_blocks += 1
        block = str(self._reasoning_blocks - 1)
        events: list[StreamEvent] = []
        for inner in chunk.get("thinking") or []:
            if isinstance(inner, dict) and inner.get("type", "text") == "text":
                text = _str(inner.get("text"))
                if text:
                    events.append(ReasoningDelta(text, id=block))
        signature = _str(chunk.get("signature"))
        if signature:
            events.append(ReasoningDelta("", id=block,
                                         provider_metadata={KIND: {"signature": signature}}))
        return events

    # -- tool calls --------------------------------------------------------------
    def _tool_calls(self, calls: Any) -> list[StreamEvent]:
        if not isinstance(calls, list):
            return []
        events: list[StreamEvent] = []
        for position, raw in enumerate(calls):
            if not isinstance(raw, dict):
                continue
            function: dict[str, Any] = raw.get("function") or {}
            if not isinstance(function, dict):
                function = {}
            given_id = _str(raw.get("id"))
            if given_id == "null":
                given_id = None
            index = raw.get("index")
            key = index if isinstance(index, int) else position
            call = self._by_index.get(key)
            if call is None or call.emitted or (given_id is not None and given_id != call.id):
                ordinal = len(self._calls)
                call = _Call(
                    id=given_id or mistral_tool_id(f"{self._response_id}:{ordinal}"),
                    name=_str(function.get("name")) or "",
                    ordinal=ordinal,
                )
                self._calls.append(call)
                self._by_index[key] = call
                events.append(ToolCallStart(call.id, call.name, index=ordinal))
            elif not call.name:
                call.name = _str(function.get("name")) or ""
            args = function.get("arguments")
            piece = json.dumps(args) if isinstance(args, dict) else _str(args)
            if piece:
                call.args.append(piece)
                events.append(ToolCallDelta(call.id, piece, index=call.ordinal))
        return events

    def _complete_calls(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for call in self._calls:
            if not call.emitted:
                call.emitted = True
                events.append(ToolCall(call.id, call.name, "".join(call.args) or "{}",
                                       index=call.ordinal))
        return events


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
