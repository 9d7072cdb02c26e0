"""The pure request conversion: settings Anthropic cannot honour give warnings, bad input
gives errors that say what to change, and cross-vendor history converts cleanly."""

from __future__ import annotations

import re
from typing import Any

import pytest

from switchboard.providers.anthropic.convert_request import build_request
from switchboard.providers.anthropic.tool_ids import anthropic_tool_id
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    FilePart,
    ImagePart,
    InvalidRequestError,
    Message,
    ReasoningPart,
    ResponseFormatJson,
    ResponseFormatJsonSchema,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)
from tests.fakes.anthropic import MODEL, check_request

TOOL = Tool(name="lookup", parameters={"type": "object", "properties": {}})


def build(model: str = MODEL, **fields: Any) -> tuple[dict[str, Any], list[CallWarning]]:
    fields.setdefault("messages", [Message.user("Hi")])
    plan = build_request(ChatRequest(**fields), model, stream=True)
    assert check_request(plan.body) is None, "the fake vendor must accept every body built"
    return plan.body, plan.warnings


def settings(warnings: list[CallWarning]) -> list[str | None]:
    return [w.setting for w in warnings]


# -- tool ids --------------------------------------------------------------------------
def test_valid_tool_ids_are_kept() -> None:
    for original in ("toolu_01A09q90qw90lq917835lq9", "call_abc123XYZ", "abcDEF123"):
        assert anthropic_tool_id(original) == original


def test_foreign_tool_ids_are_normalised_deterministically() -> None:
    a, b = anthropic_tool_id("call:0.x"), anthropic_tool_id("call.0:x")
    assert re.match(r"^[a-zA-Z0-9_-]+$", a) and re.match(r"^[a-zA-Z0-9_-]+$", b)
    assert a != b, "ids differing only in invalid characters stay distinct"
    assert a == anthropic_tool_id("call:0.x")
    assert anthropic_tool_id("").startswith("toolu_")
    assert anthropic_tool_id("::").startswith("toolu_")


# -- max_tokens and thinking -------------------------------------------------------------
def test_default_max_tokens_is_capped_by_the_model() -> None:
    assert build()[0]["max_tokens"] == 4096
    plan = build_request(ChatRequest(messages=[Message.user("Hi")]), "claude-3-haiku-20240307",
                         stream=False, default_max_tokens=8000)
    assert plan.body["max_tokens"] == 4096
    plan = build_request(ChatRequest(messages=[Message.user("Hi")]), MODEL, stream=False,
                         default_max_tokens=1000)
    assert plan.body["max_tokens"] == 1000


def test_effort_on_a_model_without_thinking_warns() -> None:
    body, warnings = build("claude-3-5-haiku-20241022", reasoning_effort="high")
    assert "thinking" not in body
    assert settings(warnings) == ["reasoning_effort"]


def test_effort_budget_fits_under_the_model_ceiling() -> None:
    body, warnings = build("claude-opus-4-1-20250805", reasoning_effort="high")
    assert body["max_tokens"] == 32_000
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 32_000 - 4096}
    assert warnings == []


def test_effort_budget_shrinks_under_max_output_tokens() -> None:
    body, _ = build(reasoning_effort="high", max_output_tokens=10_000)
    assert (body["max_tokens"], body["thinking"]["budget_tokens"]) == (10_000, 5_000)
    body, warnings = build(reasoning_effort="low", max_output_tokens=1500)
    assert "thinking" not in body and body["max_tokens"] == 1500
    assert "minimum thinking budget" in warnings[0].message


def test_explicit_thinking_budget_that_does_not_fit_is_an_error() -> None:
    with pytest.raises(InvalidRequestError, match=r"budget_tokens \(8000\) must be less than "
                                                  r"max_output_tokens \(2000\)"):
        build(max_output_tokens=2000,
              provider_options={"anthropic": {"thinking": {"type": "enabled",
                                                           "budget_tokens": 8000}}})


@pytest.mark.parametrize("thinking", ["on", {"budget_tokens": 2000},
                                      {"type": "enabled", "budget_tokens": 10}])
def test_malformed_explicit_thinking_is_an_error(thinking: object) -> None:
    with pytest.raises(InvalidRequestError, match=r"provider_options\.anthropic\.thinking"):
        build(provider_options={"anthropic": {"thinking": thinking}})


def test_explicit_thinking_wins_over_effort_with_a_warning() -> None:
    body, warnings = build(reasoning_effort="high", temperature=0.5,
                           provider_options={"anthropic": {"thinking": {"type": "disabled"}}})
    assert body["thinking"] == {"type": "disabled"}
    assert body["temperature"] == 0.5, "thinking is off, so temperature is allowed"
    assert settings(warnings) == ["reasoning_effort"]


def test_thinking_drops_sampling_and_forced_tools() -> None:
    body, warnings = build(reasoning_effort="medium", temperature=0.7, top_k=5, top_p=0.5,
                           tools=[TOOL], tool_choice="required")
    for name in ("temperature", "top_k", "top_p"):
        assert name not in body
    assert body["tool_choice"] == {"type": "auto"}
    assert settings(warnings) == ["temperature", "top_p", "top_k", "tool_choice"]
    body, _ = build(reasoning_effort="medium", top_p=0.97)
    assert body["top_p"] == 0.97


