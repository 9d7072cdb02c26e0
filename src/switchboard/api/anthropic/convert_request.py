"""Anthropic Messages wire -> neutral ``ChatRequest``.

What maps where (https://docs.anthropic.com/en/api/messages):

- ``system`` (a string or text blocks) -> ``ChatRequest.system``;
- ``user`` content: ``text``, ``image`` (base64 or URL), ``document`` (base64 PDF, plain
  text, URL) -> text / image / file parts; ``tool_result`` blocks become one neutral
  ``tool`` message placed before the rest of that turn (Anthropic puts results first);
- ``assistant`` content: ``text``, ``tool_use`` (``input`` re-encoded as JSON text),
  ``thinking`` (its ``signature`` kept for Anthropic in ``provider_metadata``, so a
  conversation replayed to Claude keeps its thinking valid), ``redacted_thinking``,
  ``image`` (a picture an earlier answer held, as ``render`` gives it: sent back, it
  stays in the assistant's turn, decision 0232);
- ``tools`` -> function tools; ``tool_choice`` auto / any (= required) / tool / none;
  ``disable_parallel_tool_use`` -> ``parallel_tool_calls: false``;
- ``thinking`` -> sent verbatim to Anthropic models (``provider_options``), and as the
  nearest ``reasoning_effort`` to every other kind (by its budget);
- ``max_tokens``, ``stop_sequences``, ``temperature``, ``top_p``, ``top_k``,
  ``metadata.user_id`` -> their neutral twins.

Refused with a 400 naming the field: server tools (``web_search``, ``bash``,
``code_execution``, ... — Anthropic runs those itself), Files API ids, block types with
no neutral meaning (server tool results, containers). ``cache_control`` hints are
accepted and have no effect beyond Anthropic (where the adapter's own caching applies).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from switchboard.api.anthropic.wire import (
    Base64Source,
    CountTokensRequest,
    DocumentBlock,
    FileSource,
    ImageBlock,
    MessageIn,
    MessagesRequest,
    RedactedThinkingBlock,
    SystemText,
    TextBlock,
    TextSource,
    ThinkingBlock,
    ThinkingIn,
    ToolChoiceIn,
    ToolIn,
    ToolResultBlock,
    ToolUseBlock,
    UrlSource,
)
from switchboard.api.openai.convert_request import invalid_from_validation
from switchboard.api.wire_parts import check_inline, url_media_type
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    FilePart,
    ImagePart,
    InvalidRequestError,
    Message,
    Part,
    ReasoningPart,
    TextPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolChoiceTool,
    ToolResultPart,
)

KIND = "anthropic"
_BLOCKS: dict[str, type[BaseModel]] = {
    "text": TextBlock, "image": ImageBlock, "document": DocumentBlock,
    "tool_use": ToolUseBlock, "tool_result": ToolResultBlock, "thinking": ThinkingBlock,
    "redacted_thinking": RedactedThinkingBlock,
}
_USER = frozenset({"text", "image", "document", "tool_result"})
_ASSISTANT = frozenset({"text", "tool_use", "thinking", "redacted_thinking", "image"})
# Budget -> the nearest neutral effort, for every provider but Anthropic (which gets the
# ``thinking`` object itself); the Anthropic adapter's own table read the other way.
_EFFORTS = ((2048, "minimal"), (8192, "low"), (24576, "medium"), (40960, "high"),
            (56000, "xhigh"))


def _block(raw: dict[str, Any], where: str, allowed: frozenset[str]) -> BaseModel:
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise InvalidRequestError(f"{where}.type: Field required", param=f"{where}.type")
    if kind not in _BLOCKS:
        raise InvalidRequestError(
            f"{where}: content blocks of type '{kind}' are not supported by this gateway "
            "(server tools and their results run only on Anthropic's own API)",
            param=where)
    if kind not in allowed:
        raise InvalidRequestError(f"{where}: a '{kind}' block is not allowed in this "
                                  "message's role", param=where)
    try:
        return _BLOCKS[kind].model_validate(raw)
    except ValidationError as exc:
        raise invalid_from_validation(exc, prefix=f"{where}.") from None


def _image(block: ImageBlock, where: str) -> ImagePart:
    source = block.source
    try:
        if isinstance(source, Base64Source):
            check_inline(source.data, f"{where}.source.data")
            return ImagePart(media_type=source.media_type, data=source.data)
        if isinstance(source, UrlSource) and source.url.startswith(("https://", "http://")):
            return ImagePart(url=source.url, media_type=url_media_type(source.url))
    except ValidationError as exc:
        raise invalid_from_validation(exc, prefix=f"{where}.source.") from None
    raise InvalidRequestError(f"{where}.source: an image is given as base64 data or an "
                              "https:// URL", param=f"{where}.source")


def _document(block: DocumentBlock, where: str) -> Part:
    source = block.source
    if isinstance(source, TextSource):
        return TextPart(text=source.data)
    if isinstance(source, Base64Source):
        check_inline(source.data, f"{where}.source.data")
        return FilePart(media_type=source.media_type, data=source.data, filename=block.title)
    if isinstance(source, UrlSource):
        return FilePart(media_type="application/pdf", url=source.url, filename=block.title)
    assert isinstance(source, FileSource)
    raise InvalidRequestError(f"{where}.source: Files API ids are not supported; send the "
                              "document inline (base64)", param=f"{where}.source")


def _result_text(block: ToolResultBlock, where: str, warnings: list[CallWarning]) -> str:
    if block.content is None or isinstance(block.content, str):
        return block.content or ""
    texts: list[str] = []
    for item in block.content:
        if isinstance(item, TextBlock):
            texts.append(item.text)
        else:
            warnings.append(CallWarning(
                "unsupported-part", f"{where}: an image inside a tool_result cannot be "
                "carried to every provider and was left out", "messages"))
    return "\n".join(texts)


def _user(m: MessageIn, where: str, warnings: list[CallWarning]) -> list[Message]:
    if isinstance(m.content, str):
        return [Message(role="user", parts=[TextPart(text=m.content)])]
    results: list[Part] = []
    parts: list[Part] = []
    for j, raw in enumerate(m.content):
        here = f"{where}.content.{j}"
        block = _block(raw, here, _USER)
        if isinstance(block, TextBlock):
            parts.append(TextPart(text=block.text))
        elif isinstance(block, ImageBlock):
            parts.append(_image(block, here))
        elif isinstance(block, DocumentBlock):
            parts.append(_document(block, here))
        elif isinstance(block, ToolResultBlock):
            results.append(ToolResultPart(tool_call_id=block.tool_use_id,
                                          content=_result_text(block, here, warnings),
                                          is_error=bool(block.is_error)))
    out = [Message(role="tool", parts=results)] if results else []
    if parts or not results:
        out.append(Message(role="user", parts=parts or [TextPart(text="")]))
    return out


def _assistant(m: MessageIn, where: str) -> Message:
    if isinstance(m.content, str):
        return Message(role="assistant", parts=[TextPart(text=m.content)])
    parts: list[Part] = []
    for j, raw in enumerate(m.content):
        here = f"{where}.content.{j}"
        block = _block(raw, here, _ASSISTANT)
        if isinstance(block, TextBlock):
            parts.append(TextPart(text=block.text))
        elif isinstance(block, ImageBlock):
            parts.append(_image(block, here))
        elif isinstance(block, ToolUseBlock):
            parts.append(ToolCallPart(id=block.id, name=block.name,
                                      arguments=json.dumps(block.input, ensure_ascii=False)))
        elif isinstance(block, ThinkingBlock):
            meta = {KIND: {"signature": block.signature}} if block.signature else None
            parts.append(ReasoningPart(text=block.thinking, provider_metadata=meta))
        elif isinstance(block, RedactedThinkingBlock):
            parts.append(ReasoningPart(provider_metadata={KIND: {"redacted_data": block.data}}))
    return Message(role="assistant", parts=parts or [TextPart(text="")])


def _messages(items: list[MessageIn], warnings: list[CallWarning]) -> list[Message]:
    out: list[Message] = []
    for i, m in enumerate(items):
        where = f"messages.{i}"
        if m.role == "user":
            out.extend(_user(m, where, warnings))
        else:
            out.append(_assistant(m, where))
    return out


def _system(system: str | list[SystemText] | None) -> str | None:
    if system is None or isinstance(system, str):
        return system or None
    return "\n\n".join(block.text for block in system) or None


def _tools(tools: list[ToolIn] | None) -> list[Tool] | None:
    if not tools:
        return None
    out: list[Tool] = []
    for i, t in enumerate(tools):
        if t.type not in (None, "custom"):
            raise InvalidRequestError(
                f"tools.{i}: '{t.type}' is a server tool that Anthropic runs itself; this "
                "gateway carries client tools (name, description, input_schema) only",
                param=f"tools.{i}.type")
        if t.input_schema is None:
            raise InvalidRequestError(f"tools.{i}.input_schema: Field required",
                                      param=f"tools.{i}.input_schema")
        try:
            out.append(Tool(name=t.name, description=t.description,
                            parameters=t.input_schema))
        except ValidationError as exc:
            raise invalid_from_validation(exc, prefix=f"tools.{i}.") from None
    return out


def _tool_choice(choice: ToolChoiceIn | None) -> ToolChoice | None:
    if choice is None:
        return None
    if choice.type == "tool":
        if not choice.name:
            raise InvalidRequestError("tool_choice.name: Field required",
                                      param="tool_choice.name")
        return ToolChoiceTool(name=choice.name)
    return {"auto": "auto", "any": "required", "none": "none"}[choice.type]  # type: ignore[return-value]


def effort_for(thinking: ThinkingIn | None) -> str | None:
    """The neutral ``reasoning_effort`` nearest to Anthropic's ``thinking`` setting."""
    if thinking is None or thinking.type == "disabled":
        return None
    if thinking.type == "adaptive" or thinking.budget_tokens is None:
        return "medium"
    for ceiling, effort in _EFFORTS:
        if thinking.budget_tokens <= ceiling:
            return effort
    return "max"


