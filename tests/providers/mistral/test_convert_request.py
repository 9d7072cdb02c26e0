"""Exact outgoing bodies: snapshots, checked by the fake's strict gate and (when
../shared/specs is present) against Mistral's official openapi schema."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from switchboard.providers.mistral.convert_messages import BRIDGE, EMPTY_ANSWER
from switchboard.providers.mistral.convert_request import build_body
from switchboard.spec import (
    TOOL_PICTURES,
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
    ToolChoiceTool,
    ToolResultPart,
)
from tests.fakes.mistral import (
    MODEL,
    VISION_MODEL,
    bad_order,
    empty_assistant,
    schema_errors,
)
from tests.providers.mistral.conftest import SNAPSHOTS
from tests.snapshot import assert_snapshot
from tests.spec_validation import validate_request

PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
WEATHER = Tool(
    name="get_weather",
    description="Current weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]},
)
TIME = Tool(name="get_time", parameters={"type": "object", "properties": {}}, strict=True)


def _tool_history(call_id: str) -> list[Message]:
    return [
        Message.user("Weather in Paris?"),
        Message(role="assistant", parts=[
            TextPart(text="Let me check."),
            ToolCallPart(id=call_id, name="get_weather", arguments='{"city": "Paris"}'),
        ]),
        Message(role="tool", parts=[
            ToolResultPart(tool_call_id=call_id, content='{"temp_c": 21}'),
        ]),
    ]


CASES: dict[str, Callable[[], ChatRequest]] = {
    "plain_text": lambda: ChatRequest(messages=[Message.user("Hello")]),
    "system_prompt": lambda: ChatRequest(
        system="You are terse.",
        messages=[Message.system("Answer in French."), Message.user("Hello")],
    ),
    "multi_turn": lambda: ChatRequest(messages=[
        Message.user("Hi"), Message.assistant("Hello! How can I help?"),
        Message.user("Tell me a joke"),
    ]),
    "sampling": lambda: ChatRequest(
        messages=[Message.user("Hello")], max_output_tokens=256, temperature=0.7,
        top_p=0.9, seed=42, presence_penalty=0.5, frequency_penalty=0.3,
    ),
    "stop_sequences": lambda: ChatRequest(messages=[Message.user("Count")],
                                          stop=["END", "\n\n"]),
    "tools": lambda: ChatRequest(
        messages=[Message.user("Weather and time?")], tools=[WEATHER, TIME],
        tool_choice="required", parallel_tool_calls=False,
    ),
    "tool_choice_named": lambda: ChatRequest(
        messages=[Message.user("Weather?")], tools=[WEATHER],
        tool_choice=ToolChoiceTool(name="get_weather"),
    ),
    "tool_choice_none": lambda: ChatRequest(
        messages=[Message.user("Just talk")], tools=[WEATHER], tool_choice="none",
    ),
    "tool_result": lambda: ChatRequest(messages=_tool_history("D681PevKs"), tools=[WEATHER]),
    "tool_result_foreign_ids": lambda: ChatRequest(
        messages=_tool_history("toolu_01A09q90qw90lq917835lq9"), tools=[WEATHER],
    ),
    # a loop stopped between the results and the answer, then a new question: the
    # bridging assistant message Mistral needs (code 3230)
    "question_after_tool_result": lambda: ChatRequest(
        messages=[*_tool_history("D681PevKs"), Message.user("Never mind: and in Rome?")],
        tools=[WEATHER]),
    "images": lambda: ChatRequest(messages=[Message.user(
        "Compare these",
        ImagePart(url="https://example.com/cat.jpg"),
        ImagePart(media_type="image/png", data=PIXEL),
        ImagePart(url="https://example.com/dog.jpg", detail="high"),
    )]),
    "json_object": lambda: ChatRequest(messages=[Message.user("JSON please")],
                                       response_format=ResponseFormatJson()),
    "json_schema": lambda: ChatRequest(
        messages=[Message.user("A book")],
        response_format=ResponseFormatJsonSchema(
            name="book", description="A book", strict=True,
            schema_={"type": "object", "properties": {"title": {"type": "string"}},
                    "required": ["title"], "additionalProperties": False},
        ),
    ),
    "provider_options": lambda: ChatRequest(
        messages=[Message.user("Think")],
        provider_options={"mistral": {"safe_prompt": True, "prompt_mode": "reasoning",
                                      "prompt_cache_key": "conv-42"},
                          "openai": {"store": True}},
    ),
    "reasoning_effort": lambda: ChatRequest(messages=[Message.user("Hard one")],
                                            reasoning_effort="high"),
    "reasoning_replay": lambda: ChatRequest(messages=[
        Message.user("2+2?"),
        Message(role="assistant", parts=[
            ReasoningPart(text="Simple sum.", provider_metadata={"mistral": {"signature": "s1"}}),
            ReasoningPart(text="Plain reasoning, no metadata."),
            ReasoningPart(text="Claude's thoughts",
                          provider_metadata={"anthropic": {"signature": "EqQB"}}),
            TextPart(text="4"),
        ]),
        Message.user("And 3+3?"),
    ]),
    "documents_and_audio": lambda: ChatRequest(messages=[Message(role="user", parts=[
        TextPart(text="Summarise both"),
        FilePart(media_type="application/pdf", url="https://arxiv.org/pdf/1805.04770",
                 filename="paper.pdf"),
        FilePart(media_type="audio/mpeg", data="SUQzBAAAAAAA"),
    ])]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_body_snapshot(name: str) -> None:
    model = VISION_MODEL if name == "images" else MODEL
    body, _ = build_body(model, CASES[name](), stream=True)
    assert schema_errors(body) == [], "the fake's strict gate would refuse this body"
    assert_snapshot(body, SNAPSHOTS / f"{name}.json")


@pytest.mark.parametrize("name", sorted(CASES))
def test_body_matches_official_schema(name: str) -> None:
    body, _ = build_body(MODEL, CASES[name](), stream=True)
    validate_request("mistral", "/v1/chat/completions", body)


def test_non_stream_body() -> None:
    body, warnings = build_body(MODEL, CASES["plain_text"](), stream=False)
    assert body == {"model": MODEL, "messages": [{"role": "user", "content": "Hello"}],
                    "stream": False}
    assert warnings == []
    validate_request("mistral", "/v1/chat/completions", body)


def test_never_sends_stream_options() -> None:
    body, _ = build_body(MODEL, CASES["sampling"](), stream=True)
    assert "stream_options" not in body


def test_foreign_tool_ids_match_between_call_and_result() -> None:
    body, _ = build_body(MODEL, CASES["tool_result_foreign_ids"](), stream=True)
    call_id = body["messages"][1]["tool_calls"][0]["id"]
    assert body["messages"][2]["tool_call_id"] == call_id
    assert len(call_id) == 9 and call_id.isalnum()
    assert body["messages"][2]["name"] == "get_weather", "the name is looked up from the call"


def test_mistral_tool_ids_are_sent_unchanged() -> None:
    body, _ = build_body(MODEL, CASES["tool_result"](), stream=True)
    assert body["messages"][1]["tool_calls"][0]["id"] == "D681PevKs"
    assert body["messages"][2]["tool_call_id"] == "D681PevKs"


def _warned(request: ChatRequest) -> list[CallWarning]:
    body, warnings = build_body(MODEL, request, stream=True)
    assert schema_errors(body) == []
    return warnings


@pytest.mark.parametrize(("setting", "request_kwargs"), [
    ("top_k", {"top_k": 40}),
    ("user", {"user": "user-123"}),
    ("temperature", {"temperature": 1.8}),
    ("seed", {"seed": -5}),
])
def test_settings_mistral_cannot_honour_give_a_warning(
    setting: str, request_kwargs: dict[str, object]
) -> None:
    warnings = _warned(ChatRequest(messages=[Message.user("Hi")], **request_kwargs))
    assert [w.setting for w in warnings] == [setting]
    assert warnings[0].type == "unsupported-setting"
    assert "Mistral" in warnings[0].message


def test_temperature_above_mistrals_range_is_lowered() -> None:
    body, _ = build_body(MODEL, ChatRequest(messages=[Message.user("Hi")], temperature=2.0),
                         stream=True)
    assert body["temperature"] == 1.5


def test_foreign_reasoning_is_dropped_with_a_warning() -> None:
    body, warnings = build_body(MODEL, CASES["reasoning_replay"](), stream=True)
    assert [w.type for w in warnings] == ["unsupported-part"]
    assert "anthropic" in warnings[0].message
    assert "Claude's thoughts" not in str(body)


def test_parts_mistral_cannot_take_give_a_warning() -> None:
    request = ChatRequest(messages=[
        Message(role="user", parts=[
            TextPart(text="Read this"),
            FilePart(media_type="application/pdf", data="JVBERi0xLjQK"),
        ]),
        Message(role="assistant", parts=[ToolCallPart(id="c1", name="get_weather")]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="c1", content="boom",
                                                   is_error=True)]),
    ], tools=[WEATHER])
    warnings = _warned(request)
    assert [w.type for w in warnings] == ["unsupported-part", "other"]
    assert "application/pdf" in warnings[0].message
    assert "error" in warnings[1].message


def test_unknown_provider_option_is_refused_naming_the_allowed_keys() -> None:
    request = ChatRequest(messages=[Message.user("Hi")],
                          provider_options={"mistral": {"safe_mode": True}})
    with pytest.raises(InvalidRequestError) as info:
        build_body(MODEL, request, stream=True)
    message = str(info.value)
    assert "'safe_mode'" in message
    assert "safe_prompt" in message and "prompt_mode" in message
    assert info.value.param == "provider_options.mistral"


def test_badly_typed_provider_option_is_refused() -> None:
    request = ChatRequest(messages=[Message.user("Hi")],
                          provider_options={"mistral": {"prompt_mode": "fast"}})
    with pytest.raises(InvalidRequestError, match="prompt_mode"):
        build_body(MODEL, request, stream=True)


def test_a_tools_pictures_go_into_the_tool_result_not_a_user_message() -> None:
    """Mistral refuses ``user`` right after ``tool`` (code 3230): the pictures the tool
    loop shows after the results are folded into the last result's content chunks."""
    call = ToolCallPart(id="D681PevKs", name="draw", arguments="{}")
    request = ChatRequest(messages=[
        Message.user("Draw a boat"), Message(role="assistant", parts=[call]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="D681PevKs", name="draw",
                                                   content="drawn")]),
        Message(role="user", parts=[TextPart(text=TOOL_PICTURES), ImagePart(data=PIXEL)])])
    body, _ = build_body(VISION_MODEL, request, stream=True)
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "tool"]
    assert body["messages"][2]["content"] == [
        {"type": "text", "text": "drawn"}, {"type": "text", "text": TOOL_PICTURES},
        {"type": "image_url", "image_url": f"data:image/png;base64,{PIXEL}"}]
    assert schema_errors(body) == []
    validate_request("mistral", "/v1/chat/completions", body)


