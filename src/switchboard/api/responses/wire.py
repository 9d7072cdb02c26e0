"""Incoming OpenAI Responses requests, as pydantic models.

https://platform.openai.com/docs/api-reference/responses/create — an unknown top-level
parameter is a 400 naming it, as OpenAI answers. ``input`` items and ``tools`` stay raw
dicts here: each is validated in ``convert_request`` by its ``type``, so an error names
``input[3].content[0].image_url`` and a hosted tool is refused by its own name.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class InputText(_Lenient):
    type: Literal["input_text", "output_text", "text"]
    text: str


class InputImage(_Lenient):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["auto", "low", "high"] | None = None


class InputFile(_Lenient):
    type: Literal["input_file"]
    file_data: str | None = None
    file_url: str | None = None
    file_id: str | None = None
    filename: str | None = None


class Refusal(_Lenient):
    type: Literal["refusal"]
    refusal: str


class MessageItem(_Lenient):
    type: Literal["message"] = "message"
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[dict[str, Any]]


class FunctionCallItem(_Lenient):
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str = ""
    id: str | None = None


class FunctionCallOutputItem(_Lenient):
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[dict[str, Any]]


class SummaryText(_Lenient):
    type: Literal["summary_text"] = "summary_text"
    text: str


class ReasoningItem(_Lenient):
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[SummaryText] = Field(default_factory=list)
    content: list[dict[str, Any]] | None = None
    encrypted_content: str | None = None


class ImageGenerationCallItem(_Lenient):
    """A picture an earlier answer held (``render`` writes it), sent back as input."""

    type: Literal["image_generation_call"]
    id: str | None = None
    status: str | None = None
    result: str | None = None
    output_format: str | None = None


class FunctionTool(_Lenient):
    type: Literal["function"]
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class TextFormat(_Lenient):
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class TextConfig(_Lenient):
    format: TextFormat | None = None
    verbosity: str | None = None


class ReasoningConfig(_Lenient):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: str | None = None
    generate_summary: str | None = None


class StreamOptions(_Lenient):
    include_obfuscation: bool | None = None


class ResponsesRequest(BaseModel):
    """``POST /v1/responses``. Unknown parameters are refused, as OpenAI does."""

    model_config = ConfigDict(extra="forbid")

    model: str
    input: str | list[dict[str, Any]] | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    store: bool | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_logprobs: int | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    safety_identifier: str | None = None
    truncation: Literal["auto", "disabled"] | None = None
    include: list[str] | None = None
    # Accepted, carried to OpenAI models only (``provider_options``), warned elsewhere.
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    # Refused with a reason (state or work only OpenAI's own servers hold).
    background: bool | None = None
    conversation: Any | None = None
    prompt: Any | None = None
    max_tool_calls: int | None = None
    # Our escape hatch: vendor-only settings keyed by provider kind.
    provider_options: dict[str, dict[str, Any]] | None = None
