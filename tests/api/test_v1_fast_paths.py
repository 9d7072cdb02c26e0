"""The ``/v1/chat/completions`` parsing fast paths (issue 12, fourth pass) pinned to the
code they replaced.

``REFERENCE`` below is the request path as it was before the pass, copied verbatim
(``bounds.precheck``, ``convert_request.to_chat_request`` with its ``_message``,
``for_provider``, the Starlette ``Response`` of ``routes._json``). Property tests generate
many bodies — the common shape, every other shape the wire takes, and hostile ones (wrong
types, values out of range, unknown fields, bodies over every count limit) — and check
that the new path answers exactly as the old one: the same neutral ``ChatRequest`` (and
the same fields set), the same warnings and per-provider request, or the same error
response, byte for byte (status, body, headers).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from switchboard.api.encoded import JsonBytes
from switchboard.api.openai import routes
from switchboard.api.openai.bounds import chat_schemas
from switchboard.api.openai.convert_request import (
    _parts,
    _response_format,
    _tool,
    _tool_choice,
    for_provider,
    invalid_from_validation,
)
from switchboard.api.openai.convert_request import _refuse as refuse
from switchboard.api.openai.errors import error_body, error_headers, error_status, openai_error
from switchboard.api.openai.ids import completion_id
from switchboard.api.openai.params import PARAMS, VENDOR_PARAMS, vendor_params
from switchboard.api.openai.wire import ChatCompletionRequest, MessageIn
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    InvalidRequestError,
    Message,
    ReasoningPart,
    SwitchboardError,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from switchboard.spec.limits import (
    MAX_MESSAGES,
    MAX_OPTION_DEPTH,
    MAX_OPTION_NODES,
    MAX_PARTS,
    MAX_PARTS_PER_MESSAGE,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    MAX_STOP_SEQUENCES,
    MAX_TOOLS,
    TooLarge,
    json_size,
)

# --- the reference: the code before the pass, verbatim ------------------------------


def _ref_count(value: Any, limit: int, param: str, what: str) -> int:
    if isinstance(value, list) and len(value) > limit:
        raise InvalidRequestError(f"{param}: at most {limit:,} {what} per request; this one "
                                  f"has {len(value):,}", param=param)
    return len(value) if isinstance(value, list) else 0


def _ref_messages(messages: Any, name: str = "messages") -> None:
    _ref_count(messages, MAX_MESSAGES, name, "messages")
    if not isinstance(messages, list):
        return
    parts = 0
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list) and len(content) > MAX_PARTS_PER_MESSAGE:
            param = f"{name}[{i}].content"
            raise InvalidRequestError(
                f"{param}: a message holds at most {MAX_PARTS_PER_MESSAGE:,} content parts; "
                f"this one has {len(content):,}", param=param)
        parts += len(content) if isinstance(content, list) else 1
        calls = message.get("tool_calls")
        parts += len(calls) if isinstance(calls, list) else 0
    if parts > MAX_PARTS:
        raise InvalidRequestError(f"{name}: a request holds at most {MAX_PARTS:,} content "
                                  f"parts and tool calls in all; this one has {parts:,}",
                                  param=name)


def _ref_precheck(data: dict[str, Any]) -> int:
    _ref_messages(data.get("messages"), "messages")
    _ref_count(data.get("tools"), MAX_TOOLS, "tools", "tools")
    _ref_count(data.get("stop"), MAX_STOP_SEQUENCES, "stop", "stop sequences")
    budget = MAX_SCHEMA_NODES
    for param, schema in chat_schemas(data):
        try:
            budget -= json_size(schema, max_nodes=budget, max_depth=MAX_SCHEMA_DEPTH,
                                what=param)
        except TooLarge as exc:
            why = (str(exc) if exc.too_deep else
                   f"{param}: the JSON Schemas of tools and response_format hold more than "
                   f"{MAX_SCHEMA_NODES:,} JSON values in all, the limit")
            raise InvalidRequestError(why, param=param) from None
    try:
        json_size(data.get("provider_options"), max_nodes=MAX_OPTION_NODES,
                  max_depth=MAX_OPTION_DEPTH, what="provider_options")
    except TooLarge as exc:
        raise InvalidRequestError(str(exc), param="provider_options") from None
    return MAX_SCHEMA_NODES - budget


_USER = frozenset({"text", "image_url", "file", "input_audio"})
_TEXT = frozenset({"text"})
_ASSISTANT = frozenset({"text", "refusal"})


def _ref_message(m: MessageIn, i: int) -> Message:
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


def _ref_to_chat_request(body: ChatCompletionRequest) -> tuple[ChatRequest,
                                                                list[CallWarning]]:
    refuse(body)
    warnings: list[CallWarning] = []
    messages = [_ref_message(m, i) for i, m in enumerate(body.messages)]
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    data: dict[str, Any] = {
        "messages": messages,
        "max_output_tokens": (body.max_completion_tokens if body.max_completion_tokens
                              is not None else body.max_tokens),
        "temperature": body.temperature,
        "top_p": body.top_p,
        "top_k": body.top_k,
        "frequency_penalty": body.frequency_penalty,
        "presence_penalty": body.presence_penalty,
        "stop": stop,
        "seed": body.seed,
        "parallel_tool_calls": body.parallel_tool_calls,
        "reasoning_effort": body.reasoning_effort,
        "user": body.user,
        "logprobs": (body.top_logprobs or 0) if body.logprobs else None,
        "provider_options": body.provider_options or {},
    }
    if body.tools:
        data["tools"] = [_tool(t, i) for i, t in enumerate(body.tools)]
    try:
        data["tool_choice"] = _tool_choice(body)
        data["response_format"] = _response_format(body)
        if not data["provider_options"]:
            del data["provider_options"]
        return ChatRequest(**{k: v for k, v in data.items() if v is not None}), warnings
    except ValidationError as exc:
        raise invalid_from_validation(exc, body=body) from None


def _ref_for_provider(body: ChatCompletionRequest, request: ChatRequest,
                      kind: str) -> tuple[ChatRequest, list[CallWarning]]:
    warnings: list[CallWarning] = []
    options = {k: dict(v) for k, v in request.provider_options.items()}
    for name in vendor_params():
        value = getattr(body, name)
        if value is None:
            continue
        param = PARAMS[name]
        if kind in param.kinds:
            options.setdefault(kind, {}).setdefault(name, value)
        elif name != "top_k" and value not in (False, {}, []):
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


def _ref_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


def _ref_error(exc: SwitchboardError) -> Response:
    status, _, _ = error_status(exc)
    return _ref_json(error_body(exc), status, error_headers(exc))


def _ref_parse(raw: bytes) -> tuple[ChatCompletionRequest, ChatRequest,
                                    list[CallWarning]] | Response:
    """``routes._load`` then ``routes._validate``, as they were."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _ref_json(openai_error(
            "We could not parse the JSON body of your request. Send a JSON object with "
            "Content-Type: application/json."), 400)
    if not isinstance(data, dict):
        return _ref_json(openai_error("The request body must be a JSON object."), 400)
    try:
        _ref_precheck(data)
    except SwitchboardError as exc:
        return _ref_error(exc)
    try:
        body = ChatCompletionRequest.model_validate(data)
        chat_request, warnings = _ref_to_chat_request(body)
    except ValidationError as exc:
        return _ref_error(invalid_from_validation(exc))
    except SwitchboardError as exc:
        return _ref_error(exc)
    return body, chat_request, warnings