def _options(body: MessagesRequest | CountTokensRequest) -> dict[str, dict[str, Any]]:
    options = {k: dict(v) for k, v in (getattr(body, "provider_options", None) or {}).items()}
    if body.thinking is not None:
        options.setdefault(KIND, {}).setdefault(
            "thinking", body.thinking.model_dump(exclude_none=True))
    return options


def to_chat_request(
    body: MessagesRequest | CountTokensRequest,
) -> tuple[ChatRequest, list[CallWarning]]:
    """Translate a parsed request; raise ``InvalidRequestError`` naming the field in
    Anthropic's path syntax (``messages.2.content.0.source``)."""
    warnings: list[CallWarning] = []
    if not body.model.strip():
        raise InvalidRequestError("model: you must name a model, e.g. "
                                  "'anthropic:claude-sonnet-4-5' (GET /v1/models lists them)",
                                  param="model")
    data: dict[str, Any] = {
        "messages": _messages(body.messages, warnings),
        "system": _system(body.system),
        "tools": _tools(body.tools),
        "tool_choice": _tool_choice(body.tool_choice),
        "reasoning_effort": effort_for(body.thinking),
        "provider_options": _options(body),
    }
    if body.tool_choice is not None and body.tool_choice.disable_parallel_tool_use:
        data["parallel_tool_calls"] = False
    if isinstance(body, MessagesRequest):
        data.update(max_output_tokens=body.max_tokens, stop=body.stop_sequences,
                    temperature=body.temperature, top_p=body.top_p, top_k=body.top_k,
                    user=body.metadata.user_id if body.metadata else None)
    try:
        return ChatRequest(**data), warnings
    except ValidationError as exc:
        raise _dotted(_renamed(invalid_from_validation(exc))) from None


