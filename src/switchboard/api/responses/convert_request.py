"""OpenAI Responses wire -> neutral ``ChatRequest``.

What maps where (https://platform.openai.com/docs/api-reference/responses/create):

- ``instructions`` -> ``system`` (not carried over from a previous response, as OpenAI
  documents); ``input`` as a string is one user message;
- ``input`` items: ``message`` (roles user, system, developer, assistant; parts
  ``input_text``, ``input_image`` by URL or data URL, ``input_file`` inline or by URL,
  ``output_text`` and ``refusal`` for the assistant), ``function_call``,
  ``function_call_output``, ``reasoning``, ``image_generation_call`` (a picture an
  earlier answer held, ``render``'s output sent back: an image in the assistant's turn,
  decision 0233) — consecutive assistant-side items (a message, its reasoning, its
  pictures, its function calls) form ONE neutral assistant message, consecutive
  outputs one ``tool`` message;
- ``tools`` of type ``function`` and ``tool_choice`` (auto / none / required / a named
  function); ``text.format`` (text / json_object / json_schema); ``reasoning.effort``;
  ``max_output_tokens``, ``temperature``, ``top_p``, ``parallel_tool_calls``,
  ``top_logprobs``, ``user`` / ``safety_identifier``.

Refused with a 400 naming the parameter: OpenAI's hosted tools (``web_search``,
``file_search``, ``code_interpreter``, ``computer_use``, ``image_generation``, ``mcp``,
...), uploaded file ids, ``item_reference`` items, ``background``, ``conversation`` and
``prompt`` (state or work that only OpenAI's own servers hold).

Reasoning round trip: a ``reasoning`` output item carries the vendor's opaque data that
must be echoed back (an Anthropic thinking signature, a Gemini thought signature) in
``encrypted_content``, as OpenAI does with its own encrypted reasoning, so a client that
replays the output items verbatim keeps the provider's reasoning valid
(``encode_reasoning`` / ``decode_reasoning``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from switchboard.api.openai.convert_request import invalid_from_validation
from switchboard.api.responses.wire import (
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionTool,
    ImageGenerationCallItem,
    InputFile,
    InputImage,
    InputText,
    MessageItem,
    ReasoningItem,
    Refusal,
    ResponsesRequest,
)
from switchboard.api.wire_parts import DATA_URL, check_inline, tool_parameters, url_media_type
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    FilePart,
    ImagePart,
    InvalidRequestError,
    Message,
    Part,
    ProviderMetadata,
    ReasoningPart,
    ResponseFormat,
    ResponseFormatJson,
    ResponseFormatJsonSchema,
    TextPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolChoiceTool,
    ToolResultPart,
)
from switchboard.spec.image import sniff_media_type
from switchboard.spec.limits import (
    MAX_OPTION_DEPTH,
    MAX_OPTION_NODES,
    TooLarge,
    json_size,
)
from switchboard.spec.messages import Role

_ITEMS: dict[str, type[BaseModel]] = {
    "message": MessageItem, "function_call": FunctionCallItem,
    "function_call_output": FunctionCallOutputItem, "reasoning": ReasoningItem,
    "image_generation_call": ImageGenerationCallItem,
}
_PARTS: dict[str, type[BaseModel]] = {
    "input_text": InputText, "output_text": InputText, "text": InputText,
    "input_image": InputImage, "input_file": InputFile, "refusal": Refusal,
}
OUTPUT_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp",
                  "image/gif": "gif"}
"""A picture's media type <-> an ``image_generation_call``'s ``output_format`` (the values
of the SDK's ``ImageGenerationCall.output_format`` that name one)."""
_REASONING_PREFIX = "sb1:"
MAX_REASONING_DATA = 1_000_000
"""Characters of ``encrypted_content`` decoded at most (a signature is a few KB)."""


def encode_reasoning(meta: ProviderMetadata | None) -> str | None:
    """A reasoning part's provider data as ``encrypted_content`` (None when it has none).
    Not encrypted: it is the vendor's own opaque token, returned to its owner."""
    if not meta:
        return None
    return _REASONING_PREFIX + base64.urlsafe_b64encode(orjson.dumps(meta)).decode("ascii")


def decode_reasoning(value: str | None) -> ProviderMetadata | None:
    """The provider data back from ``encrypted_content``; None for anything this gateway
    did not write (OpenAI's own encrypted reasoning cannot be read elsewhere)."""
    if not value or not value.startswith(_REASONING_PREFIX) or len(value) > MAX_REASONING_DATA:
        return None
    try:
        meta = orjson.loads(base64.urlsafe_b64decode(value[len(_REASONING_PREFIX):]))
        json_size(meta, max_nodes=MAX_OPTION_NODES, max_depth=MAX_OPTION_DEPTH,
                  what="reasoning")
    except (ValueError, binascii.Error, TooLarge):
        return None
    if not isinstance(meta, dict) or not all(isinstance(v, dict) for v in meta.values()):
        return None
    return meta


def _model(kinds: dict[str, type[BaseModel]], raw: Any, where: str) -> BaseModel:
    if not isinstance(raw, dict):
        raise InvalidRequestError(f"{where}: expected an object", param=where)
    kind = raw.get("type", "message" if kinds is _ITEMS else None)
    if not isinstance(kind, str) or kind not in kinds:
        what = "input items" if kinds is _ITEMS else "content parts"
        hint = (" (items are resolved from previous_response_id instead)"
                if kind == "item_reference" else "")
        kind = str(kind)[:100]
        raise InvalidRequestError(f"{where}.type: {what} of type {kind!r} are not "
                                  f"supported by this gateway{hint}", param=f"{where}.type")
    try:
        return kinds[kind].model_validate(raw)
    except ValidationError as exc:
        raise invalid_from_validation(exc, prefix=f"{where}.") from None


def _image(part: InputImage, where: str) -> ImagePart:
    url = part.image_url
    if url is None:
        raise InvalidRequestError(f"{where}: uploaded file ids are not supported; send "
                                  "image_url (https:// or a data: URL)", param=where)
    match = DATA_URL.match(url)
    try:
        if match and match.group(1):
            check_inline(match.group(3), f"{where}.image_url")
            return ImagePart(media_type=match.group(1), data=match.group(3),
                             detail=part.detail)
        if url.startswith(("https://", "http://")):
            return ImagePart(url=url, media_type=url_media_type(url), detail=part.detail)
    except ValidationError as exc:
        raise invalid_from_validation(exc, prefix=f"{where}.") from None
    raise InvalidRequestError(f"{where}.image_url: an image URL must be https://... or a "
                              "data:image/...;base64 URL", param=f"{where}.image_url")


def _file(part: InputFile, where: str) -> FilePart:
    if part.file_url:
        return FilePart(media_type="application/pdf", url=part.file_url,
                        filename=part.filename)
    match = DATA_URL.match(part.file_data or "")
    if match is None:
        raise InvalidRequestError(f"{where}: only inline files (file_data as a "
                                  "data:...;base64 URL) or file_url are supported; uploaded "
                                  "file ids are not", param=where)
    check_inline(match.group(3), f"{where}.file_data")
    return FilePart(media_type=match.group(1) or "application/octet-stream",
                    data=match.group(3), filename=part.filename)


def _picture(item: ImageGenerationCallItem, where: str) -> list[Part]:
    """An earlier answer's picture as an image of the assistant's turn; one that has no
    ``result`` (failed, or still in progress when it was copied) holds nothing to send.
    Its media type is read from its bytes (the client's ``output_format`` only when
    they do not say)."""
    if not item.result:
        return []
    check_inline(item.result, f"{where}.result", "image")
    named = f"image/{item.output_format}"
    media_type = (sniff_media_type(base64.b64decode(item.result[:16]))
                  or (named if named in OUTPUT_FORMATS else "image/png"))
    return [ImagePart(media_type=media_type, data=item.result)]


def _content(content: str | list[dict[str, Any]], where: str, role: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(text=content)]
    parts: list[Part] = []
    for j, raw in enumerate(content):
        here = f"{where}.content[{j}]"
        part = _model(_PARTS, raw, here)
        if isinstance(part, InputText | Refusal):
            text = part.text if isinstance(part, InputText) else part.refusal
            parts.append(TextPart(text=text))
        elif role != "user":
            raise InvalidRequestError(f"{here}: only user messages may hold images and "
                                      "files", param=here)
        elif isinstance(part, InputImage):
            parts.append(_image(part, here))
        elif isinstance(part, InputFile):
            parts.append(_file(part, here))
    return parts


def _output_text(output: str | list[dict[str, Any]]) -> str:
    if isinstance(output, str):
        return output
    return "".join(str(p.get("text", "")) for p in output if isinstance(p, dict))


def _messages(items: str | list[dict[str, Any]] | None) -> list[Message]:
    if items is None:
        return []
    if isinstance(items, str):
        return [Message(role="user", parts=[TextPart(text=items)])]
    out: list[Message] = []
    pending_role: Role | None = None
    pending: list[Part] = []

    def flush() -> None:
        nonlocal pending_role, pending
        if pending_role is not None:
            out.append(Message(role=pending_role, parts=pending))
        pending_role, pending = None, []

    def add(role: Role, parts: list[Part]) -> None:
        nonlocal pending_role
        if pending_role != role or role in ("user", "system"):
            flush()
            pending_role = role
        pending.extend(parts)

    for i, raw in enumerate(items):
        where = f"input[{i}]"
        item = _model(_ITEMS, raw, where)
        if isinstance(item, MessageItem):
            role: Role = ("system" if item.role == "developer" else item.role)
            parts = _content(item.content, where, item.role)
            if role == "system":
                parts = [p for p in parts if isinstance(p, TextPart)]
            add(role, parts or [TextPart(text="")])
        elif isinstance(item, FunctionCallItem):
            add("assistant", [ToolCallPart(id=item.call_id, name=item.name,
                                           arguments=item.arguments or "{}")])
        elif isinstance(item, FunctionCallOutputItem):
            add("tool", [ToolResultPart(tool_call_id=item.call_id,
                                        content=_output_text(item.output))])
        elif isinstance(item, ImageGenerationCallItem):
            picture = _picture(item, where)
            if picture:
                add("assistant", picture)
        elif isinstance(item, ReasoningItem):
            text = "\n\n".join(s.text for s in item.summary)
            add("assistant", [ReasoningPart(
                text=text, provider_metadata=decode_reasoning(item.encrypted_content))])
    flush()
    return out


def _tools(tools: list[dict[str, Any]] | None) -> list[Tool] | None:
    if not tools:
        return None
    out: list[Tool] = []
    for i, raw in enumerate(tools):
        where = f"tools[{i}]"
        kind = raw.get("type") if isinstance(raw, dict) else None
        if kind != "function":
            raise InvalidRequestError(
                f"{where}: the built-in tool {kind!r} runs on OpenAI's own servers and is "
                "not available through this gateway; declare a function tool (type "
                "'function') and run it yourself", param=f"{where}.type")
        try:
            tool = FunctionTool.model_validate(raw)
            out.append(Tool(name=tool.name, description=tool.description,
                            parameters=tool_parameters(tool.parameters),
                            strict=tool.strict))
        except ValidationError as exc:
            raise invalid_from_validation(exc, prefix=f"{where}.") from None
    return out


def _tool_choice(choice: str | dict[str, Any] | None) -> ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, str):
        if choice in ("auto", "none", "required"):
            return choice  # type: ignore[return-value]
        raise InvalidRequestError(f"tool_choice: must be 'auto', 'none', 'required' or a "
                                  f"function, not {choice[:100]!r}", param="tool_choice")
    if choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return ToolChoiceTool(name=choice["name"])
    raise InvalidRequestError(
        f"tool_choice: {str(choice.get('type'))[:100]!r} is not available through this "
        "gateway (built-in tools run on OpenAI's servers); name a function tool",
        param="tool_choice.type")


