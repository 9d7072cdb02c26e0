"""Fake Anthropic: ``POST /v1/messages`` and ``GET /v1/models`` on Anthropic's wire.

Shapes follow the Messages API reference and its streaming guide
(https://docs.anthropic.com/en/api/messages, .../build-with-claude/streaming): every SSE
event has an ``event:`` line naming its type; a stream is ``message_start``, a ``ping``,
per content block ``content_block_start`` / ``content_block_delta``s /
``content_block_stop`` (thinking with ``thinking_delta`` then ``signature_delta``, text
with ``text_delta``, tool use with ``input_json_delta`` starting with an empty partial),
``message_delta`` (stop reason, cumulative output tokens) and ``message_stop``. Errors
are ``{"type": "error", "error": {"type", "message"}}``, in a body or an ``event: error``.
Usage reports cache reads and writes apart from ``input_tokens``, as Anthropic does.

Like the real API, the fake refuses (400 ``invalid_request_error``) what Anthropic
refuses and an adapter could get wrong: a missing ``max_tokens``, unknown top-level
fields, tool ids outside ``^[a-zA-Z0-9_-]+$``, empty text blocks, a ``tool_use`` without
its ``tool_result`` in the next turn (or the reverse), ``temperature`` / ``top_k`` with
thinking on. The checks are written by hand so they work without ../shared/specs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from switchboard.providers.anthropic import AnthropicConfig, AnthropicProvider
from switchboard.spec import Provider
from tests.fakes.script import Fail, Received, Reply
from tests.fakes.vendor import sse

KIND = "anthropic"
MODEL = "claude-sonnet-4-5"
VISION_MODEL = "claude-sonnet-4-5"

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                "content_filter": "refusal"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "not_found_error", 413: "request_too_large",
               429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}
TOP_LEVEL = frozenset({
    "model", "messages", "max_tokens", "metadata", "stop_sequences", "stream", "system",
    "temperature", "thinking", "tool_choice", "tools", "top_k", "top_p", "service_tier",
    "container", "mcp_servers", "context_management",
})
TOOL_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
MODELS = [
    {"type": "model", "id": MODEL, "display_name": "Claude Sonnet 4.5",
     "created_at": "2025-09-29T00:00:00Z"},
    {"type": "model", "id": "claude-opus-4-1-20250805", "display_name": "Claude Opus 4.1",
     "created_at": "2025-08-05T00:00:00Z"},
    {"type": "model", "id": "claude-3-5-haiku-20241022", "display_name": "Claude Haiku 3.5",
     "created_at": "2024-10-22T00:00:00Z"},
]


def make_provider(base_url: str, api_key: str | None = "test-key", **config: Any) -> Provider:
    return AnthropicProvider(AnthropicConfig(base_url=base_url, api_key=api_key, **config))


def error(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


class Wire:
    # -- routing -------------------------------------------------------------------
    def route(self, method: str, path: str) -> str | None:
        if method == "POST" and path == "/v1/messages":
            return "chat"
        if method == "GET" and path == "/v1/models":
            return "models"
        return None

    def is_stream(self, request: Received) -> bool:
        return isinstance(request.body, dict) and request.body.get("stream") is True

    def model_of(self, request: Received) -> str:
        body = request.body if isinstance(request.body, dict) else {}
        return str(body.get("model") or MODEL)

    def reject(self, route: str, request: Received) -> tuple[int, Any] | None:
        if route != "chat":
            return None
        problem = check_request(request.body)
        return (400, error("invalid_request_error", problem)) if problem else None

    # -- bodies --------------------------------------------------------------------
    def usage(self, reply: Reply) -> dict[str, Any]:
        fresh = reply.input_tokens - reply.cached_tokens - reply.cache_write_tokens
        return {"input_tokens": fresh, "cache_creation_input_tokens": reply.cache_write_tokens,
                "cache_read_input_tokens": reply.cached_tokens,
                "output_tokens": reply.output_tokens}

    def json_body(self, reply: Reply, model: str) -> Any:
        content: list[dict[str, Any]] = []
        if reply.reasoning:
            content.append({"type": "thinking", "thinking": "".join(reply.reasoning),
                            "signature": reply.reasoning_signature or SIGNATURE})
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for call in reply.tool_calls:
            content.append({"type": "tool_use", "id": call.id, "name": call.name,
                            "input": json.loads(call.arguments or "{}")})
        return {"id": reply.response_id, "type": "message", "role": "assistant",
                "model": reply.model or model, "content": content,
                "stop_reason": STOP_REASONS[reply.finish], "stop_sequence": None,
                "usage": self.usage(reply)}

    def _events(self, reply: Reply, model: str) -> tuple[list[bytes], list[int], int]:
        """(events, index of each text chunk's event, index of message_delta)."""
        start_usage = {**self.usage(reply), "output_tokens": 1}
        events = [sse({"type": "message_start", "message": {
            "id": reply.response_id, "type": "message", "role": "assistant", "content": [],
            "model": reply.model or model, "stop_reason": None, "stop_sequence": None,
            "usage": start_usage}}, "message_start")]
        text_at: list[int] = []
        index = 0

        def block(kind: str, start: dict[str, Any], deltas: list[dict[str, Any]],
                  is_text: bool = False) -> None:
            events.append(sse({"type": "content_block_start", "index": index,
                               "content_block": start}, "content_block_start"))
            if len(events) == 2:
                events.append(sse({"type": "ping"}, "ping"))
            for delta in deltas:
                if is_text:
                    text_at.append(len(events))
                events.append(sse({"type": "content_block_delta", "index": index,
                                   "delta": delta}, "content_block_delta"))
            events.append(sse({"type": "content_block_stop", "index": index},
                              "content_block_stop"))

        if reply.reasoning:
            block("thinking", {"type": "thinking", "thinking": "", "signature": ""},
                  [{"type": "thinking_delta", "thinking": t} for t in reply.reasoning]
                  + [{"type": "signature_delta",
                      "signature": reply.reasoning_signature or SIGNATURE}])
            index += 1
        if reply.chunks:
            block("text", {"type": "text", "text": ""},
                  [{"type": "text_delta", "text": t} for t in reply.chunks], is_text=True)
            index += 1
        for call in reply.tool_calls:
            args = call.arguments
            size = max(1, -(-len(args) // max(call.chunks, 1)))
            pieces = [""] + [args[i:i + size] for i in range(0, len(args), size)]
            block("tool_use", {"type": "tool_use", "id": call.id, "name": call.name,
                               "input": {}},
                  [{"type": "input_json_delta", "partial_json": p} for p in pieces])
            index += 1
        delta_at = len(events)
        events.append(sse({"type": "message_delta",
                           "delta": {"stop_reason": STOP_REASONS[reply.finish],
                                     "stop_sequence": None},
                           "usage": {"output_tokens": reply.output_tokens}}, "message_delta"))
        events.append(sse({"type": "message_stop"}, "message_stop"))
        return events, text_at, delta_at

    def sse_events(self, reply: Reply, model: str) -> list[bytes]:
        return self._events(reply, model)[0]

    def text_event_index(self, reply: Reply, model: str, chunk: int) -> int:
        _, text_at, delta_at = self._events(reply, model)
        if chunk < len(text_at):
            return text_at[chunk]
        return text_at[-1] + 1 if text_at else delta_at

    def in_band_error(self, error_type: str, message: str) -> bytes:
        return sse(error(error_type, message), "error")

    def error_body(self, fail: Fail) -> Any:
        kind = fail.error_type or ERROR_TYPES.get(fail.status) or (
            "api_error" if fail.status >= 500 else "invalid_request_error")
        return error(kind, fail.message)

    def models_body(self) -> Any:
        return {"data": MODELS, "has_more": False, "first_id": MODELS[0]["id"],
                "last_id": MODELS[-1]["id"]}


# -- what Anthropic refuses ----------------------------------------------------------
def check_request(body: Any) -> str | None:
    """Anthropic's 400 message for a body it would refuse, else None."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    for key in body:
        if key not in TOP_LEVEL:
            return f"{key}: Extra inputs are not permitted"
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: Field required"
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        return "max_tokens: Input should be a positive integer"
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled":
        for key in ("temperature", "top_k"):
            if key in body:
                return f"`{key}` is not supported when thinking is enabled"
        if thinking.get("budget_tokens", 0) >= body["max_tokens"]:
            return "`max_tokens` must be greater than `thinking.budget_tokens`"
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    return _check_turns(messages)


def _check_turns(messages: list[Any]) -> str | None:
    pending: set[str] = set()  # tool_use ids awaiting their results
    for i, turn in enumerate(messages):
        if turn.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        content = turn.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        results = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if pending and pending - results:
            return (f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(sorted(pending - results))}")
        if results - pending:
            return (f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` "
                    f"blocks: {', '.join(sorted(str(r) for r in results - pending))}")
        pending = set()
        for j, b in enumerate(blocks):
            where = f"messages.{i}.content.{j}"
            if b.get("type") == "text" and not str(b.get("text", "")).strip():
                return "messages: text content blocks must contain non-whitespace text"
            if b.get("type") == "tool_use":
                if not TOOL_ID.match(str(b.get("id", ""))):
                    return f"{where}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
                if turn["role"] == "assistant":
                    pending.add(b["id"])
            if b.get("type") == "tool_result" and not TOOL_ID.match(str(b.get("tool_use_id"))):
                return (f"{where}.tool_result.tool_use_id: String should match pattern "
                        "'^[a-zA-Z0-9_-]+$'")
        if results and any(b.get("type") != "tool_result" for b in blocks[:len(results)]):
            return f"messages.{i}: `tool_result` blocks must come first in the content"
    return None
