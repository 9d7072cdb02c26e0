"""Neutral events -> OpenAI Chat Completions output (chunks, or one completion body).

Streaming is on the hot path (one call per token), so each chunk is the precomputed
constant prefix + one small ``orjson`` dump of the delta + the constant suffix, rather
than a whole dict re-encoded per token. Shapes follow OpenAI's reference:
https://platform.openai.com/docs/api-reference/chat/streaming
Reasoning text is sent as ``reasoning_content`` (the DeepSeek convention that most
OpenAI-compatible clients read); OpenAI's own API has no field for it. Pictures a model
answers with (Gemini's image models) are sent as ``images``: a list of ``image_url``
parts with ``data:`` URLs, on the message or on a chunk's delta (OpenRouter's convention,
https://openrouter.ai/docs/features/multimodal/image-generation); OpenAI's Chat
Completions has no field for them either.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson

from switchboard.spec import (
    ChatResult,
    ErrorEvent,
    Finish,
    ImageOutput,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    UnifiedFinish,
    Usage,
)

FINISH: dict[UnifiedFinish, str] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "error": "stop",
    "other": "stop",
}
DONE = b"data: [DONE]\n\n"


def usage_body(usage: Usage) -> dict[str, Any]:
    """OpenAI's usage block. The wire needs integers, so unknown counts are sent as 0
    (our own accounting keeps them unknown)."""
    prompt = usage.input_tokens or 0
    completion = usage.output_tokens or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens or 0,
                                  "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0,
                                      "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }


def _token(t: TokenLogprob) -> dict[str, Any]:
    return {"token": t.token, "logprob": t.logprob, "bytes": t.bytes,
            "top_logprobs": [{"token": a.token, "logprob": a.logprob, "bytes": a.bytes}
                             for a in t.top]}


def logprobs_body(tokens: list[TokenLogprob] | None) -> dict[str, Any] | None:
    """A choice's ``logprobs`` object (None when they were not asked for)."""
    if tokens is None:
        return None
    return {"content": [_token(t) for t in tokens], "refusal": None}


class ChunkEncoder:
    """Turns one stream's events into SSE ``data:`` lines, keeping tool-call indexes.

    ``index`` is the choice the events belong to (``n > 1`` runs one encoder per choice);
    ``closes`` says whether its ``Finish`` also ends the response (usage chunk and
    ``[DONE]``), which with several choices is the merger's job (``closing``)."""

    __slots__ = ("_prefix", "_suffix", "_head", "_include_usage", "_tools", "_streamed",
                 "_closes", "finished")

    def __init__(self, completion_id: str, created: int, model: str, fingerprint: str,
                 include_usage: bool, index: int = 0, closes: bool = True) -> None:
        head = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                "model": model, "system_fingerprint": fingerprint}
        self._head = head
        self._prefix = (b"data: " + orjson.dumps(head)[:-1] + b',"choices":[{"index":'
                        + str(index).encode() + b',"delta":')
        self._suffix = b',"logprobs":null,"finish_reason":null}]}\n\n'
        self._include_usage = include_usage
        self._closes = closes
        self._tools: dict[str, int] = {}
        self._streamed: dict[str, str] = {}
        self.finished = False

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return self._prefix + orjson.dumps(delta) + self._suffix

    def _tool_index(self, call_id: str) -> int:
        index = self._tools.get(call_id)
        if index is None:
            index = self._tools[call_id] = len(self._tools)
        return index

    def encode(self, event: StreamEvent) -> bytes:
        """The bytes to send for one event (may be empty)."""
        if isinstance(event, TextDelta):
            if event.logprobs is not None:
                return (self._prefix + orjson.dumps({"content": event.text})
                        + b',"logprobs":' + orjson.dumps(logprobs_body(event.logprobs))
                        + b',"finish_reason":null}]}\n\n')
            return self._delta({"content": event.text}) if event.text else b""
        if isinstance(event, ToolCallDelta):
            self._streamed[event.id] = self._streamed.get(event.id, "") + event.arguments_delta
            call = {"index": self._tool_index(event.id),
                    "function": {"arguments": event.arguments_delta}}
            return self._delta({"tool_calls": [call]})
        if isinstance(event, ReasoningDelta):
            return self._delta({"reasoning_content": event.text}) if event.text else b""
        if isinstance(event, ImageOutput):
            return self._delta({"images": [_image_url(event.media_type, event.data)]})
        if isinstance(event, StreamStart):
            return self._delta({"role": "assistant", "content": "", "refusal": None})
        if isinstance(event, ToolCallStart):
            self._streamed[event.id] = ""
            call = {"index": self._tool_index(event.id), "id": event.id, "type": "function",
                    "function": {"name": event.name, "arguments": ""}}
            return self._delta({"tool_calls": [call]})
        if isinstance(event, ToolCall):
            return self._complete_call(event)
        if isinstance(event, Finish):
            return self.finish(event)
        if isinstance(event, ErrorEvent):
            from switchboard.api.openai.errors import error_body

            self.finished = True
            return b"data: " + orjson.dumps(error_body(event.error)) + b"\n\n"
        return b""

    def _complete_call(self, event: ToolCall) -> bytes:
        streamed = self._streamed.get(event.id)
        if streamed is None:  # the adapter sent the call whole
            call = {"index": self._tool_index(event.id), "id": event.id, "type": "function",
                    "function": {"name": event.name, "arguments": event.arguments}}
            self._streamed[event.id] = event.arguments
            return self._delta({"tool_calls": [call]})
        rest = event.arguments[len(streamed):] if event.arguments.startswith(streamed) else ""
        if not rest:
            return b""
        self._streamed[event.id] = event.arguments
        return self._delta({"tool_calls": [{"index": self._tool_index(event.id),
                                            "function": {"arguments": rest}}]})

    def finish(self, event: Finish) -> bytes:
        self.finished = True
        reason = FINISH[event.finish_reason.unified]
        last = (self._prefix + b"{}" + b',"logprobs":null,"finish_reason":'
                + orjson.dumps(reason) + b"}]}\n\n")
        return last + self.closing(event.usage) if self._closes else last

    def closing(self, usage: Usage) -> bytes:
        """The end of the response: the usage chunk (when asked for) and ``[DONE]``."""
        if self._include_usage:
            body = {**self._head, "choices": [], "usage": usage_body(usage)}
            return b"data: " + orjson.dumps(body) + b"\n\n" + DONE
        return DONE