@pytest.mark.parametrize("after", [
    Message.user("Never mind: and in Rome?"),
    Message.system("Answer in French."),
    Message(role="user", parts=[TextPart(text="Compare"), ImagePart(data=PIXEL)]),
])
def test_a_message_after_tool_results_gets_a_bridging_assistant_turn(after: Message) -> None:
    """Mistral refuses anything but ``tool`` / ``assistant`` right after ``tool`` (code
    3230), and an ``assistant`` message without content (code 3240): the bridge has text."""
    request = ChatRequest(messages=[*_tool_history("D681PevKs"), after,
                                    Message.assistant("Ok."), Message.user("Thanks")])
    body, _ = build_body(VISION_MODEL, request, stream=True)
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant", after.role, "assistant",
                     "user"]
    assert body["messages"][3] == {"role": "assistant", "content": BRIDGE}
    assert bad_order(body) is None and schema_errors(body) == []
    validate_request("mistral", "/v1/chat/completions", body)


def test_tool_results_answered_get_no_bridge() -> None:
    request = ChatRequest(messages=[*_tool_history("D681PevKs"),
                                    Message.assistant("21 °C."), Message.user("Rome?")])
    body, _ = build_body(MODEL, request, stream=True)
    assert [m["role"] for m in body["messages"]] == [
        "user", "assistant", "tool", "assistant", "user"]
    assert BRIDGE not in str(body)


