"""The neutral stream: what every ``ChatModel.stream()`` yields.

Plain slotted dataclasses, not pydantic models: these are created once per chunk on the
hot path. Each has a ``type`` tag for serialisation and ``match`` statements.
Order: ``StreamStart`` first, then any mix of deltas and ``ResponseMetadata``, then
exactly one ``Finish`` or one ``ErrorEvent`` last. Once the stream has started, errors
travel in-band as ``ErrorEvent`` (partial output already yielded stays valid).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from switchboard.spec.errors import SwitchboardError
from switchboard.spec.messages import ProviderMetadata
from switchboard.spec.usage import Usage

UnifiedFinish = Literal["stop", "length", "content_filter", "tool_calls", "error", "other"]


@dataclass(frozen=True, slots=True)
class FinishReason:
    unified: UnifiedFinish
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class CallWarning:
    """A setting the provider could not honour (never silently dropped)."""

    type: Literal["unsupported-setting", "unsupported-part", "other"]
    message: str
    setting: str | None = None


@dataclass(slots=True)
class StreamStart:
    type: ClassVar[str] = "start"
    warnings: list[CallWarning] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One answer token's log-probability (``ChatRequest.logprobs``). ``top`` holds the
    most likely alternatives at that position (their own ``top`` is empty); ``bytes`` is
    the token's UTF-8 bytes where the vendor gives them (a token may be part of a
    character)."""

    token: str
    logprob: float
    bytes: list[int] | None = None
    top: tuple[TokenLogprob, ...] = ()


@dataclass(slots=True)
class TextDelta:
    """Answer text; ``logprobs`` covers exactly the tokens of ``text`` when asked for."""

    type: ClassVar[str] = "text-delta"
    text: str
    logprobs: list[TokenLogprob] | None = None


@dataclass(slots=True)
class ImageOutput:
    """A picture the model answered with, whole (Gemini's image output: an ``inlineData``
    part of its answer). It sits between the text before and after it: ``collect`` keeps
    it there as an ``ImagePart``, so an answer's text and pictures stay in order. The
    bytes are the picture's, checked by the adapter (``spec.image.sniff_media_type``)."""

    type: ClassVar[str] = "image"
    data: bytes
    media_type: str = "image/png"


@dataclass(slots=True)
class ReasoningDelta:
    """Reasoning text; ``id`` separates blocks. ``provider_metadata`` (a signature, a
    redacted block) is merged into the block's metadata by ``collect``."""

    type: ClassVar[str] = "reasoning-delta"
    text: str
    id: str = "0"
    provider_metadata: ProviderMetadata | None = None


@dataclass(slots=True)
class ToolCallStart:
    type: ClassVar[str] = "tool-call-start"
    id: str
    name: str
    index: int = 0


@dataclass(slots=True)
class ToolCallDelta:
    type: ClassVar[str] = "tool-call-delta"
    id: str
    arguments_delta: str
    index: int = 0


@dataclass(slots=True)
class ToolCall:
    """A complete tool call; always emitted, after any start/delta events for it."""

    type: ClassVar[str] = "tool-call"
    id: str
    name: str
    arguments: str
    index: int = 0
    provider_metadata: ProviderMetadata | None = None


@dataclass(slots=True)
class ResponseMetadata:
    type: ClassVar[str] = "metadata"
    response_id: str | None = None
    model: str | None = None
    request_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Finish:
    type: ClassVar[str] = "finish"
    finish_reason: FinishReason
    usage: Usage = field(default_factory=Usage)


@dataclass(slots=True)
class ErrorEvent:
    type: ClassVar[str] = "error"
    error: SwitchboardError
    usage: Usage | None = None


@dataclass(slots=True)
class Choice:
    """An event of choice ``index`` (>= 1) of a stream carrying several choices (``n``
    forwarded natively to a vendor that supports it, decision 0084). Only such a stream
    has them, and ``spec.choices.split_choices`` unwraps them before anything else reads
    the events: unwrapped events belong to choice 0, except ``StreamStart`` and
    ``ErrorEvent``, which belong to every choice."""

    type: ClassVar[str] = "choice"
    index: int
    event: StreamEvent


StreamEvent = (
    StreamStart
    | TextDelta
    | ImageOutput
    | ReasoningDelta
    | ToolCallStart
    | ToolCallDelta
    | ToolCall
    | ResponseMetadata
    | Finish
    | ErrorEvent
    | Choice
)
