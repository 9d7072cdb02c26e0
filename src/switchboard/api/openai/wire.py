"""Incoming OpenAI Chat Completions requests, as pydantic models.

Strict where OpenAI is strict (an unknown top-level parameter is a 400 naming it, as
OpenAI answers "Unrecognized request argument supplied"), lenient where OpenAI's own
clients are (message ``name`` fields, ``null`` content on assistant messages).
https://platform.openai.com/docs/api-reference/chat/create
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ImageURL(_Lenient):
    url: str
    detail: Literal["auto", "low", "high"] | None = None


class FileRef(_Lenient):
    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class InputAudio(_Lenient):
    data: str
    format: str


class ContentPart(_Lenient):
    type: Literal["text", "image_url", "file", "input_audio", "refusal"]
    text: str | None = None
    image_url: ImageURL | None = None
    file: FileRef | None = None
    input_audio: InputAudio | None = None
    refusal: str | None = None


class FunctionCall(_Lenient):
    name: str
    arguments: str = ""


class ToolCallIn(_Lenient):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class MessageIn(_Lenient):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None
    refusal: str | None = None
    reasoning_content: str | None = None  # DeepSeek-style; echoed back by some clients


class FunctionDef(_Lenient):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolDef(_Lenient):
    type: Literal["function"] = "function"
    function: FunctionDef


class NamedFunction(_Lenient):
    name: str


class ToolChoiceNamed(_Lenient):
    type: Literal["function"] = "function"
    function: NamedFunction


class JsonSchemaSpec(_Lenient):
    name: str = "response"
    description: str | None = None
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None


class ResponseFormatIn(_Lenient):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaSpec | None = None


class StreamOptions(_Lenient):
    include_usage: bool = False
    include_obfuscation: bool | None = None  # accepted; our chunks carry no padding


ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


class ChatCompletionRequest(BaseModel):
    """Known top-level parameters; anything else is refused (as OpenAI does).

    What happens to each one is decided in ``params.PARAMS`` (checked against OpenAI's
    OpenAPI spec by ``tests/api/test_wire_spec.py``). Parameters we only forward to a
    vendor are typed loosely (the vendor validates them); those we interpret are exact.
    """

    model_config = ConfigDict(extra="forbid")

    model: str
    messages: list[MessageIn]
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    stop: str | list[str] | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    tools: list[ToolDef] | None = None
    tool_choice: Literal["none", "auto", "required"] | ToolChoiceNamed | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormatIn | None = None
    reasoning_effort: ReasoningEffort | None = None
    user: str | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    # Forwarded to the vendors that have them (params.PARAMS says which).
    service_tier: str | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, Any] | None = None
    safety_identifier: str | None = None
    verbosity: str | None = None
    logit_bias: dict[str, float] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    moderation: dict[str, Any] | None = None
    # Refused with a reason.
    audio: dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: Any | None = None
    # Sampler extras that SDKs send through ``extra_body`` for OpenAI-compatible servers.
    top_k: int | None = None
    min_p: float | None = None
    top_a: float | None = None
    typical_p: float | None = None
    repetition_penalty: float | None = None
    min_tokens: int | None = None
    # Our escape hatch: vendor-only settings keyed by provider kind.
    provider_options: dict[str, dict[str, Any]] | None = None
    # Fallback models after ``model``, OpenRouter style (bounded in convert_request).
    models: list[str] | None = None
    # The server runs these tools (the tool loop) instead of the caller: decision 0162.
    server_tools: list[str] | None = None
