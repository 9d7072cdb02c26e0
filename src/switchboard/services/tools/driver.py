"""The tool loop itself, ONE for every surface: the web chat, ``switchboard chat --tools``
and ``/v1`` with ``server_tools`` (issue 14; decisions 0100, 0161).

A surface gives the loop two things and gets one stream of events back:

- ``open_step``: one model call through the pipeline (``Pipeline.open``: admission,
  routing, fallbacks, metering), whose ``on_done`` hands the call's outcome to
  ``ToolLoop.settle`` — synchronously, as metering does. ``settle`` says whether the
  call ended a step (tool calls to run: kept, the loop goes on) or the turn (the outcome
  returned, for the surface to save or render);
- ``LoopHooks``: what the surface does around a step. The web chat saves each step as a
  message and asks the owner about ``ask`` tools (``services.chat.Turn``); the CLI asks on
  its terminal; ``/v1`` saves nothing and declines ``ask`` tools (nobody is there to ask).

What is decided here, once: the emulated mode's lowering, lifting and one repair retry
(``tools.emulated``); the step cap (the last step is asked for text, ``tool_choice:
none``); the cost cap (``TurnTools.max_cost``); the next step's request grown by the
step's calls and results — with the results' images shown to a model that sees, as a
user message after the results (no vendor takes images in a Chat-Completions tool
message); and the turn's total (every step's tokens and cost plus the tools' own).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from switchboard.services.metering import CallOutcome, total_usage
from switchboard.services.pipeline import OpenCall, Pipeline, Prepare
from switchboard.services.policy import CallSpec
from switchboard.services.tools import emulated
from switchboard.services.tools.contract import LoopLimit, ToolContext
from switchboard.services.tools.loop import (
    ApprovalGiven,
    ApprovalNeeded,
    LoopEvent,
    StepRun,
    TurnTools,
    run_calls,
)
from switchboard.spec import (
    TOOL_PICTURES,
    ChatRequest,
    FinishReason,
    ImagePart,
    Message,
    StreamEvent,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallPart,
    ToolCallStart,
)

EMULATED_RAW = (TextDelta, ToolCallStart, ToolCallDelta, ToolCall)
"""A model's own text and call events, which emulated mode reads instead of showing."""

Opener = Callable[[], AsyncIterator[StreamEvent]]


def pictures_message(images: list[ImagePart]) -> Message:
    """A step's tool images as the model is shown them (after the tool message)."""
    return Message(role="user", parts=[TextPart(text=TOOL_PICTURES), *images])


class LoopHooks:
    """What a surface does around the loop's steps. These defaults save nothing and
    decline ``ask`` tools: what a caller with nobody to ask (``/v1``) needs."""

    async def calls_made(self, loop: ToolLoop, ended: CallOutcome) -> LoopEvent | None:
        """A step ended in tool calls (before they run): the web chat saves the message."""
        return None

    async def approvals(self, loop: ToolLoop, calls: list[ToolCallPart]
                        ) -> AsyncGenerator[ApprovalNeeded | ApprovalGiven, None]:
        """The user's decision on each call of an ``ask`` tool (declined: not run)."""
        for call in calls:
            if loop.tools.asks(call.name):
                yield ApprovalGiven(call.id, False)

    async def results_ready(self, loop: ToolLoop, run: StepRun) -> LoopEvent | None:
        """The step's calls have all finished: the web chat saves the results message."""
        return None

    def interrupted(self, loop: ToolLoop, run: StepRun) -> None:
        """Stopped (or shut down) while the step's tools ran."""

    async def shown_images(self, loop: ToolLoop, images: list[ImagePart]) -> list[Message]:
        """How the model is shown the step's tool images: as they are to a model that
        sees (``loop.vision``), else not at all (the chat describes them instead)."""
        return [pictures_message(images)] if loop.vision else []


