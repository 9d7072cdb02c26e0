"""Chat Completions stream chunks -> neutral events.

https://platform.openai.com/docs/api-reference/chat-streaming
A stream is ``data: {chunk}`` events ending with ``data: [DONE]``. Tool calls arrive by
``index``: the first delta of a call carries ``id`` and ``function.name``, later ones only
``function.arguments`` fragments. With ``stream_options.include_usage`` a last chunk with
empty ``choices`` carries ``usage`` (Groq also puts it in ``x_groq.usage``).

``refusal`` deltas (the model declining, with structured outputs) are emitted as text, so
the person sees the refusal in the answer exactly where it came; a ``ResponseMetadata``
with ``extra={"refusal": True}`` marks the answer as a refusal for whoever needs to know.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from switchboard.providers.openai.convert_usage import convert_usage
from switchboard.providers.openai.map_finish import map_finish
from switchboard.providers.openai.quirks import ReasoningField
from switchboard.spec.choices import ZERO_USAGE
from switchboard.spec.errors import StreamBrokenError
from switchboard.spec.events import (
    Choice,
    ErrorEvent,
    Finish,
    ReasoningDelta,
    ResponseMetadata,
    StreamEvent,
    TextDelta,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
)
from switchboard.spec.usage import Usage
from switchboard.upstream.errors import error_from_event
from switchboard.upstream.sse import SSEEvent


@dataclass(slots=True)
class _ChoiceState:
    """What one choice's deltas build up until its ``finish_reason``."""

    finish_raw: str | None = None
    calls: dict[int, _Call] = field(default_factory=dict)
    refusal: bool = False


@dataclass(slots=True)
class _Call:
    id: str
    name: str
    index: int
    args: list[str] = field(default_factory=list)
    done: bool = False


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _token(item: dict[str, Any], top: tuple[TokenLogprob, ...] = ()) -> TokenLogprob:
    raw = item.get("bytes")
    return TokenLogprob(token=str(item.get("token", "")),
                        logprob=float(item.get("logprob") or 0.0),
                        bytes=raw if isinstance(raw, list) else None, top=top)


def logprobs_of(choice: dict[str, Any]) -> list[TokenLogprob] | None:
    """A choice's ``logprobs.content`` (the answer's tokens), or None when absent.
    https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices"""
    content = as_dict(choice.get("logprobs")).get("content")
    if not isinstance(content, list):
        return None
    return [_token(item, tuple(_token(alt) for alt in item.get("top_logprobs") or ()
                               if isinstance(alt, dict)))
            for item in content if isinstance(item, dict)]


def metadata_of(payload: dict[str, Any], request_id: str | None) -> ResponseMetadata:
    extra: dict[str, Any] = {}
    for name in ("system_fingerprint", "service_tier"):
        if payload.get(name) is not None:
            extra[name] = payload[name]
    return ResponseMetadata(response_id=payload.get("id"), model=payload.get("model"),
                            request_id=request_id, extra=extra)


def tagged(index: int, events: list[StreamEvent]) -> list[StreamEvent]:
    """Choice ``index``'s events as a stream of several choices carries them (choice 0
    untagged; see ``spec.choices``)."""
    return events if index == 0 else [Choice(index, event) for event in events]


