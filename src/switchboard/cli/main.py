"""Entry point. Each command group is a module with ``register(subparsers)``; heavy
imports happen inside the handlers so ``switchboard --help`` stays instant.

argparse (standard library) rather than click/typer: no dependency, and our needs —
sub-commands, hidden prompts, reading a key from stdin — are all covered.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import inspect
import os
import sys
from collections.abc import Sequence
from typing import Any

# Modules of switchboard.cli that add sub-commands. Add yours here.
COMMANDS: tuple[str, ...] = (
    "serve",
    "chat",
    "models",
    "plugins",
    "providers",
    "keys",
    "db",
    "users",
    "tokens",
    "usage",
    "limits",
    "budgets",
    "tools",
    "classify",
    "mcp",
    "audit",
    "flags",
    "alerts",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``only`` (one of ``COMMANDS``): a run of one
    command need not import the others' modules (``serve`` starts faster and smaller
    without the MCP and catalog commands' imports, decision 0182)."""
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="One chat UI and one OpenAI-compatible API for every AI provider.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (only,) if only in COMMANDS else COMMANDS:
        importlib.import_module(f"switchboard.cli.{name}").register(sub)
    return parser


def _version() -> str:
    from switchboard import __version__

    return f"switchboard {__version__}"


START_YOUNG_THRESHOLD = 100_000
"""Young-generation threshold while ``serve`` starts (see ``main``)."""


def _gc_tuning_wanted() -> bool:
    """``SWITCHBOARD_GC_TUNING`` as ``serve`` will see it (it defaults it to on): when it
    is off, the lifespan never lowers the start's threshold again, so it is not raised."""
    raw = os.environ.get("SWITCHBOARD_GC_TUNING", "").strip().lower()
    return raw not in ("0", "false", "no", "off")


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["serve"] and _gc_tuning_wanted():
        # Importing the server leaves ~180,000 more container objects, nearly all of
        # which live on: with CPython's young threshold (700) the collector walks them in
        # ~260 young, some middle and two full collections before the app's lifespan
        # freezes them (api.gc_tuning). Until then, collect every 100,000 instead: ~0.09 s
        # less CPU to the first answer (bench.startup, 7 interleaved starts, paired
        # median; idle RSS unchanged). Workers that uvicorn spawns (--workers N) start
        # from uvicorn, not here, and keep CPython's threshold until their lifespan.
        gc.set_threshold(START_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    # the command is the first word when no global option comes before it; otherwise
    # (``--help``, ``--version``, a typo) every command's parser is built, as for help
    parser = build_parser(words[0] if words else None)
    args = parser.parse_args(words)
    handler: Any = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from switchboard.spec.errors import SwitchboardError

    try:
        result = handler(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except SwitchboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
