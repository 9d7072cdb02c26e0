from __future__ import annotations

import pytest
from pydantic import ValidationError

from switchboard.spec import (
    ChatRequest,
    ImagePart,
    Message,
    ResponseFormatJsonSchema,
    TextPart,
    Tool,
    ToolChoiceTool,
    ToolResultPart,
)


def test_minimal_request() -> None:
    r = ChatRequest(messages=[Message.user("hi")])
    assert r.messages[0].text == "hi"
    assert r.options_for("openai") == {}


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("temperature", 3, "temperature"),
        ("temperature", -0.1, "temperature"),
        ("top_p", 0, "top_p"),
        ("max_output_tokens", 0, "max_output_tokens"),
        ("stop", [""], "stop sequences must not be empty"),
        ("stop", ["x"] * 17, "at most 16"),
        ("messages", [], "at least one message"),
    ],
)
def test_bad_values_name_the_field(field: str, value: object, needle: str) -> None:
    data: dict[str, object] = {"messages": [Message.user("hi")], field: value}
    with pytest.raises(ValidationError) as info:
        ChatRequest.model_validate(data)
    assert needle in str(info.value)


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="temprature"):
        ChatRequest.model_validate({"messages": [Message.user("x")], "temprature": 1})


def test_tool_schema_must_be_valid_json_schema() -> None:
    with pytest.raises(ValidationError, match="not a valid JSON Schema at properties/a/type"):
        Tool(name="t", parameters={"type": "object", "properties": {"a": {"type": "nope"}}})


def test_tool_parameters_must_be_an_object_schema() -> None:
    with pytest.raises(ValidationError, match="type 'object'"):
        Tool(name="t", parameters={"type": "string"})


def test_tool_name_rules() -> None:
    with pytest.raises(ValidationError, match="1-64 characters"):
        Tool(name="has space")


def test_tool_choice_must_name_a_given_tool() -> None:
    with pytest.raises(ValidationError, match="not among the tools given"):
        ChatRequest(messages=[Message.user("x")], tools=[Tool(name="a")],
                    tool_choice=ToolChoiceTool(name="b"))
    with pytest.raises(ValidationError, match="needs at least one tool"):
        ChatRequest(messages=[Message.user("x")], tool_choice="required")


def test_response_format_schema_is_checked() -> None:
    ok = ResponseFormatJsonSchema(name="r", schema={"type": "object"})
    assert ok.schema_ == {"type": "object"}
    with pytest.raises(ValidationError, match="not a valid JSON Schema"):
        ResponseFormatJsonSchema(name="r", schema={"type": 5})


def test_parts_must_fit_role() -> None:
    with pytest.raises(ValidationError, match="a user message cannot hold a 'tool-result'"):
        Message(role="user", parts=[ToolResultPart(tool_call_id="1", content="x")])
    with pytest.raises(ValidationError, match="exactly one of 'data'"):
        ImagePart(media_type="image/png")
    with pytest.raises(ValidationError, match="image/"):
        ImagePart(media_type="text/plain", url="https://x")


def test_system_folding() -> None:
    r = ChatRequest(system="A", messages=[Message.system("B"), Message.user("hi"),
                                          Message(role="assistant", parts=[TextPart(text="ok")])])
    system, rest = r.with_system_folded()
    assert system == "A\n\nB"
    assert [m.role for m in rest] == ["user", "assistant"]


def test_image_helpers() -> None:
    img = ImagePart.from_bytes(b"\x89PNG", "image/png")
    assert img.data_url().startswith("data:image/png;base64,")
    assert ImagePart(url="https://e.x/a.png").data_url() == "https://e.x/a.png"
