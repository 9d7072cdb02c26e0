"""``python -m bench.tool_loop [--turns 200] [--database-url URL]``: what the server-side
tool loop itself costs per step, the model's time left out.

In process (no HTTP server), on a fresh migrated database (SQLite in a temporary
directory, or PostgreSQL with ``--database-url``), with the offline model unpaced, it runs
web-chat turns through ``services.chat`` exactly as the chat route does (``start_turn``,
``Turn.events()`` read to the end, the final save awaited):

- ``plain``: one question, no tools (one model call);
- ``loop``: "What time is it? Then compute 12 * (3 + 4)." with ``datetime`` and
  ``calculator`` (trivial tools answering at once): three model calls, two tool steps.

The pipeline is wrapped to time everything inside ``Pipeline.open`` and the model's
events (admission, routing, metering and the model: the *model's time*). What is left of a
turn is the turn's own work. The loop's overhead per step is::

    ((loop turn - its model time) - (plain turn - its model time)) / 2 tool steps

i.e. per step: saving the assistant's tool-call message, running the calls (dispatch,
timeout, result cap), saving the tool-result message, rebuilding the next request, and
the events. Two of those are write transactions, so the report also gives the time of
one empty write transaction on the same database (the yardstick: on a loaded machine
the round trips to the database are most of a step). Reported as p50 over ``--turns``
turns of each kind, after a warm-up.

The same turns also run as ``switchboard chat --tools`` and ``/v1``'s ``server_tools``
run them, the loop saving nothing (``tools.driver.ToolLoop`` over ``PipelineSteps``):
``stateless_overhead_ms_per_step`` is the loop's own work alone — lifting the step's
calls, running them, growing the next request, the events — with no database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, cast

from sqlalchemy import text

from switchboard.config import load_settings
from switchboard.db import Database, migrate
from switchboard.services.accounts import create_user
from switchboard.services.chat import ChatDeps, start_turn
from switchboard.services.chat_input import ChatInput
from switchboard.services.pipeline import OpenCall, Pipeline, usage_recorder
from switchboard.services.policy import CallSpec
from switchboard.services.principal import Principal
from switchboard.services.providers import update_provider
from switchboard.services.registry_source import open_database_registry
from switchboard.services.router import process_router
from switchboard.services.seed import seed_catalog
from switchboard.services.tools.contract import RunnableTool, ToolContext, ToolOutput, ToolSpec
from switchboard.services.tools.driver import PipelineSteps, ToolLoop
from switchboard.services.tools.loop import TurnTools
from switchboard.services.usage import UsageRecorder
from switchboard.spec import ChatRequest, Message, StreamEvent

PROMPT = "What time is it? Then compute 12 * (3 + 4)."


class _Fixed:
    def __init__(self, name: str, prop: str, text: str) -> None:
        self.spec = ToolSpec(name, f"The {name} tool.", {
            "type": "object", "properties": {prop: {"type": "string"}}}, "builtin")
        self.text = text

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        return ToolOutput(text=self.text)


class _Box:
    def __init__(self) -> None:
        self.tools: list[RunnableTool] = [_Fixed("datetime", "timezone", "2026-12-04 21:00"),
                                          _Fixed("calculator", "expression", "84")]

    async def for_turn(self, names: Any, principal: Principal) -> list[RunnableTool]:
        return [t for t in self.tools if t.spec.name in names]


class _Timed:
    """The pipeline, with the time spent in ``open`` and in the model's events summed."""

    def __init__(self, inner: Pipeline) -> None:
        self.inner = inner
        self.model_s = 0.0

    async def open(self, spec: Any, **kw: Any) -> OpenCall:
        started = time.perf_counter()
        call = await self.inner.open(spec, **kw)
        self.model_s += time.perf_counter() - started
        call.events = self._timed(call.events)
        return call

    async def _timed(self, events: AsyncIterator[StreamEvent]
                     ) -> AsyncGenerator[StreamEvent, None]:
        it = aiter(events)
        try:
            while True:
                started = time.perf_counter()
                try:
                    event = await anext(it)
                except StopAsyncIteration:
                    return
                finally:
                    self.model_s += time.perf_counter() - started
                yield event
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def _turn(deps: ChatDeps, timed: _Timed, user_id: int, body: ChatInput) -> tuple[float,
                                                                                        float]:
    registry = await timed.inner.registry_source()
    timed.model_s = 0.0
    started = time.perf_counter()
    turn = await start_turn(deps, registry, user_id, body)
    async for _ in turn.events():
        pass
    saved = await turn.saved()
    total = time.perf_counter() - started
    assert saved.status == "complete", saved
    return total, timed.model_s


