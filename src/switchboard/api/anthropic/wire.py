"""Incoming Anthropic Messages requests, as pydantic models.

https://docs.anthropic.com/en/api/messages — strict at the top level (Anthropic answers
an unknown field with a 400 "Extra inputs are not permitted"), lenient inside blocks
(``cache_control``, ``citations`` and similar hints are accepted and have no neutral
meaning: prompt caching is the vendor's, see ``convert_request``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Base64Source(_Lenient):
    type: Literal["base64"]
    media_type: str
    data: str


class UrlSource(_Lenient):
    type: Literal["url"]
    url: str


class TextSource(_Lenient):
    """A plain-text document (``document`` blocks)."""

    type: Literal["text"]
    media_type: str = "text/plain"
    data: str


class FileSource(_Lenient):
    """A Files API id: refused (no files are stored here)."""

    type: Literal["file"]
    file_id: str


Source = Annotated[Base64Source | UrlSource | TextSource | FileSource,
                   Field(discriminator="type")]


class TextBlock(_Lenient):
    type: Literal["text"]
    text: str


class ImageBlock(_Lenient):
    type: Literal["image"]
    source: Source


class DocumentBlock(_Lenient):
    type: Literal["document"]
    source: Source
    title: str | None = None


class ToolUseBlock(_Lenient):
    type: Literal["tool_use"]
    id: str
    name: str
    input: Any = Field(default_factory=dict)


class ToolResultBlock(_Lenient):
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | list[TextBlock | ImageBlock] | None = None
    is_error: bool | None = None


class ThinkingBlock(_Lenient):
    type: Literal["thinking"]
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(_Lenient):
    type: Literal["redacted_thinking"]
    data: str


class OtherBlock(_Lenient):
    """Any other block type (server tool results, search results, containers): refused
    by ``convert_request`` with a message naming the type."""

    type: str


Block = (TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock
         | ThinkingBlock | RedactedThinkingBlock)


class MessageIn(_Lenient):
    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]
    """Blocks are validated one by one in ``convert_request`` (each error then names
    its own ``messages.N.content.M``, and an unknown type gets its own message)."""


class SystemText(_Lenient):
    type: Literal["text"] = "text"
    text: str


class ToolIn(_Lenient):
    """A client tool. Server tools (``web_search_20250305``, ``bash_20250124``, ...) have
    a versioned ``type`` and are refused in ``convert_request``."""

    type: str | None = None
    name: str
    description: str | None = None
    input_schema: dict[str, Any] | None = None


class ToolChoiceIn(_Lenient):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class ThinkingIn(_Lenient):
    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = None


class MetadataIn(_Lenient):
    user_id: str | None = None


class MessagesRequest(BaseModel):
    """``POST /v1/messages``. Unknown top-level fields are refused, as Anthropic does."""

    model_config = ConfigDict(extra="forbid")

    model: str
    messages: list[MessageIn]
    max_tokens: int
    system: str | list[SystemText] | None = None
    stop_sequences: list[str] | None = None
    stream: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    tools: list[ToolIn] | None = None
    tool_choice: ToolChoiceIn | None = None
    thinking: ThinkingIn | None = None
    metadata: MetadataIn | None = None
    service_tier: str | None = None
    # Our escape hatch, as on /v1/chat/completions: vendor-only settings by provider kind.
    provider_options: dict[str, dict[str, Any]] | None = None


class CountTokensRequest(BaseModel):
    """``POST /v1/messages/count_tokens``: the request without generation settings."""

    model_config = ConfigDict(extra="forbid")

    model: str
    messages: list[MessageIn]
    system: str | list[SystemText] | None = None
    tools: list[ToolIn] | None = None
    tool_choice: ToolChoiceIn | None = None
    thinking: ThinkingIn | None = None