_NEUTRAL_NAMES = {"max_output_tokens": "max_tokens", "stop": "stop_sequences"}


def _renamed(error: InvalidRequestError) -> InvalidRequestError:
    """A neutral field named as this wire names it."""
    for neutral, wire in _NEUTRAL_NAMES.items():
        if error.param == neutral or error.message.startswith(f"{neutral}:"):
            error.message = error.message.replace(neutral, wire, 1)
            error.args = (error.message,)
            error.param = wire
    return error


def parse(data: dict[str, Any], model: type[MessagesRequest] | type[CountTokensRequest]
          ) -> tuple[MessagesRequest | CountTokensRequest, ChatRequest, list[CallWarning]]:
    """The body as the wire model and the neutral request (``InvalidRequestError`` else)."""
    try:
        body = model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        extra = [str(e["loc"][0]) for e in errors
                 if e.get("type") == "extra_forbidden" and len(e.get("loc", ())) == 1]
        if extra:  # Anthropic's own wording
            raise InvalidRequestError(f"{extra[0]}: Extra inputs are not permitted",
                                      param=extra[0]) from None
        raise _dotted(invalid_from_validation(exc)) from None
    chat, warnings = to_chat_request(body)
    return body, chat, warnings


def _dotted(error: InvalidRequestError) -> InvalidRequestError:
    """OpenAI's ``messages[2].content`` as Anthropic writes it: ``messages.2.content``."""
    if error.param:
        dotted = error.param.replace("[", ".").replace("]", "")
        error.message = error.message.replace(error.param, dotted, 1)
        error.args = (error.message,)
        error.param = dotted
    return error