def _new_parse(raw: bytes) -> tuple[ChatCompletionRequest, ChatRequest,
                                    list[CallWarning]] | Response:
    loaded = routes._load(raw)
    if isinstance(loaded, Response):
        return loaded
    return routes._validate(loaded[0])


# --- the comparison ---------------------------------------------------------------

KINDS = ("openai", "openai_compatible", "anthropic", "gemini", "mistral")


def _same_response(new: Response, old: Response) -> None:
    assert isinstance(new, JsonBytes)
    assert (new.status_code, new.body, new.raw_headers) == (
        old.status_code, old.body, old.raw_headers)


def _same_request(new: ChatRequest, old: ChatRequest) -> None:
    assert new == old
    assert new.model_fields_set == old.model_fields_set
    assert new.model_dump() == old.model_dump()
    for a, b in zip(new.messages, old.messages, strict=True):
        assert a.model_fields_set == b.model_fields_set
        for pa, pb in zip(a.parts, b.parts, strict=True):
            assert type(pa) is type(pb)
            assert pa.model_fields_set == pb.model_fields_set


def assert_same(raw: bytes) -> None:
    old = _ref_parse(raw)
    new = _new_parse(raw)
    if isinstance(old, Response):
        assert isinstance(new, Response), f"the new path accepted {raw!r}"
        _same_response(new, old)
        return
    assert not isinstance(new, Response), (
        f"the new path refused {raw!r}: {getattr(new, 'body', b'')!r}")
    body, request, warnings = new
    assert body == old[0]
    _same_request(request, old[1])
    assert warnings == old[2]
    for kind in KINDS:
        new_request, new_warnings = for_provider(body, request, kind)
        old_request, old_warnings = _ref_for_provider(old[0], old[1], kind)
        _same_request(new_request, old_request)
        assert new_warnings == old_warnings


