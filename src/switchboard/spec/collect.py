"""Fold a stream of events into one result — the non-streaming answer.

``Collector`` is incremental so a service can forward each event *and* accumulate in the
same pass; ``collect()`` is the pure whole-stream form.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from switchboard.spec.errors import SwitchboardError
from switchboard.spec.events import (
    CallWarning,
    ErrorEvent,
    Finish,
    FinishReason,
    ImageOutput,
    ReasoningDelta,
    ResponseMetadata,
    StreamEvent,
    StreamStart,
    TextDelta,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
)
from switchboard.spec.messages import (
    ImagePart,
    Message,
    Part,
    ProviderMetadata,
    ReasoningPart,
    TextPart,
    ToolCallPart,
)
from switchboard.spec.usage import Usage


@dataclass(slots=True)
class ChatResult:
    text: str
    parts: list[Part]
    tool_calls: list[ToolCallPart]
    finish_reason: FinishReason | None
    usage: Usage
    warnings: list[CallWarning]
    metadata: ResponseMetadata
    error: SwitchboardError | None = None
    logprobs: list[TokenLogprob] | None = None  # the text's, when they were asked for

    @property
    def message(self) -> Message:
        """The assistant message to append to the history."""
        return Message(role="assistant", parts=self.parts or [TextPart(text="")])

    @property
    def complete(self) -> bool:
        return self.error is None and self.finish_reason is not None


@dataclass(slots=True)
class _Reasoning:
    text: list[str] = field(default_factory=list)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class _PendingCall:
    id: str
    name: str
    args: list[str] = field(default_factory=list)


class Collector:
    """Accumulates events in order; ``result()`` may be called at any time (partial)."""

    __slots__ = ("_order", "_text", "_reasoning", "_pending", "_calls", "finish",
                 "_images", "usage", "warnings", "metadata", "error", "events", "logprobs",
                 "_built", "_open")

    def __init__(self) -> None:
        # _order keeps the parts in the order they began: ("text", i) / ("reasoning", id)
        # / ("tool", id). Consecutive text deltas share one text part.
        self._order: list[tuple[str, str]] = []
        self._text: dict[str, list[str]] = {}
        self._reasoning: dict[str, _Reasoning] = {}
        self._pending: dict[str, _PendingCall] = {}
        self._calls: dict[str, ToolCallPart] = {}
        self._images: dict[str, ImagePart] = {}
        self.finish: FinishReason | None = None
        self.usage = Usage()
        self.warnings: list[CallWarning] = []
        self.metadata = ResponseMetadata()
        self.error: SwitchboardError | None = None
        self.events = 0
        self.logprobs: list[TokenLogprob] | None = None
        self._built: tuple[int, list[Part], str] | None = None
        """(``events`` when built, the parts, the text): a non-streaming call reads the
        result twice (metering's outcome, the pipeline's answer) with no event between,
        so the parts are joined once per event count, not per read."""
        self._open: list[str] | None = None
        """The chunks of the text part that is last in ``_order`` (None: the last part
        is not text): the next text delta joins it without a handler call."""

    def add(self, event: StreamEvent) -> None:
        self.events += 1
        if type(event) is TextDelta:  # most of a stream's events: the short way
            chunks = self._open
            if chunks is not None and event.logprobs is None:
                chunks.append(event.text)
                return
        # One dict lookup by the event's exact type instead of a chain of isinstance
        # checks (a Finish was the 7th): this runs for every event of every call.
        handler = _HANDLERS.get(type(event))
        if handler is None:
            handler = _handler_for(type(event))
        handler(self, event)

    def _text_delta(self, event: TextDelta) -> None:
        chunks = self._open
        if chunks is None:  # the last part is not text: a new text part begins
            key = str(len(self._order))
            self._order.append(("text", key))
            chunks = self._text[key] = self._open = []
        chunks.append(event.text)
        if event.logprobs is not None:
            if self.logprobs is None:
                self.logprobs = []
            self.logprobs.extend(event.logprobs)

    def _image_output(self, event: ImageOutput) -> None:  # in order, between the texts
        key = str(len(self._order))
        self._order.append(("image", key))
        self._open = None
        self._images[key] = ImagePart.from_bytes(event.data, event.media_type)

    def _reasoning_delta(self, event: ReasoningDelta) -> None:
        block = self._reasoning.get(event.id)
        if block is None:
            block = self._reasoning[event.id] = _Reasoning()
            self._order.append(("reasoning", event.id))
            self._open = None
        if event.text:
            block.text.append(event.text)
        if event.provider_metadata:
            _merge(block.metadata, event.provider_metadata)

    def _tool_call_start(self, event: ToolCallStart) -> None:
        if event.id not in self._pending and event.id not in self._calls:
            self._pending[event.id] = _PendingCall(event.id, event.name)
            self._order.append(("tool", event.id))
            self._open = None

    def _tool_call_delta(self, event: ToolCallDelta) -> None:
        pending = self._pending.get(event.id)
        if pending is not None:
            pending.args.append(event.arguments_delta)

    def _tool_call(self, event: ToolCall) -> None:
        if event.id not in self._pending and event.id not in self._calls:
            self._order.append(("tool", event.id))
            self._open = None
        self._pending.pop(event.id, None)
        self._calls[event.id] = ToolCallPart(
            id=event.id,
            name=event.name,
            arguments=event.arguments,
            provider_metadata=event.provider_metadata,
        )

    def _finish(self, event: Finish) -> None:
        self.finish = event.finish_reason
        self.usage = self.usage.merge(event.usage)

    def _error_event(self, event: ErrorEvent) -> None:
        self.error = event.error
        if event.usage is not None:
            self.usage = self.usage.merge(event.usage)

    def _stream_start(self, event: StreamStart) -> None:
        self.warnings.extend(event.warnings)

    def _response_metadata(self, event: ResponseMetadata) -> None:
        m = self.metadata
        m.response_id = event.response_id or m.response_id
        m.model = event.model or m.model
        m.request_id = event.request_id or m.request_id
        m.extra.update(event.extra)

    def _ignore(self, event: StreamEvent) -> None:
        pass

    @property
    def has_parts(self) -> bool:
        """Whether ``result().parts`` would hold anything (without building it): every
        key in the order list becomes a part."""
        return bool(self._order)

    @property
    def text(self) -> str:
        return self._build()[2]

    def parts(self) -> list[Part]:
        return list(self._build()[1])

    def _build(self) -> tuple[int, list[Part], str]:
        """The parts and the text as of now, built once per event count (every change
        goes through ``add``, which counts). The part objects are shared by the results
        built from the same events, as tool calls always were; the lists are not."""
        built = self._built
        if built is not None and built[0] == self.events:
            return built
        parts: list[Part] = []
        texts: list[str] = []
        for kind, key in self._order:
            if kind == "text":
                text = "".join(self._text[key])
                texts.append(text)
                parts.append(TextPart(text=text))
            elif kind == "image":
                parts.append(self._images[key])
            elif kind == "reasoning":
                block = self._reasoning[key]
                parts.append(
                    ReasoningPart(
                        text="".join(block.text),
                        provider_metadata=block.metadata or None,
                    )
                )
            elif key in self._calls:
                parts.append(self._calls[key])
            elif key in self._pending:  # interrupted mid-call: keep what arrived
                p = self._pending[key]
                parts.append(ToolCallPart(id=p.id, name=p.name, arguments="".join(p.args)))
        built = self._built = (self.events, parts,
                               texts[0] if len(texts) == 1 else "".join(texts))
        return built

    def result(self) -> ChatResult:
        _, built, text = self._build()
        calls = self._calls
        return ChatResult(
            text=text,
            parts=list(built),
            tool_calls=[p for p in built if isinstance(p, ToolCallPart) and p.id in calls]
            if calls else [],
            finish_reason=self.finish,
            usage=self.usage,
            warnings=list(self.warnings),
            metadata=self.metadata,
            error=self.error,
            logprobs=list(self.logprobs) if self.logprobs is not None else None,
        )


_ORDER: tuple[tuple[type, Callable[[Collector, Any], None]], ...] = (
    (TextDelta, Collector._text_delta),
    (ImageOutput, Collector._image_output),
    (ReasoningDelta, Collector._reasoning_delta),
    (ToolCallStart, Collector._tool_call_start),
    (ToolCallDelta, Collector._tool_call_delta),
    (ToolCall, Collector._tool_call),
    (Finish, Collector._finish),
    (ErrorEvent, Collector._error_event),
    (StreamStart, Collector._stream_start),
    (ResponseMetadata, Collector._response_metadata),
)
"""Each event type's step, in the order the types are tried for a subclass."""
_HANDLERS: dict[type, Callable[[Collector, Any], None]] = dict(_ORDER)