def test_models_that_take_one_sampling_knob_keep_temperature() -> None:
    body, warnings = build(MODEL, temperature=0.4, top_p=0.9)
    assert body["temperature"] == 0.4 and "top_p" not in body
    assert settings(warnings) == ["top_p"]
    body, warnings = build("claude-3-7-sonnet-20250219", temperature=0.4, top_p=0.9)
    assert body["top_p"] == 0.9 and warnings == []


# -- tools and JSON output ---------------------------------------------------------------
def test_json_format_with_tools_is_ignored_with_a_warning() -> None:
    body, warnings = build(tools=[TOOL], response_format=ResponseFormatJson())
    assert [t["name"] for t in body["tools"]] == ["lookup"]
    assert settings(warnings) == ["response_format"]


def test_json_format_with_thinking_is_only_offered() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body, warnings = build(reasoning_effort="low", response_format=ResponseFormatJsonSchema(
        name="thing", schema=schema, strict=True))
    assert body["tool_choice"] == {"type": "auto"}
    assert body["tools"][0]["input_schema"] == schema
    assert settings(warnings) == ["response_format.strict", "response_format"]


def test_strict_tools_warn() -> None:
    strict = Tool(name="lookup", parameters={"type": "object", "properties": {}}, strict=True)
    body, warnings = build(tools=[strict])
    assert body["tools"] == [{"name": "lookup", "input_schema": strict.parameters}]
    assert settings(warnings) == ["strict"]


def test_tool_choice_without_tools_is_left_out() -> None:
    body, warnings = build(tool_choice="auto", parallel_tool_calls=False)
    assert "tool_choice" not in body and "tools" not in body and warnings == []


# -- messages ----------------------------------------------------------------------------
def test_reasoning_from_other_providers_is_dropped_once_with_a_warning() -> None:
    assistant = Message(role="assistant", parts=[
        ReasoningPart(text="hmm", provider_metadata={"gemini": {"thought_signature": "x"}}),
        ReasoningPart(text="hmm", provider_metadata={"gemini": {"thought_signature": "x"}}),
        TextPart(text="Answer"),
    ])
    body, warnings = build(messages=[Message.user("Q"), assistant, Message.user("More")])
    assert body["messages"][1]["content"] == [{"type": "text", "text": "Answer"}]
    assert len(warnings) == 1 and warnings[0].type == "unsupported-part"
    assert "gemini" in warnings[0].message


def test_parts_anthropic_cannot_take_warn() -> None:
    body, warnings = build(messages=[
        Message.user("Listen", FilePart(media_type="audio/wav", data="AAAA"),
                     FilePart(media_type="text/plain", url="https://example.com/a.txt"),
                     ImagePart(data="AAAA", detail="high")),
        Message(role="assistant", parts=[ImagePart(url="https://example.com/x.png"),
                                         TextPart(text="ok")]),
        Message.user("again"),
    ])
    assert [b["type"] for b in body["messages"][0]["content"]] == ["text", "image"]
    assert [w.type for w in warnings] == ["unsupported-part", "unsupported-part",
                                          "unsupported-setting", "unsupported-part"]
    assert "audio/wav" in warnings[0].message and "by URL" in warnings[1].message


def test_bad_text_file_data_is_an_error() -> None:
    with pytest.raises(InvalidRequestError, match="base64"):
        build(messages=[Message.user("read", FilePart(media_type="text/plain", data="%%%"))])


def test_bad_tool_arguments_in_history_warn() -> None:
    body, warnings = build(messages=[
        Message.user("Q"),
        Message(role="assistant", parts=[ToolCallPart(id="c1", name="lookup", arguments="[1")]),
        Message.tool_result("c1", "r"),
    ], tools=[TOOL])
    assert body["messages"][1]["content"][0]["input"] == {}
    assert "not a JSON object" in warnings[0].message


def test_tool_results_come_first_when_merged_with_user_text() -> None:
    body, _ = build(messages=[
        Message.user("Q"),
        Message(role="assistant", parts=[ToolCallPart(id="c1", name="lookup")]),
        Message.user("(also, be quick)"),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="c1", content="")]),
    ], tools=[TOOL])
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "c1"},
        {"type": "text", "text": "(also, be quick)"},
    ]


def test_empty_assistant_turns_are_dropped_and_turns_merge() -> None:
    body, _ = build(messages=[Message.user("A"), Message.assistant(""), Message.user("B")])
    assert body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "A"}, {"type": "text", "text": "B"}]}]


def test_only_a_system_prompt_is_an_error() -> None:
    with pytest.raises(InvalidRequestError, match="at least one user or assistant message"):
        build(messages=[Message.system("You are terse."), Message.user("  ")])


def test_options_merge_one_level_deep() -> None:
    # Gateway-owned fields (model, stream...) are refused before the adapter runs:
    # tests/security_review/test_provider_options.py.
    body, warnings = build(user="u1", provider_options={"anthropic": {
        "metadata": {"tag": "x"}}})
    assert body["stream"] is True and body["model"] == MODEL
    assert body["metadata"] == {"user_id": "u1", "tag": "x"}
    assert settings(warnings) == []