# --- generated bodies ---------------------------------------------------------------

_text = st.text(max_size=12)
_text1 = st.text(min_size=1, max_size=8)
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-3, 300), st.floats(-3, 3),
                    _text)
_json = st.recursive(_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)), max_leaves=8)

_part = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": st.one_of(_text, st.none())}),
    st.fixed_dictionaries({"type": st.just("refusal"), "refusal": _text}),
    st.fixed_dictionaries({"type": st.just("image_url"), "image_url": st.fixed_dictionaries(
        {"url": st.sampled_from(["https://example.com/a.png", "data:image/png;base64,iVBO",
                                 "ftp://x", "data:;base64,AAAA"])})}),
    st.fixed_dictionaries({"type": st.just("file"), "file": st.fixed_dictionaries(
        {"file_data": st.sampled_from(["data:application/pdf;base64,JVBE", "nope"])})}),
    st.fixed_dictionaries({"type": st.just("input_audio"), "input_audio": st.fixed_dictionaries(
        {"data": _text, "format": st.just("wav")})}),
    st.fixed_dictionaries({"type": st.sampled_from(["video", "text"])}),
    _json,
)
_content = st.one_of(_text, _text, st.none(), st.lists(_part, max_size=3), st.integers(-9, 9))
_tool_call = st.fixed_dictionaries(
    {"id": _text, "type": st.just("function"),
     "function": st.fixed_dictionaries({"name": st.sampled_from(["f", "get_x", "bad name"]),
                                        "arguments": st.one_of(_text, st.just("{}"))})})
_any_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "developer", "user", "user", "assistant", "tool",
                              "function", "robot"]),
     "content": _content},
    optional={"name": st.one_of(_text, st.none()),
              "reasoning_content": st.one_of(_text, st.none()),
              "tool_calls": st.one_of(st.none(), st.lists(_tool_call, max_size=2)),
              "tool_call_id": st.one_of(_text, st.none()),
              "refusal": st.one_of(_text, st.none())})
_common_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "developer", "user", "assistant"]), "content": _text})
_near_common_message = st.fixed_dictionaries(  # text content, and what else a role may hold
    {"role": st.sampled_from(["system", "developer", "user", "assistant", "tool"]),
     "content": _text},
    optional={"name": _text, "reasoning_content": st.one_of(_text1, st.none()),
              "tool_calls": st.one_of(st.none(), st.lists(_tool_call, max_size=2)),
              "tool_call_id": _text1, "refusal": _text})
