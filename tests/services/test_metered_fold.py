"""``metered_fold`` (the non-streaming pipeline's one-pass metering over the answer's
list) against ``metered`` over the same answer replayed as ``generate_events`` replays
it, driven as the pipeline drove it before (first event with ``anext``, then the rest):
the same outcome however the answer ends — an answer, an in-band error, an error
raised by the call, a bug, a cancellation, nothing at all — and the same first event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import fields
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from switchboard.db.models import UsageEvent
from switchboard.services.metering import CallOutcome, metered, metered_fold
from switchboard.services.usage import UsageRecord
from switchboard.spec import (
    ChatRequest,
    Collector,
    ErrorEvent,
    Finish,
    FinishReason,
    Message,
    ReasoningDelta,
    ResponseMetadata,
    ServerError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCall,
    Usage,
)

KEY = "sk-fold-secret-0123456789"
REQUEST = ChatRequest(messages=[Message.user("what is 2 + 2?")])


def model() -> Any:
    return SimpleNamespace(
        provider_name="acme", kind="openai", model_id="m1", ref="acme:m1",
        provider=SimpleNamespace(api_key=KEY),
        cost=lambda usage: (None if usage.input_tokens is None
                            else Decimal(usage.input_tokens + (usage.output_tokens or 0))
                            / 1000))


def answer() -> list[StreamEvent]:
    return [StreamStart([]), ResponseMetadata(response_id="r1", model="m1"),
            ReasoningDelta("thinking", id="0"), TextDelta("four"),
            ToolCall("c1", "calc", '{"x": 2}'),
            Finish(FinishReason("stop"), Usage(input_tokens=9, output_tokens=3))]


def no_usage() -> list[StreamEvent]:
    return [StreamStart([]), TextDelta("four, said without counting")]


def in_band() -> list[StreamEvent]:
    return [StreamStart([]), TextDelta("fo"),
            ErrorEvent(ServerError(f"broke with {KEY}", provider="acme"),
                       Usage(input_tokens=9))]


Script = Callable[[], Awaitable[list[StreamEvent]]]
"""A vendor call's whole answer (``ResolvedModel.answer_events``): its list, or raised."""


def source(events: list[StreamEvent],
           error: Callable[[], BaseException] | None = None) -> Script:
    async def answer() -> list[StreamEvent]:
        await asyncio.sleep(0)
        if error is not None:
            raise error()
        return list(events)
    return answer


async def replayed(script: Script) -> AsyncIterator[StreamEvent]:
    """The same answer as ``generate_events`` replays it (``resolved._replay``)."""
    for event in await script():
        yield event


def comparable(outcome: CallOutcome) -> dict[str, Any]:
    got = {f.name: getattr(outcome, f.name) for f in fields(outcome)
           if f.name not in ("started_at", "latency_ms", "ttft_ms", "error", "result")}
    got["ttft"] = outcome.ttft_ms is not None
    got["error"] = (None if outcome.error is None
                    else (type(outcome.error), outcome.error.message))
    result = outcome.result
    got["result"] = ({f.name: getattr(result, f.name) for f in fields(result)
                      if f.name != "error"},
                     None if result.error is None else result.error.message)
    return got


async def run_metered(script: Script) -> tuple[Any, list[CallOutcome], Any]:
    """As ``_Call.attempt`` + the old ``_fold``: the first event, then the rest."""
    outcomes: list[CallOutcome] = []
    events = metered(model(), replayed(script), outcomes.append, request=REQUEST,
                     collector=Collector())
    first: Any = None
    try:
        first = await anext(events)
        async for _ in events:
            pass
    except StopAsyncIteration:
        first = None
    except BaseException as exc:
        return first, outcomes, (type(exc), str(exc))
    return first, outcomes, None


async def run_fold(script: Script) -> tuple[Any, list[CallOutcome], Any]:
    outcomes: list[CallOutcome] = []
    try:
        first = await metered_fold(model(), script(), outcomes.append, request=REQUEST,
                                   collector=Collector())
    except BaseException as exc:
        return None, outcomes, (type(exc), str(exc))
    return first, outcomes, None


CASES = {
    "answer": source(answer()),
    "no usage reported": source(no_usage()),
    "in-band error": source(in_band()),
    "raised": source(answer(), lambda: ServerError(f"down {KEY}", provider="acme")),
    "a bug": source(answer(), lambda: ValueError("bug")),
    "cancelled": source(answer(), asyncio.CancelledError),
    "nothing": source([]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_fold_meters_exactly_as_the_generator(case: str) -> None:
    script = CASES[case]

    async def both() -> tuple[Any, Any]:
        return await run_metered(script), await run_fold(script)

    (first_a, outcomes_a, raised_a), (first_b, outcomes_b, raised_b) = asyncio.run(both())
    assert len(outcomes_a) == len(outcomes_b) == 1  # exactly one outcome, always
    assert comparable(outcomes_a[0]) == comparable(outcomes_b[0])
    if raised_a is None:
        assert first_a == first_b
    else:  # raised before the first event, or after it: the fold raises the same
        assert raised_b == raised_a
    assert KEY not in repr(outcomes_b[0].error)


@pytest.mark.parametrize("case", list(CASES))
def test_the_usage_row_is_the_usage_records_row(case: str) -> None:
    """The pipeline's recorder builds the row straight from the outcome
    (``usage_row``) with the one builder a ``UsageRecord`` uses too: the same dict, key
    for key and in order, and one column of ``usage_events`` for each key but the id."""
    _, outcomes, _ = asyncio.run(run_fold(CASES[case]))
    outcome = outcomes[0]
    usage = outcome.result.usage
    columns = [c.name for c in UsageEvent.__table__.columns if c.name != "id"]
    for user_id, token_id in ((None, None), (7, None), (7, 3)):
        row = outcome.usage_row("api", user_id, token_id)
        record = UsageRecord(
            provider=outcome.provider, model=outcome.model, source="api",
            status=outcome.status, input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens, cached_tokens=usage.cached_input_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            reasoning_tokens=usage.reasoning_tokens, cost=outcome.cost,
            latency_ms=outcome.latency_ms, ttft_ms=outcome.ttft_ms,
            error_code=outcome.error_code, user_id=user_id, api_token_id=token_id,
            created_at=row["created_at"], estimated=outcome.estimated)
        assert list(row.items()) == list(record.row().items())
        assert sorted(row) == sorted(columns)
