"""A fake OpenAI Chat Completions server (the wire as the API reference shows it).

https://platform.openai.com/docs/api-reference/chat/create (object shapes)
https://platform.openai.com/docs/api-reference/chat-streaming (chunk shapes)
Routes: ``POST <anything>/chat/completions`` and ``GET <anything>/models``. The usage chunk
is sent only when the request asked for it with ``stream_options.include_usage``, as
OpenAI does; ``reasoning_field`` makes the same wire speak a compatible server's
reasoning deltas (DeepSeek's ``reasoning_content``, OpenRouter's ``reasoning``).
With ``logprobs: true`` in the request each text chunk is one token with log-probability
``-0.5 * (i + 1)`` and ``top_logprobs`` alternatives named ``alt<k>``.
"""

from __future__ import annotations

from typing import Any

from switchboard.providers.openai import OpenAIConfig, OpenAIProvider
from switchboard.spec import Provider
from tests.fakes.embeddings import openai_body
from tests.fakes.images import openai_edit_body, openai_images_body
from tests.fakes.script import Fail, Received, Reply
from tests.fakes.vendor import sse

KIND = "openai"
MODEL = "gpt-4o-mini"
VISION_MODEL = "gpt-4o"
CREATED = 1_700_000_000
FINGERPRINT = "fp_fake01"

_DEFAULT_TYPES = {400: "invalid_request_error", 401: "invalid_request_error",
                  403: "invalid_request_error", 404: "invalid_request_error",
                  429: "rate_limit_error"}


def make_provider(base_url: str, api_key: str | None = "test-key", **config: Any) -> Provider:
    return OpenAIProvider(OpenAIConfig(base_url=base_url, api_key=api_key, **config))


