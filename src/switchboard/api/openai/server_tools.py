"""``/v1/chat/completions`` with ``server_tools``: the gateway runs the tools (decision 0162).

``/v1`` is client-executed: a model's tool calls go back to the caller, who runs its own
tools. A request opts in to Switchboard's tools with the extension field
``"server_tools": ["calculator", "datetime", "server.tool"]`` (top level, as ``models``
and ``provider_options``; the ``openai`` SDK sends it through ``extra_body``). Then the
server runs the tool loop — the web chat's and the CLI's (``services.tools.driver``) —
and answers with the model's final text only:

- non-streaming: one ``chat.completion`` whose ``usage`` is the sum over every step
  (``ToolLoop.total``; the usage rows stay one per upstream attempt, source ``api``);
- streaming: the text (and reasoning) of every step as it comes, the intermediate tool
  calls and finish chunks left out, then ONE finish chunk with the final reason and,
  with ``stream_options.include_usage``, the summed usage.

Bounded like the chat's loop: at most ``MAX_STEPS`` model calls (the last asked for
text), ``MAX_CALLS_PER_STEP`` calls a step, each tool's own timeout and result cap, the
cost cap of the caller's tightest hard budget. A name the toolbox does not give the
caller (unknown, disabled, denied) is a 400 naming it (``param: server_tools``), before
any model call; so is combining ``server_tools`` with the caller's own ``tools`` (the
loop cannot run a client's tool) or with ``n`` > 1. An ``ask`` tool is declined: nobody
is there to approve it (its result says so, and the model reads it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import replace

import orjson

from switchboard.api.openai.errors import error_body, openai_error
from switchboard.api.openai.render import ChunkEncoder
from switchboard.api.openai.tool_opt_in import PARAM, requested
from switchboard.api.shutdown import CODE as SHUTDOWN_CODE
from switchboard.api.shutdown import SHUTTING_DOWN, StreamShutdown
from switchboard.api.state import AppState
from switchboard.services.errors import ValidationFailed
from switchboard.services.flags import FeatureDisabled
from switchboard.services.pipeline import Prepare
from switchboard.services.policy import CallSpec
from switchboard.services.principal import Principal
from switchboard.services.tools.contract import ToolContext
from switchboard.services.tools.driver import LoopLimit, PipelineSteps, ToolLoop
from switchboard.services.tools.loop import LOOP_EVENTS, LoopEvent, TurnTools, default_cost_cap
from switchboard.spec import (
    ChatRequest,
    ChatResult,
    ErrorEvent,
    Finish,
    FinishReason,
    InvalidRequestError,
    StreamEvent,
    StreamStart,
    SwitchboardError,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
)

Events = AsyncGenerator[StreamEvent | LoopEvent, None]
_SKIPPED = (*LOOP_EVENTS, ToolCallStart, ToolCallDelta, ToolCall, StreamStart)
"""Not sent: the loop's own events, the model's tool calls (the server runs them), and
the start of each later step (the first step's start opens the response)."""


async def open_loop(state: AppState, principal: Principal, spec: CallSpec,
                    names: list[str], prepare: Prepare) -> PipelineSteps:
    """The loop of this request, its tools resolved (a 400 naming a bad one) before any
    model is called."""
    if not state.feature_on("tool_loop", principal):  # an admin's switch (decision 0124)
        raise FeatureDisabled("tool_loop")
    try:
        found = await state.toolbox.for_turn(names, principal)
    except ValidationFailed as exc:
        raise InvalidRequestError(f"server_tools: {exc.message}", param=PARAM) from None
    registry = await state.registry()
    model = None
    try:
        model = registry.resolve(spec.model or registry.default_model_ref or "")
    except SwitchboardError:
        pass  # Auto, or a model the pipeline will report as it does without tools
    tools = TurnTools.of(
        found, emulated=model is not None and model.capabilities.tools is False,
        max_cost=await default_cost_cap(state.db, principal,
                                        timezone=state.settings.budget_timezone))
    assert isinstance(spec.request, ChatRequest)
    request = spec.request.model_copy(update={"tools": tools.specs()})
    loop = ToolLoop(tools, request, ToolContext(principal),
                    vision=model is None or model.capabilities.vision is not False)
    return PipelineSteps(state.pipeline, replace(spec, request=request), loop,
                         prepare=prepare)


async def complete(steps: PipelineSteps) -> ChatResult:
    """Run the loop to its end; the final answer with the turn's summed usage. Raises
    what ended it without an answer (a step refused, a vendor failing, the cost cap)."""
    async with aclosing(steps.events()) as events:
        async for _ in events:
            pass
    if steps.loop.limited is not None:
        raise LoopLimit(steps.loop.limited)
    final = steps.final
    assert final is not None  # the loop returns only once the answer's outcome is in
    if final.status != "ok" and final.error is not None and not final.result.text:
        raise final.error
    return final.result


async def first_event(steps: PipelineSteps) -> tuple[StreamEvent, Events]:
    """The loop's events with the first one in hand: an error before it keeps its HTTP
    status, as for a call without tools."""
    events = steps.events()
    try:
        first = await anext(events)
    except BaseException:
        await events.aclose()
        raise
    assert not isinstance(first, LOOP_EVENTS)  # a step's first event comes first
    return first, events


def _error_chunk(exc: SwitchboardError) -> bytes:
    return b"data: " + orjson.dumps(error_body(exc)) + b"\n\n"


async def sse(steps: PipelineSteps, first: StreamEvent,
              events: Events, encoder: ChunkEncoder,
              shutdown: StreamShutdown) -> AsyncIterator[bytes]:
    """The answer's SSE body: every step's text as it comes, no tool calls, and one
    finish chunk (the summed usage) once the loop has ended."""
    held: Finish | None = None
    stopping = False
    ended_in_error = False
    with shutdown.streaming():
        try:
            async with aclosing(events):
                yield encoder.encode(first)
                async for event in events:
                    if isinstance(event, _SKIPPED):
                        continue
                    if isinstance(event, Finish):
                        held = event  # a step's end: only the turn's end is sent
                        continue
                    if isinstance(event, ErrorEvent):
                        ended_in_error = True
                    data = encoder.encode(event)
                    if data:
                        yield data
        except SwitchboardError as exc:  # a later step refused (a budget) or failed
            yield _error_chunk(exc)
            return
        except asyncio.CancelledError:
            if not shutdown.absorb():
                raise
            stopping = True
    if stopping:
        yield b"data: " + orjson.dumps(openai_error(
            f"{SHUTTING_DOWN.capitalize()}: the answer was cut short. "
            "Retry the request in a moment.", kind="server_error",
            code=SHUTDOWN_CODE)) + b"\n\n"
        return
    if ended_in_error:
        return
    if steps.loop.limited is not None:
        yield _error_chunk(LoopLimit(steps.loop.limited))
        return
    final = steps.final
    reason = (final.result.finish_reason if final is not None else None) or (
        held.finish_reason if held is not None else FinishReason("stop", "stop"))
    usage = final.result.usage if final is not None else (
        held.usage if held is not None else None)
    yield encoder.encode(Finish(reason, usage) if usage is not None else Finish(reason))


__all__ = ["PARAM", "complete", "first_event", "open_loop", "requested", "sse"]
