"""Neutral events -> OpenAI Responses output (the ``response`` object, or its stream).

The stream follows https://platform.openai.com/docs/api-reference/responses-streaming:
``response.created``, ``response.in_progress``, then per output item
``response.output_item.added`` ... ``response.output_item.done`` — a message holds one
``output_text`` part (``response.content_part.added``, ``response.output_text.delta`` x
n, ``response.output_text.done``, ``response.content_part.done``), a function call
streams ``response.function_call_arguments.delta`` / ``.done``, reasoning streams as a
summary (``response.reasoning_summary_part.added``, ``..._text.delta`` / ``.done``,
``..._part.done``), a picture the model answered with (Gemini's image output) is an
``image_generation_call`` item (``response.image_generation_call.in_progress``,
``.generating``, ``.completed``, all at once: the vendor gives a picture only when it
is finished, so there is no ``.partial_image``; the base64 is in the item of
``response.output_item.done``) — then ``response.completed`` (``response.incomplete``
when cut by ``max_output_tokens`` or a content filter; ``error`` + ``response.failed``
when the provider failed mid-answer). Every event carries ``sequence_number`` from 0.

Output items are sequential on this wire; a new kind of output closes the open item. A
picture is an item of its own among the ``message`` items, as OpenAI's image generation
tool gives it: the text before it and the text after it are two messages, so the
answer keeps its order (decision 0233).
Reasoning from any provider is shown as its summary text; the provider's opaque data
travels in ``encrypted_content`` (``convert_request.encode_reasoning``).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson

from switchboard.api.openai.render import logprobs_body
from switchboard.api.responses.convert_request import OUTPUT_FORMATS, encode_reasoning
from switchboard.spec import (
    ChatResult,
    ErrorEvent,
    Finish,
    FinishReason,
    ImageOutput,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    SwitchboardError,
    TextDelta,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def usage_body(usage: Usage) -> dict[str, Any]:
    """The Responses usage block (unknown counts sent as 0: the wire needs integers)."""
    prompt = usage.input_tokens or 0
    output = usage.output_tokens or 0
    return {"input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": usage.cached_input_tokens or 0,
                                     "cache_write_tokens": usage.cache_write_tokens or 0},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
            "total_tokens": prompt + output}


def _incomplete(finish: FinishReason | None) -> dict[str, str] | None:
    if finish is not None and finish.unified == "length":
        return {"reason": "max_output_tokens"}
    if finish is not None and finish.unified == "content_filter":
        return {"reason": "content_filter"}
    return None


@dataclass(slots=True)
class Frame:
    """What every ``response`` object of one call repeats: its id and the request's
    settings echoed back, as OpenAI does."""

    id: str
    created_at: int
    model: str
    echo: dict[str, Any]
    """instructions, tools, tool_choice, text, reasoning, ... as the caller sent them."""
    output: list[dict[str, Any]] = field(default_factory=list)

    def body(self, status: str, usage: Usage | None = None,
             error: SwitchboardError | None = None,
             incomplete: dict[str, str] | None = None) -> dict[str, Any]:
        body = {"id": self.id, "object": "response", "created_at": self.created_at,
                "status": status, "model": self.model,
                "error": ({"code": _error_code(error), "message": error.message}
                          if error is not None else None),
                "incomplete_details": incomplete, **self.echo,
                "output": list(self.output)}
        if usage is not None:  # not nullable in OpenAI's schema: absent until known
            body["usage"] = usage_body(usage)
        return body


def _error_code(error: SwitchboardError) -> str:
    """One of the codes OpenAI's ``ResponseError`` allows."""
    if error.code in ("rate_limited", "rate_limit_exceeded"):
        return "rate_limit_exceeded"
    return "server_error"


def _message(item_id: str, text: str, status: str,
             logprobs: list[TokenLogprob] | None = None) -> dict[str, Any]:
    return {"type": "message", "id": item_id, "status": status, "role": "assistant",
            "content": [_text_part(text, logprobs)] if status == "completed" or text else []}


def _text_part(text: str, logprobs: list[TokenLogprob] | None = None) -> dict[str, Any]:
    body = logprobs_body(logprobs)
    return {"type": "output_text", "text": text, "annotations": [],
            "logprobs": body["content"] if body else []}


def _call(item_id: str, call_id: str, name: str, arguments: str,
          status: str) -> dict[str, Any]:
    return {"type": "function_call", "id": item_id, "call_id": call_id, "name": name,
            "arguments": arguments, "status": status}


def _reasoning(item_id: str, text: str, meta: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "reasoning", "id": item_id,
            "summary": [{"type": "summary_text", "text": text}] if text else [],
            "encrypted_content": encode_reasoning(meta)}


