"""Measure and account one upstream call while its events flow to the caller.

``metered()`` wraps a model's event stream: it forwards every event unchanged, folds them
into a ``Collector`` on the way, times the first token and the whole call, and — however
the stream ends (finish, in-band error, an exception before the first event, or the
consumer going away mid-answer) — hands exactly one ``CallOutcome`` to ``on_done``. That
single exit is what makes "nothing is lost" hold: a disconnect still yields an outcome
with the partial answer and status ``partial``.

It is also where usage is made honest: when the vendor reported no token counts (a
stopped or broken stream, a vendor that never sends them), the outcome carries an
estimate from the request and the text produced, flagged ``estimated``
(``usage_estimate``), and its cost is computed from that — for every surface at once.

``on_done`` is synchronous on purpose: it runs in ``finally`` blocks, possibly during
cancellation, where awaiting is unsafe. Persisting is queued (see ``usage.UsageRecorder``)
or spawned as a tracked task by the caller.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol, TypeVar

from switchboard.db import utcnow
from switchboard.providers.offline.embed import request_tokens
from switchboard.registry import ResolvedModel
from switchboard.services.usage import usage_row
from switchboard.services.usage_estimate import fill_usage
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    ChatResult,
    Collector,
    EmbeddingRequest,
    EmbeddingResult,
    ErrorEvent,
    FinishReason,
    ImageOutput,
    ImageRequest,
    ImageResult,
    NoImageError,
    ReasoningDelta,
    ResponseMetadata,
    StreamEvent,
    SwitchboardError,
    TextDelta,
    ToolCallStart,
    Usage,
)

Status = Literal["ok", "partial", "error"]


@dataclass(slots=True)
class CallOutcome:
    provider: str
    kind: str
    model: str
    result: ChatResult
    status: Status
    started_at: float
    latency_ms: int
    ttft_ms: int | None
    cost: Decimal | None
    error: SwitchboardError | None = None
    reason: str | None = None  # why a stream ended early: "client disconnected", ...
    estimated: bool = False
    """``result.usage`` (and ``cost``) is an estimate: the vendor reported no counts."""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def error_code(self) -> str | None:
        return self.error.code if self.error is not None else None

    def usage_row(self, source: str, user_id: int | None,
                  api_token_id: int | None) -> dict[str, object]:
        """This attempt as a ``usage_events`` row, stamped now (``usage.usage_row``, the
        one builder; the pipeline's recorder, once per attempt)."""
        usage = self.result.usage
        error = self.error
        return usage_row(
            utcnow(), user_id, api_token_id, self.provider, self.model, source, self.status,
            usage.input_tokens, usage.output_tokens, usage.cached_input_tokens,
            usage.cache_write_tokens, usage.reasoning_tokens, self.cost, self.latency_ms,
            self.ttft_ms, error.code if error is not None else None, self.estimated)


def scrub_key(model: ResolvedModel, error: SwitchboardError) -> SwitchboardError:
    """``error`` with the provider's own key removed from every string it shows (in place).

    Defence in depth, not the redaction itself: a ``ProviderError`` redacts its strings
    when it is built, and every built-in adapter passes it the call's key. A third-party
    provider plugin may not, and every chat call's errors pass here on their way to a
    response, a saved message and the log, so the key is removed whatever the adapter
    did. Same function (``spec.redaction``); only the error path pays for it."""
    try:
        key = model.provider.api_key
    except SwitchboardError:
        return error
    if key:
        error.redact((key,))
    return error


def _outcome(model: ResolvedModel, request: ChatRequest | None, collector: Collector,
             started: float, first: float | None, error: SwitchboardError | None,
             reason: str | None) -> CallOutcome:
    result = collector.result()
    result.usage, estimated = fill_usage(request, result)
    if error is None:
        error = result.error
    if error is not None:
        status: Status = "partial" if collector.text or result.tool_calls else "error"
    elif result.finish_reason is None:
        status = "partial"
    else:
        status = "ok"
    now = time.perf_counter()
    return CallOutcome(
        provider=model.provider_name,
        kind=model.kind,
        model=model.model_id,
        result=result,
        status=status,
        started_at=started,
        latency_ms=int((now - started) * 1000),
        ttft_ms=int((first - started) * 1000) if first is not None else None,
        cost=model.cost(result.usage),
        error=error,
        reason=reason,
        estimated=estimated,
    )


def failed_outcome(model: ResolvedModel, request: ChatRequest | None,
                   error: SwitchboardError | None, reason: str | None = None) -> CallOutcome:
    """The outcome of a call that ended before any upstream attempt (refused by a
    policy, cancelled while admitted): nothing said, nothing spent."""
    now = time.perf_counter()
    return _outcome(model, request, Collector(), now, None, error, reason)


# A tuple, not ``A | B | C``: the union would be built again for every event.
_OUTPUT = (TextDelta, ToolCallStart, ReasoningDelta, ImageOutput)
"""What counts as the answer's first output (a picture too, for the time to first token)."""


async def metered(
    model: ResolvedModel,
    events: AsyncIterator[StreamEvent],
    on_done: Callable[[CallOutcome], None],
    *,
    request: ChatRequest | None,
    collector: Collector | None = None,
) -> AsyncGenerator[StreamEvent, None]:
    """Forward ``events``; report one ``CallOutcome`` when the stream ends in any way.

    ``request`` is what ``events`` answers: the prompt to estimate usage from when the
    vendor reports none (None only where the prompt is not known). ``collector``, if
    given, is the one the events are folded into, so the caller can read the answer so
    far while it streams (the chat saves its progress from it)."""
    collector = collector if collector is not None else Collector()
    started = time.perf_counter()
    first: float | None = None
    error: SwitchboardError | None = None
    reason: str | None = None
    try:
        async for event in events:
            if first is None and isinstance(event, _OUTPUT):
                first = time.perf_counter()
            if isinstance(event, ErrorEvent):
                error = scrub_key(model, event.error)
            collector.add(event)
            yield event
    except SwitchboardError as exc:
        error = scrub_key(model, exc)
        raise
    except GeneratorExit:
        reason = "client disconnected"
        raise
    except BaseException as exc:  # cancellation, shutdown, a bug: still account for it
        reason = f"interrupted ({type(exc).__name__})"
        raise
    finally:
        on_done(_outcome(model, request, collector, started, first, error, reason))
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


async def metered_fold(
    model: ResolvedModel,
    answer: Awaitable[list[StreamEvent]],
    on_done: Callable[[CallOutcome], None],
    *,
    request: ChatRequest | None,
    collector: Collector,
) -> StreamEvent | None:
    """``metered`` for a caller that wants the whole answer at once (a non-streaming
    call, ``answer`` = ``ResolvedModel.answer_events``): the same fold into
    ``collector``, the same timing and exactly one ``CallOutcome``, but the events are
    folded here in one loop over the answer's list instead of each crossing two more
    generators (issue 12: ``metered``'s and the replay's, six resumes each per ``/v1``
    JSON call). Returns the first event (None: the answer had none). Keep the two in
    step: ``tests/services/test_metered_fold.py`` pins them to the same outcomes for
    answers, in-band errors and raised errors."""
    started = time.perf_counter()
    first: float | None = None
    opening: StreamEvent | None = None
    error: SwitchboardError | None = None
    reason: str | None = None
    try:
        for event in await answer:
            if opening is None:
                opening = event
            if first is None and isinstance(event, _OUTPUT):
                first = time.perf_counter()
            if isinstance(event, ErrorEvent):
                error = scrub_key(model, event.error)
            collector.add(event)
        return opening
    except SwitchboardError as exc:
        error = scrub_key(model, exc)
        raise
    except BaseException as exc:  # cancellation, shutdown, a bug: still account for it
        reason = f"interrupted ({type(exc).__name__})"
        raise
    finally:
        on_done(_outcome(model, request, collector, started, first, error, reason))


async def metered_embed(model: ResolvedModel, request: EmbeddingRequest,
                        on_done: Callable[[CallOutcome], None]) -> EmbeddingResult:
    """One embedding request (all its batches, with retries), accounted like a chat call:
    exactly one ``CallOutcome`` however it ends, its usage the vendor's count or, when
    the vendor gives none (Gemini), the offline estimate flagged ``estimated``, and its
    cost at the model's price per million input tokens."""

    def account(result: EmbeddingResult) -> tuple[Usage, Decimal | None, bool]:
        if result.usage.input_tokens is not None:
            return result.usage, model.cost(result.usage), False
        usage = Usage(input_tokens=request_tokens(request), output_tokens=0)
        result.usage = usage  # the caller reports the same figure the row holds
        return usage, model.cost(usage), True

    return await _metered_one(model, lambda: model.embed(request), "embedding", account,
                              on_done)


async def metered_images(model: ResolvedModel, request: ImageRequest,
                         on_done: Callable[[CallOutcome], None]) -> ImageResult:
    """One image request (all its upstream calls, with retries), accounted like a chat
    call: exactly one ``CallOutcome`` however it ends, priced per picture by size and
    quality (``ResolvedModel.image_cost``)."""

    def account(result: ImageResult) -> tuple[Usage, Decimal | None, bool]:
        return result.usage, model.image_cost(result), False

    return await _metered_one(model, lambda: model.generate_images(request), "images",
                              account, on_done)


class _Answered(Protocol):
    """What a one-shot (non-chat) result shares: embeddings' and images' alike."""

    usage: Usage
    model: str | None
    warnings: list[CallWarning]


_R = TypeVar("_R", bound=_Answered)


async def _metered_one(model: ResolvedModel, call: Callable[[], Awaitable[_R]], kind: str,
                       account: Callable[[_R], tuple[Usage, Decimal | None, bool]],
                       on_done: Callable[[CallOutcome], None]) -> _R:
    """The one exit of a call that answers all at once (embeddings, images): exactly one
    ``CallOutcome`` however it ends. ``account`` turns a result into its usage, cost and
    whether the usage is an estimate. The outcome carries an empty answer (a
    ``ChatResult`` with no parts, finished ``kind``) so usage rows, budgets and rate
    limits read it as they read a chat call's."""
    started = time.perf_counter()
    result: _R | None = None
    error: SwitchboardError | None = None
    reason: str | None = None
    try:
        result = await call()
        return result
    except SwitchboardError as exc:
        error = scrub_key(model, exc)
        raise
    except BaseException as exc:  # cancellation, shutdown, a bug: still account for it
        reason = f"interrupted ({type(exc).__name__})"
        raise
    finally:
        usage, cost, estimated = (account(result) if result is not None
                                  else _failed_usage(model, error))
        ok = result is not None
        answer = ChatResult(
            text="", parts=[], tool_calls=[],
            finish_reason=FinishReason("stop", kind) if ok else None,
            usage=usage, warnings=list(result.warnings) if result is not None else [],
            metadata=ResponseMetadata(model=result.model if result is not None else None),
            error=error)
        latency = int((time.perf_counter() - started) * 1000)
        on_done(CallOutcome(
            provider=model.provider_name, kind=model.kind, model=model.model_id,
            result=answer, status="ok" if ok else "error", started_at=started,
            latency_ms=latency, ttft_ms=latency if ok else None, cost=cost,
            error=error, reason=reason, estimated=estimated))


def _failed_usage(model: ResolvedModel, error: SwitchboardError | None
                  ) -> tuple[Usage, Decimal | None, bool]:
    """A one-shot call that failed: nothing, unless the vendor answered and counted what
    it billed (an image call answered with words only, ``NoImageError``): then those
    tokens at the model's prices."""
    if isinstance(error, NoImageError) and error.usage is not None:
        return error.usage, model.cost(error.usage), False
    return Usage(), None, False


def total_usage(usages: Sequence[Usage]) -> Usage:
    """Several calls' token counts as one (``n`` choices, a tool loop's steps): each count
    summed over the calls that reported it, None where none did."""

    def total(values: list[int | None]) -> int | None:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    return Usage(input_tokens=total([u.input_tokens for u in usages]),
                 output_tokens=total([u.output_tokens for u in usages]),
                 cached_input_tokens=total([u.cached_input_tokens for u in usages]),
                 cache_write_tokens=total([u.cache_write_tokens for u in usages]),
                 reasoning_tokens=total([u.reasoning_tokens for u in usages]))
