"""``switchboard models task-defaults [list] | set TASK MODEL | clear TASK...``: the model
Auto uses for each task type (issue 16 item 2; the same store and checks as Settings →
Models and ``PUT /api/task-defaults``: ``services.auto.defaults``).

A task without a default falls back to the global default model (or, where grades
exist, the best graded per cost). Changes are audited with the actor ``cli``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from switchboard.cli._catalog import catalog_db, cli_actor


def add_task_defaults(sub: Any) -> None:
    p = sub.add_parser(
        "task-defaults", help="the model Auto uses for each task type",
        description="List, set or clear the administrator's default model per task type "
                    "(code, writing, analysis, ...). Auto uses it for a message of that "
                    "type; a task without one falls back to the global default.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_list)
    actions = p.add_subparsers(dest="task_defaults_action", metavar="ACTION")
    ls = actions.add_parser("list", help="every task type and its default (the default)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(handler=run_list)
    put = actions.add_parser("set", help="set a task type's default model")
    put.add_argument("task", metavar="TASK", help="a task type, e.g. code")
    put.add_argument("model", metavar="PROVIDER:MODEL", help="an enabled chat model")
    put.set_defaults(handler=run_set)
    clear = actions.add_parser("clear", help="clear task types' defaults (the global "
                                             "default applies again)")
    clear.add_argument("tasks", metavar="TASK", nargs="+")
    clear.set_defaults(handler=run_clear)


async def run_list(args: argparse.Namespace) -> int:
    from switchboard.services.auto.defaults import admin_defaults

    async with catalog_db() as db:
        values = await admin_defaults(db)
    _print(values, as_json=args.json)
    return 0


async def run_set(args: argparse.Namespace) -> int:
    return await _change({args.task: args.model})


async def run_clear(args: argparse.Namespace) -> int:
    return await _change(dict.fromkeys(args.tasks))


async def _change(values: dict[str, str | None]) -> int:
    from switchboard.services.auto.defaults import set_admin_defaults
    from switchboard.services.registry_source import load_registry

    async with catalog_db() as db:
        saved = await set_admin_defaults(db, await load_registry(db), values, cli_actor())
    for task, ref in values.items():
        print(f"{task}: {saved[task]}" if ref else f"{task}: cleared (the global default applies)")
    return 0


def _print(values: dict[str, str], *, as_json: bool) -> None:
    from switchboard.services.auto.tasks import TASK_TYPES

    if as_json:
        print(json.dumps({task: values.get(task) for task in TASK_TYPES}, indent=2))
        return
    width = max(len(t) for t in TASK_TYPES)
    for task in TASK_TYPES:
        print(f"{task:<{width}}  {values.get(task) or '(global default)'}")


SUBCOMMANDS = [add_task_defaults]
