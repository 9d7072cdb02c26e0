"""``ChatRequest`` -> the body of ``models/{model}:generateContent`` (and its streaming twin).

https://ai.google.dev/api/generate-content#request-body

Field names are the REST (camelCase) names. Settings map as follows; anything Gemini cannot
honour is reported as a ``CallWarning``:

- ``temperature`` / ``top_p`` / ``top_k`` / ``max_output_tokens`` / ``seed`` /
  ``presence_penalty`` / ``frequency_penalty`` -> ``generationConfig`` (``temperature``,
  ``topP``, ``topK``, ``maxOutputTokens``, ``seed``, ``presencePenalty``,
  ``frequencyPenalty``).
- ``stop`` -> ``stopSequences``; Gemini takes at most 5, the rest are dropped with a warning.
- ``response_format``: json -> ``responseMimeType: application/json``; json_schema -> that
  plus ``responseJsonSchema`` (standard JSON Schema, trimmed by ``convert_schema``).
- ``reasoning_effort`` -> ``thinkingConfig`` (see ``thinking``).
- ``tools`` -> ``tools: [{functionDeclarations: [...]}]`` with ``parametersJsonSchema``;
  ``tool_choice`` -> ``toolConfig.functionCallingConfig`` (auto/none/required -> AUTO /
  NONE / ANY; a named tool -> ANY with ``allowedFunctionNames``).
- ``parallel_tool_calls=False``, ``user`` and ``Tool.strict`` have no Gemini equivalent:
  warned.
- ``provider_options["gemini"]`` is merged into the body *last*, recursively for objects
  (so ``{"generationConfig": {"candidateCount": 1}}`` adds to the generated config) and by
  replacement for everything else. Use Gemini's REST field names, e.g. ``safetySettings``,
  ``cachedContent`` ("cachedContents/..."), ``labels``, or ``generationConfig.
  thinkingConfig`` / ``responseModalities`` / ``mediaResolution``. ``contents``,
  ``systemInstruction``, ``tools`` and ``toolConfig`` are the gateway's and were refused
  before this runs (``registry.passthrough``). A ``thinkingConfig``
  given there replaces the one derived from ``reasoning_effort`` whole (its budget and
  level fields are mutually exclusive).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from switchboard.providers.gemini import convert_schema
from switchboard.providers.gemini.convert_messages import convert_messages
from switchboard.providers.gemini.thinking import thinking_config
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    ResponseFormatJson,
    ResponseFormatJsonSchema,
    ToolChoiceTool,
)

KIND = "gemini"
MAX_STOP_SEQUENCES = 5  # https://ai.google.dev/api/generate-content#generationconfig


@dataclass(slots=True)
class GeminiBody:
    body: dict[str, Any]
    warnings: list[CallWarning] = field(default_factory=list)


def build_body(request: ChatRequest, model_id: str, *, images: bool = False) -> GeminiBody:
    """``images``: the model answers with pictures too (capability ``image_output``):
    ``responseModalities: ["TEXT", "IMAGE"]``, as Google documents for its image models
    (https://ai.google.dev/gemini-api/docs/image-generation); the pictures come back as
    ``inlineData`` parts among the text (``convert_stream``)."""
    prompt = convert_messages(request, model_id)
    warnings = list(prompt.warnings)
    body: dict[str, Any] = {"contents": prompt.contents}
    if prompt.system_instruction is not None:
        body["systemInstruction"] = prompt.system_instruction
    config = _generation_config(request, model_id, warnings)
    if images:
        config["responseModalities"] = ["TEXT", "IMAGE"]
    if config:
        body["generationConfig"] = config
    if request.tools:
        body["tools"] = [{"functionDeclarations": _declarations(request, warnings)}]
    tool_config = _tool_config(request)
    if tool_config is not None:
        body["toolConfig"] = tool_config
    _unsupported(request, warnings)
    options = request.options_for(KIND)
    if options:
        given = options.get("generationConfig")
        if isinstance(given, dict) and "thinkingConfig" in given and "generationConfig" in body:
            # thinkingBudget and thinkingLevel are mutually exclusive: the caller's wins whole.
            body["generationConfig"].pop("thinkingConfig", None)
        deep_merge(body, options)
    return GeminiBody(body, warnings)


def _generation_config(request: ChatRequest, model_id: str,
                       warnings: list[CallWarning]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    simple = (
        ("temperature", request.temperature), ("topP", request.top_p),
        ("topK", request.top_k), ("maxOutputTokens", request.max_output_tokens),
        ("seed", request.seed), ("presencePenalty", request.presence_penalty),
        ("frequencyPenalty", request.frequency_penalty),
    )
    for name, value in simple:
        if value is not None:
            config[name] = value
    if request.stop:
        config["stopSequences"] = request.stop[:MAX_STOP_SEQUENCES]
        if len(request.stop) > MAX_STOP_SEQUENCES:
            dropped = ", ".join(repr(s) for s in request.stop[MAX_STOP_SEQUENCES:])
            warnings.append(CallWarning(
                "unsupported-setting",
                f"Gemini accepts at most {MAX_STOP_SEQUENCES} stop sequences; "
                f"not sent: {dropped}",
                setting="stop",
            ))
    fmt = request.response_format
    if isinstance(fmt, ResponseFormatJson | ResponseFormatJsonSchema):
        config["responseMimeType"] = "application/json"
    if isinstance(fmt, ResponseFormatJsonSchema):
        schema, removed = convert_schema.for_response(fmt.schema_)
        if fmt.description and "description" not in schema:
            schema["description"] = fmt.description
        config["responseJsonSchema"] = schema
        if removed:
            warnings.append(CallWarning(
                "unsupported-setting",
                "Gemini's responseJsonSchema does not support these schema keywords, which "
                f"were removed (the output may not enforce them): {'; '.join(removed)}",
                setting="response_format",
            ))
    if request.reasoning_effort is not None:
        config["thinkingConfig"] = thinking_config(model_id, request.reasoning_effort)
    return config


def _declarations(request: ChatRequest, warnings: list[CallWarning]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tool in request.tools or []:
        declaration: dict[str, Any] = {"name": tool.name}
        if tool.description:
            declaration["description"] = tool.description
        declaration["parametersJsonSchema"] = convert_schema.strip_meta(tool.parameters)
        if tool.strict:
            warnings.append(CallWarning(
                "unsupported-setting",
                f"tool {tool.name!r}: Gemini has no strict mode for function declarations; "
                "arguments are not guaranteed to match the schema",
                setting="tools.strict",
            ))
        out.append(declaration)
    return out


def _tool_config(request: ChatRequest) -> dict[str, Any] | None:
    choice = request.tool_choice
    if choice is None:
        return None
    if isinstance(choice, ToolChoiceTool):
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice.name]}}
    mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}[choice]
    return {"functionCallingConfig": {"mode": mode}}


def _unsupported(request: ChatRequest, warnings: list[CallWarning]) -> None:
    if request.parallel_tool_calls is False:
        warnings.append(CallWarning(
            "unsupported-setting",
            "Gemini cannot be told to avoid parallel function calls; it may still return "
            "several calls in one turn",
            setting="parallel_tool_calls",
        ))
    if request.user is not None:
        warnings.append(CallWarning(
            "unsupported-setting",
            "Gemini has no end-user identifier field; 'user' was not sent",
            setting="user",
        ))
    if request.logprobs is not None:
        warnings.append(CallWarning(
            "unsupported-setting",
            "log-probabilities are not supported for Gemini here; 'logprobs' was not sent",
            setting="logprobs",
        ))


def deep_merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    """Merge ``extra`` into ``into``: objects recursively, anything else replaced."""
    for key, value in extra.items():
        current = into.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            deep_merge(current, value)
        else:
            into[key] = copy.deepcopy(value)
