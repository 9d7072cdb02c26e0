"""``ChatRequest`` -> the body of ``POST /v1/chat/completions``.

Mistral's ``ChatCompletionRequest`` has ``additionalProperties: false``: only fields the
openapi documents are written (https://docs.mistral.ai/api/#tag/chat). Settings Mistral
cannot honour become ``CallWarning``s. Never written: ``stream_options`` (not in the schema;
Mistral puts usage in the last stream chunk anyway), ``user``, ``top_k``, ``n``.
"""

from __future__ import annotations

from typing import Any

from switchboard.providers.mistral.convert_messages import convert_messages
from switchboard.providers.mistral.options import parse_options
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    ResponseFormat,
    ResponseFormatJson,
    ResponseFormatJsonSchema,
    Tool,
    ToolChoice,
    ToolChoiceTool,
)

Json = dict[str, Any]

# Mistral's documented range for ``temperature`` is [0, 1.5] (the neutral one is [0, 2]).
MAX_TEMPERATURE = 1.5


def build_body(
    model_id: str, request: ChatRequest, *, stream: bool
) -> tuple[Json, list[CallWarning]]:
    """The request body and the warnings for settings that could not be honoured."""
    options = parse_options(request.options_for("mistral"))
    warnings: list[CallWarning] = []
    body: Json = {
        "model": model_id,
        "messages": convert_messages(request, warnings),
        "stream": stream,
    }
    if request.max_output_tokens is not None:
        body["max_tokens"] = request.max_output_tokens
    if request.temperature is not None:
        body["temperature"] = _temperature(request.temperature, warnings)
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop"] = list(request.stop)
    if request.seed is not None:
        if request.seed >= 0:
            body["random_seed"] = request.seed
        else:
            warnings.append(_unsupported("seed", "Mistral's random_seed must be >= 0; "
                                                 f"the seed {request.seed} was not sent"))
    if request.presence_penalty is not None:
        body["presence_penalty"] = request.presence_penalty
    if request.frequency_penalty is not None:
        body["frequency_penalty"] = request.frequency_penalty
    if request.response_format is not None:
        body["response_format"] = _response_format(request.response_format)
    if request.tools:
        body["tools"] = [_tool(t) for t in request.tools]
        if request.tool_choice is not None:
            body["tool_choice"] = _tool_choice(request.tool_choice)
        if request.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.reasoning_effort is not None:
        body["reasoning_effort"] = _effort(request.reasoning_effort, warnings)
    if request.logprobs is not None:
        warnings.append(_unsupported("logprobs", "Mistral's chat API returns no "
                                                 "log-probabilities; 'logprobs' was not sent"))
    if request.top_k is not None:
        warnings.append(_unsupported("top_k", "Mistral has no top_k setting; it was ignored"))
    if request.user is not None:
        warnings.append(_unsupported("user", "Mistral's chat API has no user field; "
                                             "it was not sent"))
    body.update(options.body_fields())
    return body, warnings


def _unsupported(setting: str, message: str) -> CallWarning:
    return CallWarning(type="unsupported-setting", message=message, setting=setting)


def _temperature(value: float, warnings: list[CallWarning]) -> float:
    if value <= MAX_TEMPERATURE:
        return value
    warnings.append(_unsupported(
        "temperature",
        f"Mistral's temperature is at most {MAX_TEMPERATURE}; {value} was lowered to it",
    ))
    return MAX_TEMPERATURE


def _response_format(fmt: ResponseFormat) -> Json:
    if isinstance(fmt, ResponseFormatJson):
        return {"type": "json_object"}
    if isinstance(fmt, ResponseFormatJsonSchema):
        schema: Json = {"name": fmt.name, "schema": fmt.schema_}
        if fmt.description is not None:
            schema["description"] = fmt.description
        if fmt.strict is not None:
            schema["strict"] = fmt.strict
        return {"type": "json_schema", "json_schema": schema}
    return {"type": "text"}


def _tool(tool: Tool) -> Json:
    function: Json = {"name": tool.name, "parameters": tool.parameters}
    if tool.description is not None:
        function["description"] = tool.description
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _tool_choice(choice: ToolChoice) -> str | Json:
    if isinstance(choice, ToolChoiceTool):
        return {"type": "function", "function": {"name": choice.name}}
    # Mistral's word for "must call a tool" is "any" ("required" is an alias there).
    return "any" if choice == "required" else choice


# Mistral's scale stops at "high" (ReasoningEffort in its OpenAPI spec):
# https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post
_EFFORT_CEILING = {"xhigh": "high", "max": "high"}


def _effort(effort: str, warnings: list[CallWarning]) -> str:
    sent = _EFFORT_CEILING.get(effort, effort)
    if sent != effort:
        warnings.append(_unsupported("reasoning_effort", f"Mistral's highest reasoning "
                                     f"effort is 'high'; sent it instead of {effort!r}"))
    return sent