def _picture(item_id: str, data: str | None, media_type: str,
             status: str) -> dict[str, Any]:
    """An ``image_generation_call`` item (OpenAI's ``ImageGenToolCall``): ``result`` is
    the picture in base64, null until it is done."""
    item: dict[str, Any] = {"type": "image_generation_call", "id": item_id,
                            "status": status, "result": data}
    fmt = OUTPUT_FORMATS.get(media_type)  # the item's only word for the format
    if fmt is not None and data is not None:
        item["output_format"] = fmt
    return item


def output_items(result: ChatResult) -> list[dict[str, Any]]:
    """A folded answer's output items, in the order they were produced."""
    items: list[dict[str, Any]] = []
    logprobs = result.logprobs
    for part in result.parts:
        if part.type == "text" and part.text:
            items.append(_message(new_id("msg"), part.text, "completed", logprobs))
            logprobs = None
        elif part.type == "image" and part.data is not None:
            items.append(_picture(new_id("ig"), part.data, part.media_type, "completed"))
        elif part.type == "reasoning":
            items.append(_reasoning(new_id("rs"), part.text, part.provider_metadata))
        elif part.type == "tool-call":
            items.append(_call(new_id("fc"), part.id, part.name, part.arguments,
                               "completed"))
    return items


def response_body(frame: Frame, result: ChatResult) -> dict[str, Any]:
    """The non-streaming ``response`` object."""
    frame.output = output_items(result)
    if result.error is not None:  # cut short after some output: the part already made
        return frame.body("failed", result.usage, result.error)
    incomplete = _incomplete(result.finish_reason)
    return frame.body("incomplete" if incomplete else "completed", result.usage,
                      incomplete=incomplete)


class _Open:
    """The output item being streamed."""

    __slots__ = ("kind", "key", "index", "item_id", "text", "meta", "call_id", "name",
                 "logprobs")

    def __init__(self, kind: str, key: str, index: int, item_id: str) -> None:
        self.kind = kind
        self.key = key
        self.index = index
        self.item_id = item_id
        self.text: list[str] = []
        self.meta: dict[str, Any] | None = None
        self.call_id = ""
        self.name = ""
        self.logprobs: list[TokenLogprob] | None = None


