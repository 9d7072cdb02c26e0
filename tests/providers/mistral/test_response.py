"""Recorded non-streaming responses and model lists, and finish-reason mapping."""

from __future__ import annotations

import json

import pytest

from switchboard.providers.mistral.convert_models import convert_models
from switchboard.providers.mistral.map_finish import map_finish
from switchboard.spec import ChatRequest, Message, ReasoningPart, TextPart
from tests.fakes.mistral import MODEL
from tests.fakes.script import Raw
from tests.providers.mistral.conftest import Fake, fixture_bytes

HELLO = ChatRequest(messages=[Message.user("Hello")])


def json_fixture(name: str) -> Raw:
    return Raw(body=fixture_bytes(name), headers={"x-kong-request-id": "kong-7"})


async def test_text_response(fake: Fake) -> None:
    fake.vendor.then(json_fixture("response_text.json"))
    result = await fake.provider().chat_model(MODEL).generate(HELLO)
    assert result.text == "Claude Monet is often considered the best French painter."
    assert result.finish_reason is not None and result.finish_reason.unified == "stop"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (16, 34)
    assert result.metadata.response_id == "cmpl-e5cc70bb28c444948073e77776eb30ef"
    assert result.metadata.request_id == "kong-7"
    assert fake.vendor.last.body["stream"] is False


async def test_tool_calls_response_with_string_and_object_arguments(fake: Fake) -> None:
    fake.vendor.then(json_fixture("response_tool_calls.json"))
    result = await fake.provider().chat_model(MODEL).generate(HELLO)
    assert [(c.id, c.name) for c in result.tool_calls] == [
        ("D681PevKs", "retrieve_payment_status"), ("kT3pWq9Zx", "retrieve_payment_date")]
    assert [json.loads(c.arguments) for c in result.tool_calls] == [
        {"transaction_id": "T1001"}, {"transaction_id": "T1001"}]
    assert result.finish_reason is not None and result.finish_reason.unified == "tool_calls"
    assert result.text == ""


async def test_magistral_response_with_cached_tokens(fake: Fake) -> None:
    fake.vendor.then(json_fixture("response_magistral.json"))
    result = await fake.provider().chat_model("magistral-medium-latest").generate(HELLO)
    assert [type(p) for p in result.parts] == [ReasoningPart, TextPart]
    reasoning = result.parts[0]
    assert isinstance(reasoning, ReasoningPart)
    assert reasoning.text == "The user asks for 2+2. That is 4."
    assert result.text == "2 + 2 = **4**"
    assert result.usage.cached_input_tokens == 1008
    assert result.usage.input_tokens == 1013


async def test_model_length_is_a_length_finish(fake: Fake) -> None:
    fake.vendor.then(json_fixture("response_model_length.json"))
    result = await fake.provider().chat_model(MODEL).generate(HELLO)
    assert result.finish_reason is not None
    assert (result.finish_reason.unified, result.finish_reason.raw) == ("length", "model_length")


@pytest.mark.parametrize(("raw", "unified"), [
    ("stop", "stop"), ("length", "length"), ("model_length", "length"),
    ("tool_calls", "tool_calls"), ("error", "error"), ("something_new", "other"),
])
def test_finish_reasons(raw: str, unified: str) -> None:
    reason = map_finish(raw)
    assert (reason.unified, reason.raw) == (unified, raw)


def test_missing_finish_reason_is_other() -> None:
    assert map_finish(None).unified == "other"


def test_models_fixture_keeps_chat_models_only() -> None:
    models = convert_models(json.loads(fixture_bytes("models.json")))
    assert [m.id for m in models] == [
        "mistral-small-2506", "mistral-small-latest", "magistral-medium-2506", "codestral-2501"]
    small, _, magistral, codestral = models
    assert small.capabilities.vision and small.capabilities.tools
    assert small.capabilities.streaming and small.capabilities.json_output
    assert not small.capabilities.reasoning
    assert magistral.capabilities.reasoning and not magistral.capabilities.vision
    assert small.context_window == 131072
    assert codestral.context_window == 262144
    assert small.description is not None and small.owned_by == "mistralai"