def test_a_question_sent_with_a_tools_pictures_stays_a_user_message() -> None:
    """A history that goes on after tool results without an answer carries the tool's
    pictures and the next question in one user message: the pictures go into the tool
    result, the question after a bridging assistant turn."""
    call = ToolCallPart(id="D681PevKs", name="draw", arguments="{}")
    request = ChatRequest(messages=[
        Message.user("Draw a boat"), Message(role="assistant", parts=[call]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="D681PevKs", name="draw",
                                                   content="drawn")]),
        Message(role="user", parts=[TextPart(text=TOOL_PICTURES), ImagePart(data=PIXEL),
                                    TextPart(text="Now a car")])])
    body, _ = build_body(VISION_MODEL, request, stream=True)
    assert [m["role"] for m in body["messages"]] == [
        "user", "assistant", "tool", "assistant", "user"]
    assert body["messages"][2]["content"] == [
        {"type": "text", "text": "drawn"}, {"type": "text", "text": TOOL_PICTURES},
        {"type": "image_url", "image_url": f"data:image/png;base64,{PIXEL}"}]
    assert body["messages"][3] == {"role": "assistant", "content": BRIDGE}
    assert body["messages"][4] == {"role": "user", "content": "Now a car"}
    assert bad_order(body) is None and schema_errors(body) == []
    validate_request("mistral", "/v1/chat/completions", body)


def test_an_empty_assistant_message_is_sent_as_a_placeholder_with_a_warning() -> None:
    """A ``/v1`` caller replays an answer that came back empty; Mistral refuses an
    assistant message with neither content nor tool calls (code 3240, which the fake
    enforces), so it goes as a placeholder that says so, in its place, and the caller is
    told."""
    raw = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}]}
    assert empty_assistant(raw)
    request = ChatRequest(messages=[Message.user("Hi"), Message.assistant(""),
                                    Message.user("Still there?")])
    body, warnings = build_body(MODEL, request, stream=False)
    assert body["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": EMPTY_ANSWER},
        {"role": "user", "content": "Still there?"}]
    assert not empty_assistant(body) and bad_order(body) is None and schema_errors(body) == []
    assert [w.type for w in warnings] == ["unsupported-part"]
    assert "empty" in warnings[0].message
    validate_request("mistral", "/v1/chat/completions", body)