class Wire:
    def __init__(self, reasoning_field: str | None = None) -> None:
        self.reasoning_field = reasoning_field
        self._include_usage = True
        self._top_logprobs: int | None = None  # None: logprobs not asked for
        self._n = 1  # the request's ``n``: that many choices in one response

    # -- routing -------------------------------------------------------------------
    def route(self, method: str, path: str) -> str | None:
        if method == "POST" and path.endswith("/chat/completions"):
            return "chat"
        if method == "GET" and path.endswith("/models"):
            return "models"
        if method == "POST" and path.endswith("/embeddings"):
            return "embeddings"
        if method == "POST" and path.endswith("/images/generations"):
            return "images"
        if method == "POST" and path.endswith("/images/edits"):
            return "image_edits"
        return None

    def is_stream(self, request: Received) -> bool:
        return isinstance(request.body, dict) and request.body.get("stream") is True

    def model_of(self, request: Received) -> str:
        body = request.body if isinstance(request.body, dict) else {}
        # FakeVendor asks for the model right before rendering the reply (no await in
        # between), so this is where the request's usage wish is remembered.
        options = body.get("stream_options") or {}
        self._include_usage = bool(options.get("include_usage"))
        self._top_logprobs = int(body.get("top_logprobs") or 0) if body.get("logprobs") else None
        self._n = int(body.get("n") or 1)
        return str(body.get("model", MODEL))

    def _logprobs(self, chunks: list[str], first: int = 0) -> dict[str, Any] | None:
        if self._top_logprobs is None:
            return None
        return {"refusal": None, "content": [
            {"token": text, "logprob": -0.5 * (first + i + 1), "bytes": list(text.encode()),
             "top_logprobs": [{"token": f"alt{k}", "logprob": -5.0 - k, "bytes": None}
                              for k in range(self._top_logprobs)]}
            for i, text in enumerate(chunks)]}

    # -- bodies --------------------------------------------------------------------
    def choice_chunks(self, reply: Reply, index: int) -> list[str]:
        """Choice ``index``'s deltas: with ``n`` > 1 each choice ends with its own
        `` (index)``, so a test can tell them apart."""
        return reply.chunks if self._n == 1 else [*reply.chunks, f" ({index})"]

    def usage(self, reply: Reply) -> dict[str, Any]:
        # With ``n``, OpenAI counts the prompt once and every choice's completion.
        completion = reply.output_tokens * self._n
        return {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": completion,
            "total_tokens": reply.input_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reply.reasoning_tokens, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
            },
        }

    def json_body(self, reply: Reply, model: str) -> Any:
        return {
            "id": reply.response_id, "object": "chat.completion", "created": CREATED,
            "model": reply.model or model,
            "choices": [self._choice(reply, i) for i in range(self._n)],
            "usage": self.usage(reply),
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
        }

    def _choice(self, reply: Reply, index: int) -> dict[str, Any]:
        chunks = self.choice_chunks(reply, index)
        message: dict[str, Any] = {"role": "assistant", "content": "".join(chunks) or None,
                                   "refusal": None, "annotations": []}
        if self.reasoning_field and reply.reasoning:
            message[self.reasoning_field] = "".join(reply.reasoning)
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": c.arguments}}
                for c in reply.tool_calls
            ]
        return {"index": index, "message": message, "logprobs": self._logprobs(chunks),
                "finish_reason": reply.finish}

    def _chunk(self, reply: Reply, model: str, delta: dict[str, Any] | None,
               finish: str | None = None, usage: dict[str, Any] | None = None,
               logprobs: dict[str, Any] | None = None, index: int = 0) -> bytes:
        chunk: dict[str, Any] = {
            "id": reply.response_id, "object": "chat.completion.chunk", "created": CREATED,
            "model": reply.model or model, "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
            "choices": [] if delta is None else [
                {"index": index, "delta": delta, "logprobs": logprobs,
                 "finish_reason": finish}],
        }
        if self._include_usage:
            chunk["usage"] = usage  # null on every chunk but the last one
        return sse(chunk)

    def sse_events(self, reply: Reply, model: str) -> list[bytes]:
        if self._n > 1:
            return self._choices_events(reply, model)
        events = [self._chunk(reply, model, {"role": "assistant", "content": "",
                                             "refusal": None})]
        if self.reasoning_field:
            for text in reply.reasoning:
                events.append(self._chunk(reply, model, {self.reasoning_field: text}))
        for i, text in enumerate(reply.chunks):
            events.append(self._chunk(reply, model, {"content": text},
                                      logprobs=self._logprobs([text], i)))
        for index, call in enumerate(reply.tool_calls):
            events.append(self._chunk(reply, model, {"tool_calls": [{
                "index": index, "id": call.id, "type": "function",
                "function": {"name": call.name, "arguments": ""}}]}))
            for piece in _split(call.arguments, call.chunks):
                events.append(self._chunk(reply, model, {"tool_calls": [{
                    "index": index, "function": {"arguments": piece}}]}))
        events.append(self._chunk(reply, model, {}, reply.finish))
        if self._include_usage:  # the usage chunk: empty choices
            events.append(self._chunk(reply, model, None, usage=self.usage(reply)))
        events.append(sse("[DONE]"))
        return events

    def _choices_events(self, reply: Reply, model: str) -> list[bytes]:
        """``n`` > 1, as OpenAI streams it: one choice per chunk, the choices' chunks
        interleaved (0, 1, .., n-1 at each step), each choice's own ``finish_reason``
        chunk, then ONE usage chunk with empty choices."""
        n = self._n
        per_choice = [self.choice_chunks(reply, i) for i in range(n)]
        events = [self._chunk(reply, model, {"role": "assistant", "content": "",
                                             "refusal": None}, index=i) for i in range(n)]
        for step in range(max(len(c) for c in per_choice)):
            for i, chunks in enumerate(per_choice):
                if step < len(chunks):
                    events.append(self._chunk(reply, model, {"content": chunks[step]},
                                              logprobs=self._logprobs([chunks[step]], step),
                                              index=i))
        events.extend(self._chunk(reply, model, {}, reply.finish, index=i) for i in range(n))
        if self._include_usage:
            events.append(self._chunk(reply, model, None, usage=self.usage(reply)))
        events.append(sse("[DONE]"))
        return events

    def text_event_index(self, reply: Reply, model: str, chunk: int) -> int:
        reasoning = len(reply.reasoning) if self.reasoning_field else 0
        return 1 + reasoning + chunk

    def in_band_error(self, error_type: str, message: str) -> bytes:
        return sse({"error": {"message": message, "type": error_type, "param": None,
                              "code": None}})

    def error_body(self, fail: Fail) -> Any:
        default = _DEFAULT_TYPES.get(fail.status, "server_error")
        return {"error": {"message": fail.message, "type": fail.error_type or default,
                          "param": None, "code": fail.code}}

    def images_body(self, request: Received) -> Any:
        return openai_images_body(request.body if isinstance(request.body, dict) else {})

    def image_edits_body(self, request: Received) -> Any:
        return openai_edit_body(request.body if isinstance(request.body, dict) else {})

    def embeddings_body(self, request: Received) -> Any:
        return openai_body(request.body if isinstance(request.body, dict) else {})

    def models_body(self) -> Any:
        ids = ["gpt-4o-mini", "gpt-4o", "o3-mini", "text-embedding-3-small", "dall-e-3"]
        return {"object": "list", "data": [
            {"id": i, "object": "model", "created": CREATED, "owned_by": "system"}
            for i in ids]}


def _split(text: str, parts: int) -> list[str]:
    parts = max(1, min(parts, len(text) or 1))
    size = -(-len(text) // parts) if text else 0
    return [text[i:i + size] for i in range(0, len(text), size)] if text else [""]