class StreamConverter:
    """Feed each SSE ``data`` string; ``done`` turns true at ``[DONE]`` or an error.

    ``choices`` > 1: the request sent ``n`` (decision 0084); the chunks interleave the
    choice indexes, and choice ``i >= 1``'s events come out wrapped in ``Choice``."""

    def __init__(self, provider: str, request_id: str | None,
                 reasoning_field: ReasoningField | None,
                 secrets: tuple[str, ...] = (), choices: int = 1) -> None:
        self.provider = provider
        self.request_id = request_id
        self.secrets = secrets  # the call's key: redacted from any error built here
        self.reasoning_field = reasoning_field
        self.done = False
        self.usage: Usage | None = None
        self._choices = [_ChoiceState() for _ in range(choices)]
        self._metadata_sent = False

    def feed(self, data: str) -> list[StreamEvent]:
        if data.strip() == "[DONE]":
            self.done = True
            return self._finishes()
        chunk = orjson.loads(data)  # a ValueError here means a broken stream
        if not isinstance(chunk, dict):
            raise ValueError(f"{self.provider}: stream chunk is not a JSON object")
        if chunk.get("error"):
            self.done = True
            error = error_from_event(self.provider, chunk, request_id=self.request_id,
                                     secrets=self.secrets)
            return [ErrorEvent(error, usage=self.usage)]
        events: list[StreamEvent] = []
        if not self._metadata_sent and chunk.get("id"):
            self._metadata_sent = True
            metadata = metadata_of(chunk, self.request_id)
            events.append(metadata)
            events.extend(Choice(i, replace(metadata, extra=dict(metadata.extra)))
                          for i in range(1, len(self._choices)))
        # Most chunks carry neither: skip the calls (this runs once per token).
        usage = convert_usage(chunk["usage"]) if "usage" in chunk else None
        if usage is None and isinstance(chunk.get("x_groq"), dict):
            usage = convert_usage(chunk["x_groq"].get("usage"))
        if usage is not None:
            self.usage = usage
        states = self._choices
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", 0)
            if index == 0:
                self._choice(states[0], choice, events)
            elif isinstance(index, int) and 0 < index < len(states):
                mine: list[StreamEvent] = []
                self._choice(states[index], choice, mine)
                events.extend(tagged(index, mine))
        return events

    def sse(self, event: SSEEvent) -> list[StreamEvent]:
        """``upstream.driver``'s entry point: one SSE event (only its ``data`` matters)."""
        try:
            return self.feed(event.data)
        except ValueError as exc:  # a chunk that is not JSON (or not an object)
            self.done = True
            return [ErrorEvent(StreamBrokenError(
                f"{self.provider}: unreadable stream chunk ({exc})", provider=self.provider,
                request_id=self.request_id, secrets=self.secrets), usage=self.usage)]

    def end(self) -> list[StreamEvent]:
        return [self.broken()]

    def broken(self) -> ErrorEvent:
        """The stream ended without ``[DONE]``."""
        error = StreamBrokenError(
            f"{self.provider}: the stream ended before [DONE]; the answer may be incomplete",
            provider=self.provider, request_id=self.request_id, secrets=self.secrets)
        return ErrorEvent(error, usage=self.usage)

    # -- internals -------------------------------------------------------------------
    def _choice(self, state: _ChoiceState, choice: dict[str, Any],
                events: list[StreamEvent]) -> None:
        delta = choice.get("delta")
        if isinstance(delta, dict):
            if self.reasoning_field is not None:
                reasoning = delta.get(self.reasoning_field)
                if isinstance(reasoning, str) and reasoning:
                    events.append(ReasoningDelta(text=reasoning))
            content = delta.get("content")
            if isinstance(content, str) and content:
                # Vendors send ``"logprobs": null`` in every chunk: only a non-empty
                # value can hold any (``logprobs_of`` of anything else is None).
                events.append(TextDelta(text=content, logprobs=logprobs_of(choice)
                                        if choice.get("logprobs") else None))
            refusal = delta.get("refusal")
            if isinstance(refusal, str) and refusal:
                if not state.refusal:
                    state.refusal = True
                    events.append(ResponseMetadata(extra={"refusal": True}))
                events.append(TextDelta(text=refusal))
            for position, tc in enumerate(delta.get("tool_calls") or ()):
                if isinstance(tc, dict):
                    self._tool_delta(state, position, tc, events)
        finish = choice.get("finish_reason")
        if finish:
            state.finish_raw = finish
            events.extend(self._complete_calls(state))

    def _tool_delta(self, state: _ChoiceState, position: int, tc: dict[str, Any],
                    events: list[StreamEvent]) -> None:
        index = tc.get("index")
        if not isinstance(index, int):
            index = position  # some compatible servers omit the index
        fn = as_dict(tc.get("function"))
        call = state.calls.get(index)
        if call is None or call.done:
            call_id = tc.get("id") or f"call_{index}"
            call = state.calls[index] = _Call(call_id, fn.get("name") or "", index)
            events.append(ToolCallStart(id=call.id, name=call.name, index=index))
        arguments = fn.get("arguments")
        if isinstance(arguments, str) and arguments:
            call.args.append(arguments)
            events.append(ToolCallDelta(id=call.id, arguments_delta=arguments, index=index))

    @staticmethod
    def _complete_calls(state: _ChoiceState) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for call in state.calls.values():
            if not call.done:
                call.done = True
                out.append(ToolCall(id=call.id, name=call.name,
                                    arguments="".join(call.args), index=call.index))
        return out

    def _finishes(self) -> list[StreamEvent]:
        """At ``[DONE]``: every choice's open tool calls and ``Finish``; choice 0's last,
        untagged and carrying the vendor's usage (it ends the stream for the driver),
        the others explicit zeros (``spec.choices.ZERO_USAGE``)."""
        out: list[StreamEvent] = []
        for index, state in enumerate(self._choices[1:], start=1):
            out.extend(tagged(index, [*self._complete_calls(state),
                                      Finish(map_finish(state.finish_raw), ZERO_USAGE)]))
        first = self._choices[0]
        out.extend(self._complete_calls(first))
        out.append(Finish(map_finish(first.finish_raw), self.usage or Usage()))
        return out
