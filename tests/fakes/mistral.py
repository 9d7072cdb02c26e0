"""Fake Mistral: ``POST /v1/chat/completions`` and ``GET /v1/models`` on Mistral's wire.

Shapes follow Mistral's openapi (``ChatCompletionResponse``, ``CompletionChunk``,
``ModelList``) and its documented examples (https://docs.mistral.ai/api/): stream chunks
are ``chat.completion.chunk`` objects, the last one carries ``finish_reason`` and
``usage`` (no ``stream_options`` needed), tool calls arrive whole in one delta, Magistral
reasoning arrives as ``thinking`` content chunks, and ``data: [DONE]`` ends the stream.

Like the real API, the fake is strict about the request: a field the schema does not
document is refused with 422 ``{"detail": [{"type": "extra_forbidden", ...}]}`` and a
tool-call id that is not 9 characters of ``[a-zA-Z0-9]``, or a message other than
``tool`` / ``assistant`` right after a ``tool`` message, with Mistral's 400. So every
test run through it (the shared contract suite included) proves we send nothing else.
This checker is written here by hand (not read from ../shared/specs) so it also works
in a clone without the spec files.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from typing import Any

from switchboard.providers.mistral import MistralConfig, MistralProvider
from switchboard.spec import Provider
from tests.fakes.embeddings import openai_body
from tests.fakes.script import Fail, Received, Reply
from tests.fakes.vendor import sse

KIND = "mistral"
MODEL = "mistral-small-latest"
VISION_MODEL = "pixtral-12b-latest"
CREATED = 1702256327

EMBEDDING_FIELDS = frozenset({"model", "metadata", "input", "output_dimension",
                              "output_dtype", "encoding_format"})

# -- what the request schema allows (ChatCompletionRequest and its parts) ------------
TOP_LEVEL = frozenset({
    "model", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed",
    "metadata", "messages", "response_format", "tools", "tool_choice", "presence_penalty",
    "frequency_penalty", "n", "prediction", "parallel_tool_calls", "reasoning_effort",
    "prompt_mode", "guardrails", "prompt_cache_key", "service_tier", "safe_prompt",
})
MESSAGE_KEYS = {
    "system": frozenset({"role", "content"}),
    "user": frozenset({"role", "content"}),
    "assistant": frozenset({"role", "content", "tool_calls", "prefix"}),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
}
CHUNK_KEYS = {
    "text": frozenset({"type", "text"}),
    "image_url": frozenset({"type", "image_url"}),
    "document_url": frozenset({"type", "document_url", "document_name"}),
    "reference": frozenset({"type", "reference_ids"}),
    "file": frozenset({"type", "file_id"}),
    "thinking": frozenset({"type", "thinking", "signature", "closed"}),
    "input_audio": frozenset({"type", "input_audio"}),
}
TOOL_CHOICES = frozenset({"auto", "none", "any", "required"})
TOOL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")


def _extra(loc: list[Any], key: str, value: Any) -> dict[str, Any]:
    return {"type": "extra_forbidden", "loc": [*loc, key],
            "msg": "Extra inputs are not permitted", "input": value}


def _bad(loc: list[Any], msg: str, value: Any, kind: str = "value_error") -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": value}


def _keys(obj: Any, allowed: frozenset[str], loc: list[Any], out: list[dict[str, Any]]) -> None:
    if not isinstance(obj, dict):
        out.append(_bad(loc, "Input should be a valid dictionary", obj, "dict_type"))
        return
    out.extend(_extra(loc, k, v) for k, v in obj.items() if k not in allowed)


def _content(content: Any, loc: list[Any], out: list[dict[str, Any]]) -> None:
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        out.append(_bad(loc, "Input should be a valid string or list", content))
        return
    for i, chunk in enumerate(content):
        kind = chunk.get("type") if isinstance(chunk, dict) else None
        if kind not in CHUNK_KEYS:
            out.append(_bad([*loc, i], f"unknown content chunk type {kind!r}", chunk,
                            "union_tag_invalid"))
            continue
        _keys(chunk, CHUNK_KEYS[kind], [*loc, i, kind], out)
        if kind == "image_url" and isinstance(chunk.get("image_url"), dict):
            _keys(chunk["image_url"], frozenset({"url", "detail"}),
                  [*loc, i, kind, "image_url"], out)


def schema_errors(body: Any) -> list[dict[str, Any]]:
    """FastAPI-style validation errors for a chat body ([] when it is acceptable)."""
    out: list[dict[str, Any]] = []
    if not isinstance(body, dict):
        return [_bad(["body"], "Input should be a valid dictionary", body, "dict_type")]
    _keys(body, TOP_LEVEL, ["body"], out)
    for required in ("model", "messages"):
        if required not in body:
            out.append(_bad(["body", required], "Field required", None, "missing"))
    temperature = body.get("temperature")
    if isinstance(temperature, int | float) and not 0 <= temperature <= 1.5:
        out.append(_bad(["body", "temperature"], "Input should be less than or equal to 1.5",
                        temperature, "less_than_equal"))
    seed = body.get("random_seed")
    if isinstance(seed, int) and seed < 0:
        out.append(_bad(["body", "random_seed"], "Input should be greater than or equal to 0",
                        seed, "greater_than_equal"))
    for i, message in enumerate(body.get("messages") or []):
        role = message.get("role") if isinstance(message, dict) else None
        loc: list[Any] = ["body", "messages", i]
        if role not in MESSAGE_KEYS:
            out.append(_bad(loc, f"unknown role {role!r}", message, "union_tag_invalid"))
            continue
        _keys(message, MESSAGE_KEYS[role], [*loc, role], out)
        _content(message.get("content"), [*loc, role, "content"], out)
        for j, call in enumerate(message.get("tool_calls") or []):
            cloc = [*loc, role, "tool_calls", j]
            _keys(call, frozenset({"id", "type", "function", "index"}), cloc, out)
            if isinstance(call, dict):
                _keys(call.get("function"), frozenset({"name", "arguments"}),
                      [*cloc, "function"], out)
    for i, tool in enumerate(body.get("tools") or []):
        _keys(tool, frozenset({"type", "function"}), ["body", "tools", i], out)
        if isinstance(tool, dict):
            _keys(tool.get("function"),
                  frozenset({"name", "description", "strict", "parameters"}),
                  ["body", "tools", i, "function"], out)
    choice = body.get("tool_choice")
    if isinstance(choice, str) and choice not in TOOL_CHOICES:
        out.append(_bad(["body", "tool_choice"], "Input should be 'auto', 'none', 'any' or "
                        "'required'", choice, "enum"))
    elif isinstance(choice, dict):
        _keys(choice, frozenset({"type", "function"}), ["body", "tool_choice"], out)
    fmt = body.get("response_format")
    if fmt is not None:
        _keys(fmt, frozenset({"type", "json_schema"}), ["body", "response_format"], out)
        if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
            _keys(fmt["json_schema"], frozenset({"name", "description", "schema", "strict"}),
                  ["body", "response_format", "json_schema"], out)
    return out


def bad_tool_ids(body: Any) -> list[str]:
    """Tool-call ids Mistral would refuse (it wants exactly 9 of [a-zA-Z0-9])."""
    ids: list[str] = []
    for message in body.get("messages") or [] if isinstance(body, dict) else []:
        if not isinstance(message, dict):
            continue
        ids.extend(str(c.get("id")) for c in message.get("tool_calls") or []
                   if isinstance(c, dict))
        if message.get("role") == "tool" and message.get("tool_call_id") is not None:
            ids.append(str(message["tool_call_id"]))
    return [i for i in ids if not TOOL_ID.match(i)]


def bad_order(body: Any) -> tuple[str, str] | None:
    """The first ``(tool, role)`` pair Mistral refuses: after a ``tool`` message only
    another ``tool`` or an ``assistant`` may come (code 3230, "Unexpected role 'user'
    after role 'tool'"; reported in public issue threads, e.g.
    https://github.com/zed-industries/zed/pull/31736)."""
    roles = [m.get("role") for m in (body.get("messages") or [] if isinstance(body, dict)
                                     else []) if isinstance(m, dict)]
    for before, role in itertools.pairwise(roles):
        if before == "tool" and role not in ("tool", "assistant"):
            return "tool", str(role)
    return None


def empty_assistant(body: Any) -> bool:
    """Whether an ``assistant`` message has neither content nor tool calls, which Mistral
    refuses (code 3240, "Assistant message must have either content or tool_calls";
    reported in public issue threads, e.g.
    https://github.com/langchain-ai/langchain/issues/21196)."""
    messages = body.get("messages") or [] if isinstance(body, dict) else []
    return any(isinstance(m, dict) and m.get("role") == "assistant"
               and not m.get("content") and not m.get("tool_calls") for m in messages)


def wire_tool_id(script_id: str) -> str:
    """The id Mistral itself would have generated for a scripted call (9 alphanumerics)."""
    if TOOL_ID.match(script_id):
        return script_id
    digest = hashlib.sha1(script_id.encode()).hexdigest()
    return (digest[:4] + digest[4:9].upper())


def _usage(reply: Reply) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": reply.input_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "completion_tokens": reply.output_tokens,
    }
    if reply.cached_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": reply.cached_tokens}
    return usage


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {"id": wire_tool_id(c.id), "function": {"name": c.name, "arguments": c.arguments},
         "index": i}
        for i, c in enumerate(reply.tool_calls)
    ]