@dataclass(eq=False)
class ToolLoop:
    """One turn's loop: its state between steps and ``run``, the loop."""

    tools: TurnTools
    request: ChatRequest
    """The turn's request, grown by each step's calls and results."""
    context: ToolContext
    hooks: LoopHooks = field(default_factory=LoopHooks)
    vision: bool = True
    """The model may be shown images (False: a text-only model)."""
    step: int = 0
    """Model calls made so far (a repair retry counts)."""
    steps: list[CallOutcome] = field(default_factory=list)
    """The outcomes of the calls that did not end the turn (steps, malformed replies)."""
    tool_cost: Decimal = Decimal(0)
    limited: str | None = None
    """Why the loop ended before the model answered (its cost cap), said for people."""
    answer: str | None = None
    """Emulated mode: the answer read from the final reply (sent as the answer's text)."""
    _ended: CallOutcome | None = field(default=None, repr=False)
    _repair: list[Message] = field(default_factory=list, repr=False)
    _repairing: bool = False

    def call_request(self) -> ChatRequest:
        """What the next model call is sent (lowered for a model without tools)."""
        if self.tools.emulated:
            return emulated.lower(self.request, self._repair)
        return self.request

    def settle(self, outcome: CallOutcome, *, stopped: bool = False) -> CallOutcome | None:
        """A model call's outcome (from the pipeline's ``on_done``, synchronously): None
        when the loop goes on with it (tool calls to run, or a malformed emulated reply
        to repair); else the outcome that ends the turn, for the surface to keep."""
        if self.tools.emulated and outcome.status == "ok":
            outcome = self._lifted(outcome)
            if self._repairing:
                self._ended = outcome
                return None
        if (outcome.status == "ok" and outcome.result.tool_calls and not stopped
                and self.step < self.tools.max_steps):
            self._ended = outcome
            return None
        return outcome

    def _lifted(self, outcome: CallOutcome) -> CallOutcome:
        """Emulated mode: the reply read as tool calls or the answer (decision 0103). A
        malformed reply is asked for once more; malformed again, it is the answer."""
        reply = outcome.result.text
        lifted = emulated.lift(reply, self.step)
        if lifted.error is not None and not self._repair:
            self._repair = emulated.repair(reply, lifted.error)
            self._repairing = True
            return outcome
        self._repair = []
        if lifted.error is not None:
            self.answer = reply
            return outcome
        calls = lifted.calls
        text = "".join(p.text for p in lifted.parts if isinstance(p, TextPart))
        if not calls:
            self.answer = text
        finish = (FinishReason("tool_calls", "emulated") if calls
                  else outcome.result.finish_reason)
        return replace(outcome, result=replace(outcome.result, parts=lifted.parts, text=text,
                                               tool_calls=calls, finish_reason=finish))

    async def run(self, open_step: Opener) -> AsyncGenerator[StreamEvent | LoopEvent, None]:
        """The loop: a model step, its tool calls run concurrently, the next step with
        their results, until the model answers in text (its outcome went back through
        ``settle``), the step cap (the last step is asked for text) or the cost cap
        (``limited`` says so)."""
        tools = self.tools
        while True:
            self.step += 1
            async for event in open_step():
                if not (tools.emulated and isinstance(event, EMULATED_RAW)):
                    yield event  # emulated: the JSON reply is read, not shown
            ended, self._ended = self._ended, None
            if tools.emulated and self.answer is not None:
                yield TextDelta(self.answer)
            if ended is None:
                return  # the model answered (or failed): the surface has the outcome
            if self._repairing:  # a malformed emulated reply: asked once more
                self._repairing = False
                self.steps.append(ended)
                continue
            if tools.emulated:
                for call in ended.result.tool_calls:
                    yield ToolCall(call.id, call.name, call.arguments)
            async for loop_event in self._run_step(ended):
                yield loop_event
            spent = self.spent()
            if tools.max_cost is not None and spent is not None and spent >= tools.max_cost:
                self.limited = (f"this answer stopped using tools after {self.step} steps: "
                                f"they cost ${spent}, and what is left of your budget was "
                                f"${tools.max_cost}; the steps so far are kept")
                return
            if self.step + 1 >= tools.max_steps:  # the last step: text only
                self.request = self.request.model_copy(update={"tool_choice": "none"})

    async def _run_step(self, ended: CallOutcome) -> AsyncGenerator[LoopEvent, None]:
        """Run one step's calls (after the approvals) and grow the request by the
        step's calls and results."""
        self.steps.append(ended)
        parts = ended.result.parts
        calls = [p for p in parts if isinstance(p, ToolCallPart)]
        made = await self.hooks.calls_made(self, ended)
        if made is not None:
            yield made
        declined: set[str] = set()
        async for asked in self.hooks.approvals(self, calls):
            if isinstance(asked, ApprovalGiven) and not asked.approved:
                declined.add(asked.id)
            yield asked
        run = StepRun(calls)
        try:
            async for event in run_calls(run, self.tools, self.context, frozenset(declined)):
                yield event
        except BaseException:
            self.hooks.interrupted(self, run)
            raise
        self.tool_cost += run.cost
        ready = await self.hooks.results_ready(self, run)
        if ready is not None:
            yield ready
        images = run.images()
        shown = await self.hooks.shown_images(self, images) if images else []
        self.request = self.request.model_copy(update={"messages": [
            *self.request.messages, Message(role="assistant", parts=parts),
            Message(role="tool", parts=[r.part() for r in run.ordered()]), *shown]})

    def spent(self) -> Decimal | None:
        """What the turn's steps and tools have cost so far (None: a price unknown)."""
        total = self.tool_cost
        for outcome in self.steps:
            if outcome.cost is None:
                return None
            total += outcome.cost
        return total

    def total(self, outcome: CallOutcome) -> CallOutcome:
        """The final outcome with the tokens and cost of the earlier steps and of the
        tools added: what the answer shows as its cost (decision 0101). The usage rows
        stay one per upstream attempt."""
        if not self.steps and not self.tool_cost:
            return outcome
        reached = bool(outcome.result.parts) or outcome.result.usage.input_tokens is not None
        counted = [*self.steps, *([outcome] if reached else [])]
        usage = total_usage([o.result.usage for o in counted])
        cost: Decimal | None = self.tool_cost
        for each in counted:
            cost = None if cost is None or each.cost is None else cost + each.cost
        return replace(outcome, result=replace(outcome.result, usage=usage), cost=cost,
                       estimated=any(o.estimated for o in counted))


