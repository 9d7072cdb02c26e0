"""``switchboard chat``: one question to any model, from the terminal.

stdout carries only the answer (so it can be piped); everything else — reasoning (dimmed
on a terminal), warnings, the usage/cost/latency line and errors — goes to stderr.
Expected failures (unknown model, missing key, a vendor's 401, a bad option value) end as
one ``error: ...`` line and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # imported inside the handler: `switchboard --help` stays instant
    from switchboard.registry import ResolvedModel
    from switchboard.services.pipeline import Pipeline
    from switchboard.services.policy import CallSpec
    from switchboard.spec import ChatRequest, ImagePart, Usage

# Magic numbers of the image formats every vision-capable vendor accepts.
_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)

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
    try:
        if args.no_stream:
            return await _generate(pipeline, spec)
        return await _stream(pipeline, spec)
    except Exception as exc:
        _add_hint(exc, resolved)
        raise
    finally:
        await upstream.close_client()
        try:
            await pipeline.drain()
            await usage.flush()
        finally:
            await db.dispose()


# -- input -------------------------------------------------------------------------
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


def image_media_type(head: bytes) -> str | None:
    """The media type of an image from its first bytes, or ``None`` if not an image."""
    for signature, media_type in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _read_image(path: str) -> ImagePart:
    from switchboard.spec import ImagePart

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise _fail(f"--image {path}: cannot read it ({exc.strerror or exc})") from None
    media_type = image_media_type(raw[:16])
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


def _report(resolved: ResolvedModel, usage: Usage, started: float, first: float | None) -> None:
    elapsed = time.perf_counter() - started
    pieces = [resolved.ref, _tokens(usage), format_cost(resolved.cost(usage)),
              f"{elapsed:.2f}s"]
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
