"""``ChatRequest``: everything a caller can ask of any model, validated once, here.

Validation happens on construction so that every surface (CLI, REST, ``/v1``) rejects bad
input with the same message naming the field. Settings a given vendor cannot honour are
not errors: the adapter reports them as ``CallWarning``s.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.spec.messages import Message

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def check_json_schema(schema: dict[str, Any], where: str) -> None:
    """Raise ``ValueError`` if ``schema`` is not a valid JSON Schema (draft 2020-12).

    ``jsonschema`` is imported on first use, not at import time, to keep start-up fast.
    """
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        raise ValueError(f"{where} is not a valid JSON Schema at {path}: {exc.message}") from None


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
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    user: str | None = None
    provider_options: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("messages")
    @classmethod
    def _messages(cls, v: list[Message]) -> list[Message]:
        if not v:
            raise ValueError("messages must hold at least one message")
        return v

    @field_validator("stop")
    @classmethod
    def _stop(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if len(v) > 16:
                raise ValueError("stop takes at most 16 sequences")
            if any(s == "" for s in v):
                raise ValueError("stop sequences must not be empty strings")
        return v

    @model_validator(mode="after")
    def _tool_choice(self) -> ChatRequest:
        if isinstance(self.tool_choice, ToolChoiceTool):
            names = {t.name for t in self.tools or []}
            if self.tool_choice.name not in names:
                raise ValueError(
                    f"tool_choice names {self.tool_choice.name!r}, which is not among the "
                    f"tools given ({', '.join(sorted(names)) or 'none'})"
                )
        elif self.tool_choice == "required" and not self.tools:
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
