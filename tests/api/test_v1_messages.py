"""``/v1/messages`` driven by the official ``anthropic`` SDK (strict response validation)
against every provider kind: vendor-shaped fakes and the offline model. Bodies checked
against Anthropic's spec in ../shared/specs where it covers them (that copy predates
thinking; thinking blocks are checked by the SDK's own types)."""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic
import httpx
import pytest

from tests.api.wires_support import PIXEL, REFS, VENDOR_KINDS, Wires, _isolated_env, wires
from tests.fakes.script import Fail, Reply, ScriptToolCall
from tests.spec_validation import spec_available, validate_component

__all__ = ["_isolated_env", "wires"]  # fixtures

WEATHER = {"name": "get_weather", "description": "Weather for a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                            "required": ["city"]}}


def client(w: Wires, token: str | None = None) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=w.server.url, api_key=token or w.token,
                               max_retries=0, _strict_response_validation=True)


def raw(w: Wires, body: dict[str, Any], path: str = "/v1/messages",
        headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{w.server.url}{path}", json=body, timeout=30,
                      headers=headers if headers is not None else {"x-api-key": w.token})


@pytest.mark.parametrize("kind", [*VENDOR_KINDS, "offline"])
def test_plain_and_streamed_answers_from_every_provider(wires: Wires, kind: str) -> None:
    ref = REFS[kind]
    if kind != "offline":
        wires.fake(kind).then(Reply(chunks=["Hi ", "there"], input_tokens=9, output_tokens=2),
                              Reply(chunks=["Once ", "more"]),
                              Reply(chunks=["Str", "eam", "ed"], input_tokens=4,
                                    output_tokens=3))
    body = {"model": ref, "max_tokens": 1024,
            "messages": [{"role": "user", "content": "hello"}]}
    plain = raw(wires, body)
    assert plain.status_code == 200, plain.text
    if spec_available("anthropic"):
        validate_component("anthropic", "Message", plain.json())
    message = client(wires).messages.create(**body)  # type: ignore[arg-type]
    text = "".join(b.text for b in message.content if b.type == "text")
    assert message.stop_reason == "end_turn" and message.model == ref
    if kind != "offline":
        assert plain.json()["content"] == [{"type": "text", "text": "Hi there"}]
        assert plain.json()["usage"]["input_tokens"] == 9
        assert text == "Once more"
    with client(wires).messages.stream(model=ref, max_tokens=1024, messages=[
            {"role": "user", "content": "again"}]) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed and final.content[0].type == "text" and final.stop_reason == "end_turn"
    if kind != "offline":
        assert streamed == "Streamed" and final.usage.output_tokens == 3


@pytest.mark.parametrize("kind", VENDOR_KINDS)
def test_tool_round_trip_through_every_vendor(wires: Wires, kind: str) -> None:
    wires.fake(kind).then(
        Reply(chunks=[], finish="tool_calls", tool_calls=[
            ScriptToolCall(id="call_9XyZ01", name="get_weather",
                           arguments='{"city":"Oslo"}')]),
        Reply(chunks=["Cold in Oslo."]))
    sdk = client(wires)
    question = {"role": "user", "content": "Weather in Oslo?"}
    with sdk.messages.stream(model=REFS[kind], max_tokens=200, tools=[WEATHER],  # type: ignore[list-item]
                             messages=[question]) as stream:  # type: ignore[list-item]
        first = stream.get_final_message()
    assert first.stop_reason == "tool_use"
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.name == "get_weather" and call.input == {"city": "Oslo"}
    answer = sdk.messages.create(model=REFS[kind], max_tokens=200, tools=[WEATHER],  # type: ignore[list-item]
                                 messages=[question,  # type: ignore[list-item]
                                           {"role": "assistant", "content": first.content},
                                           {"role": "user", "content": [
                                               {"type": "tool_result", "tool_use_id": call.id,
                                                "content": "-5C"}]}])
    assert answer.content[0].type == "text" and answer.content[0].text == "Cold in Oslo."
    assert "-5C" in json.dumps(wires.fake(kind).last.body)


