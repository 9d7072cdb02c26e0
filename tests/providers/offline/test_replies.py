"""What the offline model says: useful, deterministic text for each kind of request."""

from __future__ import annotations

import re

from switchboard.spec import (
    TOOL_PICTURES,
    ChatRequest,
    FilePart,
    ImagePart,
    Message,
    TextPart,
    ToolCallPart,
)
from tests.providers.offline.helpers import PIXEL, ask, model


async def reply(request: ChatRequest) -> str:
    return (await model().generate(request)).text


async def test_greeting_says_what_it_is_and_how_to_add_a_provider() -> None:
    text = await reply(ask("Hello!"))
    assert text.startswith("Hello!")
    assert "offline model" in text
    assert "Settings → Providers" in text
    assert "switchboard " not in text  # read in the web chat: no command lines


async def test_identity_question() -> None:
    text = await reply(ask("Who are you?"))
    assert "offline-chat" in text and "API key" in text


async def test_code_request_gets_a_fenced_block_in_the_asked_language() -> None:
    text = await reply(ask("Write a Python function that reverses a string"))
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    compile(block.group(1), "<offline>", "exec")  # the skeleton is valid Python
    assert "def reverses_string(" in block.group(1)
    for prompt, tag in [("Show me a bash script to back up files", "bash"),
                        ("Write a SQL query that lists users", "sql"),
                        ("Give me TypeScript code for a counter", "typescript"),
                        ("Write a function in Rust to add numbers", "rust"),
                        ("Write a golang program that prints hello", "go"),
                        ("Implement a JavaScript function to debounce", "javascript")]:
        assert f"```{tag}\n" in await reply(ask(prompt)), prompt


async def test_short_message_is_echoed() -> None:
    text = await reply(ask("I like green tea"))
    assert "“I like green tea”" in text and "4 words" in text


async def test_long_message_is_summarised() -> None:
    body = ("Switchboard routes chat requests. Providers are configured once. "
            "Keys stay encrypted at rest. Usage is recorded per message. " * 5)
    text = await reply(ask(body))
    assert text.startswith("Here is a summary of your message (")
    assert "sentences" in text and "**Key words:**" in text
    assert "switchboard" in text.lower()


async def test_question_is_acknowledged() -> None:
    text = await reply(ask("What is the capital of France?"))
    assert "You asked: “What is the capital of France?”" in text
    assert "capital" in text and "france" in text


async def test_multi_turn_refers_to_the_conversation() -> None:
    request = ChatRequest(messages=[
        Message.user("Hello"),
        Message.assistant("Hi!"),
        Message.user("Tell me more"),
    ])
    text = await reply(request)
    assert "message 2 from you" in text and "3 messages in all" in text
    assert "You started with: “Hello”" in text
    assert "Settings → Providers" not in text, "the provider hint is said once"


async def test_images_and_files_are_acknowledged() -> None:
    request = ChatRequest(messages=[Message.user(
        "What do you see?",
        ImagePart(data=PIXEL, media_type="image/png"),
        ImagePart(url="https://example.com/cat.jpg", media_type="image/jpeg"),
        FilePart(data="aGVsbG8=", media_type="application/pdf", filename="a.pdf"),
    )])
    text = await reply(request)
    assert "3 attachments" in text
    assert "image/png, 70 bytes inline" in text
    assert "image/jpeg, from https://example.com/cat.jpg" in text
    assert "“a.pdf”, application/pdf, 5 bytes inline" in text


async def test_image_without_text() -> None:
    request = ChatRequest(messages=[Message(role="user", parts=[ImagePart(data=PIXEL)])])
    text = await reply(request)
    assert text.startswith("I received an image (image/png, 70 bytes inline)")


async def test_tool_result_is_answered_in_text() -> None:
    call = ToolCallPart(id="toolu_01ABC", name="get_weather", arguments='{"city": "Paris"}')
    request = ChatRequest(messages=[
        Message.user("Weather in Paris?"),
        Message(role="assistant", parts=[call]),
        Message.tool_result("toolu_01ABC", '{"temp_c": 21, "sky": "sunny"}'),
    ])
    result = await model().generate(request)
    assert result.tool_calls == []
    assert result.finish_reason is not None and result.finish_reason.unified == "stop"
    assert "`get_weather`" in result.text
    assert "**temp_c**: 21" in result.text and "**sky**: sunny" in result.text


async def test_the_pictures_a_tool_returned_are_part_of_its_results() -> None:
    """The tool loop shows a step's pictures as a user message after the results
    (decision 0163): the offline model answers the results, not that message."""
    call = ToolCallPart(id="c1", name="generate_image", arguments='{"prompt": "a boat"}')
    request = ChatRequest(messages=[
        Message.user("Draw a boat"), Message(role="assistant", parts=[call]),
        Message.tool_result("c1", "drawn"),
        Message(role="user", parts=[TextPart(text=TOOL_PICTURES), ImagePart(data=PIXEL)])])
    assert await reply(request) == "According to `generate_image`: drawn"


async def test_plain_and_failed_tool_results() -> None:
    call = ToolCallPart(id="c1", name="search", arguments="{}")
    base = [Message.user("search it"), Message(role="assistant", parts=[call])]
    plain = await reply(ChatRequest(messages=[*base, Message.tool_result("c1", "42 results")]))
    assert plain == "According to `search`: 42 results"
    failed = ChatRequest(messages=[*base, Message(role="tool", parts=[
        {"type": "tool-result", "tool_call_id": "c1", "content": "boom", "is_error": True}])])
    assert await reply(failed) == "The `search` call failed: boom"
