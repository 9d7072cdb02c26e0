"""OpenAI wire -> neutral ``ChatRequest``.

Every rejection is an ``InvalidRequestError`` naming the offending parameter as the
caller wrote it, in OpenAI's one path syntax (``messages[2].content[0].image_url.url``):
errors of the wire model and of the neutral request are both mapped back to wire names
here, in ``invalid_from_validation`` (``max_output_tokens`` is reported as the
``max_tokens`` or ``max_completion_tokens`` the caller sent). Parameters with no neutral
equivalent follow ``params.PARAMS`` (decision 0031): forwarded to the vendors that have
them through ``provider_options``, ignored with a warning elsewhere, or refused.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from switchboard.api.openai.params import MAX_N, PARAMS, VENDOR_PARAM_SET, VENDOR_PARAMS
from switchboard.api.openai.wire import ChatCompletionRequest, ContentPart, MessageIn, ToolDef
from switchboard.api.wire_parts import DATA_URL, check_inline, tool_parameters, url_media_type
from switchboard.services.pipeline import MAX_FALLBACKS, MAX_MODEL_REF
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


def _image(url: str, detail: str | None, where: str) -> ImagePart:
    match = DATA_URL.match(url)
    try:
        if match:
            if not match.group(1):
                raise InvalidRequestError(
                    f"{where}: a data: URL must name the image's media type "
                    "(data:image/png;base64,...)", param=where)
            check_inline(match.group(3), where, "image")
            return ImagePart(media_type=match.group(1), data=match.group(3), detail=detail)
        if url.startswith(("http://", "https://")):
            return ImagePart(url=url, media_type=url_media_type(url), detail=detail)
    except ValidationError as exc:
        raise InvalidRequestError(f"{where}: {exc.errors()[0]['msg']}", param=where) from None
    raise InvalidRequestError(
        f"{where}: an image URL must be https://... or a data:image/...;base64 URL",
        param=where,
    )


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
            match = DATA_URL.match(f.file_data or "") if f else None
            if f is None or match is None:
                raise InvalidRequestError(
                    f"{here}: only inline files are supported (file.file_data as a "
                    "data:...;base64 URL); uploaded file ids are not", param=here)
            check_inline(match.group(3), f"{here}.file.file_data", "file")
            out.append(FilePart(media_type=match.group(1) or "application/octet-stream",
                                data=match.group(3), filename=f.filename))
        elif part.type == "input_audio":
            raise InvalidRequestError(f"{here}: audio input is not supported", param=here)
    return out


_USER = frozenset({"text", "image_url", "file", "input_audio"})
_TEXT = frozenset({"text"})
_ASSISTANT = frozenset({"text", "refusal"})


_TEXT_ROLES = {"system": "system", "developer": "system", "user": "user"}
"""Wire roles whose text content becomes one neutral text part, whatever else they hold."""


def _message(m: MessageIn, i: int) -> Message:
    content = m.content
    if type(content) is str:
        # The common shape: the content as one text part, which fits every role here and
        # has nothing to name in an error; the same Message the general path below builds,
        # without its per-part bookkeeping (issue 12, fourth pass; pinned by a property test).
        role = _TEXT_ROLES.get(m.role)
        if role is not None:
            return Message(role=role, parts=[TextPart(text=content)])
        if m.role == "assistant" and not m.reasoning_content and not m.tool_calls:
            return Message(role="assistant", parts=[TextPart(text=content)])
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
    try:
        return ResponseFormatJsonSchema.model_validate(
            {"name": spec.name, "description": spec.description, "schema": spec.schema_,
             "strict": spec.strict})
    except ValidationError as exc:
        raise invalid_from_validation(exc, prefix="response_format.json_schema.") from None


def _tool(t: ToolDef, i: int) -> Tool:
    try:
        return Tool(name=t.function.name, description=t.function.description,
                    parameters=tool_parameters(t.function.parameters),
                    strict=t.function.strict)
    except ValidationError as exc:
        err = invalid_from_validation(exc, prefix=f"tools[{i}].function.")
        if err.param == f"tools[{i}].function":
            err.param = f"tools[{i}].function.parameters"
        raise err from None


def requested_model(body: ChatCompletionRequest) -> str:
    """The model ref to route; an empty one is the caller's mistake, not "the default"."""
    ref = body.model.strip()
    if not ref:
        raise InvalidRequestError(
            "model: you must name a model, e.g. 'openai:gpt-4o-mini' (GET /v1/models "
            "lists them)", param="model")
    return ref


