"""``switchboard chat``: one question to any model, from the terminal.

stdout carries only the answer (so it can be piped); everything else — reasoning (dimmed
on a terminal), warnings, the tool steps, the usage/cost/latency line and errors — goes
to stderr.

``--tools`` runs the server's tool loop (``services.tools.driver.ToolLoop``, the same loop
as the web chat's and ``/v1``'s ``server_tools``): each step is one pipeline call, the
model's calls run here, one line per call on stderr (name, arguments, result, duration),
and the last line gives the whole turn's tokens and cost. A tool whose policy is ``ask``
asks ``run it? [y/N]`` on a terminal; when stdin is not a terminal (piped, CI) nobody
can answer, so the call is declined and the model is told so.
Expected failures (unknown model, missing key, a vendor's 401, a bad option value) end as
one ``error: ...`` line and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # imported inside the handler: `switchboard --help` stays instant
    from collections.abc import AsyncGenerator

    from switchboard.registry import ResolvedModel
    from switchboard.services.pipeline import Pipeline
    from switchboard.services.policy import CallSpec
    from switchboard.services.tools.driver import LoopHooks, ToolLoop
    from switchboard.services.tools.loop import ApprovalGiven, ApprovalNeeded, ToolResult
    from switchboard.spec import ChatRequest, ImagePart, ToolCallPart, Usage

TOOL_LIST = re.compile(r"^[A-Za-z0-9_.\-]+(,[A-Za-z0-9_.\-]+)*$")
"""What ``--tools`` takes: names joined by commas; anything else is the prompt."""
RESULT_CHARS = 120
"""Characters of a tool's result shown on its line (the model reads all of it)."""

# ChatRequest field -> the option that sets it, to name the option in error messages.
_OPTION_OF = {
    "temperature": "--temperature",
    "max_output_tokens": "--max-tokens",
    "system": "--system",
    "messages": "PROMPT",
}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "chat",
        help="ask a model one question",
        description="Ask a model one question. The answer streams to stdout; usage, cost "
                    "and timing go to stderr. With no configuration, the built-in offline "
                    "model answers.",
    )
    p.add_argument("prompt", nargs="*", metavar="PROMPT",
                   help="the question (read from stdin when omitted and stdin is piped)")
    p.add_argument("-m", "--model", metavar="PROVIDER:MODEL",
                   help="model to ask, e.g. openai:gpt-4o-mini, or auto / auto:cheap / "
                        "auto:best to have one chosen for the prompt (default: the default "
                        "model; see `switchboard models`)")
    p.add_argument("--fallback", action="append", default=[], metavar="PROVIDER:MODEL",
                   help="a model to ask instead if the first one fails before answering "
                        "(overloaded, rate limited, down); repeatable, at most 5, tried in "
                        "order")
    p.add_argument("--no-stream", action="store_true",
                   help="make one non-streaming call and print the whole answer")
    p.add_argument("--system", metavar="TEXT", help="system prompt")
    p.add_argument("--temperature", type=float, metavar="T", help="sampling temperature, 0-2")
    p.add_argument("--max-tokens", type=int, metavar="N", help="maximum output tokens")
    p.add_argument("--image", action="append", default=[], metavar="PATH",
                   help="attach an image (PNG, JPEG, GIF or WEBP); repeatable")
    p.add_argument("--tools", nargs="?", const="", default=None, metavar="NAME,NAME",
                   help="let the model use tools that run here, step by step until it "
                        "answers: alone, the tools on by default; or the ones named, e.g. "
                        "calculator,fetch_url,server.tool (see `switchboard tools`). Tools "
                        "that ask first prompt y/n on a terminal and are declined when "
                        "stdin is not one")
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    """One call through the same pipeline as the server's surfaces (admission, fallbacks,
    metering: one usage row per upstream attempt, source ``cli``)."""
    from switchboard import upstream
    from switchboard.config import load_settings
    from switchboard.db import Database
    from switchboard.registry import Registry
    from switchboard.services.auto.defaults import DatabaseDefaults
    from switchboard.services.auto.picker import auto_tier
    from switchboard.services.auto.route import AutoRouter, turn_of
    from switchboard.services.pipeline import (
        MAX_FALLBACKS,
        Pipeline,
        default_policies,
        usage_recorder,
    )
    from switchboard.services.policy import CallSpec
    from switchboard.services.principal import LOCAL_OPERATOR
    from switchboard.services.registry_source import open_database_registry
    from switchboard.services.router import process_router
    from switchboard.services.usage import UsageRecorder

    tool_names = _tool_names(args)
    prompt = _read_prompt(args.prompt)
    images = [_read_image(path) for path in args.image]
    request = _build_request(args, prompt, images)
    if len(args.fallback) > MAX_FALLBACKS:
        raise _fail(f"--fallback: at most {MAX_FALLBACKS} fallback models")
    registry = await open_database_registry()
    settings = load_settings()
    db = Database.from_url(settings.database_url, pooled=False)
    tier = auto_tier(args.model)
    if tier is not None:  # -m auto: the same choice as the server's (decision 0114)
        try:
            chosen = await AutoRouter(process_router(settings), DatabaseDefaults(db)).choose(
                LOCAL_OPERATOR, tier, turn_of(request), registry)
        except BaseException:
            await db.dispose()
            raise
        print(f"auto: {chosen.reason}", file=sys.stderr)
        args.model = chosen.ref
    resolved = registry.resolve(args.model)

    async def source() -> Registry:
        return registry

    usage = UsageRecorder(db)
    pipeline = Pipeline(source, default_policies(settings, db), process_router(settings),
                        usage_recorder(usage))
    spec = CallSpec(LOCAL_OPERATOR, "cli", request, resolved.ref,
                    [ref.strip() for ref in args.fallback], stream=not args.no_stream)
    mcp: Any = None
    try:
        if tool_names is not None:
            loop, mcp = await _tool_loop(settings, db, pipeline, spec, resolved, tool_names)
            return await _loop(pipeline, spec, loop)
        if args.no_stream:
            return await _generate(pipeline, spec)
        return await _stream(pipeline, spec)
    except Exception as exc:
        _add_hint(exc, resolved)
        raise
    finally:
        if mcp is not None:
            await mcp.aclose()  # stdio servers exit with their sessions
        await upstream.close_client()
        try:
            await pipeline.drain()
            await usage.flush()
        finally:
            await db.dispose()


