"""Neutral chat messages: a role plus a list of typed parts.

Every adapter converts *from* these types, so a conversation written with one vendor
(its tool-call ids, its reasoning signatures) can be replayed against another. Vendor-only
data that must be echoed back (an Anthropic thinking signature, a Gemini thought
signature) rides in ``provider_metadata`` keyed by provider kind; an adapter reads only
its own key and drops the rest with a warning.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from switchboard.spec.limits import MAX_PARTS_PER_MESSAGE

Role = Literal["system", "user", "assistant", "tool"]

ProviderMetadata = dict[str, dict[str, Any]]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TextPart(_Part):
    type: Literal["text"] = "text"
    text: str


class ImagePart(_Part):
    """An image given inline (``data``, base64) or by ``url``; exactly one of them."""

    type: Literal["image"] = "image"
    media_type: str = "image/png"
    data: str | None = None
    url: str | None = None
    detail: Literal["auto", "low", "high"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ImagePart:
        if (self.data is None) == (self.url is None):
            raise ValueError("an image part needs exactly one of 'data' (base64) or 'url'")
        if not self.media_type.startswith("image/"):
            raise ValueError(f"image media_type must be image/*, got {self.media_type!r}")
        return self

    @classmethod
    def from_bytes(cls, raw: bytes, media_type: str) -> ImagePart:
        return cls(media_type=media_type, data=base64.b64encode(raw).decode("ascii"))

    def data_url(self) -> str:
        """The image as a URL: its own URL, or a ``data:`` URL for inline bytes."""
        if self.url is not None:
            return self.url
        return f"data:{self.media_type};base64,{self.data}"


class FilePart(_Part):
    """A non-image file (PDF, text, audio) inline or by URL."""

    type: Literal["file"] = "file"
    media_type: str
    data: str | None = None
    url: str | None = None
    filename: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> FilePart:
        if (self.data is None) == (self.url is None):
            raise ValueError("a file part needs exactly one of 'data' (base64) or 'url'")
        return self


class ToolCallPart(_Part):
    """A call the assistant made. ``arguments`` is the JSON text exactly as produced."""

    type: Literal["tool-call"] = "tool-call"
    id: str
    name: str
    arguments: str = "{}"
    provider_metadata: ProviderMetadata | None = None


class ToolResultPart(_Part):
    """The result of a tool call, sent back in a ``tool`` message."""

    type: Literal["tool-result"] = "tool-result"
    tool_call_id: str
    name: str | None = None
    content: str
    is_error: bool = False


class ReasoningPart(_Part):
    """Model reasoning. ``provider_metadata`` holds what must be echoed back verbatim
    (for example ``{"anthropic": {"signature": "..."}}`` or a redacted block's data)."""

    type: Literal["reasoning"] = "reasoning"
    text: str = ""
    provider_metadata: ProviderMetadata | None = None


Part = Annotated[
    TextPart | ImagePart | FilePart | ToolCallPart | ToolResultPart | ReasoningPart,
    Field(discriminator="type"),
]

_ALLOWED: dict[str, frozenset[str]] = {
    "system": frozenset({"text"}),
    "user": frozenset({"text", "image", "file"}),
    "assistant": frozenset({"text", "tool-call", "reasoning", "image"}),
    "tool": frozenset({"tool-result"}),
}


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    parts: list[Part]

    @model_validator(mode="after")
    def _parts_fit_role(self) -> Message:
        if len(self.parts) > MAX_PARTS_PER_MESSAGE:
            raise ValueError(f"a message holds at most {MAX_PARTS_PER_MESSAGE:,} parts; this "
                             f"one has {len(self.parts):,}")
        allowed = _ALLOWED[self.role]
        for part in self.parts:
            if part.type not in allowed:
                raise ValueError(
                    f"a {self.role} message cannot hold a {part.type!r} part "
                    f"(allowed: {', '.join(sorted(allowed))})"
                )
        return self

    @classmethod
    def system(cls, text: str) -> Message:
        return cls(role="system", parts=[TextPart(text=text)])

    @classmethod
    def user(cls, text: str, *extra: ImagePart | FilePart) -> Message:
        return cls(role="user", parts=[TextPart(text=text), *extra])

    @classmethod
    def assistant(cls, text: str) -> Message:
        return cls(role="assistant", parts=[TextPart(text=text)])

    @classmethod
    def tool_result(cls, tool_call_id: str, content: str, name: str | None = None) -> Message:
        return cls(
            role="tool",
            parts=[ToolResultPart(tool_call_id=tool_call_id, name=name, content=content)],
        )

    @property
    def text(self) -> str:
        """All text parts joined: what a person reads."""
        parts = self.parts
        if len(parts) == 1:  # the common message (read per call by the vendor converters)
            only = parts[0]
            return only.text if isinstance(only, TextPart) else ""
        return "".join([p.text for p in parts if isinstance(p, TextPart)])


TOOL_PICTURES = "(The pictures the tools returned:)\n"
"""How a tool's pictures are shown to a model: no vendor's Chat-Completions tool message
takes images, so they follow the tool results as a user message that starts with this
text (Switchboard's tool loop; decision 0163). A model (the offline one) reads such a
message as part of the results, not as a new question."""


def is_tool_pictures(message: Message) -> bool:
    """Is ``message`` the pictures of the tool results before it (``TOOL_PICTURES``)?"""
    first = message.parts[0] if message.parts else None
    return (message.role == "user" and isinstance(first, TextPart)
            and first.text == TOOL_PICTURES)