def sum_usage(usages: Sequence[Usage]) -> Usage:
    """Several calls' usage as one (``n > 1``): counts added, unknown counted as 0, as the
    wire needs integers. Accounting keeps one row per call, each exact."""
    def total(name: str) -> int | None:
        values = [getattr(u, name) for u in usages]
        return None if all(v is None for v in values) else sum(v or 0 for v in values)
    return Usage(input_tokens=total("input_tokens"), output_tokens=total("output_tokens"),
                 cached_input_tokens=total("cached_input_tokens"),
                 cache_write_tokens=total("cache_write_tokens"),
                 reasoning_tokens=total("reasoning_tokens"))


def _choice(result: ChatResult, index: int) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": result.text if result.text or not result.tool_calls else None,
        "refusal": None,
        "annotations": [],
    }
    parts = result.parts
    if len(parts) != 1 or parts[0].type != "text":  # one text part: neither of these
        reasoning = "".join(p.text for p in parts if p.type == "reasoning")
        if reasoning:
            message["reasoning_content"] = reasoning
        images = [{"type": "image_url", "image_url": {"url": p.data_url()}}
                  for p in parts if p.type == "image"]
        if images:
            message["images"] = images
    if result.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": c.arguments}}
            for c in result.tool_calls
        ]
    finish = FINISH[result.finish_reason.unified] if result.finish_reason else "stop"
    logprobs = None if result.logprobs is None else logprobs_body(result.logprobs)
    return {"index": index, "message": message, "logprobs": logprobs, "finish_reason": finish}


def _image_url(media_type: str, data: bytes) -> dict[str, Any]:
    encoded = base64.b64encode(data).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{encoded}"}}


def completion_body(result: ChatResult | Sequence[ChatResult], completion_id: str,
                    created: int, model: str, fingerprint: str) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` object (one choice per result)."""
    results = [result] if isinstance(result, ChatResult) else list(result)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": fingerprint,
        "choices": [_choice(r, i) for i, r in enumerate(results)],
        "usage": usage_body(sum_usage([r.usage for r in results])
                            if len(results) > 1 else results[0].usage),
    }