# -- input -------------------------------------------------------------------------
def _tool_names(args: argparse.Namespace) -> list[str] | None:
    """``--tools``: None (no tools), ``[]`` (the defaults) or the names. ``--tools`` takes
    an optional value, so ``--tools "What time is it?"`` would swallow the prompt: a
    value that is not a list of names is given back to the prompt."""
    given: str | None = args.tools
    if given is None:
        return None
    if given and not TOOL_LIST.match(given):
        args.prompt = [given, *args.prompt]
        return []
    return [n for n in given.split(",") if n]


def _fail(message: str) -> Exception:
    from switchboard.spec import InvalidRequestError

    return InvalidRequestError(message)


def _read_prompt(words: list[str]) -> str:
    if words:
        prompt = " ".join(words)
    elif not sys.stdin.isatty():
        prompt = sys.stdin.read()
    else:
        raise _fail("no prompt: give it as an argument (switchboard chat \"...\") "
                    "or pipe it on stdin")
    if not prompt.strip():
        raise _fail("the prompt is empty: give some text to ask")
    return prompt.strip("\n")


def _read_image(path: str) -> ImagePart:
    from switchboard.spec import ImagePart
    from switchboard.spec.image import sniff_media_type

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise _fail(f"--image {path}: cannot read it ({exc.strerror or exc})") from None
    media_type = sniff_media_type(raw[:16])
    if media_type is None:
        raise _fail(f"--image {path}: not an image (expected PNG, JPEG, GIF or WEBP)")
    return ImagePart.from_bytes(raw, media_type)


def _build_request(args: argparse.Namespace, prompt: str, images: list[ImagePart]) -> ChatRequest:
    from pydantic import ValidationError

    from switchboard.spec import ChatRequest, Message

    try:
        return ChatRequest(
            messages=[Message.user(prompt, *images)],
            system=args.system,
            temperature=args.temperature,
            max_output_tokens=args.max_tokens,
        )
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            option = _OPTION_OF.get(field, field or "request")
            given = f" (got {err['input']!r})" if "input" in err and field in _OPTION_OF else ""
            problems.append(f"{option}: {err['msg'][:1].lower()}{err['msg'][1:]}{given}")
        raise _fail("; ".join(problems)) from None