def requested_fallbacks(body: ChatCompletionRequest) -> list[str]:
    """``models``: the fallbacks after ``model`` (OpenRouter's field), bounded: each may
    cost a whole upstream attempt. ``model`` itself and repeats are dropped."""
    if not body.models:
        return []
    if len(body.models) > MAX_FALLBACKS:
        raise InvalidRequestError(
            f"models: at most {MAX_FALLBACKS} fallback models (got {len(body.models)})",
            param="models")
    refs: list[str] = []
    for ref in (r.strip() for r in body.models):
        if not ref or len(ref) > MAX_MODEL_REF:
            raise InvalidRequestError(
                "models: each entry must name a model, e.g. 'openai:gpt-4o-mini' "
                "(GET /v1/models lists them)", param="models")
        if ref != body.model.strip() and ref not in refs:
            refs.append(ref)
    return refs


def _refuse(body: ChatCompletionRequest) -> None:
    if body.n is not None and not 1 <= body.n <= MAX_N:
        raise InvalidRequestError(
            f"n: must be between 1 and {MAX_N} (each choice is a whole model call)", param="n")
    if body.functions is not None or body.function_call is not None:
        param = "functions" if body.functions is not None else "function_call"
        raise InvalidRequestError(
            f"{param}: {PARAMS[param].reason}", param=param)
    if body.audio is not None:
        raise InvalidRequestError(f"audio: {PARAMS['audio'].reason}", param="audio")
    if body.modalities and "audio" in body.modalities:
        raise InvalidRequestError("modalities: audio output is not supported",
                                  param="modalities")
    if body.top_logprobs is not None and not body.logprobs:
        raise InvalidRequestError("top_logprobs: needs 'logprobs': true", param="top_logprobs")


def for_provider(body: ChatCompletionRequest, request: ChatRequest,
                 kind: str) -> tuple[ChatRequest, list[CallWarning]]:
    """``request`` for a model of provider kind ``kind`` (known once the model is routed):
    the vendor-only parameters added to ``provider_options`` for the kinds that take them
    (the caller's own ``provider_options`` win over a parameter of the same name), a
    warning for each one this kind does not take. For an OpenAI-compatible server
    ``top_k`` travels as-is with the other sampler extras rather than as the neutral
    setting. Cheap: no message is touched."""
    sent = body.model_fields_set
    if sent.isdisjoint(VENDOR_PARAM_SET):
        # The common call: no vendor parameter sent, and one left out is None (its
        # default), which the loop below skips: the same request and no warning, without
        # 18 ``getattr`` per call (issue 12, fourth pass).
        return request, []
    warnings: list[CallWarning] = []
    options = {k: dict(v) for k, v in request.provider_options.items()}
    for name in VENDOR_PARAMS:
        value = getattr(body, name) if name in sent else None
        if value is None:
            continue
        param = PARAMS[name]
        if kind in param.kinds:
            options.setdefault(kind, {}).setdefault(name, value)
        elif name != "top_k" and value not in (False, {}, []):  # top_k: neutral elsewhere
            where = " and ".join(sorted(param.kinds))
            warnings.append(CallWarning(
                "unsupported-setting",
                f"'{name}' is only forwarded to {where} providers and was ignored", name))
    if options == request.provider_options:
        return request, warnings
    update: dict[str, Any] = {"provider_options": options}
    if "top_k" in options.get(kind, {}):
        update["top_k"] = None
    return request.model_copy(update=update), warnings


