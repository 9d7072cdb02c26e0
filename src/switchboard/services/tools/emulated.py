"""Tools for models without native tool calling: the emulated mode (issue 14, decision 0103).

Small local models behind Ollama or vLLM, and older models, take no ``tools`` parameter.
For them each step of the loop is *lowered* and the reply *lifted*:

- **lowered** (``lower``): the tools' names, descriptions and JSON Schemas and a strict
  JSON reply format go into the system prompt; the request carries no ``tools``; the
  history's tool calls become the JSON the model would have written and tool results a
  user message with the results as JSON;
- **lifted** (``lift``): the reply must be ONLY ``{"tool_calls": [{"name", "arguments"}]}``
  or ``{"answer": "..."}`` (a code fence around it is forgiven); the calls become neutral
  ``ToolCallPart``s, the answer a ``TextPart``. Anything else is *malformed*: the loop
  asks once more (``repair``) with the error, then takes the reply as the answer.

What is saved is always neutral (tool-call and tool-result parts), so a conversation
begun with an emulated model continues on a native one and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from switchboard.spec import ChatRequest, Message, Part, TextPart, ToolCallPart, ToolResultPart
from switchboard.spec import Tool as ToolDefinition

FORMAT = """You can use tools. To use one or more of them, reply with ONLY this JSON, nothing \
before or after it:
{"tool_calls": [{"name": "<tool name>", "arguments": {<the arguments, as the tool's \
schema says>}}]}
Several calls in one reply run at the same time. Their results come back in the next \
message. When you can answer the user, reply with ONLY:
{"answer": "<your answer to the user>"}

The tools:"""


def system_prompt(tools: Sequence[ToolDefinition], system: str | None) -> str:
    """The turn's own instructions, then the tools and the reply format."""
    listed = "\n".join(
        f"- {t.name}: {t.description or ''}\n  arguments (JSON Schema): "
        f"{orjson.dumps(t.parameters).decode()}" for t in tools)
    return f"{system}\n\n{FORMAT}\n{listed}" if system else f"{FORMAT}\n{listed}"


def _arguments(raw: str) -> object:
    try:
        return orjson.loads(raw or "{}")
    except orjson.JSONDecodeError:
        return raw


def _lower_message(message: Message) -> Message:
    calls = [p for p in message.parts if isinstance(p, ToolCallPart)]
    results = [p for p in message.parts if isinstance(p, ToolResultPart)]
    if message.role == "assistant" and calls:
        said = orjson.dumps({"tool_calls": [
            {"id": c.id, "name": c.name, "arguments": _arguments(c.arguments)} for c in calls]})
        return Message(role="assistant", parts=[TextPart(text=said.decode())])
    if message.role == "tool":
        listed = [{"id": r.tool_call_id, "name": r.name,
                   ("error" if r.is_error else "result"): r.content} for r in results]
        return Message(role="user", parts=[TextPart(
            text="Tool results (JSON):\n" + orjson.dumps(listed).decode())])
    return message


def lower(request: ChatRequest, repair: Sequence[Message] = ()) -> ChatRequest:
    """``request`` for a model without tools (``repair``: the malformed reply and the
    request to fix it, for this one call only)."""
    return request.model_copy(update={
        "system": system_prompt(request.tools or [], request.system),
        "messages": [*(_lower_message(m) for m in request.messages), *repair],
        "tools": None, "tool_choice": None, "parallel_tool_calls": None})


@dataclass(frozen=True, slots=True)
class Lifted:
    """A reply read: tool calls, or the answer, or why it could not be read."""

    parts: list[Part]
    error: str | None = None

    @property
    def calls(self) -> list[ToolCallPart]:
        return [p for p in self.parts if isinstance(p, ToolCallPart)]


def _json_of(text: str) -> str:
    body = text.strip()
    if body.startswith("```"):  # a fence, with or without a language: forgiven
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    return body.strip()


def lift(text: str, step: int) -> Lifted:
    """The model's reply as neutral parts (call ids ``emu_<step>_<i>``)."""
    try:
        value = orjson.loads(_json_of(text))
    except orjson.JSONDecodeError as exc:
        return Lifted([], f"the reply is not valid JSON ({exc})")
    if isinstance(value, dict) and isinstance(value.get("answer"), str):
        return Lifted([TextPart(text=value["answer"])])
    calls = value.get("tool_calls") if isinstance(value, dict) else None
    if not isinstance(calls, list) or not calls:
        return Lifted([], 'the reply must be an object with "tool_calls" (a non-empty list) '
                          'or "answer" (a string)')
    parts: list[Part] = []
    for i, call in enumerate(calls):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            return Lifted([], f'tool_calls[{i}] must be an object with a "name"')
        arguments = call.get("arguments", {})
        parts.append(ToolCallPart(id=f"emu_{step}_{i}", name=call["name"],
                                  arguments=arguments if isinstance(arguments, str)
                                  else orjson.dumps(arguments).decode()))
    return Lifted(parts)


def repair(reply: str, error: str) -> list[Message]:
    """The messages that ask a model to fix a malformed reply (one retry)."""
    return [Message(role="assistant", parts=[TextPart(text=reply)]),
            Message(role="user", parts=[TextPart(
                text=f"Your reply could not be read: {error}. Reply again with ONLY the "
                     'JSON: {"tool_calls": [...]} or {"answer": "..."}.')])]


__all__ = ["Lifted", "lift", "lower", "repair", "system_prompt"]
