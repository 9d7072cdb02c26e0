"""One test per quirk flag: the request body (or the parsing) changes accordingly."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.providers.openai.convert_request import build_body
from switchboard.providers.openai.quirks import Quirks
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    Message,
    ResponseFormatJsonSchema,
    Tool,
)

TOOL = Tool(name="lookup", parameters={"type": "object", "properties": {}})


def body_for(request: ChatRequest, model: str = "some-model", *, stream: bool = True,
             **quirks: Any) -> tuple[dict[str, Any], list[CallWarning]]:
    return build_body(request, model, stream=stream, quirks=Quirks(**quirks))


def test_max_tokens_field() -> None:
    request = ChatRequest(messages=[Message.user("hi")], max_output_tokens=99)
    assert body_for(request)[0]["max_completion_tokens"] == 99
    body, _ = body_for(request, max_tokens_field="max_tokens")
    assert body["max_tokens"] == 99 and "max_completion_tokens" not in body


def test_supports_stream_options() -> None:
    request = ChatRequest(messages=[Message.user("hi")])
    assert body_for(request)[0]["stream_options"] == {"include_usage": True}
    body, warnings = body_for(request, supports_stream_options=False)
    assert "stream_options" not in body and body["stream"] is True
    assert warnings == []  # nothing the caller asked for is lost
    assert "stream_options" not in body_for(request, stream=False)[0]


def test_supports_parallel_tool_calls() -> None:
    request = ChatRequest(messages=[Message.user("hi")], tools=[TOOL],
                          parallel_tool_calls=False)
    assert body_for(request)[0]["parallel_tool_calls"] is False
    body, warnings = body_for(request, supports_parallel_tool_calls=False)
    assert "parallel_tool_calls" not in body
    assert [w.setting for w in warnings] == ["parallel_tool_calls"]


def test_supports_json_schema() -> None:
    fmt = ResponseFormatJsonSchema(name="out", schema_={"type": "object"})
    request = ChatRequest(messages=[Message.user("hi")], response_format=fmt)
    assert body_for(request)[0]["response_format"]["type"] == "json_schema"
    body, warnings = body_for(request, supports_json_schema=False)
    assert body["response_format"] == {"type": "json_object"}
    assert [w.setting for w in warnings] == ["response_format"]


def test_supports_seed() -> None:
    request = ChatRequest(messages=[Message.user("hi")], seed=3)
    assert body_for(request)[0]["seed"] == 3
    body, warnings = body_for(request, supports_seed=False)
    assert "seed" not in body and [w.setting for w in warnings] == ["seed"]


def test_supports_developer_role() -> None:
    request = ChatRequest(system="rules", messages=[Message.user("hi")])
    assert body_for(request, "o3-mini")[0]["messages"][0]["role"] == "developer"
    body, _ = body_for(request, "o3-mini", supports_developer_role=False)
    assert body["messages"][0] == {"role": "system", "content": "rules"}
    assert body_for(request, "llama-3")[0]["messages"][0]["role"] == "system"


def test_supports_reasoning_effort() -> None:
    request = ChatRequest(messages=[Message.user("hi")], reasoning_effort="medium")
    # unknown model ids (grok-3-mini, qwen3...) get it: only known non-reasoning
    # OpenAI ids are refused
    assert body_for(request, "grok-3-mini")[0]["reasoning_effort"] == "medium"
    body, warnings = body_for(request, "grok-3-mini", supports_reasoning_effort=False)
    assert "reasoning_effort" not in body
    assert [w.setting for w in warnings] == ["reasoning_effort"]


def test_reasoning_field_and_requires_api_key_are_covered_elsewhere() -> None:
    """``reasoning_field`` changes parsing (test_compat_stream.py); ``requires_api_key``
    changes the headers (test_compat_provider.py). Both default to OpenAI's behaviour."""
    q = Quirks()
    assert q.reasoning_field is None and q.requires_api_key is True


def test_unknown_quirk_is_refused() -> None:
    with pytest.raises(ValueError, match="supports_streaming"):
        Quirks(supports_streaming=False)  # type: ignore[call-arg]