async def _stateless(timed: _Timed, principal: Principal, tools: bool) -> tuple[float, float]:
    """One turn as the CLI and ``/v1`` run it: ``ToolLoop`` over ``PipelineSteps``
    (tools) or one ``Pipeline.open`` read to the end (no tools)."""
    box = _Box()
    request = ChatRequest(messages=[Message.user(PROMPT)])
    timed.model_s = 0.0
    started = time.perf_counter()
    if tools:
        turn_tools = TurnTools.of(box.tools)
        loop = ToolLoop(turn_tools, request.model_copy(update={"tools": turn_tools.specs()}),
                        ToolContext(principal))
        steps = PipelineSteps(cast(Pipeline, timed), CallSpec(principal, "api", request,
                                                              "offline:offline-chat"), loop)
        async for _ in steps.events():
            pass
        assert steps.final is not None and loop.step == 3, loop.step
    else:
        call = await timed.open(CallSpec(principal, "api", request, "offline:offline-chat"))
        async for _ in call.events:
            pass
    return time.perf_counter() - started, timed.model_s


async def run(turns: int, database_url: str | None) -> dict[str, float]:
    tmp = tempfile.TemporaryDirectory(prefix="sb-bench-tools-")
    os.environ["SWITCHBOARD_DATA_DIR"] = tmp.name
    os.environ["SWITCHBOARD_RATE_LIMITS"] = "off"
    if database_url:
        os.environ["SWITCHBOARD_DATABASE_URL"] = database_url
    settings = load_settings()
    await migrate.ensure_schema(settings.database_url)
    db = Database.from_url(settings.database_url)
    await seed_catalog(db)
    await update_provider(db, "offline", settings={"chunk_delay_ms": 0})
    registry = await open_database_registry(db)

    async def source() -> Any:
        return registry

    usage = UsageRecorder(db)
    pipeline = Pipeline(source, [], process_router(settings), usage_recorder(usage))
    timed = _Timed(pipeline)
    tasks: set[asyncio.Task[Any]] = set()

    def spawn(coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    deps = ChatDeps(db=db, usage=usage, spawn=spawn, pipeline=cast(Pipeline, timed),
                    auto_titles=False, toolbox=_Box())
    user = await create_user(db, "bench", "bench-password-123")
    plain = ChatInput(text=PROMPT)
    loop = ChatInput(text=PROMPT, tools=["datetime", "calculator"])
    for _ in range(20):  # warm-up
        await _turn(deps, timed, user.id, plain)
        await _turn(deps, timed, user.id, loop)
    own_plain, own_loop, model_loop = [], [], []
    for _ in range(turns):
        total, model = await _turn(deps, timed, user.id, plain)
        own_plain.append(total - model)
        total, model = await _turn(deps, timed, user.id, loop)
        own_loop.append(total - model)
        model_loop.append(model)
    principal = Principal(user.id, "bench", "user")
    for _ in range(20):  # warm-up
        await _stateless(timed, principal, False)
        await _stateless(timed, principal, True)
    free_plain, free_loop = [], []
    for _ in range(turns):
        total, model = await _stateless(timed, principal, False)
        free_plain.append(total - model)
        total, model = await _stateless(timed, principal, True)
        free_loop.append(total - model)
    writes = []
    for _ in range(turns):  # the yardstick: one empty write transaction on this machine
        started = time.perf_counter()
        async with db.unit_of_work() as session:
            await session.execute(text("UPDATE users SET id = id WHERE id = 0"))
        writes.append(time.perf_counter() - started)
    await usage.flush()
    await db.dispose()
    tmp.cleanup()
    p50_plain, p50_loop = statistics.median(own_plain), statistics.median(own_loop)
    return {"turn_own_ms_plain": p50_plain * 1000, "turn_own_ms_loop": p50_loop * 1000,
            "model_ms_loop": statistics.median(model_loop) * 1000,
            "loop_overhead_ms_per_step": (p50_loop - p50_plain) / 2 * 1000,
            "stateless_overhead_ms_per_step": (statistics.median(free_loop)
                                               - statistics.median(free_plain)) / 2 * 1000,
            "empty_write_txn_ms": statistics.median(writes) * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tool_loop", description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL URL (default: SQLite in a temporary directory)")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.turns, args.database_url))
    for key, value in result.items():
        print(f"{key:28} {value:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

