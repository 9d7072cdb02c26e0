"""``ChatRequest``: everything a caller can ask of any model, validated once, here.

Validation happens on construction so that every surface (CLI, REST, ``/v1``) rejects bad
input with the same message naming the field. Settings a given vendor cannot honour are
not errors: the adapter reports them as ``CallWarning``s.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.spec.limits import (
    MAX_IMAGES,
    MAX_MESSAGES,
    MAX_OPTION_DEPTH,
    MAX_OPTION_NODES,
    MAX_PARTS,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    MAX_STOP_CHARS,
    MAX_STOP_SEQUENCES,
    MAX_TEXT_CHARS,
    MAX_TOOLS,
    json_size,
)
from switchboard.spec.messages import (
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from switchboard.spec.schema_check import check_json_schema

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

_TEXT_PARTS = (TextPart, ReasoningPart)
"""Parts whose ``text`` counts toward ``MAX_TEXT_CHARS`` (with tool calls' names and
arguments and tool results' content)."""


class Tool(BaseModel):
    """A function the model may call; ``parameters`` is a JSON Schema for its arguments."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str | None = None
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    strict: bool | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _TOOL_NAME.match(v):
            raise ValueError(
                f"tool name {v!r} must be 1-64 characters of letters, digits, '_' or '-'"
            )
        return v

    @model_validator(mode="after")
    def _schema(self) -> Tool:
        if self.parameters.get("type", "object") != "object":
            raise ValueError(
                f"tool {self.name!r}: parameters must be a JSON Schema of type 'object'"
            )
        check_json_schema(self.parameters, f"tool {self.name!r} parameters")
        return self


class ToolChoiceTool(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["tool"] = "tool"
    name: str


ToolChoice = Literal["auto", "none", "required"] | ToolChoiceTool


class ResponseFormatText(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["text"] = "text"


class ResponseFormatJson(BaseModel):
    """Any JSON object (``json mode``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["json"] = "json"


class ResponseFormatJsonSchema(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    type: Literal["json_schema"] = "json_schema"
    name: str = "response"
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None

    @model_validator(mode="after")
    def _schema(self) -> ResponseFormatJsonSchema:
        check_json_schema(self.schema_, f"response_format schema {self.name!r}")
        return self


ResponseFormat = ResponseFormatText | ResponseFormatJson | ResponseFormatJsonSchema

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
"""OpenAI's scale, the widest any vendor has. ``none`` asks for no reasoning where a model
can skip it; adapters map each value to their vendor's nearest knob (and say so)."""


class ChatRequest(BaseModel):
    """A provider-neutral chat call. The model is chosen separately (``chat_model()``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: list[Message]
    system: str | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=1)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    stop: list[str] | None = None
    seed: int | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = Field(default=None, discriminator="type")
    reasoning_effort: ReasoningEffort | None = None
    user: str | None = None
    # Log-probabilities of the answer's tokens, with this many most likely alternatives
    # per position (0: only the chosen token's). Adapters that cannot return them warn;
    # those that can put them on ``TextDelta.logprobs``.
    logprobs: int | None = Field(default=None, ge=0, le=20)
    provider_options: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("messages")
    @classmethod
    def _messages(cls, v: list[Message]) -> list[Message]:
        if not v:
            raise ValueError("messages must hold at least one message")
        if len(v) > MAX_MESSAGES:
            raise ValueError(f"a request holds at most {MAX_MESSAGES:,} messages; this one "
                             f"has {len(v):,}")
        parts = images = 0
        for m in v:  # one loop, no generators: this runs on every /v1 call
            parts += len(m.parts)
            for p in m.parts:
                if isinstance(p, ImagePart):
                    images += 1
        if parts > MAX_PARTS:
            raise ValueError(f"a request holds at most {MAX_PARTS:,} message parts in all; "
                             f"this one has {parts:,}")
        if images > MAX_IMAGES:
            raise ValueError(f"a request holds at most {MAX_IMAGES:,} images; this one has "
                             f"{images:,}")
        return v

    @field_validator("stop")
    @classmethod
    def _stop(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if len(v) > MAX_STOP_SEQUENCES:
                raise ValueError(f"stop takes at most {MAX_STOP_SEQUENCES} sequences")
            if any(s == "" for s in v):
                raise ValueError("stop sequences must not be empty strings")
            if any(len(s) > MAX_STOP_CHARS for s in v):
                raise ValueError(f"a stop sequence is at most {MAX_STOP_CHARS:,} characters")
        return v

    @field_validator("tools")
    @classmethod
    def _tools(cls, v: list[Tool] | None) -> list[Tool] | None:
        if v is not None and len(v) > MAX_TOOLS:
            raise ValueError(f"a request takes at most {MAX_TOOLS} tools; this one has "
                             f"{len(v):,}")
        return v

    @field_validator("provider_options")
    @classmethod
    def _options(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        json_size(v, max_nodes=MAX_OPTION_NODES, max_depth=MAX_OPTION_DEPTH,
                  what="provider_options")
        return v

    @model_validator(mode="after")
    def _whole(self) -> ChatRequest:
        """Checks across fields, in this order: all schemas together, all text together,
        then ``tool_choice`` against ``tools``. One validator rather than two, and the
        text counted in one loop: this runs on every call (issue 12, fourth pass)."""
        tools = self.tools
        response_format = self.response_format
        if tools or isinstance(response_format, ResponseFormatJsonSchema):
            schemas: list[dict[str, Any]] = [t.parameters for t in tools or []]
            if isinstance(response_format, ResponseFormatJsonSchema):
                schemas.append(response_format.schema_)
            json_size(schemas, max_nodes=MAX_SCHEMA_NODES + 1,
                      max_depth=MAX_SCHEMA_DEPTH + 1,
                      what="the JSON Schemas of tools and response_format together")
        chars = len(self.system) if self.system else 0
        for message in self.messages:
            for part in message.parts:
                if isinstance(part, _TEXT_PARTS):
                    chars += len(part.text)
                elif isinstance(part, ToolCallPart):
                    chars += len(part.name) + len(part.arguments)
                elif isinstance(part, ToolResultPart):
                    chars += len(part.content)
        if tools:
            for tool in tools:
                if tool.description:
                    chars += len(tool.description)
        if chars > MAX_TEXT_CHARS:
            raise ValueError(f"a request holds at most {MAX_TEXT_CHARS:,} characters of text "
                             f"in all; this one has {chars:,}")
        choice = self.tool_choice
        if choice is None:
            return self
        if isinstance(choice, ToolChoiceTool):
            names = {t.name for t in tools or []}
            if choice.name not in names:
                raise ValueError(
                    f"tool_choice names {choice.name!r}, which is not among the "
                    f"tools given ({', '.join(sorted(names)) or 'none'})"
                )
        elif choice == "required" and not tools:
            raise ValueError("tool_choice 'required' needs at least one tool in 'tools'")
        return self

    def options_for(self, kind: str) -> dict[str, Any]:
        """The ``provider_options`` meant for one provider kind (empty if none)."""
        return self.provider_options.get(kind, {})

    def with_system_folded(self) -> tuple[str | None, list[Message]]:
        """The system prompt (``system`` plus any leading system messages) and the rest.

        Vendors that take the system prompt out of band (Anthropic, Gemini) use this.
        """
        texts = [self.system] if self.system else []
        rest: list[Message] = []
        for m in self.messages:
            if m.role == "system":
                texts.append(m.text)
            else:
                rest.append(m)
        return ("\n\n".join(texts) if texts else None), rest