_assistant_message = st.fixed_dictionaries(
    {"role": st.just("assistant"), "content": st.one_of(_text, st.none())},
    optional={"reasoning_content": st.one_of(_text1, st.just(""), st.none()),
              "tool_calls": st.one_of(st.none(), st.just([]),
                                      st.lists(_tool_call, min_size=1, max_size=2))})

_tool_def = st.fixed_dictionaries({"type": st.just("function"), "function": st.fixed_dictionaries(
    {"name": st.sampled_from(["f", "get_x", "bad name"])},
    optional={"description": _text,
              "parameters": st.one_of(st.just({"type": "object"}), st.just({"type": "array"}),
                                      st.dictionaries(_text, _json, max_size=2))})})

_CANDIDATES: list[Any] = ["x", "", True, False, 3, 0.5, {"a": "b"}, {"a": 1.5}, {}, [], ["x"]]


def _valid_for(name: str) -> list[Any]:
    """The candidate values the wire model takes for ``name`` (a vendor parameter)."""
    adapter = TypeAdapter(ChatCompletionRequest.model_fields[name].annotation)
    valid = []
    for value in _CANDIDATES:
        try:
            adapter.validate_python(value)
        except ValidationError:
            continue
        valid.append(value)
    return valid


_number = st.one_of(st.none(), st.integers(1, 100), st.integers(1, 100), st.floats(0.1, 1),
                    st.floats(0.1, 1), st.integers(-5, 0), st.floats(-3, 3), _text)
_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "stream": st.one_of(st.booleans(), st.none()),
    "temperature": _number, "top_p": _number, "top_k": _number, "seed": _number,
    "frequency_penalty": _number, "presence_penalty": _number,
    "max_tokens": _number, "max_completion_tokens": _number, "n": _number,
    "stop": st.one_of(st.none(), _text, st.lists(_text, max_size=4), st.integers(-9, 9)),
    "parallel_tool_calls": st.one_of(st.none(), st.booleans()),
    "reasoning_effort": st.one_of(st.none(), st.sampled_from(["low", "high", "extreme"])),
    "user": st.one_of(st.none(), _text),
    "logprobs": st.one_of(st.none(), st.booleans()),
    "top_logprobs": _number,
    "provider_options": st.one_of(st.none(), st.dictionaries(
        st.sampled_from(["openai", "openai_compatible", "anthropic"]),
        st.dictionaries(st.sampled_from(["top_k", "store", "x"]), _json, max_size=2),
        max_size=2), _json),
    "tools": st.one_of(st.none(), st.lists(_tool_def, max_size=2)),
    "tool_choice": st.one_of(st.none(), st.sampled_from(["auto", "none", "required", "x"]),
                             st.just({"type": "function", "function": {"name": "f"}})),
    "response_format": st.one_of(st.none(), st.just({"type": "json_object"}),
                                 st.just({"type": "text"}),
                                 st.just({"type": "json_schema", "json_schema": {
                                     "name": "r", "schema": {"type": "object"}}})),
    "modalities": st.one_of(st.none(), st.just(["text"]), st.just(["audio"])),
    "models": st.one_of(st.none(), st.lists(_text, max_size=3)),
    "functions": st.one_of(st.none(), st.just([{"name": "f"}])),
    "surprise": _json,
    **{name: st.one_of(st.none(), st.sampled_from(_valid_for(name)),
                       st.sampled_from(_valid_for(name)), _json)
       for name in VENDOR_PARAMS},
}


FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@st.composite
def bodies(draw: st.DrawFn, messages: st.SearchStrategy[Any],
           optional: dict[str, st.SearchStrategy[Any]], drop: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"model": draw(st.sampled_from(["openai:gpt-4o-mini", " ", "m"])),
                            "messages": draw(st.lists(messages, min_size=1, max_size=4))}
    body.update(draw(st.fixed_dictionaries({}, optional=optional)))
    if drop and draw(st.booleans()):
        del body[draw(st.sampled_from(["model", "messages"]))]
    return body