# -- output ------------------------------------------------------------------------
class _Printer:
    """Writes events as they come: answer to stdout, the rest to stderr."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self.dim = err.isatty()
        self.at_line_start = True
        self.in_reasoning = False

    def text(self, text: str) -> None:
        self._end_reasoning()
        self.out.write(text)
        self.out.flush()
        if text:
            self.at_line_start = text.endswith("\n")

    def reasoning(self, text: str) -> None:
        if not self.in_reasoning:
            self.in_reasoning = True
            self.err.write("\x1b[2m" if self.dim else "")
        self.err.write(text)
        self.err.flush()

    def tool_call(self, name: str, arguments: str) -> None:
        self._end_reasoning()
        if not self.at_line_start:
            self.out.write("\n")
        self.out.write(f"[tool call] {name}({arguments})\n")
        self.out.flush()
        self.at_line_start = True

    def warning(self, message: str) -> None:
        self.err.write(f"warning: {message}\n")

    def finish_answer(self) -> None:
        self._end_reasoning()
        if not self.at_line_start:
            self.out.write("\n")
            self.at_line_start = True
        self.out.flush()

    def _end_reasoning(self) -> None:
        if self.in_reasoning:
            self.in_reasoning = False
            self.err.write("\x1b[0m\n" if self.dim else "\n")
            self.err.flush()


async def _stream(pipeline: Pipeline, spec: CallSpec) -> int:
    from contextlib import aclosing

    from switchboard.spec import ErrorEvent, ReasoningDelta, TextDelta, ToolCall

    printer = _Printer(sys.stdout, sys.stderr)
    started = time.perf_counter()
    call = await pipeline.open(spec)
    for warning in call.warnings:  # the adapter's (its StreamStart) and the fallbacks'
        printer.warning(warning.message)
    first: float | None = None
    try:
        async with aclosing(call.events) as rest:
            event = call.first
            while True:
                if isinstance(event, TextDelta):
                    first = first or time.perf_counter()
                    printer.text(event.text)
                elif isinstance(event, ReasoningDelta):
                    first = first or time.perf_counter()
                    printer.reasoning(event.text)
                elif isinstance(event, ToolCall):
                    first = first or time.perf_counter()
                    printer.tool_call(event.name, event.arguments)
                elif isinstance(event, ErrorEvent):
                    break
                next_event = await anext(rest, None)
                if next_event is None:
                    break
                event = next_event
    finally:
        printer.finish_answer()
    result = call.collector.result()  # metering folded the answer as it streamed
    _report(call.model, result.usage, started, first)
    if result.error is not None:
        raise result.error
    return 0


async def _generate(pipeline: Pipeline, spec: CallSpec) -> int:
    printer = _Printer(sys.stdout, sys.stderr)
    started = time.perf_counter()
    done = await pipeline.complete(spec)
    result = done.result
    for warning in done.warnings:
        printer.warning(warning.message)
    for part in result.parts:
        if part.type == "reasoning":
            printer.reasoning(part.text)
        elif part.type == "text":
            printer.text(part.text)
        elif part.type == "tool-call":
            printer.tool_call(part.name, part.arguments)
    printer.finish_answer()
    _report(done.model, result.usage, started, None)
    if result.error is not None:
        raise result.error
    return 0


def _report(resolved: ResolvedModel, usage: Usage, started: float, first: float | None,
            *, cost: Decimal | bool | None = False, steps: int = 0) -> None:
    """The last line on stderr; with ``steps`` (a tool loop), the turn's totals."""
    elapsed = time.perf_counter() - started
    pieces = [resolved.ref, _tokens(usage),
              format_cost(resolved.cost(usage) if cost is False else cost),  # type: ignore[arg-type]
              f"{elapsed:.2f}s"]
    if steps:
        pieces.insert(1, f"{steps} model call{'s' if steps != 1 else ''}")
    if first is not None:
        pieces.append(f"first token {first - started:.2f}s")
    print(" · ".join(pieces), file=sys.stderr)


def _tokens(usage: Usage) -> str:
    if usage.input_tokens is None and usage.output_tokens is None:
        return "tokens unknown"

    def n(value: int | None) -> str:
        return "?" if value is None else f"{value:,}"

    inp = f"{n(usage.input_tokens)} in"
    if usage.cached_input_tokens:
        inp += f" ({n(usage.cached_input_tokens)} cached)"
    out = f"{n(usage.output_tokens)} out"
    if usage.reasoning_tokens:
        out += f" ({n(usage.reasoning_tokens)} reasoning)"
    return f"{inp} / {out} tokens"


def format_cost(cost: Decimal | None) -> str:
    """``$0.000123``; at least two decimals, at most six; "cost unknown" for ``None``."""
    if cost is None:
        return "cost unknown"
    text = f"{cost:.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    if cost != 0 and Decimal(text) == 0:
        return "< $0.000001"
    return f"${whole}.{frac.ljust(2, '0')}"


def _add_hint(exc: Exception, resolved: ResolvedModel) -> None:
    """Tell people what to do about a rejected key (the vendor's message does not)."""
    from switchboard.spec import AuthenticationError

    if isinstance(exc, AuthenticationError) and "switchboard keys set" not in exc.message:
        exc.message += (f" (check the API key of provider {resolved.provider_name!r}: "
                        f"`switchboard keys set {resolved.provider_name}`)")


