"""The exact bodies the adapter sends, captured by the fake Gemini server and snapshotted
(``UPDATE_SNAPSHOTS=1`` rewrites them), each also checked against the documented field
names (``wire_fields``)."""

from __future__ import annotations

from typing import Any

from switchboard.spec import (
    CallWarning,
    ChatRequest,
    FilePart,
    ImagePart,
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
from tests.fakes.gemini import MODEL, make_provider
from tests.providers.gemini.conftest import SNAPSHOTS, Server
from tests.providers.gemini.wire_fields import check_request
from tests.snapshot import assert_snapshot

KEY = "AIzaSyTestKey0123456789abcdefghijklmn"
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
WEATHER = Tool(
    name="get_weather",
    description="Current weather for a city",
    parameters={
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"city": {"type": "string", "minLength": 1}},
        "required": ["city"],
        "additionalProperties": False,
    },
)
CLOCK = Tool(name="get_time")


async def send(server: Server, request: ChatRequest, model: str = MODEL,
               **config: Any) -> tuple[dict[str, Any], list[CallWarning]]:
    provider = make_provider(server.base_url, api_key=KEY, **config)
    result = await provider.chat_model(model).generate(request)
    body = server.vendor.last.body
    check_request(body)
    return body, result.warnings


async def test_plain_text(server: Server) -> None:
    body, warnings = await send(server, ChatRequest(messages=[Message.user("Hello")]))
    assert_snapshot(body, SNAPSHOTS / "plain_text.json")
    assert warnings == []
    sent = server.vendor.last
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == KEY
    assert sent.query == {}, "the key must never travel in the query string"


async def test_stream_url_and_key_header(server: Server) -> None:
    provider = make_provider(server.base_url, api_key=KEY)
    events = [e async for e in provider.chat_model(MODEL).stream(
        ChatRequest(messages=[Message.user("Hi")]))]
    assert events
    sent = server.vendor.last
    assert sent.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert sent.query == {"alt": "sse"}
    assert sent.headers["x-goog-api-key"] == KEY


async def test_system_prompt(server: Server) -> None:
    request = ChatRequest(system="Be brief.", messages=[
        Message.system("Answer in French."), Message.user("What is the capital of Italy?"),
    ])
    body, _ = await send(server, request)
    assert_snapshot(body, SNAPSHOTS / "system_prompt.json")
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief.\n\nAnswer in French."}]}


async def test_multi_turn(server: Server) -> None:
    request = ChatRequest(messages=[
        Message.user("My name is Ada."), Message.assistant("Nice to meet you, Ada."),
        Message.user("What is my name?"),
    ])
    body, _ = await send(server, request)
    assert_snapshot(body, SNAPSHOTS / "multi_turn.json")
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]


async def test_generation_settings_and_stop(server: Server) -> None:
    request = ChatRequest(
        messages=[Message.user("Count to ten")], max_output_tokens=256, temperature=0.2,
        top_p=0.9, top_k=40, seed=7, presence_penalty=0.5, frequency_penalty=-0.5,
        stop=["six", "seven", "eight", "nine", "ten", "eleven", "twelve"],
    )
    body, warnings = await send(server, request)
    assert_snapshot(body, SNAPSHOTS / "generation_settings_stop.json")
    assert body["generationConfig"]["stopSequences"] == ["six", "seven", "eight", "nine", "ten"]
    assert [w.setting for w in warnings] == ["stop"]
    assert "'eleven', 'twelve'" in warnings[0].message


async def test_tools_and_choices(server: Server) -> None:
    request = ChatRequest(messages=[Message.user("Weather in Paris?")], tools=[WEATHER, CLOCK],
                          tool_choice="auto")
    body, warnings = await send(server, request)
    assert_snapshot(body, SNAPSHOTS / "tools.json")
    assert warnings == []
    params = body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"]
    assert "$schema" not in params and params["additionalProperties"] is False

    expected = {"none": {"mode": "NONE"}, "required": {"mode": "ANY"}}
    for choice, config in expected.items():
        body, _ = await send(server, request.model_copy(update={"tool_choice": choice}))
        assert body["toolConfig"] == {"functionCallingConfig": config}
    named = request.model_copy(update={"tool_choice": ToolChoiceTool(name="get_time")})
    body, _ = await send(server, named)
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}
    }