_nullable = st.none
_NEUTRAL: dict[str, st.SearchStrategy[Any]] = {
    "stream": st.one_of(st.booleans(), _nullable()),
    "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
    "temperature": st.one_of(st.floats(0, 2), _nullable()),
    "top_p": st.one_of(st.floats(0.01, 1), _nullable()),
    "top_k": st.one_of(st.integers(1, 100), _nullable()),
    "seed": st.one_of(st.integers(-10, 10**6), _nullable()),
    "frequency_penalty": st.one_of(st.floats(-2, 2), _nullable()),
    "presence_penalty": st.one_of(st.floats(-2, 2), _nullable()),
    "max_tokens": st.one_of(st.integers(0, 4096), _nullable()),
    "max_completion_tokens": st.one_of(st.integers(0, 4096), _nullable()),
    "n": st.one_of(st.integers(1, 8), _nullable()),
    "stop": st.one_of(_text1, st.lists(_text1, max_size=4), _nullable()),
    "parallel_tool_calls": st.one_of(st.booleans(), _nullable()),
    "reasoning_effort": st.one_of(st.sampled_from(["low", "high", "none"]), _nullable()),
    "user": st.one_of(_text, _nullable()),
    "logprobs": st.one_of(st.booleans(), _nullable()),
    "top_logprobs": st.one_of(st.integers(0, 20), _nullable()),
    "provider_options": st.one_of(st.dictionaries(
        st.sampled_from(["openai", "openai_compatible", "anthropic"]),
        st.dictionaries(st.sampled_from(["top_k", "store", "x"]), _scalar, max_size=2),
        max_size=2), _nullable()),
    "tools": st.one_of(st.lists(_tool_def, max_size=2), _nullable()),
    "tool_choice": st.one_of(st.sampled_from(["auto", "none"]), _nullable()),
    "response_format": st.one_of(st.just({"type": "json_object"}),
                                 st.just({"type": "text"}), _nullable()),
    "models": st.one_of(st.lists(_text1, max_size=2), _nullable()),
}
_VENDOR: dict[str, st.SearchStrategy[Any]] = {
    name: st.one_of(st.none(), st.sampled_from(_valid_for(name))) for name in VENDOR_PARAMS}


@FAST
@given(bodies(_common_message, _NEUTRAL))
def test_common_shapes_answer_as_before(body: dict[str, Any]) -> None:
    assert_same(orjson.dumps(body))


@FAST
@given(bodies(_common_message, {**_NEUTRAL, **_VENDOR}))
def test_vendor_parameters_answer_as_before(body: dict[str, Any]) -> None:
    assert_same(orjson.dumps(body))


@FAST
@given(bodies(st.one_of(_any_message, _common_message, _near_common_message,
                        _assistant_message), _NEUTRAL))
def test_every_message_shape_answers_as_before(body: dict[str, Any]) -> None:
    assert_same(orjson.dumps(body))


@FAST
@given(bodies(st.one_of(_any_message, _common_message), _OPTIONAL, drop=True))
def test_wrong_values_answer_as_before(body: dict[str, Any]) -> None:
    assert_same(orjson.dumps(body))


@FAST
@given(st.one_of(_json, st.binary(max_size=40), st.dictionaries(_text, _json, max_size=4)))
def test_hostile_bodies_answer_as_before(value: Any) -> None:
    assert_same(value if isinstance(value, bytes) else orjson.dumps(value))


def _deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