def test_thinking_streams_and_its_signature_goes_back_to_anthropic(wires: Wires) -> None:
    fake = wires.fake("anthropic")
    fake.then(Reply(chunks=["Yes."], reasoning=["Let me ", "think."],
                    reasoning_signature="sig-abc"),
              Reply(chunks=["Done."]))
    sdk = client(wires)
    with sdk.messages.stream(model=REFS["anthropic"], max_tokens=4000,
                             thinking={"type": "enabled", "budget_tokens": 2048},
                             messages=[{"role": "user", "content": "Is it?"}]) as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_message()
    assert "content_block_delta" in kinds
    thinking = final.content[0]
    assert thinking.type == "thinking" and thinking.thinking == "Let me think."
    assert thinking.signature == "sig-abc"
    assert fake.last.body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    sdk.messages.create(model=REFS["anthropic"], max_tokens=4000,
                        thinking={"type": "enabled", "budget_tokens": 2048},
                        messages=[{"role": "user", "content": "Is it?"},
                                  {"role": "assistant", "content": final.content},  # type: ignore[typeddict-item]
                                  {"role": "user", "content": "Sure?"}])
    echoed = fake.last.body["messages"][1]["content"][0]
    assert echoed == {"type": "thinking", "thinking": "Let me think.", "signature": "sig-abc"}


def test_an_image_reaches_the_model(wires: Wires) -> None:
    message = client(wires).messages.create(model=REFS["offline"], max_tokens=100, messages=[
        {"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": PIXEL}}]}])
    assert message.content[0].type == "text" and "image/png" in message.content[0].text


def test_count_tokens_for_any_provider(wires: Wires) -> None:
    sdk = client(wires)
    calls_before = wires.fake("gemini").chat_requests()[-1:]
    small = sdk.messages.count_tokens(model=REFS["gemini"], messages=[
        {"role": "user", "content": "hi"}])
    large = sdk.messages.count_tokens(model=REFS["gemini"], tools=[WEATHER],  # type: ignore[list-item]
                                      system="You answer weather questions.",
                                      messages=[{"role": "user", "content": "hi " * 200}])
    assert 0 < small.input_tokens < large.input_tokens
    assert wires.fake("gemini").chat_requests()[-1:] == calls_before  # no vendor call
    with pytest.raises(anthropic.NotFoundError):
        sdk.messages.count_tokens(model="nope:missing", messages=[
            {"role": "user", "content": "hi"}])


@pytest.mark.parametrize(("how", "status", "kind"), [
    ({"x-api-key": "sb-wrong-token-000000000000000000"}, 401, "authentication_error"),
    ({}, 401, "authentication_error"),
])
def test_auth_failures_are_anthropic_errors(wires: Wires, how: dict[str, str], status: int,
                                            kind: str) -> None:
    r = raw(wires, {"model": REFS["offline"], "max_tokens": 5,
                    "messages": [{"role": "user", "content": "x"}]}, headers=how)
    assert r.status_code == status
    assert r.json()["type"] == "error" and r.json()["error"]["type"] == kind
    if spec_available("anthropic"):
        validate_component("anthropic", "ErrorResponse", r.json())


def test_bearer_token_works_too(wires: Wires) -> None:
    r = raw(wires, {"model": REFS["offline"], "max_tokens": 5,
                    "messages": [{"role": "user", "content": "x"}]},
            headers={"authorization": f"Bearer {wires.token}"})
    assert r.status_code == 200, r.text


