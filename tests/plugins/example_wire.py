"""The Example Chat API's wire (see ``example_plugin/switchboard_example.py``) for
``tests.fakes.vendor.FakeVendor``, so the example plugin is tested the way every adapter
is: over real HTTP against a scripted fake of its vendor."""

from __future__ import annotations

from typing import Any

from tests.fakes.script import Fail, Received, Reply
from tests.fakes.vendor import sse

MODEL = "example-small"


class Wire:
    def route(self, method: str, path: str) -> str | None:
        if method == "POST" and path.endswith("/chat"):
            return "chat"
        if method == "GET" and path.endswith("/models"):
            return "models"
        return None

    def is_stream(self, request: Received) -> bool:
        return isinstance(request.body, dict) and request.body.get("stream") is True

    def model_of(self, request: Received) -> str:
        body = request.body if isinstance(request.body, dict) else {}
        return str(body.get("model", MODEL))

    def _done(self, reply: Reply, model: str) -> dict[str, Any]:
        finish = reply.finish if reply.finish in ("stop", "length") else "stop"
        return {"id": reply.response_id, "model": reply.model or model, "finish": finish,
                "usage": {"input": reply.input_tokens, "output": reply.output_tokens}}

    def json_body(self, reply: Reply, model: str) -> Any:
        return {**self._done(reply, model), "text": reply.text}

    def sse_events(self, reply: Reply, model: str) -> list[bytes]:
        events = [sse({"text": text}, event="delta") for text in reply.chunks]
        return [*events, sse(self._done(reply, model), event="done")]

    def text_event_index(self, reply: Reply, model: str, chunk: int) -> int:
        return chunk

    def in_band_error(self, error_type: str, message: str) -> bytes:
        return sse({"error": {"type": error_type, "message": message}}, event="error")

    def error_body(self, fail: Fail) -> Any:
        return {"error": {"type": fail.error_type or "error", "message": fail.message}}

    def models_body(self) -> Any:
        return {"models": [{"id": MODEL, "context": 8192}, {"id": "example-large"}]}