def _many(n: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": "x"}] * n


@pytest.mark.parametrize("body", [
    {"model": "m", "messages": _many(MAX_MESSAGES + 1)},
    {"model": "m", "messages": _many(MAX_MESSAGES)},
    {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "x"}] * (MAX_PARTS_PER_MESSAGE + 1)}]},
    {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "x"}] * MAX_PARTS_PER_MESSAGE}] * (MAX_PARTS // 1000 + 1)},
    {"model": "m", "messages": [{"role": "assistant", "content": "x", "tool_calls": [
        {"id": "c", "function": {"name": "f"}}] * MAX_PARTS_PER_MESSAGE}] * 21},
    {"model": "m", "messages": _many(1), "stop": ["s"] * (MAX_STOP_SEQUENCES + 1)},
    {"model": "m", "messages": _many(1), "stop": "s" * 2000},
    {"model": "m", "messages": _many(1), "tools": [
        {"type": "function", "function": {"name": "f"}}] * (MAX_TOOLS + 1)},
    {"model": "m", "messages": _many(1), "provider_options": {"openai": {
        "x": list(range(MAX_OPTION_NODES + 1))}}},
    {"model": "m", "messages": _many(1), "provider_options": {"openai": {"x": _deep(40)}}},
    {"model": "m", "messages": [{"role": "user", "content": "x" * 16_000_001}]},
    {"model": "m", "messages": "hello"},
    {"model": "m", "messages": [None, 3, "x"]},
    {"model": "m", "messages": []},
], ids=lambda body: ",".join(sorted(body))[:40])
def test_bodies_over_the_limits_answer_as_before(body: dict[str, Any]) -> None:
    assert_same(orjson.dumps(body))


def test_every_vendor_parameter_defaults_to_none() -> None:
    """``for_provider``'s fast path reads a parameter the caller left out as None."""
    fields = ChatCompletionRequest.model_fields
    assert VENDOR_PARAMS == tuple(vendor_params())
    for name in VENDOR_PARAMS:
        assert fields[name].default is None and fields[name].default_factory is None, name


def test_completion_ids_are_fresh_and_shaped_as_before() -> None:
    ids = [completion_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    for value in ids:
        assert value.startswith("chatcmpl-") and len(value) == 9 + 24
        assert set(value[9:]) <= alphabet


_HEADERS = [None, {}, {"x-switchboard-model": "openai:m", "X-RateLimit-Limit-Requests": "5",
                       "retry-after": "1"},
            {"content-length": "3"}, {"Content-Type": "text/plain", "x-a": "é"}]


@pytest.mark.parametrize("headers", _HEADERS)
@pytest.mark.parametrize("status", [200, 204, 304, 101, 400, 429, 502])
def test_json_bytes_sends_starlettes_headers(headers: dict[str, str] | None,
                                             status: int) -> None:
    for _ in range(2):  # the second time with the names cached
        new = JsonBytes(b'{"a":1}', status, headers)
        old = _ref_json({"a": 1}, status, headers)
        assert (new.body, new.status_code, new.raw_headers, new.background) == (
            old.body, old.status_code, old.raw_headers, old.background)


@pytest.mark.parametrize("headers", _HEADERS[:3])
def test_event_stream_sends_starlettes_headers(headers: dict[str, str] | None) -> None:
    from starlette.responses import StreamingResponse

    from switchboard.api.event_stream import SSE_HEADERS, EventStream

    async def nothing() -> Any:
        yield b""

    new = EventStream(nothing(), keep_alive=None, headers=headers)
    old = StreamingResponse(nothing(), media_type="text/event-stream",
                            headers={**SSE_HEADERS, **(headers or {})})
    assert new.raw_headers == old.raw_headers


def test_touched_tokens_are_reported_as_utc_datetimes() -> None:
    """The last use is kept as a float per call and handed out as the datetime it was."""
    import time
    from datetime import UTC, datetime

    from switchboard.api.tokens import TokenAuthenticator

    auth = TokenAuthenticator.__new__(TokenAuthenticator)
    auth.touched = {}
    before = datetime.now(UTC)
    auth.touched[3] = time.time()
    taken = auth.take_touched()
    assert before <= taken[3] <= datetime.now(UTC) and taken[3].tzinfo is UTC
    assert auth.take_touched() == {}
