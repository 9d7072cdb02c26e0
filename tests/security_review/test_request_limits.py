"""Issue 10 item 7 (large bodies, one place for the limits) and 14b (malformed ``data:``
image URLs).

Before the fix a 34 MB ``/v1`` body holding a million messages was validated on the event
loop for 17.5 s, stalling every other request; a tool schema nested 100 levels deep was a
500 (``RecursionError`` in the meta-schema check); a ``data:`` URL with broken base64 or
no media type went to the vendor. Now ``spec.limits`` bounds every count and size, ``/v1``
checks them on the raw JSON before validating (naming the caller's parameter), large
bodies are parsed in a worker thread, and inline images are checked.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import httpx
import orjson
import pytest
from pydantic import ValidationError

from switchboard.services import chat_input
from switchboard.spec import ChatRequest, Message, TextPart, Tool
from switchboard.spec.limits import (
    MAX_IMAGE_BYTES,
    MAX_MESSAGES,
    MAX_PARTS_PER_MESSAGE,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    MAX_TOOLS,
)
from tests.security_review.conftest import bearer, login
from tests.server import Running

MODEL = "offline:offline-chat"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()


def _chat(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], **extra}


def _nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def _tool(parameters: dict[str, Any], name: str = "f") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


def _refused(response: httpx.Response, param: str | None) -> str:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param, error
    return str(error["message"])


def _million_messages() -> tuple[bytes, str | None]:
    body = orjson.dumps(_chat(messages=[{"role": "user", "content": "x"}] * 1_000_000))
    assert len(body) > 30_000_000
    return body, "JSON strings"


def _ten_million_objects() -> tuple[bytes, str | None]:
    """No strings to count: ``[{},{},...]``, tens of millions of objects once parsed."""
    body = b'{"model": "offline:offline-chat", "messages": [' + b",".join(
        [b"{}"] * 10_000_000) + b"]}"
    return body, "JSON objects, arrays and items"


def _largest_schema() -> tuple[bytes, str | None]:
    """Small body, largest schema allowed: the meta-schema check used to take ~10 s."""
    schema = {"type": "object", "properties": {
        f"p{i}": {"type": "boolean"} for i in range(MAX_SCHEMA_NODES // 2 - 2)}}
    return orjson.dumps(_chat(tools=[_tool(schema)])), None


@contextmanager
def timed_small_requests(server: Running, token: str, path: str,
                         pause: float) -> Iterator[list[float]]:
    """While the block runs, another client keeps asking ``path``; yields how long each
    of its requests took (filled in as they finish)."""
    times: list[float] = []
    done = threading.Event()

    def small_requests() -> None:
        with closing(bearer(server, token)) as other:
            while not done.is_set():
                started = time.perf_counter()
                assert other.get(path).status_code == 200
                times.append(time.perf_counter() - started)
                time.sleep(pause)

    with closing(bearer(server, token)) as warm:
        warm.get(path)
    watcher = threading.Thread(target=small_requests)
    watcher.start()
    try:
        yield times
    finally:
        done.set()
        watcher.join()


@pytest.mark.parametrize("make", [_million_messages, _ten_million_objects, _largest_schema],
                         ids=["million messages", "ten million objects", "largest schema"])
def test_heavy_bodies_do_not_stall_anyone(server: Running, make: Any) -> None:
    token = server.make_user("max")
    body, refusal = make()
    with closing(bearer(server, token)) as api, \
            timed_small_requests(server, token, "/v1/models", 0.05) as small_times:
        response = api.post("/v1/chat/completions", content=body,
                            headers={"content-type": "application/json"}, timeout=120)
    if refusal is not None:  # counted on the raw bytes, before anything is parsed
        assert refusal in _refused(response, None)
    else:
        assert response.status_code == 200, response.text[:300]
    # A guard against runaway blocking, not a speed test: before, other requests waited
    # 17.5 s (a million messages) or 9 s (the schema).
    assert small_times and max(small_times) < 5, max(small_times)


@pytest.mark.parametrize(("extra", "param"), [
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}] * (
        MAX_PARTS_PER_MESSAGE + 1)}]}, "messages[0].content"),
    ({"tools": [_tool({"type": "object"}, f"t{i}") for i in range(MAX_TOOLS + 1)]}, "tools"),
    ({"tools": [_tool({"type": "object", "properties": {
        f"p{i}": {"type": "string"} for i in range(MAX_SCHEMA_NODES)}})]},
     "tools[0].function.parameters"),
    ({"tools": [_tool(_nested(100))]}, "tools[0].function.parameters"),
    ({"tools": [_tool(_nested(MAX_SCHEMA_DEPTH // 2 - 2))] * 3 + [
        _tool({"type": "object", "properties": {
            f"p{i}": {"type": "string"} for i in range(MAX_SCHEMA_NODES // 4)}}, "big"),
        _tool({"type": "object", "properties": {
            f"p{i}": {"type": "string"} for i in range(MAX_SCHEMA_NODES // 4)}}, "big2")]},
     "tools[4].function.parameters"),
    ({"response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": _nested(200)}}}, "response_format.json_schema.schema"),
    ({"stop": ["x"] * 17}, "stop"),
    ({"provider_options": {"offline": {"deep": _nested(200)}}}, "provider_options"),
])
def test_oversized_requests_are_a_400_naming_the_parameter(
        server: Running, extra: dict[str, Any], param: str) -> None:
    token = server.make_user("max")
    with closing(bearer(server, token)) as api:
        _refused(api.post("/v1/chat/completions", json=_chat(**extra)), param)


def test_a_long_stop_sequence_is_refused(server: Running) -> None:
    token = server.make_user("max")
    with closing(bearer(server, token)) as api:
        message = _refused(api.post("/v1/chat/completions", json=_chat(stop=["x" * 5000])),
                           "stop")
    assert "1,000 characters" in message


def test_a_million_messages_under_the_string_count_is_refused_by_the_message_limit(
        server: Running) -> None:
    """Few strings each, so past the raw count: the message limit names the parameter."""
    token = server.make_user("max")
    body = orjson.dumps(_chat(messages=[{"role": "user", "content": "x"}] * 100_000))
    with closing(bearer(server, token)) as api:
        message = _refused(api.post("/v1/chat/completions", content=body,
                                    headers={"content-type": "application/json"}),
                           "messages")
    assert f"{MAX_MESSAGES:,}" in message and "100,000" in message


def test_the_limits_hold_for_every_surface_in_the_neutral_request() -> None:
    hi = Message.user("hi")
    with pytest.raises(ValidationError, match=f"at most {MAX_MESSAGES:,} messages"):
        ChatRequest(messages=[hi] * (MAX_MESSAGES + 1))
    with pytest.raises(ValidationError, match="at most 1,000 parts"):
        Message(role="user", parts=[TextPart(text="x")] * (MAX_PARTS_PER_MESSAGE + 1))
    with pytest.raises(ValidationError, match="at most 128 tools"):
        ChatRequest(messages=[hi], tools=[Tool(name=f"t{i}") for i in range(MAX_TOOLS + 1)])
    with pytest.raises(ValidationError, match="levels deep"):
        Tool(name="deep", parameters=_nested(100))
    with pytest.raises(ValidationError, match="characters of text"):
        ChatRequest(messages=[Message.user("x" * 9_000_000), Message.user("y" * 9_000_000)])


BAD_IMAGES = [
    ("data:image/png;base64,not*base64!", "not valid base64"),
    ("data:;base64," + PNG, "media type"),
    ("data:text/plain;base64," + PNG, "image/*"),
    ("data:image/png;base64,", "empty"),
    ("data:image/png;base64," + "A" * (MAX_IMAGE_BYTES * 4 // 3 + 8), "larger than 20 MB"),
]


@pytest.mark.parametrize(("url", "why"), BAD_IMAGES, ids=[w for _, w in BAD_IMAGES])
def test_malformed_data_urls_are_a_400_on_v1(server: Running, url: str, why: str) -> None:
    token = server.make_user("max")
    content = [{"type": "text", "text": "what is this?"},
               {"type": "image_url", "image_url": {"url": url}}]
    with closing(bearer(server, token)) as api:
        message = _refused(api.post("/v1/chat/completions", json=_chat(
            messages=[{"role": "user", "content": content}])),
            "messages[0].content[1].image_url")
    assert why in message


def test_a_good_data_url_still_works(server: Running) -> None:
    token = server.make_user("max")
    content = [{"type": "text", "text": "what is this?"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64," + PNG}}]
    with closing(bearer(server, token)) as api:
        response = api.post("/v1/chat/completions", json=_chat(
            messages=[{"role": "user", "content": content}]))
    assert response.status_code == 200, response.text[:300]


@pytest.mark.parametrize(("image", "field"), [
    ({"media_type": "image/png", "data": "not*base64!"}, "images.0.data"),
    ({"media_type": "image/png", "data": "data:image/png;base64," + PNG}, "images.0.data"),
    ({"media_type": "text/html", "data": PNG}, "images.0.media_type"),
    ({"media_type": "image/png", "data": "A" * (MAX_IMAGE_BYTES * 4 // 3 + 8)},
     "images.0.data"),
])
def test_malformed_images_are_refused_on_api_chat(server: Running, image: dict[str, str],
                                                  field: str) -> None:
    server.make_user("max")
    client, csrf = login(server, "max")
    with closing(client):
        response = client.post("/api/chat", json={"text": "look", "images": [image]},
                               headers={"x-csrf-token": csrf})
    assert response.status_code == 422, response.text[:300]
    error = response.json()["error"]
    assert error["field"] == field, error


def test_api_chat_names_a_conversation_grown_past_the_limits() -> None:
    """``/api/chat`` builds its request from the stored history: past the limits it is a
    4xx naming the conversation, not the options (or a 500)."""
    from switchboard.services.chat import _build_request
    from switchboard.services.chat_input import ChatInput
    from switchboard.services.errors import ValidationFailed

    history = [Message.user("hi")] * (MAX_MESSAGES + 1)
    with pytest.raises(ValidationFailed) as caught:
        _build_request(ChatInput(text="hi"), history, None, None)
    assert caught.value.field == "conversation_id"
    assert "start a new one" in caught.value.message


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream"])
def test_api_chat_counts_a_large_body_before_parsing_it(server: Running, path: str) -> None:
    """``json.loads`` of ``[1,1,1,...]`` under an unknown key held the GIL for seconds
    and built gigabytes of objects before the input model refused the key."""
    server.make_user("max")
    client, csrf = login(server, "max")
    junk = b'{"text": "hi", "junk": [' + b",".join([b"1"] * 5_000_000) + b"]}"
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(3 * 1024 * 1024)).decode()
    with closing(client):
        refused = client.post(path, content=junk, headers={
            "x-csrf-token": csrf, "content-type": "application/json"})
        assert refused.status_code == 400, refused.text[:300]
        error = refused.json()["error"]
        assert set(error) == {"message", "code", "field"}
        assert error["code"] == "request_too_complex"
        assert "5,000,0" in error["message"]
        # a large ordinary body still goes through, streamed or not
        fine = client.post(path, json={"text": "what is this?", "images": [
            {"media_type": "image/png", "data": image}]}, headers={"x-csrf-token": csrf})
        assert fine.status_code == 200, fine.text[:300]
        if path.endswith("/stream"):
            assert "event: done" in fine.text


def test_a_large_api_chat_body_is_parsed_off_the_event_loop(
        server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """``/api/chat`` bodies carry images inline (up to 64 MB): FastAPI used to parse and
    validate them on the event loop (the JSON, then every image's base64 check), holding
    every other request meanwhile. Now a large body is validated in a worker thread, and
    a small one inline. The server runs in this process, so the image check can say which
    thread it ran on."""
    on_loop: list[bool] = []
    real = chat_input.inline_data_problem

    def spy(data: str) -> str | None:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return real(data)

    monkeypatch.setattr(chat_input, "inline_data_problem", spy)
    token = server.make_user("max")
    large = {"model": MODEL, "text": "what is it?", "options": {"temperature": 3},
             "images": [{"media_type": "image/png", "data": base64.b64encode(
                 b"\x89PNG\r\n\x1a\n" + b"\0" * 1_000_000).decode()}]}
    small = {**large, "images": [{"media_type": "image/png", "data": PNG}]}
    with closing(bearer(server, token)) as api:
        for body, in_thread in ((large, True), (small, False)):
            on_loop.clear()
            response = api.post("/api/chat", json=body)
            assert response.status_code == 422, response.text[:300]
            assert response.json()["error"]["field"] == "options.temperature"
            assert on_loop == [not in_thread]


def test_a_large_api_chat_body_does_not_stall_anyone(server: Running) -> None:
    """``/api/chat`` bodies carry images inline (up to 64 MB): FastAPI used to read and
    validate them on the event loop (the JSON, then every image's base64), holding every
    other request for as long. Now a large body is parsed in a worker thread."""
    token = server.make_user("max")
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_IMAGE_BYTES - 64)).decode()
    body = orjson.dumps({"model": MODEL, "text": "what is it?", "images": [
        {"media_type": "image/png", "data": image}] * 2, "options": {"temperature": 3}})
    assert len(body) > 50_000_000
    with closing(bearer(server, token)) as api, \
            timed_small_requests(server, token, "/healthz", 0.02) as small_times:
        for _ in range(3):
            response = api.post("/api/chat", content=body, timeout=120,
                                headers={"content-type": "application/json"})
    # Refused only once all of it is validated (the last field is out of range).
    assert response.status_code == 422, response.text[:300]
    assert response.json()["error"]["field"] == "options.temperature"
    # A guard against runaway blocking, not a speed test (measured: the slowest /healthz
    # took 0.40 s with the parse on the event loop, 0.23 s with it in a worker thread).
    assert small_times and max(small_times) < 5, sorted(small_times)[-5:]
