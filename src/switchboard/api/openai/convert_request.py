"""OpenAI wire -> neutral ``ChatRequest``.

Every rejection is an ``InvalidRequestError`` naming the offending parameter in OpenAI's
``param`` style (``messages[2].content[0].image_url``), so the ``/v1`` surface can answer
with OpenAI's error shape. Parameters with no neutral equivalent are either refused
(``n > 1``, audio) or reported back as warnings (``logit_bias``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from switchboard.api.openai.wire import ChatCompletionRequest, ContentPart, MessageIn, ToolDef
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    FilePart,
    ImagePart,
    InvalidRequestError,
    Message,
    Part,
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
from switchboard.spec.limits import inline_data_problem

_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[^,]*)?;base64,(.*)$", re.S)


def _image(url: str, detail: str | None, where: str) -> ImagePart:
    match = _DATA_URL.match(url)
    try:
        if match:
            if not match.group(1):
                raise InvalidRequestError(
                    f"{where}: a data: URL must name the image's media type "
                    "(data:image/png;base64,...)", param=where)
            _check_inline(match.group(3), "image", where)
            return ImagePart(media_type=match.group(1), data=match.group(3), detail=detail)
        if url.startswith(("http://", "https://")):
            return ImagePart(url=url, media_type=_guess_media(url), detail=detail)
    except ValidationError as exc:
        raise InvalidRequestError(f"{where}: {exc.errors()[0]['msg']}", param=where) from None
    raise InvalidRequestError(
        f"{where}: an image URL must be https://... or a data:image/...;base64 URL",
        param=where,
    )


def _check_inline(data: str, what: str, where: str) -> None:
    """Refuse inline base64 that is broken or too large (``spec.limits``), naming the
    part: a vendor would refuse it too, but only after the call was paid for."""
    problem = inline_data_problem(data)
    if problem is not None:
        raise InvalidRequestError(f"{where}: the {what} data {problem}", param=where)


def _guess_media(url: str) -> str:
    lower = url.lower().split("?", 1)[0]
    for ext, media in ((".jpg", "image/jpeg"), (".jpeg", "image/jpeg"), (".gif", "image/gif"),
                       (".webp", "image/webp")):
        if lower.endswith(ext):
            return media
    return "image/png"


def _parts(content: str | list[ContentPart] | None, where: str,
           allow: frozenset[str]) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(text=content)]
    out: list[Part] = []
    for i, part in enumerate(content):
        here = f"{where}[{i}]"
        if part.type not in allow:
            raise InvalidRequestError(
                f"{here}: a part of type '{part.type}' is not allowed here", param=here)
        if part.type == "text":
            out.append(TextPart(text=part.text or ""))
        elif part.type == "refusal":
            out.append(TextPart(text=part.refusal or ""))
        elif part.type == "image_url":
            if part.image_url is None:
                raise InvalidRequestError(f"{here}: missing 'image_url'", param=here)
            out.append(_image(part.image_url.url, part.image_url.detail, f"{here}.image_url"))
        elif part.type == "file":
            f = part.file
            match = _DATA_URL.match(f.file_data or "") if f else None
            if f is None or match is None:
                raise InvalidRequestError(
                    f"{here}: only inline files are supported (file.file_data as a "
                    "data:...;base64 URL); uploaded file ids are not", param=here)
            _check_inline(match.group(3), "file", f"{here}.file.file_data")
            out.append(FilePart(media_type=match.group(1) or "application/octet-stream",
                                data=match.group(3), filename=f.filename))
        elif part.type == "input_audio":
            raise InvalidRequestError(f"{here}: audio input is not supported", param=here)
    return out


_USER = frozenset({"text", "image_url", "file", "input_audio"})
_TEXT = frozenset({"text"})
_ASSISTANT = frozenset({"text", "refusal"})


def _message(m: MessageIn, i: int) -> Message:
    where = f"messages[{i}]"
    if m.role in ("system", "developer"):
        return Message(role="system", parts=_parts(m.content, f"{where}.content", _TEXT))
    if m.role == "user":
        parts = _parts(m.content, f"{where}.content", _USER)
        if not parts:
            raise InvalidRequestError(f"{where}.content: a user message needs content",
                                      param=f"{where}.content")
        return Message(role="user", parts=parts)
    if m.role == "assistant":
        parts = []
        if m.reasoning_content:
            parts.append(ReasoningPart(text=m.reasoning_content))
        parts.extend(_parts(m.content, f"{where}.content", _ASSISTANT))
        for call in m.tool_calls or []:
            parts.append(ToolCallPart(id=call.id, name=call.function.name,
                                      arguments=call.function.arguments or "{}"))
        return Message(role="assistant", parts=parts or [TextPart(text="")])
    if m.role == "tool":
        if not m.tool_call_id:
            raise InvalidRequestError(f"{where}: a tool message needs 'tool_call_id'",
                                      param=f"{where}.tool_call_id")
        text = "".join(p.text for p in _parts(m.content, f"{where}.content", _TEXT)
                       if isinstance(p, TextPart))
        return Message(role="tool", parts=[
            ToolResultPart(tool_call_id=m.tool_call_id, name=m.name, content=text)])
    raise InvalidRequestError(
        f"{where}.role: the deprecated 'function' role is not supported; use 'tool'",
        param=f"{where}.role")


def _tool_choice(body: ChatCompletionRequest) -> ToolChoice | None:
    choice = body.tool_choice
    if choice is None or isinstance(choice, str):
        return choice
    return ToolChoiceTool(name=choice.function.name)


def _response_format(body: ChatCompletionRequest) -> ResponseFormat | None:
    rf = body.response_format
    if rf is None or rf.type == "text":
        return None
    if rf.type == "json_object":
        return ResponseFormatJson()
    if rf.json_schema is None:
        raise InvalidRequestError("response_format: type 'json_schema' needs 'json_schema'",
                                  param="response_format.json_schema")
    spec = rf.json_schema
    return ResponseFormatJsonSchema.model_validate(
        {"name": spec.name, "description": spec.description, "schema": spec.schema_,
         "strict": spec.strict})


def _tool(t: ToolDef, i: int) -> Tool:
    try:
        return Tool(name=t.function.name, description=t.function.description,
                    parameters=t.function.parameters or {"type": "object", "properties": {}},
                    strict=t.function.strict)
    except ValidationError as exc:
        err = invalid_from_validation(exc, prefix=f"tools[{i}].function.")
        if err.param == f"tools[{i}].function":
            err.param = f"tools[{i}].function.parameters"
        raise err from None


def to_chat_request(body: ChatCompletionRequest) -> tuple[ChatRequest, list[CallWarning]]:
    """Translate a parsed request; raise ``InvalidRequestError`` naming the param."""
    if body.n is not None and body.n != 1:
        raise InvalidRequestError("n: only n=1 is supported", param="n")
    if body.functions is not None or body.function_call is not None:
        raise InvalidRequestError(
            "functions/function_call are deprecated; use tools/tool_choice", param="functions")
    if body.audio is not None or (body.modalities and "audio" in body.modalities):
        raise InvalidRequestError("audio output is not supported", param="modalities")
    warnings = [
        CallWarning("unsupported-setting", f"'{name}' is not supported and was ignored", name)
        for name in ("logprobs", "top_logprobs", "logit_bias", "prediction",
                     "web_search_options", "service_tier")
        if getattr(body, name) not in (None, False)
    ]
    messages = [_message(m, i) for i, m in enumerate(body.messages)]
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    data: dict[str, Any] = {
        "messages": messages,
        "max_output_tokens": body.max_completion_tokens or body.max_tokens,
        "temperature": body.temperature,
        "top_p": body.top_p,
        "frequency_penalty": body.frequency_penalty,
        "presence_penalty": body.presence_penalty,
        "stop": stop,
        "seed": body.seed,
        "parallel_tool_calls": body.parallel_tool_calls,
        "reasoning_effort": body.reasoning_effort,
        "user": body.user,
        "provider_options": body.provider_options or {},
    }
    if body.tools:
        data["tools"] = [_tool(t, i) for i, t in enumerate(body.tools)]
    try:
        data["tool_choice"] = _tool_choice(body)
        data["response_format"] = _response_format(body)
        return ChatRequest(**data), warnings
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None


def invalid_from_validation(exc: ValidationError, prefix: str = "") -> InvalidRequestError:
    """A pydantic error as one readable ``InvalidRequestError`` naming the parameter."""
    first = exc.errors()[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("function-after", "tool")]
    param = prefix + ".".join(loc) if loc else (prefix.rstrip(".") or None)
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    where = f"{param}: " if param else ""
    return InvalidRequestError(f"{where}{msg}{more}", param=param)
