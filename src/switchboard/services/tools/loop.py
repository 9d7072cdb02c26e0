"""The server-side tool loop's own work: which tools a turn has, and running the calls a
model made (issue 14, decisions 0100-0102).

The loop is a *policy of the one pipeline*, not another orchestrator: every model step is
one ``Pipeline.open`` (admission, routing, fallbacks, metering, one usage row per attempt),
driven by the chat ``Turn`` (``services.chat``). What is here is what happens *between*
two steps:

- ``TurnTools``: the tools of one turn, by the name the model sees (``wire_name``), their
  specs as the request's ``tools``, the step cap and the cost cap;
- ``run_calls``: the model's calls of one step, run CONCURRENTLY, each bounded by its own
  ``timeout_s`` and ``max_result_chars``; a tool that raises, times out, is unknown or gets
  arguments that are not a JSON object becomes an *error result* the model reads (one
  failing tool never breaks a turn). It yields ``ToolRunning`` / ``ToolResult`` events as
  things happen, so the answer job can show them to every follower.

Where the tools come from is the toolbox's business (``tools.toolbox.Toolbox``,
``AppState.toolbox``): the loop needs only ``for_turn(names, principal)`` (the
``TurnToolSource`` protocol below; tests and the bench give their own).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import orjson

from switchboard.db import Database
from switchboard.services.budgets import book, states
from switchboard.services.principal import Principal
from switchboard.services.tools.contract import RunnableTool, ToolContext, ToolOutput
from switchboard.spec import ImagePart, Tool, ToolCallPart, ToolResultPart

log = logging.getLogger("switchboard.tools.loop")

MAX_STEPS = 10
"""Model calls in one turn (decision 0100): the last one is asked to answer in text."""
MAX_CALLS_PER_STEP = 16
"""Calls of one step that are run; any beyond get an error result (every call must be
answered, or the next vendor call is refused)."""
APPROVAL_WAIT = 600.0
"""Seconds a turn waits for the user's approve / deny of an ``ask`` tool; then the call
is declined (a turn holds one of the user's answer slots while it waits)."""
DECLINED = "the user declined this tool call"
PREVIEW_CHARS = 2_000
"""Characters of a result sent in the ``tool_result`` event (the whole result is in the
saved tool message): keeps the answer job's event log small."""


class TurnToolSource(Protocol):
    """What gives a turn its tools (``tools.toolbox.Toolbox`` in a server process)."""

    async def for_turn(self, names: Sequence[str],
                       principal: Principal) -> Sequence[RunnableTool]:
        """The tools named, with their effective policy. A name that cannot be used
        (unknown, disabled, denied) is either refused (``ValidationFailed``, field
        ``tools``: the toolbox) or left out (the loop then names it)."""
        ...


@dataclass(frozen=True, slots=True)
class TurnTools:
    """The tools of one turn, by wire name, and the turn's limits."""

    by_wire: Mapping[str, RunnableTool]
    max_steps: int = MAX_STEPS
    max_cost: Decimal | None = None
    """None: no cost cap (no hard budget applies; the step cap still holds)."""
    emulated: bool = False
    """The model has no native tool calling: tools in the prompt (``tools.emulated``)."""

    @classmethod
    def of(cls, tools: Sequence[RunnableTool], *, max_steps: int = MAX_STEPS,
           max_cost: Decimal | None = None, emulated: bool = False) -> TurnTools:
        return cls({t.spec.wire_name: t for t in tools}, max_steps, max_cost, emulated)

    def specs(self) -> list[Tool]:
        """The request's ``tools``: what the model is told (wire names)."""
        return [Tool(name=wire, description=t.spec.description,
                     parameters=dict(t.spec.parameters)) for wire, t in self.by_wire.items()]

    def asks(self, wire: str) -> bool:
        """Does a call of this tool wait for the user's approval (policy ``ask``)?"""
        tool = self.by_wire.get(wire)
        return tool is not None and tool.spec.policy == "ask"

    def public_name(self, wire: str) -> str:
        tool = self.by_wire.get(wire)
        return tool.spec.name if tool is not None else wire


async def default_cost_cap(db: Database, principal: Principal, *, timezone: str,
                           now: float | None = None) -> Decimal | None:
    """A turn's cost cap when the caller sets none (decision 0100): what is left of the
    tightest HARD budget that applies to ``principal`` (everyone's, the user's, the API
    token's) at the start of the turn; None when no hard budget applies. Each step is
    still admitted by the budget policy; the cap only ends the loop cleanly, with the steps
    so far saved, before a step the budget could no longer pay for. No budget: no
    statement (the budget book is cached)."""
    hard = [d for d in (await book(db)).applicable(principal) if not d.soft]
    if not hard:
        return None
    found = await states(db, hard, now=time.time() if now is None else now,
                         timezone=timezone)
    return min(s.remaining for s in found)


# -- events the loop adds to the answer's stream ------------------------------------------------

@dataclass(frozen=True, slots=True)
class ToolStep:
    """A step was saved: the assistant's tool-call message (and, once run, the results)."""

    step: int
    message_id: int | None
    role: str
    images: tuple[dict[str, Any], ...] = ()
    """The results' pictures as saved: file references with ``meta.call`` (the call id),
    so the cards show them as the step ends (decision 0163)."""

    def sse(self) -> tuple[str, dict[str, Any]]:
        data: dict[str, Any] = {"step": self.step, "message_id": self.message_id,
                                "role": self.role}
        if self.images:
            data["images"] = list(self.images)
        return "step", data


@dataclass(frozen=True, slots=True)
class ApprovalNeeded:
    """A call to an ``ask`` tool waits for the user's approve / deny."""

    id: str
    name: str
    arguments: str

    def sse(self) -> tuple[str, dict[str, Any]]:
        return "approval_needed", {"id": self.id, "name": self.name,
                                   "arguments": self.arguments}


@dataclass(frozen=True, slots=True)
class ApprovalGiven:
    """The user's decision on a call (or none in time: declined)."""

    id: str
    approved: bool

    def sse(self) -> tuple[str, dict[str, Any]]:
        return "approval", {"id": self.id, "approved": self.approved}


@dataclass(frozen=True, slots=True)
class ToolRunning:
    id: str
    name: str
    arguments: str

    def sse(self) -> tuple[str, dict[str, Any]]:
        return "tool_running", {"id": self.id, "name": self.name, "arguments": self.arguments}


@dataclass(frozen=True, slots=True)
class ToolResult:
    """One call's result: what the model will read, and what the card shows."""

    call: ToolCallPart
    name: str
    """The tool's public name (``server.tool``); ``call.name`` is the wire name."""
    output: ToolOutput
    duration_ms: int

    def part(self) -> ToolResultPart:
        return ToolResultPart(tool_call_id=self.call.id, name=self.call.name,
                              content=self.output.text, is_error=self.output.is_error)

    def sse(self) -> tuple[str, dict[str, Any]]:
        text = self.output.text
        return "tool_result", {
            "id": self.call.id, "name": self.name, "is_error": self.output.is_error,
            "text": text[:PREVIEW_CHARS], "truncated": len(text) > PREVIEW_CHARS,
            "duration_ms": self.duration_ms, "images": len(self.output.images),
            "cost": str(self.output.cost) if self.output.cost else None,
            "model": self.output.model}


LoopEvent = ToolStep | ToolRunning | ToolResult | ApprovalNeeded | ApprovalGiven
LOOP_EVENTS = (ToolStep, ToolRunning, ToolResult, ApprovalNeeded, ApprovalGiven)
"""The loop's own events (each has ``sse()``), for ``isinstance``."""


# -- running one step's calls -----------------------------------------------------------------

def _error(text: str) -> ToolOutput:
    return ToolOutput(text=text, is_error=True)


def _arguments(raw: str) -> dict[str, Any] | str:
    """The model's arguments as an object, or a sentence saying why they are not one."""
    try:
        value = orjson.loads(raw or "{}")
    except orjson.JSONDecodeError:
        return "the arguments were not valid JSON; call the tool again with a JSON object"
    if not isinstance(value, dict):
        return "the arguments must be a JSON object"
    return value


def _cut(output: ToolOutput, limit: int) -> ToolOutput:
    """A result longer than ``limit`` characters, cut, with a note saying so (the model
    must know it did not see everything)."""
    if len(output.text) <= limit:
        return output
    note = f"\n[result cut at {limit} of {len(output.text)} characters]"
    return ToolOutput(text=output.text[:limit] + note, images=output.images,
                      structured=output.structured, is_error=output.is_error,
                      cost=output.cost, model=output.model, meta=output.meta)


async def run_one(tool: RunnableTool | None, call: ToolCallPart,
                  context: ToolContext) -> ToolOutput:
    """Run one call within its tool's limits; never raises but for cancellation."""
    if tool is None:
        return _error(f"there is no tool named {call.name!r} in this conversation")
    spec = tool.spec
    arguments = _arguments(call.arguments)
    if isinstance(arguments, str):
        return _error(arguments)
    try:
        output = await asyncio.wait_for(tool.run(arguments, context), spec.timeout_s)
    except TimeoutError:
        return _error(f"the tool {spec.name} did not answer within {spec.timeout_s:g} s")
    except Exception as exc:  # the contract says return, but one bad tool must not end a turn
        log.warning("tool %s raised %s", spec.name, type(exc).__name__, exc_info=True)
        return _error(f"the tool {spec.name} failed ({type(exc).__name__})")
    if not isinstance(output, ToolOutput):
        return _error(f"the tool {spec.name} returned nothing usable")
    return _cut(output, spec.max_result_chars)


@dataclass(eq=False)
class StepRun:
    """The calls of one step being run; ``results`` in the order the model made them."""

    calls: list[ToolCallPart]
    results: dict[str, ToolResult] = field(default_factory=dict)

    def ordered(self) -> list[ToolResult]:
        return [self.results[c.id] for c in self.calls if c.id in self.results]

    @property
    def cost(self) -> Decimal:
        return sum((r.output.cost for r in self.results.values()), Decimal(0))

    def interrupted(self) -> list[ToolResultPart]:
        """The results so far, and an error result for each call that had not finished
        when the answer was stopped."""
        return [self.results[c.id].part() if c.id in self.results else ToolResultPart(
                    tool_call_id=c.id, name=c.name, is_error=True,
                    content="the answer was stopped before this tool finished")
                for c in self.calls]

    def images(self) -> list[ImagePart]:
        return [i for r in self.ordered() for i in r.output.images]


async def run_calls(run: StepRun, tools: TurnTools, context: ToolContext,
                    declined: frozenset[str] = frozenset()) -> AsyncIterator[LoopEvent]:
    """Run ``run.calls`` concurrently; yield ``ToolRunning`` for each, then each
    ``ToolResult`` as it finishes (filling ``run.results``). Calls in ``declined`` (ids)
    are not run: their result says the user declined. Cancelled (the stop button), the
    calls still running are cancelled too."""
    async def timed(call: ToolCallPart, allowed: bool) -> ToolResult:
        started = time.perf_counter()
        if call.id in declined:
            output = _error(DECLINED)
        elif allowed:
            output = await run_one(tools.by_wire.get(call.name), call, context)
        else:
            output = _error(f"at most {MAX_CALLS_PER_STEP} tool calls are run per step; "
                            "call this one again in the next step")
        return ToolResult(call, tools.public_name(call.name), output,
                          int((time.perf_counter() - started) * 1000))

    for call in run.calls:
        yield ToolRunning(call.id, tools.public_name(call.name), call.arguments)
    tasks = [asyncio.ensure_future(timed(call, i < MAX_CALLS_PER_STEP))
             for i, call in enumerate(run.calls)]
    try:
        for next_done in asyncio.as_completed(tasks):
            result = await next_done
            run.results[result.call.id] = result
            yield result
    finally:
        for task in tasks:
            task.cancel()


__all__ = ["APPROVAL_WAIT", "DECLINED", "LOOP_EVENTS", "MAX_STEPS", "ApprovalGiven",
           "ApprovalNeeded", "LoopEvent", "StepRun", "ToolResult", "ToolRunning", "ToolStep",
           "TurnToolSource", "TurnTools", "default_cost_cap", "run_calls", "run_one"]