# -- the tool loop -----------------------------------------------------------------
async def _tool_loop(settings: Any, db: Any, pipeline: Pipeline, spec: CallSpec,
                     resolved: ResolvedModel, names: list[str]) -> tuple[ToolLoop, Any]:
    """The turn's tools (the toolbox's settings apply: an unknown, disabled or denied
    name is an error naming it) and the loop over them. MCP servers are started only
    when a named tool may be theirs (``server.tool``) or the defaults are asked for."""
    from switchboard.cli.tools import open_toolbox
    from switchboard.services.principal import LOCAL_OPERATOR
    from switchboard.services.tools.contract import ToolContext
    from switchboard.services.tools.driver import ToolLoop
    from switchboard.services.tools.loop import TurnTools, default_cost_cap

    box, mcp = await open_toolbox(settings, db, pipeline,
                                  mcp_servers=not names or any("." in n for n in names))
    try:
        found = await box.for_turn(names or None, LOCAL_OPERATOR)
        if not found:
            raise _fail("--tools: no tool is on by default; name the ones to use "
                        "(`switchboard tools` lists them)")
        tools = TurnTools.of(found, emulated=resolved.capabilities.tools is False,
                             max_cost=await default_cost_cap(
                                 db, LOCAL_OPERATOR, timezone=settings.budget_timezone))
    except BaseException:
        await mcp.aclose()
        raise
    request = spec.request.model_copy(update={"tools": tools.specs()})  # type: ignore[union-attr]
    return ToolLoop(tools, request, ToolContext(LOCAL_OPERATOR), hooks=_terminal_hooks(),
                    vision=resolved.capabilities.vision is not False), mcp


def _terminal_hooks() -> LoopHooks:
    """The loop's hooks for a terminal: nothing is saved; an ``ask`` tool asks here
    (``_ask``). A factory: the services are imported only when a chat uses tools."""
    from switchboard.services.tools.driver import LoopHooks
    from switchboard.services.tools.loop import ApprovalGiven

    class TerminalHooks(LoopHooks):
        async def approvals(self, loop: ToolLoop, calls: list[ToolCallPart]
                            ) -> AsyncGenerator[ApprovalNeeded | ApprovalGiven, None]:
            for call in calls:
                if loop.tools.asks(call.name):
                    yield ApprovalGiven(call.id, await _ask(loop.tools.public_name(call.name),
                                                            call.arguments))

    return TerminalHooks()


async def _ask(name: str, arguments: str) -> bool:
    """y/n on the terminal for one call of an ``ask`` tool; declined without one."""
    if not sys.stdin.isatty():
        print(f"[tool] {name} asks before it runs; declined: stdin is not a terminal",
              file=sys.stderr)
        return False
    sys.stderr.write(f"[tool] {name}({_short(arguments)}) asks before it runs. "
                     "Run it? [y/N] ")
    sys.stderr.flush()
    answer = await asyncio.to_thread(sys.stdin.readline)
    return answer.strip().lower() in ("y", "yes")


def _short(text: str, limit: int = RESULT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _tool_line(result: ToolResult) -> str:
    """One tool call as a line: name, arguments, result (or error), duration."""
    said = _short(result.output.text)
    extra = ""
    if result.output.images:
        extra += f", {len(result.output.images)} image(s)"
    if result.output.cost:
        extra += f", {format_cost(result.output.cost)}"
    verdict = f"failed: {said}" if result.output.is_error else f"→ {said}"
    return (f"[tool] {result.name}({_short(result.call.arguments)}) {verdict} "
            f"({result.duration_ms} ms{extra})")


async def _loop(pipeline: Pipeline, spec: CallSpec, loop: ToolLoop) -> int:
    """The tool loop's events printed as they come: text to stdout, a line per tool call
    to stderr, then the turn's totals."""
    from contextlib import aclosing

    from switchboard.services.tools.driver import PipelineSteps
    from switchboard.services.tools.loop import ToolResult
    from switchboard.spec import ReasoningDelta, TextDelta

    printer = _Printer(sys.stdout, sys.stderr)
    started = time.perf_counter()
    steps = PipelineSteps(pipeline, spec, loop)
    first: float | None = None
    said: set[str] = set()
    try:
        async with aclosing(steps.events()) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    first = first or time.perf_counter()
                    printer.text(event.text)
                elif isinstance(event, ReasoningDelta):
                    printer.reasoning(event.text)
                elif isinstance(event, ToolResult):
                    printer.finish_answer()
                    print(_tool_line(event), file=sys.stderr)
                for call in steps.calls:
                    for warning in call.warnings:
                        if warning.message not in said:
                            said.add(warning.message)
                            printer.warning(warning.message)
    finally:
        printer.finish_answer()
    if loop.limited is not None:
        print(f"error: {loop.limited}", file=sys.stderr)
        return 1
    final = steps.final
    assert final is not None and steps.calls  # the loop ended with the model's answer
    _report(steps.calls[-1].model, final.result.usage, started, first, cost=final.cost,
            steps=loop.step)
    if final.result.error is not None:
        raise final.result.error
    return 0