async def test_tool_results(server: Server) -> None:
    """Parallel calls (one with Gemini's own id and a thought signature) and their results
    in consecutive tool messages, sent back as one user turn."""
    calls = Message(role="assistant", parts=[
        TextPart(text="Let me check."),
        ToolCallPart(id="fc-1", name="get_weather", arguments='{"city":"Paris"}',
                     provider_metadata={"gemini": {"function_call_id": "fc-1",
                                                   "thought_signature": "c2lnLTE="}}),
        ToolCallPart(id="call_resp_1", name="get_weather", arguments='{"city": "Lyon"}'),
        ToolCallPart(id="call_resp_2", name="get_time", arguments=""),
    ])
    request = ChatRequest(tools=[WEATHER, CLOCK], messages=[
        Message.user("Weather in Paris and Lyon, and the time?"), calls,
        Message.tool_result("fc-1", '{"temp_c": 21}'),
        Message(role="tool", parts=[
            ToolResultPart(tool_call_id="call_resp_1", content="rain, 14 C"),
            ToolResultPart(tool_call_id="call_resp_2", content="clock offline", is_error=True),
        ]),
        Message.user("Thanks! Summarise."),
    ])
    body, _ = await send(server, request)
    assert_snapshot(body, SNAPSHOTS / "tool_results.json")
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    responses = [p["functionResponse"] for p in body["contents"][2]["parts"][:3]]
    assert responses == [
        {"name": "get_weather", "response": {"temp_c": 21}, "id": "fc-1"},
        {"name": "get_weather", "response": {"result": "rain, 14 C"}},
        {"name": "get_time", "response": {"error": "clock offline"}},
    ]


async def test_images_and_files(server: Server) -> None:
    request = ChatRequest(messages=[Message(role="user", parts=[
        TextPart(text="Compare these."),
        ImagePart(media_type="image/png", data=PIXEL),
        ImagePart(url="https://example.com/photos/cat.jpg"),
        ImagePart(url=f"data:image/png;base64,{PIXEL}"),
        FilePart(media_type="application/pdf",
                 url="https://generativelanguage.googleapis.com/v1beta/files/abc-123"),
    ])])
    body, warnings = await send(server, request)
    assert_snapshot(body, SNAPSHOTS / "images.json")
    parts = body["contents"][0]["parts"]
    assert parts[2] == {"fileData": {"mimeType": "image/jpeg",
                                     "fileUri": "https://example.com/photos/cat.jpg"}}
    assert parts[3] == {"inlineData": {"mimeType": "image/png", "data": PIXEL}}
    assert warnings == [], "an HTTPS image on a current model is fetched by Gemini"


async def test_json_schema(server: Server) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Z]"},
            "kind": {"const": "city"},
            "home": {"$ref": "#/$defs/place", "description": "where"},
        },
        "required": ["name", "kind"],
        "additionalProperties": False,
        "$defs": {"place": {"type": "object", "properties": {"lat": {"type": "number"}}}},
    }
    request = ChatRequest(messages=[Message.user("Describe Rome")], response_format=(
        ResponseFormatJsonSchema(name="place", description="A place", schema=schema)))
    body, warnings = await send(server, request)
    assert_snapshot(body, SNAPSHOTS / "json_schema.json")
    sent = body["generationConfig"]["responseJsonSchema"]
    assert sent["properties"]["kind"] == {"enum": ["city"]}
    assert sent["properties"]["home"] == {"$ref": "#/$defs/place"}
    assert [w.setting for w in warnings] == ["response_format"]
    assert "pattern at /properties/name" in warnings[0].message
    assert "description at /properties/home (beside $ref)" in warnings[0].message


async def test_json_mode(server: Server) -> None:
    request = ChatRequest(messages=[Message.user("List three colours as JSON")],
                          response_format=ResponseFormatJson())
    body, _ = await send(server, request)
    assert body["generationConfig"] == {"responseMimeType": "application/json"}


