"""``/v1/responses`` driven by the official ``openai`` SDK with strict response validation
against every provider kind (vendor-shaped fakes and the offline model); bodies checked
against OpenAI's OpenAPI spec in ../shared/specs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from tests.api.wires_support import PIXEL, REFS, VENDOR_KINDS, Wires, _isolated_env, wires
from tests.fakes.script import Break, Reply, ScriptToolCall
from tests.spec_validation import spec_available, validate_component

__all__ = ["_isolated_env", "wires"]  # fixtures

WEATHER = {"type": "function", "name": "get_weather", "description": "Weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]}}


def client(w: Wires, token: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=w.server.v1, api_key=token or w.token, max_retries=0,
                         _strict_response_validation=True)


def raw(w: Wires, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{w.server.v1}/responses", json=body, timeout=30,
                      headers={"authorization": f"Bearer {w.token}"})


def events_of(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in response.text.splitlines()
            if line.startswith("data: ")]


@pytest.mark.parametrize("kind", [*VENDOR_KINDS, "offline"])
def test_plain_and_streamed_from_every_provider(wires: Wires, kind: str) -> None:
    ref = REFS[kind]
    if kind != "offline":
        wires.fake(kind).then(Reply(chunks=["Hi ", "there"], input_tokens=9, output_tokens=2,
                                    cached_tokens=4),
                              Reply(chunks=["Str", "eam", "ed"], input_tokens=4,
                                    output_tokens=3))
    plain = raw(wires, {"model": ref, "input": "hello", "instructions": "Be brief."})
    assert plain.status_code == 200, plain.text
    if spec_available("openai"):
        validate_component("openai", "Response", plain.json())
    parsed = openai.types.responses.Response.model_validate(plain.json())
    assert parsed.status == "completed" and parsed.model == ref
    stream = client(wires).responses.create(model=ref, input="again", stream=True)
    events = list(stream)
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    final = events[-1].response  # type: ignore[union-attr]
    assert final.output_text == text and text
    if kind != "offline":
        assert parsed.output_text == "Hi there"
        assert parsed.usage is not None and parsed.usage.input_tokens == 9
        assert parsed.usage.input_tokens_details.cached_tokens == 4
        assert text == "Streamed" and final.usage is not None
        assert final.usage.output_tokens == 3


@pytest.mark.parametrize("kind", VENDOR_KINDS)
def test_tool_round_trip_through_every_vendor(wires: Wires, kind: str) -> None:
    wires.fake(kind).then(
        Reply(chunks=[], finish="tool_calls", tool_calls=[
            ScriptToolCall(id="call_9XyZ01", name="get_weather",
                           arguments='{"city":"Oslo"}')]),
        Reply(chunks=["Cold in Oslo."]))
    sdk = client(wires)
    events = list(sdk.responses.create(model=REFS[kind], input="Weather in Oslo?",
                                       tools=[WEATHER], stream=True, store=False))  # type: ignore[list-item]
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert json.loads(done[0].arguments) == {"city": "Oslo"}
    first = events[-1].response  # type: ignore[union-attr]
    call = next(o for o in first.output if o.type == "function_call")
    answer = sdk.responses.create(model=REFS[kind], tools=[WEATHER], store=False,  # type: ignore[list-item]
                                  input=[{"role": "user", "content": "Weather in Oslo?"},
                                         *[o.model_dump() for o in first.output],
                                         {"type": "function_call_output",
                                          "call_id": call.call_id, "output": "-5C"}])
    assert answer.output_text == "Cold in Oslo."
    assert "-5C" in json.dumps(wires.fake(kind).last.body)


def test_previous_response_id_continues_on_another_provider(wires: Wires) -> None:
    wires.fake("anthropic").then(Reply(chunks=["Ada is 36."]))
    wires.fake("gemini").then(Reply(chunks=["You asked about Ada."]))
    sdk = client(wires)
    first = sdk.responses.create(model=REFS["anthropic"], input="How old is Ada?",
                                 instructions="Answer in one line.")
    second = sdk.responses.create(model=REFS["gemini"], input="What did I ask?",
                                  previous_response_id=first.id)
    assert second.previous_response_id == first.id
    sent = json.dumps(wires.fake("gemini").last.body)
    assert "How old is Ada?" in sent and "Ada is 36." in sent
    assert "Answer in one line." not in sent  # instructions are not carried over
    got = sdk.responses.retrieve(first.id)
    assert got.output_text == "Ada is 36."
    with pytest.raises(openai.NotFoundError):  # stored per user
        client(wires, wires.other_token).responses.retrieve(first.id)
    sdk.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.create(model=REFS["gemini"], input="x", previous_response_id=first.id)


def test_streamed_answer_is_stored_before_completed(wires: Wires) -> None:
    sdk = client(wires)
    events = list(sdk.responses.create(model=REFS["offline"], input="Say hi", stream=True))
    response_id = events[-1].response.id  # type: ignore[union-attr]
    assert sdk.responses.retrieve(response_id).status == "completed"
    unstored = sdk.responses.create(model=REFS["offline"], input="x", store=False)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(unstored.id)


def test_json_schema_and_image_through_offline(wires: Wires) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"},
                                                "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}
    sdk = client(wires)
    structured = sdk.responses.create(model=REFS["offline"], input="A person", text={
        "format": {"type": "json_schema", "name": "person", "schema": schema,
                   "strict": True}})
    value = json.loads(structured.output_text)
    assert isinstance(value["name"], str) and isinstance(value["age"], int)
    seen = sdk.responses.create(model=REFS["offline"], input=[{"role": "user", "content": [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PIXEL}",
         "detail": "auto"}]}])
    assert "image/png" in seen.output_text


@pytest.mark.parametrize("tool", [{"type": "web_search_preview"},
                                  {"type": "file_search", "vector_store_ids": ["vs_1"]},
                                  {"type": "code_interpreter", "container": {"type": "auto"}}])
def test_hosted_tools_are_refused_by_name(wires: Wires, tool: dict[str, Any]) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client(wires).responses.create(model=REFS["offline"], input="x",
                                       tools=[tool])  # type: ignore[list-item]
    assert tool["type"] in str(caught.value)
    assert caught.value.body["param"] == "tools[0].type"  # type: ignore[index]


def test_a_broken_stream_ends_failed(wires: Wires) -> None:
    wires.fake("openai").then(Break(Reply(chunks=["Par", "tial", "never"]), after=2))
    r = httpx.post(f"{wires.server.v1}/responses", timeout=30,
                   json={"model": REFS["openai"], "input": "x", "stream": True},
                   headers={"authorization": f"Bearer {wires.token}"})
    events = events_of(r)
    assert [e["type"] for e in events][-2:] == ["error", "response.failed"]
    assert "".join(e.get("delta", "") for e in events
                   if e["type"] == "response.output_text.delta") == "Partial"
    if spec_available("openai"):
        for event, component in ((events[-2], "ResponseErrorEvent"),
                                 (events[-1], "ResponseFailedEvent")):
            validate_component("openai", component, event)


def test_auth_and_bad_json_are_openai_errors(wires: Wires) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(wires, "sb-wrong-000000000000000000000000").responses.create(
            model=REFS["offline"], input="x")
    r = httpx.post(f"{wires.server.v1}/responses", content=b"{oops", timeout=30,
                   headers={"authorization": f"Bearer {wires.token}",
                            "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


def test_hostile_bodies_are_refused_cheaply(wires: Wires) -> None:
    many = [{"role": "user", "content": "x"}] * 10_001
    r = raw(wires, {"model": REFS["offline"], "input": many})
    assert r.status_code == 400 and r.json()["error"]["param"] == "input", r.text
    r = raw(wires, {"model": REFS["offline"], "input": "x", "previous_response_id": "r" * 5000})
    assert r.status_code == 404 and len(r.text) < 500, r.text
