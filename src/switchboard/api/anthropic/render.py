"""Neutral events -> Anthropic Messages output (SSE events, or one ``message`` body).

The stream follows https://docs.anthropic.com/en/docs/build-with-claude/streaming:
``message_start`` (an empty message), then per content block ``content_block_start`` /
``content_block_delta`` (``text_delta``, ``input_json_delta``, ``thinking_delta``,
``signature_delta``) / ``content_block_stop``, then ``message_delta`` (``stop_reason``
and the usage totals) and ``message_stop``; a ``ping`` after the start. A failure once
the stream has started is an ``event: error`` (the SDK raises it).

A picture the model answered with (Gemini's image output) is an ``image`` block in its
place among the text blocks, in the shape Anthropic gives images sent to a model
(``{"type": "image", "source": {"type": "base64", "media_type", "data"}}``): the
Messages API has no block for pictures a model makes (decision 0232). Streamed, it comes
whole in ``content_block_start``, followed at once by its ``content_block_stop``.

Blocks are sequential on this wire, while the neutral stream may interleave kinds: a
block is closed whenever a different block begins. Usage follows Anthropic's convention
(``input_tokens`` WITHOUT the cache reads and writes, which are counted apart), converted
from the neutral one where the whole prompt is ``input_tokens``. The prompt size is not
known before the vendor's last event for most vendors, so ``message_start`` says 0 and
``message_delta`` carries the totals (the SDK takes them from there).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson

from switchboard.api.anthropic.errors import error_body
from switchboard.spec import (
    ChatResult,
    ErrorEvent,
    Finish,
    FinishReason,
    ImageOutput,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)

KIND = "anthropic"
_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
         "content_filter": "refusal", "error": "end_turn", "other": "end_turn"}


def stop_reason(finish: FinishReason | None) -> str:
    """Anthropic's ``stop_reason``; a stop sequence keeps its own name where the vendor
    said so (Anthropic's ``stop_sequence``, passed through as the raw reason)."""
    if finish is None:
        return "end_turn"
    if finish.raw in ("stop_sequence", "pause_turn", "refusal"):
        return finish.raw
    return _STOP[finish.unified]


def usage_body(usage: Usage) -> dict[str, Any]:
    """Anthropic's usage block (unknown counts as 0: the wire needs integers)."""
    cached = usage.cached_input_tokens or 0
    written = usage.cache_write_tokens or 0
    return {"input_tokens": max((usage.input_tokens or 0) - cached - written, 0),
            "output_tokens": usage.output_tokens or 0,
            "cache_creation_input_tokens": written, "cache_read_input_tokens": cached}


def _input(arguments: str) -> Any:
    """A tool call's arguments as the JSON value Anthropic's ``input`` holds; arguments
    that are not a JSON object (a model cut short) are kept whole under ``_raw``."""
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        return {"_raw": arguments}
    return value if isinstance(value, dict) else {"_raw": arguments}


def _signature(meta: dict[str, dict[str, Any]] | None) -> str | None:
    ours = (meta or {}).get(KIND) or {}
    sig = ours.get("signature")
    return sig if isinstance(sig, str) else None


def _picture(media_type: str, data: str) -> dict[str, Any]:
    """A picture as Anthropic's ``image`` block with a base64 source (decision 0232)."""
    return {"type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data}}


def message_body(result: ChatResult, message_id: str, model: str) -> dict[str, Any]:
    """The non-streaming ``message`` object."""
    content: list[dict[str, Any]] = []
    for part in result.parts:
        if part.type == "text":
            if part.text:
                content.append({"type": "text", "text": part.text})
        elif part.type == "image" and part.data is not None:
            content.append(_picture(part.media_type, part.data))
        elif part.type == "reasoning":
            ours = (part.provider_metadata or {}).get(KIND) or {}
            if ours.get("redacted_data"):
                content.append({"type": "redacted_thinking", "data": ours["redacted_data"]})
            else:
                content.append({"type": "thinking", "thinking": part.text,
                                "signature": _signature(part.provider_metadata) or ""})
        elif part.type == "tool-call":
            content.append({"type": "tool_use", "id": part.id, "name": part.name,
                            "input": _input(part.arguments)})
    return {"id": message_id, "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop_reason(result.finish_reason),
            "stop_sequence": None, "usage": usage_body(result.usage)}


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class EventEncoder:
    """One stream's events as Anthropic SSE events, keeping block indexes."""

    __slots__ = ("_id", "_model", "_index", "_open", "_tools", "_sent", "finished")

    def __init__(self, message_id: str, model: str) -> None:
        self._id = message_id
        self._model = model
        self._index = -1
        self._open: tuple[str, str] | None = None  # (block kind, key) of the open block
        self._tools: dict[str, int] = {}  # tool call id -> its block index
        self._sent: dict[str, str] = {}  # arguments already streamed per call
        self.finished = False

    def start(self) -> bytes:
        message: dict[str, Any] = {
            "id": self._id, "type": "message", "role": "assistant", "content": [],
            "model": self._model, "stop_reason": None, "stop_sequence": None,
            "usage": usage_body(Usage())}
        return (_event("message_start", {"type": "message_start", "message": message})
                + _event("ping", {"type": "ping"}))

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return _event("content_block_stop", {"type": "content_block_stop",
                                             "index": self._index})

    def _begin(self, kind: str, key: str, block: dict[str, Any]) -> bytes:
        out = self._close()
        self._index += 1
        self._open = (kind, key)
        return out + _event("content_block_start", {"type": "content_block_start",
                                                    "index": self._index,
                                                    "content_block": block})

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return _event("content_block_delta", {"type": "content_block_delta",
                                              "index": self._index, "delta": delta})

    def encode(self, event: StreamEvent) -> bytes:
        """The bytes to send for one event (may be empty)."""
        if isinstance(event, TextDelta):
            if not event.text:
                return b""
            out = b"" if self._open == ("text", "") else self._begin(
                "text", "", {"type": "text", "text": ""})
            return out + self._delta({"type": "text_delta", "text": event.text})
        if isinstance(event, ReasoningDelta):
            return self._reasoning(event)
        if isinstance(event, ToolCallStart):
            self._sent[event.id] = ""
            out = self._begin("tool", event.id, {"type": "tool_use", "id": event.id,
                                                 "name": event.name, "input": {}})
            self._tools[event.id] = self._index
            return out
        if isinstance(event, ToolCallDelta):
            if self._open != ("tool", event.id) or not event.arguments_delta:
                return b""  # a call interleaved with another: its arguments come whole
            self._sent[event.id] += event.arguments_delta
            return self._delta({"type": "input_json_delta",
                                "partial_json": event.arguments_delta})
        if isinstance(event, ToolCall):
            return self._tool_call(event)
        if isinstance(event, ImageOutput):  # whole: its block opens and closes at once
            data = base64.b64encode(event.data).decode("ascii")
            return self._begin("image", "", _picture(event.media_type, data)) + self._close()
        if isinstance(event, StreamStart):
            return self.start()
        if isinstance(event, Finish):
            return self.finish(event)
        if isinstance(event, ErrorEvent):
            self.finished = True
            return self._close() + _event("error", error_body(event.error))
        return b""

    def _reasoning(self, event: ReasoningDelta) -> bytes:
        ours = (event.provider_metadata or {}).get(KIND) or {}
        if ours.get("redacted_data"):
            return self._begin("redacted", event.id, {"type": "redacted_thinking",
                                                      "data": ours["redacted_data"]})
        out = b""
        if self._open != ("thinking", event.id):
            out = self._begin("thinking", event.id,
                              {"type": "thinking", "thinking": "", "signature": ""})
        if event.text:
            out += self._delta({"type": "thinking_delta", "thinking": event.text})
        signature = _signature(event.provider_metadata)
        if signature:
            out += self._delta({"type": "signature_delta", "signature": signature})
        return out

    def _tool_call(self, event: ToolCall) -> bytes:
        sent = self._sent.get(event.id)
        if sent is not None and self._open == ("tool", event.id):
            rest = event.arguments[len(sent):] if event.arguments.startswith(sent) else ""
            self._sent[event.id] = event.arguments
            return self._delta({"type": "input_json_delta", "partial_json": rest}) \
                if rest else b""
        if sent is not None and sent == event.arguments:
            return b""  # streamed whole, and its block already closed
        # Sent whole by the adapter, or interleaved with another call: one block for it.
        self._sent[event.id] = event.arguments
        out = self._begin("tool", event.id, {"type": "tool_use", "id": event.id,
                                             "name": event.name, "input": {}})
        if event.arguments:
            out += self._delta({"type": "input_json_delta", "partial_json": event.arguments})
        return out

    def finish(self, event: Finish) -> bytes:
        self.finished = True
        delta = {"type": "message_delta",
                 "delta": {"stop_reason": stop_reason(event.finish_reason),
                           "stop_sequence": None},
                 "usage": usage_body(event.usage)}
        return (self._close() + _event("message_delta", delta)
                + _event("message_stop", {"type": "message_stop"}))
