"""Anthropic's streaming events -> neutral ``StreamEvent``s.

https://docs.anthropic.com/en/docs/build-with-claude/streaming — a stream is
``message_start`` (id, model, initial usage), then per content block
``content_block_start`` / ``content_block_delta``... / ``content_block_stop``, then
``message_delta`` (stop reason, cumulative ``usage.output_tokens``) and ``message_stop``.
``ping`` may come at any time, ``error`` replaces the rest of the stream, and new event
or block types may appear at any time (Anthropic's versioning policy), so unknown ones are
ignored.

Deltas by block type: ``text_delta`` (text), ``thinking_delta`` and ``signature_delta``
(thinking: the signature must be echoed back, so it rides in ``provider_metadata``),
``input_json_delta`` (a tool call's arguments as partial JSON text). A
``redacted_thinking`` block arrives whole in its ``content_block_start``.

``StreamConverter`` is pure (no I/O): the adapter feeds it each decoded SSE event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

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

from .convert_usage import convert_usage, merge_raw
from .map_finish import map_finish

KIND = "anthropic"


@dataclass(slots=True)
class _Block:
    kind: str  # text | thinking | tool | answer | other
    id: str = ""
    name: str = ""
    tool_index: int = 0
    args: list[str] = field(default_factory=list)
    start_input: Any = None


class StreamConverter:
    """Feed ``(event name, data text)`` pairs; ``done`` once the stream has ended
    (``message_stop``, an ``error`` event, or an unreadable event)."""

    def __init__(self, *, provider: str = KIND, request_id: str | None = None,
                 answer_tool: str | None = None, secrets: tuple[str, ...] = ()) -> None:
        self.provider = provider
        self.request_id = request_id
        self.answer_tool = answer_tool
        self.secrets = secrets  # the call's key: redacted from any error built here
        self.done = False
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._blocks: dict[int, _Block] = {}
        self._tools = 0
        self._answered = False

    @property
    def usage(self) -> Usage | None:
        """Usage so far (None before any was reported)."""
        return convert_usage(self._usage) if self._usage else None

    def feed(self, event: str, data: str) -> list[StreamEvent]:
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            self.done = True
            return [ErrorEvent(StreamBrokenError(
                f"{self.provider}: unreadable stream event {event!r}: {data[:200]!r}",
                provider=self.provider, request_id=self.request_id, secrets=self.secrets,
            ), usage=self.usage)]
        kind = payload.get("type") or event
        handler = _HANDLERS.get(kind)
        return handler(self, payload) if handler is not None else []

    def sse(self, event: SSEEvent) -> list[StreamEvent]:
        """``upstream.driver``'s entry point: one SSE event."""
        return self.feed(event.event, event.data)

    def end(self) -> list[StreamEvent]:
        """The body ended before ``message_stop``."""
        return [ErrorEvent(StreamBrokenError(
            f"{self.provider}: the stream ended before message_stop (connection closed early)",
            provider=self.provider, request_id=self.request_id, secrets=self.secrets,
        ), usage=self.usage)]

    # -- message level -------------------------------------------------------------
    def _message_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        message = data.get("message") or {}
        merge_raw(self._usage, message.get("usage"))
        return [ResponseMetadata(response_id=message.get("id"), model=message.get("model"),
                                 request_id=self.request_id)]

    def _message_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        delta = data.get("delta") or {}
        merge_raw(self._usage, data.get("usage"))
        if delta.get("stop_reason"):
            self._stop_reason = delta["stop_reason"]
        if delta.get("stop_sequence"):
            return [ResponseMetadata(extra={"stop_sequence": delta["stop_sequence"]})]
        return []

    def _message_stop(self, data: dict[str, Any]) -> list[StreamEvent]:
        self.done = True
        reason = map_finish(self._stop_reason, answer_tool=self._answered and not self._tools)
        return [Finish(reason, self.usage or Usage())]

    def _error(self, data: dict[str, Any]) -> list[StreamEvent]:
        self.done = True
        return [ErrorEvent(error_from_event(self.provider, data, request_id=self.request_id,
                                            secrets=self.secrets), usage=self.usage)]

    # -- content blocks ------------------------------------------------------------
    def _block_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        index = int(data.get("index", 0))
        cb = data.get("content_block") or {}
        kind = cb.get("type")
        if kind == "text":
            self._blocks[index] = _Block("text")
            return [TextDelta(cb["text"])] if cb.get("text") else []
        if kind == "thinking":
            self._blocks[index] = _Block("thinking")
            meta = {KIND: {"signature": cb["signature"]}} if cb.get("signature") else None
            if cb.get("thinking") or meta:
                return [ReasoningDelta(cb.get("thinking") or "", str(index), meta)]
            return []
        if kind == "redacted_thinking":
            self._blocks[index] = _Block("other")
            return [ReasoningDelta("", str(index), {KIND: {"redacted_data": cb.get("data")}})]
        if kind == "tool_use":
            if self.answer_tool is not None and cb.get("name") == self.answer_tool:
                self._blocks[index] = _Block("answer", start_input=cb.get("input"))
                self._answered = True
                return []
            block = _Block("tool", id=str(cb.get("id")), name=str(cb.get("name")),
                           tool_index=self._tools, start_input=cb.get("input"))
            self._blocks[index] = block
            self._tools += 1
            return [ToolCallStart(block.id, block.name, block.tool_index)]
        self._blocks[index] = _Block("other")  # server tools, citations, future types
        return []

    def _block_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        index = int(data.get("index", 0))
        delta = data.get("delta") or {}
        kind = delta.get("type")
        block = self._blocks.get(index)
        if kind == "text_delta":
            return [TextDelta(delta.get("text", ""))]
        if kind == "thinking_delta":
            return [ReasoningDelta(delta.get("thinking", ""), str(index))]
        if kind == "signature_delta":
            return [ReasoningDelta("", str(index), {KIND: {"signature": delta.get("signature")}})]
        if kind == "input_json_delta" and block is not None:
            partial = delta.get("partial_json") or ""
            if not partial:
                return []
            block.args.append(partial)
            if block.kind == "answer":
                return [TextDelta(partial)]
            if block.kind == "tool":
                return [ToolCallDelta(block.id, partial, block.tool_index)]
        return []

    def _block_stop(self, data: dict[str, Any]) -> list[StreamEvent]:
        block = self._blocks.get(int(data.get("index", 0)))
        if block is None or block.kind not in ("tool", "answer"):
            return []
        arguments = "".join(block.args)
        if not arguments:
            arguments = orjson.dumps(block.start_input).decode() if block.start_input else "{}"
            if block.kind == "answer":
                return [TextDelta(arguments)]
        if block.kind == "answer":
            return []
        return [ToolCall(block.id, block.name, arguments, block.tool_index)]


_HANDLERS = {
    "message_start": StreamConverter._message_start,
    "message_delta": StreamConverter._message_delta,
    "message_stop": StreamConverter._message_stop,
    "content_block_start": StreamConverter._block_start,
    "content_block_delta": StreamConverter._block_delta,
    "content_block_stop": StreamConverter._block_stop,
    "error": StreamConverter._error,
    # "ping" and anything new: nothing to do.
}