def to_chat_request(body: ChatCompletionRequest) -> tuple[ChatRequest, list[CallWarning]]:
    """Translate a parsed request (whatever model it goes to: see ``for_provider``);
    raise ``InvalidRequestError`` naming the param."""
    _refuse(body)
    messages = [_message(m, i) for i, m in enumerate(body.messages)]
    # Only what the caller set: a field left at its default (None, no options) is the
    # same request, and pydantic then skips its validators (decision 0198). The fields
    # of the same name on both sides are looked at only when one of them was sent.
    data: dict[str, Any] = {"messages": messages}
    if not body.model_fields_set.isdisjoint(_SAME_NAME):
        for name in _SAME_NAME:
            value = getattr(body, name)
            if value is not None:
                data[name] = value
    tokens = (body.max_completion_tokens if body.max_completion_tokens is not None
              else body.max_tokens)
    if tokens is not None:
        data["max_output_tokens"] = tokens
    if body.stop is not None:
        data["stop"] = [body.stop] if isinstance(body.stop, str) else body.stop
    if body.logprobs:
        data["logprobs"] = body.top_logprobs or 0
    if body.provider_options:
        data["provider_options"] = body.provider_options
    if body.tools:
        data["tools"] = [_tool(t, i) for i, t in enumerate(body.tools)]
    try:
        choice = _tool_choice(body)
        if choice is not None:
            data["tool_choice"] = choice
        response_format = _response_format(body)
        if response_format is not None:
            data["response_format"] = response_format
        return ChatRequest(**data), []
    except ValidationError as exc:
        raise invalid_from_validation(exc, body=body) from None


_SAME_NAME = ("temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty",
              "seed", "parallel_tool_calls", "reasoning_effort", "user")
"""Wire parameters passed to ``ChatRequest`` under the same name, as sent."""


# A pydantic location names union members too ("str", "list[ContentPart]",
# "literal['none','auto']", "ToolChoiceNamed", "function-after[...]"): not parameters.
_UNION_TAG = re.compile(r"[\[A-Z]|^(str|int|float|bool|list|dict|none)$|^function-")


def _path(parts: tuple[Any, ...] | list[Any]) -> str:
    """OpenAI's one path syntax: ``messages[2].content[0].image_url.url``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _UNION_TAG.search(str(part)):
            out += ("." if out else "") + str(part)
    return out


def _wire_loc(loc: tuple[Any, ...], body: ChatCompletionRequest | None) -> tuple[Any, ...]:
    """A neutral ``ChatRequest`` location as the parameter the caller sent."""
    if not loc or body is None:
        return loc
    head, rest = loc[0], loc[1:]
    if head == "max_output_tokens":
        name = "max_completion_tokens" if body.max_completion_tokens is not None else "max_tokens"
        return (name,)
    if head == "logprobs":
        return ("top_logprobs",)
    if head == "messages":  # neutral parts need not line up with the wire's content list
        return ("messages", rest[0], "content") if rest else ("messages",)
    if head == "tools" and rest:
        return ("tools", rest[0], "function", *rest[1:])
    return loc


def invalid_from_validation(exc: ValidationError, prefix: str = "",
                            body: ChatCompletionRequest | None = None) -> InvalidRequestError:
    """A pydantic error as one readable ``InvalidRequestError`` naming the parameter as
    the caller wrote it. ``body`` is given for errors of the neutral ``ChatRequest``
    (their names are mapped back to the wire's); ``prefix`` places a nested model's
    errors (``tools[0].function.``)."""
    errors = exc.errors()
    unknown = [str(e["loc"][0]) for e in errors
               if e.get("type") == "extra_forbidden" and len(e.get("loc", ())) == 1]
    if unknown and not prefix and body is None:
        return InvalidRequestError(
            f"Unrecognized request argument supplied: {', '.join(unknown)}", param=unknown[0])
    # The most specific location wins: for a union, the member the value was meant for.
    first = max(errors, key=lambda e: len(_path(e.get("loc", ()))))
    loc = _wire_loc(tuple(first.get("loc", ())), body)
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if not loc and body is not None:  # a whole-request check names its field first
        head = msg.split(" ", 1)[0]
        if head in ChatRequest.model_fields:
            loc = _wire_loc((head,), body)
    path = _path(loc)
    param = (prefix + path) if path else (prefix.rstrip(".") or None)
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    named = param is None or msg.startswith(f"{param} ")  # "messages must hold …"
    where = "" if named else f"{param}: "
    return InvalidRequestError(f"{where}{msg}{more}", param=param)