async def test_reasoning_effort(server: Server) -> None:
    request = ChatRequest(messages=[Message.user("Prove it")], reasoning_effort="low")
    body, _ = await send(server, request)
    assert_snapshot(body, SNAPSHOTS / "reasoning_effort_2_5.json")
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 1024,
                                                          "includeThoughts": True}
    body, _ = await send(server, request, model="gemini-3-flash-preview")
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "low",
                                                          "includeThoughts": True}
    minimal = request.model_copy(update={"reasoning_effort": "minimal"})
    body, _ = await send(server, minimal)
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0,
                                                          "includeThoughts": False}
    body, _ = await send(server, minimal, model="gemini-2.5-pro")
    assert body["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 128, (
        "2.5 Pro cannot turn thinking off; its minimum budget is 128"
    )


async def test_provider_options_merged_last(server: Server) -> None:
    request = ChatRequest(
        messages=[Message.user("Hi")], temperature=0.5, reasoning_effort="high",
        provider_options={"gemini": {
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT",
                                "threshold": "BLOCK_ONLY_HIGH"}],
            "cachedContent": "cachedContents/abc123",
            "generationConfig": {"candidateCount": 1, "thinkingConfig": {"thinkingBudget": 0}},
        }, "openai": {"store": True}},
    )
    body, _ = await send(server, request)
    assert_snapshot(body, SNAPSHOTS / "provider_options.json")
    assert body["generationConfig"] == {"temperature": 0.5, "candidateCount": 1,
                                        "thinkingConfig": {"thinkingBudget": 0}}
    assert "store" not in body


async def test_thought_signatures_echoed(server: Server) -> None:
    """Gemini's own reasoning and signatures go back on the parts they came with."""
    answer = Message(role="assistant", parts=[
        ReasoningPart(text="Thinking about it.",
                      provider_metadata={"gemini": {"thought": True,
                                                    "thought_signature": "dGhvdWdodA=="}}),
        TextPart(text="Paris."),
        ReasoningPart(provider_metadata={"gemini": {"thought_signature": "dGV4dA=="}}),
    ])
    request = ChatRequest(messages=[Message.user("Capital of France?"), answer,
                                    Message.user("And Spain?")])
    body, warnings = await send(server, request, model="gemini-3-pro-preview")
    assert_snapshot(body, SNAPSHOTS / "thought_signatures.json")
    assert body["contents"][1]["parts"] == [
        {"text": "Thinking about it.", "thought": True, "thoughtSignature": "dGhvdWdodA=="},
        {"text": "Paris.", "thoughtSignature": "dGV4dA=="},
    ]
    assert warnings == []


async def test_history_from_another_vendor(server: Server) -> None:
    foreign = Message(role="assistant", parts=[
        ReasoningPart(text="Let me think.", provider_metadata={"anthropic": {"signature": "x"}}),
        ToolCallPart(id="toolu_01A09q90qw90lq917835lq9", name="get_weather",
                     arguments='{"city":"Oslo"}'),
    ])
    request = ChatRequest(tools=[WEATHER], messages=[
        Message.user("Weather in Oslo?"), foreign,
        Message.tool_result("toolu_01A09q90qw90lq917835lq9", "cold"),
    ])
    body, warnings = await send(server, request)
    assert_snapshot(body, SNAPSHOTS / "cross_vendor_history.json")
    assert body["contents"][1]["parts"] == [
        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}
    ], "another vendor's reasoning and call id are not sent"
    assert body["contents"][2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": "cold"}}}
    ]
    assert [w.type for w in warnings] == ["unsupported-part"]
    assert "another provider" in warnings[0].message


async def test_an_image_model_is_asked_for_text_and_pictures_with_a_picture_to_redraw(
        server: Server) -> None:
    """Gemini's image models (https://ai.google.dev/gemini-api/docs/image-generation):
    ``responseModalities`` TEXT and IMAGE; a picture in the question goes inline."""
    request = ChatRequest(messages=[Message.user(
        "Make the sky orange", ImagePart(media_type="image/png", data=PIXEL))])
    body, warnings = await send(server, request, model="gemini-2.5-flash-image")
    assert_snapshot(body, SNAPSHOTS / "image_output.json")
    assert body["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]
    assert warnings == []