def _format(body: ResponsesRequest) -> ResponseFormat | None:
    fmt = body.text.format if body.text is not None else None
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return ResponseFormatJson()
    if fmt.schema_ is None:
        raise InvalidRequestError("text.format.schema: required for type 'json_schema'",
                                  param="text.format.schema")
    try:
        return ResponseFormatJsonSchema.model_validate(
            {"name": fmt.name or "response", "description": fmt.description,
             "schema": fmt.schema_, "strict": fmt.strict})
    except ValidationError as exc:
        raise invalid_from_validation(exc, prefix="text.format.") from None


_REFUSED = {
    "background": "background responses are not supported: stream the answer instead",
    "conversation": "conversation objects are not supported: chain answers with "
                    "previous_response_id",
    "prompt": "stored prompt templates are OpenAI's own; send instructions and input",
    "max_tool_calls": "applies to OpenAI's built-in tools, which this gateway does not run",
}
_OPENAI_ONLY = ("service_tier", "prompt_cache_key", "prompt_cache_retention")


def refuse_unsupported(body: ResponsesRequest) -> None:
    for name, reason in _REFUSED.items():
        value = getattr(body, name)
        if value not in (None, False):
            raise InvalidRequestError(f"{name}: {reason}", param=name)


def to_chat_request(body: ResponsesRequest, history: list[Message] | None = None
                    ) -> tuple[ChatRequest, list[CallWarning]]:
    """The neutral request: ``history`` (the stored conversation of
    ``previous_response_id``) followed by ``input``. ``InvalidRequestError`` names the
    parameter in OpenAI's path syntax."""
    refuse_unsupported(body)
    if not body.model.strip():
        raise InvalidRequestError("model: you must name a model, e.g. "
                                  "'openai:gpt-4o-mini' (GET /v1/models lists them)",
                                  param="model")
    warnings: list[CallWarning] = []
    options = {k: dict(v) for k, v in (body.provider_options or {}).items()}
    for name in _OPENAI_ONLY:
        value = getattr(body, name)
        if value is not None:
            options.setdefault("openai", {}).setdefault(name, value)
    messages = [*(history or []), *_messages(body.input)]
    if not any(m.role != "system" for m in messages):
        raise InvalidRequestError("input: give at least one input item (or a "
                                  "previous_response_id to continue from)", param="input")
    data: dict[str, Any] = {
        "messages": messages,
        "system": body.instructions or None,
        "max_output_tokens": body.max_output_tokens,
        "temperature": body.temperature,
        "top_p": body.top_p,
        "tools": _tools(body.tools),
        "tool_choice": _tool_choice(body.tool_choice),
        "parallel_tool_calls": body.parallel_tool_calls,
        "response_format": _format(body),
        "reasoning_effort": body.reasoning.effort if body.reasoning else None,
        "user": body.safety_identifier or body.user,
        "logprobs": body.top_logprobs,
        "provider_options": options,
    }
    try:
        return ChatRequest(**data), warnings
    except ValidationError as exc:
        error = invalid_from_validation(exc)
        if error.param and error.param.startswith("messages"):
            error.param = "input"
            error.message = error.message.replace("messages", "input", 1)
            error.args = (error.message,)
        raise error from None


def parse(data: dict[str, Any]) -> ResponsesRequest:
    """The body as the wire model (``InvalidRequestError`` naming the parameter)."""
    try:
        return ResponsesRequest.model_validate(data)
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None
