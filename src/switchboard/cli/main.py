"""Entry point. Each command group is a module with ``register(subparsers)``; heavy
imports happen inside the handlers so ``switchboard --help`` stays instant.

argparse (standard library) rather than click/typer: no dependency, and our needs —
sub-commands, hidden prompts, reading a key from stdin — are all covered.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="One chat UI and one OpenAI-compatible API for every AI provider.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"switchboard.cli.{name}").register(sub)
    return parser


def _version() -> str:
    from switchboard import __version__

    return f"switchboard {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