class PipelineSteps:
    """Each step of ``loop`` as one ``Pipeline.open`` of ``spec`` (its request the
    loop's), for the surfaces that save nothing (the CLI, ``/v1``): the turn's final
    outcome, its total, lands in ``final``; ``calls`` are the steps' calls (the model
    that answered, the grants' headers, the warnings)."""

    def __init__(self, pipeline: Pipeline, spec: CallSpec, loop: ToolLoop, *,
                 prepare: Prepare | None = None) -> None:
        self.pipeline, self.spec, self.loop, self.prepare = pipeline, spec, loop, prepare
        self.final: CallOutcome | None = None
        self.calls: list[OpenCall] = []

    def _settled(self, outcome: CallOutcome | None) -> None:
        if outcome is None:  # no model was reached: the error is raised to the surface
            return
        ended = self.loop.settle(outcome)
        if ended is not None:
            self.final = self.loop.total(ended)

    async def open_step(self) -> AsyncGenerator[StreamEvent, None]:
        """One step's events (the ``Opener`` of ``ToolLoop.run``)."""
        call = await self.pipeline.open(replace(self.spec, request=self.loop.call_request()),
                                        prepare=self.prepare, on_done=self._settled)
        self.calls.append(call)
        try:
            yield call.first
            async for event in call.events:
                yield event
        finally:
            await call.aclose()

    def events(self) -> AsyncGenerator[StreamEvent | LoopEvent, None]:
        return self.loop.run(self.open_step)

    @property
    def headers(self) -> dict[str, Any]:
        """The first step's headers (the model that answered it, the grants')."""
        return dict(self.calls[0].headers) if self.calls else {}


__all__ = ["EMULATED_RAW", "LoopLimit", "PipelineSteps", "LoopHooks", "Opener",
           "ToolLoop", "pictures_message"]