def _thinking(text: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": [{"type": "text", "text": text}]}


class Wire:
    """Mistral's wire format for the neutral script (see ``tests/fakes/vendor.py``)."""

    def route(self, method: str, path: str) -> str | None:
        if method == "POST" and path == "/v1/chat/completions":
            return "chat"
        if method == "GET" and path == "/v1/models":
            return "models"
        if method == "POST" and path == "/v1/embeddings":
            return "embeddings"
        return None

    def reject(self, route: str, request: Received) -> tuple[int, Any] | None:
        if route == "embeddings":  # EmbeddingRequest: additionalProperties false
            body = request.body if isinstance(request.body, dict) else {}
            extra = sorted(set(body) - EMBEDDING_FIELDS)
            if extra or "input" not in body or "model" not in body:
                return 422, {"detail": [{"type": "extra_forbidden", "loc": ["body", k],
                                         "msg": "Extra inputs are not permitted"}
                                        for k in extra]}
            return None
        if route != "chat":
            return None
        errors = schema_errors(request.body)
        if errors:
            return 422, {"detail": errors}
        bad = bad_tool_ids(request.body)
        if bad:
            return 400, {
                "object": "error",
                "message": f"Tool call id was {bad[0]} but must be a-z, A-Z, 0-9, "
                           "with a length of 9.",
                "type": "invalid_request_message_error", "param": None, "code": "3280",
            }
        if empty_assistant(request.body):
            return 400, {
                "object": "error",
                "message": "Assistant message must have either content or tool_calls",
                "type": "invalid_request_message_error", "param": None, "code": "3240",
            }
        order = bad_order(request.body)
        if order is not None:
            return 400, {
                "object": "error",
                "message": f"Unexpected role '{order[1]}' after role '{order[0]}'",
                "type": "invalid_request_message_order", "param": None, "code": "3230",
            }
        return None

    def is_stream(self, request: Received) -> bool:
        return isinstance(request.body, dict) and request.body.get("stream") is True

    def model_of(self, request: Received) -> str:
        body = request.body if isinstance(request.body, dict) else {}
        return str(body.get("model") or MODEL)

    def json_body(self, reply: Reply, model: str) -> Any:
        content: Any = reply.text
        if reply.reasoning:
            content = [_thinking("".join(reply.reasoning)), {"type": "text", "text": reply.text}]
        message: dict[str, Any] = {"role": "assistant", "content": content, "prefix": False}
        if reply.tool_calls:
            message["tool_calls"] = _tool_calls(reply)
        return {
            "id": reply.response_id,
            "object": "chat.completion",
            "model": reply.model or model,
            "usage": _usage(reply),
            "created": CREATED,
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish}],
        }

    def _chunk(self, reply: Reply, model: str, delta: dict[str, Any],
               finish: str | None = None, usage: bool = False) -> bytes:
        data: dict[str, Any] = {
            "id": reply.response_id, "object": "chat.completion.chunk", "created": CREATED,
            "model": reply.model or model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage:
            data["usage"] = _usage(reply)
        return sse(data)

    def sse_events(self, reply: Reply, model: str) -> list[bytes]:
        events = [self._chunk(reply, model, {"role": "assistant", "content": ""})]
        events += [self._chunk(reply, model, {"content": [_thinking(r)]})
                   for r in reply.reasoning]
        events += [self._chunk(reply, model, {"content": c}) for c in reply.chunks]
        last: dict[str, Any] = {"content": ""}
        if reply.tool_calls:
            last["tool_calls"] = _tool_calls(reply)
        events.append(self._chunk(reply, model, last, finish=reply.finish, usage=True))
        events.append(b"data: [DONE]\n\n")
        return events

    def text_event_index(self, reply: Reply, model: str, chunk: int) -> int:
        return 1 + len(reply.reasoning) + chunk

    def in_band_error(self, error_type: str, message: str) -> bytes:
        return sse({"object": "error", "message": message, "type": error_type,
                    "param": None, "code": None})

    def error_body(self, fail: Fail) -> Any:
        default = {401: "authentication_error", 429: "rate_limited"}.get(fail.status,
                                                                         "invalid_request_error")
        return {"object": "error", "message": fail.message, "type": fail.error_type or default,
                "param": None, "code": fail.code}

    def embeddings_body(self, request: Received) -> Any:
        body = request.body if isinstance(request.body, dict) else {}
        return openai_body(body, dimensions_field="output_dimension", with_id=True)

    def models_body(self) -> Any:
        def card(model_id: str, context: int, **caps: bool) -> dict[str, Any]:
            capabilities = {"completion_chat": False, "completion_fim": False,
                            "function_calling": False, "fine_tuning": False, "vision": False,
                            "classification": False, **caps}
            return {"id": model_id, "object": "model", "created": CREATED,
                    "owned_by": "mistralai", "capabilities": capabilities, "name": model_id,
                    "description": f"{model_id} (fake)", "max_context_length": context,
                    "aliases": [], "deprecation": None, "default_model_temperature": 0.3,
                    "type": "base"}

        return {"object": "list", "data": [
            card(MODEL, 131072, completion_chat=True, function_calling=True, vision=True),
            card(VISION_MODEL, 131072, completion_chat=True, function_calling=True,
                 vision=True),
            card("magistral-medium-latest", 40960, completion_chat=True,
                 function_calling=True, reasoning=True),
            card("mistral-embed", 8192),
            card("mistral-ocr-latest", 16384, ocr=True),
            card(MODEL, 131072, completion_chat=True, function_calling=True, vision=True),
        ]}


def make_provider(base_url: str, api_key: str | None = "test-key", **config: Any) -> Provider:
    return MistralProvider(MistralConfig(base_url=base_url, api_key=api_key, **config))