def _handler_for(kind: type) -> Callable[[Collector, Any], None]:
    """The step of a type not in ``_HANDLERS`` (a subclass: the first base that matches,
    as the ``isinstance`` chain this replaced did; anything else is ignored), kept."""
    found = next((step for base, step in _ORDER if issubclass(kind, base)),
                 Collector._ignore)
    _HANDLERS[kind] = found
    return found


def _merge(into: dict[str, dict[str, Any]], new: ProviderMetadata) -> None:
    for kind, values in new.items():
        into.setdefault(kind, {}).update(values)


def collect(events: Iterable[StreamEvent]) -> ChatResult:
    """The result of a whole stream (pure: no I/O)."""
    c = Collector()
    for e in events:
        c.add(e)
    return c.result()


async def collect_stream(events: AsyncIterable[StreamEvent]) -> ChatResult:
    c = Collector()
    async for e in events:
        c.add(e)
    return c.result()


def parse_arguments(arguments: str) -> dict[str, Any]:
    """A tool call's arguments as a dict; ``{}`` for empty, ``ValueError`` if not an object."""
    if not arguments.strip():
        return {}
    value = json.loads(arguments)
    if not isinstance(value, dict):
        raise ValueError("tool call arguments must be a JSON object")
    return value


def result_events(result: ChatResult) -> list[StreamEvent]:
    """A non-streaming result replayed as the events a stream would have given, so both
    modes go through the same retry layer, metering and accounting (``collect`` of them
    gives the result back)."""
    events: list[StreamEvent] = [StreamStart(list(result.warnings)), result.metadata]
    logprobs = result.logprobs  # they cover the whole text: carried by its first delta
    for i, part in enumerate(result.parts):
        if part.type == "text":
            events.append(TextDelta(part.text, logprobs))
            logprobs = None
        elif part.type == "image" and part.data is not None:
            events.append(ImageOutput(base64.b64decode(part.data), part.media_type))
        elif part.type == "reasoning":
            events.append(ReasoningDelta(part.text, id=str(i),
                                         provider_metadata=part.provider_metadata))
        elif part.type == "tool-call":
            events.append(ToolCall(part.id, part.name, part.arguments,
                                   provider_metadata=part.provider_metadata))
    if result.error is not None:
        events.append(ErrorEvent(result.error, result.usage))
    else:
        events.append(Finish(result.finish_reason or FinishReason("other"), result.usage))
    return events