def test_errors_in_anthropics_shape(wires: Wires) -> None:
    sdk = client(wires)
    with pytest.raises(anthropic.BadRequestError) as bad:
        sdk.messages.create(model=REFS["offline"], max_tokens=5, tools=[  # type: ignore[list-item]
            {"type": "web_search_20250305", "name": "web_search"}],
            messages=[{"role": "user", "content": "x"}])
    assert "web_search_20250305" in str(bad.value)
    with pytest.raises(anthropic.NotFoundError):
        sdk.messages.create(model="nope:missing", max_tokens=5,
                            messages=[{"role": "user", "content": "x"}])
    checks = [
        httpx.post(f"{wires.server.url}/v1/messages", content=b"{not json", timeout=30,
                   headers={"x-api-key": wires.token, "content-type": "application/json"}),
        httpx.post(f"{wires.server.url}/v1/messages/nope", json={}, timeout=30,
                   headers={"x-api-key": wires.token}),
        httpx.get(f"{wires.server.url}/v1/messages", timeout=30,
                  headers={"x-api-key": wires.token}),
        httpx.post(f"{wires.server.url}/v1/messages", timeout=30,
                   content=b"x" * (wires.server.settings.max_chat_body_bytes + 10),
                   headers={"content-type": "application/json"}),
    ]
    assert [r.status_code for r in checks] == [400, 404, 405, 413]
    assert checks[3].json()["error"]["type"] == "request_too_large"
    for r in checks:
        assert r.json()["type"] == "error", r.text
        assert set(r.json()["error"]) == {"type", "message"}
        # request_too_large is documented (https://docs.anthropic.com/en/api/errors) but
        # younger than the spec copy, whose error union lacks it.
        if spec_available("anthropic") and r.status_code != 413:
            validate_component("anthropic", "ErrorResponse", r.json())


def test_upstream_failure_keeps_its_meaning(wires: Wires) -> None:
    wires.fake("openai").then(Fail(429, "slow down", error_type="rate_limit_error",
                                   headers={"retry-after": "7"}))
    with pytest.raises(anthropic.RateLimitError) as caught:
        client(wires).messages.create(model=REFS["openai"], max_tokens=5,
                                      messages=[{"role": "user", "content": "x"}])
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_usage_rows_are_recorded_as_api(wires: Wires) -> None:
    client(wires, wires.other_token).messages.create(
        model=REFS["offline"], max_tokens=5, messages=[{"role": "user", "content": "count me"}])
    query = ("SELECT source, model FROM usage_events JOIN users ON users.id = "
             "usage_events.user_id WHERE users.username = 'other-user'")
    for _ in range(100):  # the recorder writes in batches (every 0.5 s)
        rows = wires.server.query(query)
        if rows:
            break
        time.sleep(0.05)
    assert rows == [("api", "offline-chat")]


def test_hostile_bodies_are_refused_cheaply_in_anthropics_shape(wires: Wires) -> None:
    """The raw limits (``bounds.precheck``, decision 0013) run before validation and name
    this wire's own fields."""
    many = [{"role": "user", "content": "x"}] * 10_001
    deep: dict[str, Any] = {"type": "object"}
    for _ in range(100):
        deep = {"type": "object", "properties": {"a": deep}}
    cases = [
        ({"model": REFS["offline"], "max_tokens": 5, "messages": many}, "messages"),
        ({"model": REFS["offline"], "max_tokens": 5, "stop_sequences": ["s"] * 17,
          "messages": [{"role": "user", "content": "x"}]}, "stop_sequences"),
        ({"model": REFS["offline"], "max_tokens": 5, "tools": [
            {"name": "t", "input_schema": deep}],
          "messages": [{"role": "user", "content": "x"}]}, "tools.0.input_schema"),
    ]
    for body, field in cases:
        r = raw(wires, body)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["type"] == "invalid_request_error"
        assert r.json()["error"]["message"].startswith(field), r.json()


def test_auto_names_the_real_model(wires: Wires) -> None:
    """``model: "auto"`` on /v1/messages and /v1/responses: the body's ``model`` (and the
    ``x-switchboard-model`` header) name the model that answered, never "auto"."""
    for kind in VENDOR_KINDS:
        wires.fake(kind).then(Reply(chunks=["Hi"]), Reply(chunks=["Hi"]))
    messages = raw(wires, {"model": "auto", "max_tokens": 256,
                           "messages": [{"role": "user", "content": "hello there!"}]})
    assert messages.status_code == 200, messages.text
    answered = messages.headers["x-switchboard-model"]
    assert messages.json()["model"] == answered and ":" in answered
    assert messages.headers["x-switchboard-auto"].startswith(f"chat -> {answered}, ")
    responses = raw(wires, {"model": "auto", "input": "hello there!"}, path="/v1/responses",
                    headers={"authorization": f"Bearer {wires.token}"})
    assert responses.status_code == 200, responses.text
    assert responses.json()["model"] == responses.headers["x-switchboard-model"]
    assert responses.json()["model"] != "auto"
