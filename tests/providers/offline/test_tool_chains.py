"""The offline model drives the server-side tool loop (issue 14): it asks for the built-in
tools by what the user plainly wants (the time, a sum, a page), fills their arguments
from the prompt, makes a chain of calls one step at a time and answers with the results."""

from __future__ import annotations

import json

from switchboard.providers.offline.answer import plan_answer
from switchboard.providers.offline.hints import Hints
from switchboard.spec import ChatRequest, Message, Tool, ToolCallPart, ToolResultPart

DATETIME = Tool(name="datetime", description="The current date and time.",
                parameters={"type": "object", "properties": {"timezone": {"type": "string"}}})
CALCULATOR = Tool(name="calculator", description="Evaluates arithmetic.", parameters={
    "type": "object", "properties": {"expression": {"type": "string"}},
    "required": ["expression"]})
FETCH = Tool(name="fetch_url", description="Returns a web page as text.", parameters={
    "type": "object", "properties": {"url": {"type": "string", "format": "uri"}},
    "required": ["url"]})
TOOLS = [CALCULATOR, FETCH, DATETIME]


def call_of(request: ChatRequest) -> tuple[str, dict[str, object]] | None:
    answer = plan_answer(request)
    if answer.tool_call is None:
        return None
    return answer.tool_call.name, json.loads(answer.tool_call.arguments)


def test_expressions_and_urls_are_found_in_the_text() -> None:
    hints = Hints("What is 12 \u00d7 (3 + 4)? Also 2^10, not 2026-12-04 nor 555-1234. "
                  "Read https://example.com/a?b=1.")
    assert hints.take_expression() == "12 * (3 + 4)"
    assert hints.take_expression() == "2**10"
    assert hints.take_expression() is None
    assert hints.take_url() == "https://example.com/a?b=1"


def test_each_built_in_is_asked_for_by_what_it_does() -> None:
    assert call_of(ChatRequest(messages=[Message.user("what time is it in Europe/Paris?")],
                               tools=TOOLS)) == ("datetime", {"timezone": "Europe/Paris"})
    assert call_of(ChatRequest(messages=[Message.user("how much is 17.5 * 4 + 3")],
                               tools=TOOLS)) == ("calculator", {"expression": "17.5 * 4 + 3"})
    assert call_of(ChatRequest(messages=[Message.user("summarise http://127.0.0.1:8080/x")],
                               tools=TOOLS)) == ("fetch_url", {"url": "http://127.0.0.1:8080/x"})
    assert call_of(ChatRequest(messages=[Message.user("hello, how are you?")],
                               tools=TOOLS)) is None
    assert call_of(ChatRequest(messages=[Message.user("what is 6 * 7")], tools=TOOLS,
                               tool_choice="none")) is None


def test_a_chain_calls_each_tool_once_in_the_order_asked_then_answers() -> None:
    messages = [Message.user("Compute 6 * 7, then tell me what time it is.")]
    seen = []
    for step in range(3):
        request = ChatRequest(messages=messages, tools=TOOLS)
        call = plan_answer(request).tool_call
        if call is None:
            break
        seen.append(call.name)
        messages = [*messages,
                    Message(role="assistant", parts=[ToolCallPart(
                        id=f"c{step}", name=call.name, arguments=call.arguments)]),
                    Message(role="tool", parts=[ToolResultPart(
                        tool_call_id=f"c{step}", name=call.name, content=f"result {step}")])]
    assert seen == ["calculator", "datetime"]
    final = plan_answer(ChatRequest(messages=messages, tools=TOOLS))
    assert final.tool_call is None
    assert "result 0" in final.text and "result 1" in final.text
