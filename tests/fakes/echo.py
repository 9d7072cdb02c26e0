"""``EchoVendor``: a hostile vendor that repeats the caller's API key in every place an
error can carry it.

It reads the key the way the real vendor does (``Authorization: Bearer``, Anthropic's
``x-api-key``, Google's ``x-goog-api-key``) and, when told to fail, puts it — whole,
URL-encoded, masked the way vendors print keys (``abcd1234...wxyz``, ``****wxyz``) and
truncated — in the message, the type, the code, the param, nested ``details``, every
request-id header a vendor uses, and in-band stream error events. Vendors really do some
of this (OpenAI's 401 quotes the masked key); the rest is what a buggy or hostile one
could do. Successful calls are rendered by the vendor's ordinary wire
(``tests/fakes/<vendor>.py``), so the same fake can be configured and imported from first.

Modes (``EchoVendor.mode``): ``"ok"`` (behave), ``"401"`` / ``"429"`` / ``"500"`` (every
route, the model list included, fails with that status), ``"in_band"`` (models list fine;
a stream sends one text chunk then an error event; a non-streaming call answers 200 with
an error body, as some compatible servers do).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from tests.fakes.script import Received, Reply
from tests.fakes.vendor import VendorWire

# Every header a vendor (or its gateway) puts a request id in; see
# switchboard.upstream.errors._REQUEST_ID_HEADERS.
REQUEST_ID_HEADERS = ("mistral-correlation-id", "x-request-id", "request-id",
                      "x-kong-request-id", "x-goog-request-id", "cf-ray")
STATUS_MODES = ("401", "429", "500")
MODES = (*STATUS_MODES, "in_band")


def key_forms(key: str) -> dict[str, str]:
    """The spellings of ``key`` the fake echoes (each must be redacted)."""
    return {
        "whole": key,
        "url": quote(key, safe=""),
        "masked": f"{key[:8]}...{key[-4:]}",
        "starred": f"{key[:4]}{'*' * 20}{key[-4:]}",
        "tail": f"****{key[-4:]}",
        "head": f"{key[:12]}",
    }


def key_of(request: Received) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:]
    return request.headers.get("x-api-key") or request.headers.get("x-goog-api-key") or ""


def _fields(key: str, status: int | None) -> dict[str, Any]:
    f = key_forms(key)
    fields: dict[str, Any] = {
        "message": (f"Incorrect API key provided: {f['whole']} (also known as {f['url']}, "
                    f"{f['masked']}, {f['starred']}, {f['tail']}, {f['head']})"),
        "type": f["whole"],
        "code": f["masked"],
        "param": f["url"],
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                     "reason": f["starred"], "metadata": {"key": f["whole"]}},
                    {"@type": "type.googleapis.com/google.rpc.Help",
                     "links": [{"description": f["head"], "url": f"https://x/?k={f['url']}"}]}],
    }
    if status is not None:
        fields["raw_status_code"] = status
    return fields


def error_body(kind: str, key: str, status: int | None) -> Any:
    """The error body in the vendor's own envelope, with the key in every field."""
    fields = _fields(key, status)
    if kind == "anthropic":
        return {"type": "error", "error": fields, "request_id": key}
    if kind == "mistral":
        return {"object": "error", **fields}
    return {"error": fields}  # OpenAI, OpenAI-compatible, Gemini


def request_id_headers(key: str) -> dict[str, str]:
    """Each request-id header holding a different spelling of the key."""
    forms = list(key_forms(key).values())
    return {name: forms[i % len(forms)] for i, name in enumerate(REQUEST_ID_HEADERS)}


def in_band_event(kind: str, key: str) -> bytes:
    payload = json.dumps(error_body(kind, key, None), separators=(",", ":"))
    head = "event: error\n" if kind == "anthropic" else ""
    return f"{head}data: {payload}\n\n".encode()


class EchoVendor:
    def __init__(self, kind: str, wire: VendorWire) -> None:
        self.kind = kind
        self.wire = wire
        self.mode = "ok"
        self.keys_seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        received = Received(method=request.method, path=request.url.path,
                            query=dict(request.query_params),
                            headers={k.lower(): v for k, v in request.headers.items()},
                            body=body)
        response = self._respond(received)
        await response(scope, receive, send)

    def _respond(self, req: Received) -> Response:
        route = self.wire.route(req.method, req.path)
        key = key_of(req)
        self.keys_seen.append(key)
        headers = request_id_headers(key)
        if route is None:
            return JSONResponse(error_body(self.kind, key, 404), 404, headers=headers)
        if self.mode in STATUS_MODES:
            status = int(self.mode)
            if status == 429:
                headers["retry-after"] = "0"
            return JSONResponse(error_body(self.kind, key, status), status, headers=headers)
        if route == "models":
            return JSONResponse(self.wire.models_body(), headers=headers)
        model = self.wire.model_of(req)
        reply = Reply(chunks=["Hel", "lo"])
        if not self.wire.is_stream(req):
            if self.mode == "in_band":
                return JSONResponse(error_body(self.kind, key, None), headers=headers)
            return JSONResponse(self.wire.json_body(reply, model), headers=headers)
        events = self.wire.sse_events(reply, model)
        if self.mode == "in_band":
            cut = self.wire.text_event_index(reply, model, 1)
            events = [*events[:cut], in_band_event(self.kind, key)]
        return StreamingResponse(_each(events), media_type="text/event-stream",
                                 headers=headers)


async def _each(events: list[bytes]) -> AsyncIterator[bytes]:
    for event in events:
        yield event
