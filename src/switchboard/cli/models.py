"""``switchboard models``: the model catalog.

Sub-commands are added by the functions in ``SUBCOMMANDS``, each taking the
``models`` sub-parsers object and adding one parser with its own ``handler``. ``list`` is
also what a bare ``switchboard models`` runs. To add ``add`` / ``enable`` / ``disable`` /
``set-default`` / ``import``, write ``add_<name>(sub)`` functions (here or in a module of
their own) and append them to ``SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from switchboard.registry import CatalogEntry


def add_list(sub: Any) -> None:
    p = sub.add_parser("list", help="list known models (the default)",
                       description=_LIST_DESCRIPTION)
    _list_options(p)
    p.set_defaults(handler=run_list)


SUBCOMMANDS: list[Callable[[Any], None]] = [add_list]


def _catalog_subcommands() -> list[Callable[[Any], None]]:
    # add / enable / disable / set-default / remove / import (catalog engineer's module)
    from switchboard.cli.catalog_models import SUBCOMMANDS as catalog_subcommands

    return list(catalog_subcommands)


SUBCOMMANDS += _catalog_subcommands()


def _task_default_subcommands() -> list[Callable[[Any], None]]:
    # task-defaults list / set / clear (Auto's model per task type)
    from switchboard.cli.task_defaults import SUBCOMMANDS as task_default_subcommands

    return list(task_default_subcommands)


SUBCOMMANDS += _task_default_subcommands()

_LIST_DESCRIPTION = (
    "List the known models of every provider: capabilities, prices in USD per million "
    "tokens (input / cached input / output), context window, and whether the provider "
    "is configured (has its key). '*' marks the default model."
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("models", help="list and manage models",
                              description=_LIST_DESCRIPTION)
    _list_options(p)
    p.set_defaults(handler=run_list)
    sub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    for add in SUBCOMMANDS:
        add(sub)


def _list_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--provider", metavar="NAME", help="only this provider's models")
    p.add_argument("--json", action="store_true", help="machine-readable output")


async def run_list(args: argparse.Namespace) -> int:
    from switchboard.services.registry_source import open_database_registry

    registry = await open_database_registry()
    entries = registry.catalog(args.provider)
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2))
        return 0
    if not entries:
        where = f" for provider {args.provider!r}" if args.provider else ""
        print(f"no known models{where}")
        return 0
    print(render_table(entries))
    return 0


# -- table -------------------------------------------------------------------------
_CAPABILITY_LABELS = (
    ("streaming", "stream"), ("tools", "tools"), ("vision", "vision"),
    ("json_output", "json"), ("reasoning", "reasoning"), ("image_output", "image-out"),
)


def render_table(entries: list[CatalogEntry]) -> str:
    header = ("MODEL", "CAPABILITIES", "CONTEXT", "$/1M IN / CACHED / OUT", "PROVIDER")
    rows = [header, *(_row(e) for e in entries)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    return "\n".join(lines)


def _row(e: CatalogEntry) -> tuple[str, str, str, str, str]:
    caps = e.capabilities.as_dict()
    capabilities = ",".join(label for name, label in _CAPABILITY_LABELS if caps.get(name)) or "-"
    context = f"{e.context_window:,}" if e.context_window else "?"
    if e.price is None:
        price = "unknown"
    else:
        p = e.price
        cached = p.input if p.cached_input is None else p.cached_input
        price = " / ".join(_money(v) for v in (p.input, cached, p.output))
    if not e.enabled:
        status = "disabled"
    elif e.configured:
        status = "configured"
    else:
        status = "not configured"
    marker = "*" if e.is_default else " "
    return f"{marker}{e.ref}", capabilities, context, price, f"{e.provider} ({status})"


def _money(value: Decimal) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