class EventEncoder:
    """One stream's events as Responses SSE events, with sequence numbers."""

    __slots__ = ("frame", "_seq", "_open", "_calls", "finished", "final")

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self._seq = 0
        self._open: _Open | None = None
        self._calls: dict[str, str] = {}  # call id -> arguments streamed while open
        self.finished = False
        self.final: dict[str, Any] | None = None
        """The last ``response`` object (completed, incomplete or failed), once sent."""

    def _event(self, kind: str, data: dict[str, Any]) -> bytes:
        data = {"type": kind, "sequence_number": self._seq, **data}
        self._seq += 1
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    def start(self) -> bytes:
        body = self.frame.body("in_progress")
        return (self._event("response.created", {"response": body})
                + self._event("response.in_progress", {"response": body}))

    def _close(self) -> bytes:
        item = self._open
        if item is None:
            return b""
        self._open = None
        where = {"item_id": item.item_id, "output_index": item.index}
        text = "".join(item.text)
        if item.kind == "text":
            part = _text_part(text, item.logprobs)
            done = _message(item.item_id, text, "completed", item.logprobs)
            out = (self._event("response.output_text.done",
                               {**where, "content_index": 0, "text": text,
                                "logprobs": part["logprobs"]})
                   + self._event("response.content_part.done",
                                 {**where, "content_index": 0, "part": part}))
        elif item.kind == "reasoning":
            done = _reasoning(item.item_id, text, item.meta)
            out = b""
            if text:
                summary = {"type": "summary_text", "text": text}
                out = (self._event("response.reasoning_summary_text.done",
                                   {**where, "summary_index": 0, "text": text})
                       + self._event("response.reasoning_summary_part.done",
                                     {**where, "summary_index": 0, "part": summary}))
        else:
            done = _call(item.item_id, item.call_id, item.name, text, "completed")
            out = self._event("response.function_call_arguments.done",
                              {**where, "name": item.name, "arguments": text})
        self.frame.output.append(done)
        return out + self._event("response.output_item.done",
                                 {"output_index": item.index, "item": done})

    def _begin(self, kind: str, key: str, prefix: str) -> tuple[bytes, _Open]:
        out = self._close()
        item = self._open = _Open(kind, key, len(self.frame.output), new_id(prefix))
        return out, item

    def encode(self, event: StreamEvent) -> bytes:
        """The bytes to send for one event (may be empty)."""
        if isinstance(event, TextDelta):
            return self._text(event)
        if isinstance(event, ToolCallDelta):
            item = self._open
            if item is None or item.kind != "call" or item.key != event.id:
                return b""  # interleaved with another call: its arguments come whole
            item.text.append(event.arguments_delta)
            return self._event("response.function_call_arguments.delta",
                               {"item_id": item.item_id, "output_index": item.index,
                                "delta": event.arguments_delta})
        if isinstance(event, ReasoningDelta):
            return self._reasoning_delta(event)
        if isinstance(event, ToolCallStart):
            return self._call_start(event.id, event.name)
        if isinstance(event, ToolCall):
            return self._call_whole(event)
        if isinstance(event, ImageOutput):
            return self._picture(event)
        if isinstance(event, StreamStart):
            return self.start()
        if isinstance(event, Finish):
            return self.finish(event)
        if isinstance(event, ErrorEvent):
            return self.fail(event.error, event.usage)
        return b""

    def _text(self, event: TextDelta) -> bytes:
        if not event.text and event.logprobs is None:
            return b""
        out = b""
        item = self._open
        if item is None or item.kind != "text":
            out, item = self._begin("text", "", "msg")
            where = {"item_id": item.item_id, "output_index": item.index}
            out += self._event("response.output_item.added",
                               {"output_index": item.index,
                                "item": _message(item.item_id, "", "in_progress")})
            out += self._event("response.content_part.added",
                               {**where, "content_index": 0, "part": _text_part("")})
        item.text.append(event.text)
        if event.logprobs is not None:
            item.logprobs = [*(item.logprobs or []), *event.logprobs]
        body = logprobs_body(event.logprobs)
        return out + self._event("response.output_text.delta", {
            "item_id": item.item_id, "output_index": item.index, "content_index": 0,
            "delta": event.text, "logprobs": body["content"] if body else []})

    def _picture(self, event: ImageOutput) -> bytes:
        """A whole picture: its item added, generated and done at once (it never stays
        open: the next output begins a new item)."""
        out = self._close()
        index, item_id = len(self.frame.output), new_id("ig")
        where = {"output_index": index, "item_id": item_id}
        done = _picture(item_id, base64.b64encode(event.data).decode("ascii"),
                        event.media_type, "completed")
        self.frame.output.append(done)
        return (out + self._event("response.output_item.added", {
                    "output_index": index,
                    "item": _picture(item_id, None, event.media_type, "in_progress")})
                + self._event("response.image_generation_call.in_progress", where)
                + self._event("response.image_generation_call.generating", where)
                + self._event("response.image_generation_call.completed", where)
                + self._event("response.output_item.done",
                              {"output_index": index, "item": done}))

    def _reasoning_delta(self, event: ReasoningDelta) -> bytes:
        out = b""
        item = self._open
        if item is None or item.kind != "reasoning" or item.key != event.id:
            out, item = self._begin("reasoning", event.id, "rs")
            out += self._event("response.output_item.added", {
                "output_index": item.index, "item": _reasoning(item.item_id, "", None)})
        where = {"item_id": item.item_id, "output_index": item.index}
        if event.text:
            if not item.text:
                out += self._event("response.reasoning_summary_part.added", {
                    **where, "summary_index": 0,
                    "part": {"type": "summary_text", "text": ""}})
            item.text.append(event.text)
            out += self._event("response.reasoning_summary_text.delta",
                               {**where, "summary_index": 0, "delta": event.text})
        if event.provider_metadata:
            merged = dict(item.meta or {})
            for kind, values in event.provider_metadata.items():
                merged[kind] = {**merged.get(kind, {}), **values}
            item.meta = merged
        return out

    def _call_start(self, call_id: str, name: str) -> bytes:
        out, item = self._begin("call", call_id, "fc")
        item.call_id, item.name = call_id, name
        self._calls[call_id] = ""
        return out + self._event("response.output_item.added", {
            "output_index": item.index,
            "item": _call(item.item_id, call_id, name, "", "in_progress")})

    def _call_whole(self, event: ToolCall) -> bytes:
        item = self._open
        if item is not None and item.kind == "call" and item.key == event.id:
            sent = "".join(item.text)
            rest = event.arguments[len(sent):] if event.arguments.startswith(sent) else ""
            out = b""
            if rest:
                item.text.append(rest)
                out = self._event("response.function_call_arguments.delta",
                                  {"item_id": item.item_id, "output_index": item.index,
                                   "delta": rest})
            return out
        if any(o.get("call_id") == event.id for o in self.frame.output):
            return b""  # streamed whole, and its item already done
        out = self._call_start(event.id, event.name)
        item = self._open
        assert item is not None
        if event.arguments:
            item.text.append(event.arguments)
            out += self._event("response.function_call_arguments.delta",
                               {"item_id": item.item_id, "output_index": item.index,
                                "delta": event.arguments})
        return out

    def finish(self, event: Finish) -> bytes:
        out = self._close()
        self.finished = True
        incomplete = _incomplete(event.finish_reason)
        status = "incomplete" if incomplete else "completed"
        self.final = self.frame.body(status, event.usage, incomplete=incomplete)
        return out + self._event(f"response.{status}", {"response": self.final})

    def fail(self, error: SwitchboardError, usage: Usage | None) -> bytes:
        out = self._close()
        self.finished = True
        self.final = self.frame.body("failed", usage or Usage(), error)
        return (out + self._event("error", {"code": _error_code(error),
                                            "message": error.message, "param": None})
                + self._event("response.failed", {"response": self.final}))
