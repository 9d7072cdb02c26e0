"""Measure and account one upstream call while its events flow to the caller.

``metered()`` wraps a model's event stream: it forwards every event unchanged, folds them
into a ``Collector`` on the way, times the first token and the whole call, and — however
the stream ends (finish, in-band error, an exception before the first event, or the
consumer going away mid-answer) — hands exactly one ``CallOutcome`` to ``on_done``. That
single exit is what makes "nothing is lost" hold: a disconnect still yields an outcome
with the partial answer and status ``partial``.

``on_done`` is synchronous on purpose: it runs in ``finally`` blocks, possibly during
cancellation, where awaiting is unsafe. Persisting is queued (see ``usage.UsageRecorder``)
or spawned as a tracked task by the caller.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from switchboard.registry import ResolvedModel
from switchboard.spec import (
    ChatResult,
    Collector,
    ErrorEvent,
    ReasoningDelta,
    StreamEvent,
    SwitchboardError,
    TextDelta,
    ToolCallStart,
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
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def error_code(self) -> str | None:
        return self.error.code if self.error is not None else None


def _outcome(model: ResolvedModel, collector: Collector, started: float,
             first: float | None, error: SwitchboardError | None,
             reason: str | None) -> CallOutcome:
    result = collector.result()
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
    )


async def metered(
    model: ResolvedModel,
    events: AsyncIterator[StreamEvent],
    on_done: Callable[[CallOutcome], None],
) -> AsyncIterator[StreamEvent]:
    """Forward ``events``; report one ``CallOutcome`` when the stream ends in any way."""
    collector = Collector()
    started = time.perf_counter()
    first: float | None = None
    error: SwitchboardError | None = None
    reason: str | None = None
    try:
        async for event in events:
            if first is None and isinstance(event, TextDelta | ToolCallStart | ReasoningDelta):
                first = time.perf_counter()
            collector.add(event)
            if isinstance(event, ErrorEvent):
                error = event.error
            yield event
    except SwitchboardError as exc:
        error = exc
        raise
    except GeneratorExit:
        reason = "client disconnected"
        raise
    except BaseException as exc:  # cancellation, shutdown, a bug: still account for it
        reason = f"interrupted ({type(exc).__name__})"
        raise
    finally:
        on_done(_outcome(model, collector, started, first, error, reason))
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
