"""``ChatRequest`` -> a Chat Completions request body, plus the warnings for settings
the target cannot honour (reported, never silently dropped).

https://platform.openai.com/docs/api-reference/chat/create

``provider_options[<kind>]`` is merged into the body *last*, so it can set any field the
neutral request has no name for (``service_tier``, ``logit_bias``, ``verbosity``...) or
override a sampling setting we computed. Fields the gateway owns (``model``, ``messages``,
``stream``/``stream_options``, ``n``, tools, ``response_format``...) were refused before
this runs (``registry.passthrough``, decision 0012).
"""

from __future__ import annotations

from typing import Any

from switchboard.providers.openai.convert_messages import JsonDict, MessageConverter
from switchboard.providers.openai.quirks import (
    Quirks,
    is_known_non_reasoning_model,
    is_reasoning_model,
)
from switchboard.spec.events import CallWarning
from switchboard.spec.request import (
    ChatRequest,
    ResponseFormat,
    ResponseFormatJson,
    ResponseFormatJsonSchema,
    ToolChoice,
    ToolChoiceTool,
)

# Reasoning models reject these sampling settings with a 400.
# https://platform.openai.com/docs/guides/reasoning#limitations
_REASONING_REJECTS = ("temperature", "top_p", "frequency_penalty", "presence_penalty")


def _unsupported(setting: str, message: str) -> CallWarning:
    return CallWarning(type="unsupported-setting", setting=setting, message=message)


def build_body(
    request: ChatRequest,
    model_id: str,
    *,
    stream: bool,
    quirks: Quirks,
    options: list[dict[str, Any]] | None = None,
) -> tuple[JsonDict, list[CallWarning]]:
    """The request body and the warnings. ``options`` are merged in last, in order."""
    warnings: list[CallWarning] = []
    reasoning = is_reasoning_model(model_id)
    # OpenAI's reasoning models take the system prompt as a `developer` message
    # ("developer messages are the new system messages" for o1 and later):
    # https://platform.openai.com/docs/guides/reasoning#advice-on-prompting
    system_role = "developer" if reasoning and quirks.supports_developer_role else "system"
    messages = MessageConverter(system_role)
    body: JsonDict = {
        "model": model_id,
        "messages": messages.convert(request.system, request.messages),
    }
    warnings.extend(messages.warnings)
    if stream:
        body["stream"] = True
        if quirks.supports_stream_options:
            body["stream_options"] = {"include_usage": True}

    if request.max_output_tokens is not None:
        body[quirks.max_tokens_field] = request.max_output_tokens
    for name in _REASONING_REJECTS:
        value = getattr(request, name)
        if value is None:
            continue
        if reasoning:
            warnings.append(_unsupported(
                name, f"{name} is not supported by reasoning model {model_id!r} and was "
                      "left out"))
        else:
            body[name] = value
    if request.top_k is not None:
        warnings.append(_unsupported("top_k", "top_k is not supported by the Chat "
                                              "Completions API and was left out"))
    if request.stop:
        body["stop"] = list(request.stop)
    if request.seed is not None:
        if quirks.supports_seed:
            body["seed"] = request.seed
        else:
            warnings.append(_unsupported("seed", "seed is not supported by this endpoint "
                                                 "and was left out"))
    if request.user is not None:
        body["user"] = request.user
    if request.reasoning_effort is not None:
        if not quirks.supports_reasoning_effort:
            warnings.append(_unsupported("reasoning_effort", "reasoning_effort is not "
                                         "supported by this endpoint and was left out"))
        elif is_known_non_reasoning_model(model_id):
            warnings.append(_unsupported(
                "reasoning_effort", f"{model_id!r} is not a reasoning model; "
                                    "reasoning_effort was left out"))
        else:
            body["reasoning_effort"] = request.reasoning_effort

    if request.logprobs is not None:
        if quirks.supports_logprobs:
            body["logprobs"] = True
            if request.logprobs:
                body["top_logprobs"] = request.logprobs
        else:
            warnings.append(_unsupported("logprobs", "logprobs are not supported by this "
                                                     "endpoint and were left out"))

    _tools(request, body, quirks, warnings)
    if request.response_format is not None:
        fmt = _response_format(request.response_format, quirks, warnings)
        if fmt is not None:
            body["response_format"] = fmt

    for extra in options or []:
        body.update(extra)
    return body, warnings


def _tools(request: ChatRequest, body: JsonDict, quirks: Quirks,
           warnings: list[CallWarning]) -> None:
    if request.tools:
        tools: list[JsonDict] = []
        for t in request.tools:
            fn: JsonDict = {"name": t.name}
            if t.description is not None:
                fn["description"] = t.description
            fn["parameters"] = t.parameters
            if t.strict is not None:
                fn["strict"] = t.strict
            tools.append({"type": "function", "function": fn})
        body["tools"] = tools
    if request.tool_choice is not None:
        if request.tools:
            body["tool_choice"] = _tool_choice(request.tool_choice)
        else:  # OpenAI refuses tool_choice without tools (400)
            warnings.append(_unsupported("tool_choice", "tool_choice needs tools and was "
                                                        "left out"))
    if request.parallel_tool_calls is not None:
        if not request.tools:
            warnings.append(_unsupported("parallel_tool_calls", "parallel_tool_calls "
                                         "needs tools and was left out"))
        elif quirks.supports_parallel_tool_calls:
            body["parallel_tool_calls"] = request.parallel_tool_calls
        else:
            warnings.append(_unsupported("parallel_tool_calls", "parallel_tool_calls is "
                                         "not supported by this endpoint and was left out"))


def _tool_choice(choice: ToolChoice) -> str | JsonDict:
    if isinstance(choice, ToolChoiceTool):
        return {"type": "function", "function": {"name": choice.name}}
    return choice


def _response_format(fmt: ResponseFormat, quirks: Quirks,
                     warnings: list[CallWarning]) -> JsonDict | None:
    if isinstance(fmt, ResponseFormatJsonSchema):
        if not quirks.supports_json_schema:
            warnings.append(_unsupported(
                "response_format", "JSON-schema output is not supported by this endpoint; "
                                   "asked for any JSON object (json_object) instead"))
            return {"type": "json_object"}
        schema: JsonDict = {"name": fmt.name, "schema": fmt.schema_}
        if fmt.description is not None:
            schema["description"] = fmt.description
        if fmt.strict is not None:
            schema["strict"] = fmt.strict
        return {"type": "json_schema", "json_schema": schema}
    if isinstance(fmt, ResponseFormatJson):
        return {"type": "json_object"}
    return {"type": "text"}
