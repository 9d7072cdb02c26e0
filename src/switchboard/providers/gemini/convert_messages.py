"""Neutral messages -> Gemini ``systemInstruction`` and ``contents``.

https://ai.google.dev/api/generate-content#v1beta.models.generateContent
https://ai.google.dev/api/caching#Content

- The system prompt (``system`` plus every system message) goes to ``systemInstruction``.
- Roles: user and tool messages are ``user`` turns, assistant messages ``model`` turns.
  Consecutive turns of the same role are merged into one content: Gemini wants the
  responses to parallel function calls together in one turn.
- Tool calls are ``functionCall {name, args}``; ``args`` is an object, so the neutral JSON
  text is parsed (a call whose arguments are not a JSON object is refused with a clear
  error rather than sent half-broken). Gemini's own call ``id``, when it gave one, rides
  in ``provider_metadata["gemini"]["function_call_id"]`` and is echoed back; ids of other
  vendors are neutral bookkeeping and are not sent.
- Tool results are ``functionResponse {name, response}``. ``response`` must be an object:
  a JSON object result is sent as is, anything else is wrapped as ``{"result": value}``
  (``{"error": value}`` when the result is an error), where ``value`` is the parsed JSON or
  the plain text. The name comes from the result part or, failing that, from the call
  with the same id earlier in the history.
- Thought signatures (``thoughtSignature``) are echoed on the part they came with:
  a reasoning part's signature on its thought part, a tool call's on its
  ``functionCall`` part. A signature Gemini attached to a plain text part is stored as
  an empty reasoning part right after that text, and goes back onto the part before it.
  https://ai.google.dev/gemini-api/docs/thought-signatures
- Reasoning written by another provider cannot be replayed to Gemini: dropped with an
  ``unsupported-part`` warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from switchboard.providers.gemini.convert_media import convert_media
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    FilePart,
    ImagePart,
    InvalidRequestError,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    parse_arguments,
)

KIND = "gemini"


@dataclass(slots=True)
class Prompt:
    system_instruction: dict[str, Any] | None
    contents: list[dict[str, Any]]
    warnings: list[CallWarning] = field(default_factory=list)


def gemini_meta(metadata: dict[str, dict[str, Any]] | None) -> dict[str, Any] | None:
    """This provider's slice of a part's ``provider_metadata`` (None if absent)."""
    return None if not metadata else metadata.get(KIND)


def convert_messages(request: ChatRequest, model_id: str) -> Prompt:
    system, messages = request.with_system_folded()
    warnings: list[CallWarning] = []
    calls: dict[str, ToolCallPart] = {}
    contents: list[dict[str, Any]] = []
    foreign_reasoning = 0
    for message in messages:
        role = "model" if message.role == "assistant" else "user"
        parts, dropped = _parts(message, model_id, calls, warnings)
        foreign_reasoning += dropped
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    if foreign_reasoning:
        warnings.append(CallWarning(
            "unsupported-part",
            f"{foreign_reasoning} reasoning part(s) written by another provider were not "
            "sent: Gemini cannot replay another model's reasoning",
        ))
    if not contents:
        raise InvalidRequestError(
            "Gemini needs at least one non-empty user or assistant message besides the "
            "system prompt; add the user's message",
            param="messages",
        )
    instruction = {"parts": [{"text": system}]} if system else None
    return Prompt(instruction, contents, warnings)


def _parts(message: Message, model_id: str, calls: dict[str, ToolCallPart],
           warnings: list[CallWarning]) -> tuple[list[dict[str, Any]], int]:
    out: list[dict[str, Any]] = []
    pending_signature: str | None = None
    foreign = 0
    for part in message.parts:
        converted: dict[str, Any] | None = None
        if isinstance(part, TextPart):
            converted = {"text": part.text} if part.text else None
        elif isinstance(part, ImagePart | FilePart):
            converted = convert_media(part, model_id, warnings)
        elif isinstance(part, ToolCallPart):
            calls[part.id] = part
            converted = _function_call(part)
        elif isinstance(part, ToolResultPart):
            converted = _function_response(part, calls)
        elif isinstance(part, ReasoningPart):
            meta = gemini_meta(part.provider_metadata)
            if meta is None:
                foreign += 1 if (part.text or part.provider_metadata) else 0
                continue
            signature = meta.get("thought_signature")
            if part.text:
                converted = {"text": part.text, "thought": True}
                if signature:
                    converted["thoughtSignature"] = signature
            elif signature:
                # A signature Gemini put on a non-thought part: back onto that part.
                if out and "thoughtSignature" not in out[-1]:
                    out[-1]["thoughtSignature"] = signature
                else:
                    pending_signature = signature
        if converted is None:
            continue
        if pending_signature and "thoughtSignature" not in converted:
            converted["thoughtSignature"] = pending_signature
            pending_signature = None
        out.append(converted)
    return out, foreign


def _function_call(part: ToolCallPart) -> dict[str, Any]:
    try:
        args = parse_arguments(part.arguments)
    except ValueError:
        raise InvalidRequestError(
            f"tool call {part.id!r} ({part.name}) in the history has arguments that are not "
            f"a JSON object ({part.arguments[:60]!r}); Gemini needs an object: fix the "
            "arguments or remove that call and its result from the messages",
            param="messages",
        ) from None
    call: dict[str, Any] = {"name": part.name, "args": args}
    meta = gemini_meta(part.provider_metadata) or {}
    if meta.get("function_call_id"):
        call["id"] = meta["function_call_id"]
    out: dict[str, Any] = {"functionCall": call}
    if meta.get("thought_signature"):
        out["thoughtSignature"] = meta["thought_signature"]
    return out


def _function_response(part: ToolResultPart, calls: dict[str, ToolCallPart]) -> dict[str, Any]:
    call = calls.get(part.tool_call_id)
    name = part.name or (call.name if call else None)
    if not name:
        raise InvalidRequestError(
            f"the tool result for call {part.tool_call_id!r} has no name and no earlier "
            "tool call in the messages has that id; Gemini matches results to calls by "
            "function name: set 'name' on the tool result",
            param="messages",
        )
    response: dict[str, Any] = {"name": name, "response": _result_object(part)}
    meta = gemini_meta(call.provider_metadata) if call else None
    if meta and meta.get("function_call_id"):
        response["id"] = meta["function_call_id"]
    return {"functionResponse": response}


def _result_object(part: ToolResultPart) -> dict[str, Any]:
    try:
        value: Any = json.loads(part.content)
    except ValueError:
        value = part.content
    if part.is_error:
        return {"error": value}
    if isinstance(value, dict):
        return value
    return {"result": value}
