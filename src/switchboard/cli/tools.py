"""``switchboard tools``: the tools models may use, and an administrator's settings for
them (the same toolbox and audit rows as Settings → Tools; decision 0097).

    switchboard tools [list]
    switchboard tools set NAME [--enable | --disable] [--default-on | --default-off]
                               [--policy allow|ask|deny|default]

``default`` (and ``--reset``) put a setting back to the tool's own default.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from switchboard.services.tools.toolbox import Toolbox

POLICIES = ("allow", "ask", "deny", "default")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("tools", help="list the tools models may use; enable, disable, "
                                     "choose their defaults and policy")
    p.set_defaults(handler=_list)
    s = p.add_subparsers(dest="tools_command", metavar="COMMAND")
    ls = s.add_parser("list", help="every tool with its settings")
    ls.set_defaults(handler=_list)
    st = s.add_parser("set", help="change a tool's settings (audited)")
    st.add_argument("name", help="the tool's name, e.g. calculator or server.tool")
    enabled = st.add_mutually_exclusive_group()
    enabled.add_argument("--enable", dest="enabled", action="store_const", const=True)
    enabled.add_argument("--disable", dest="enabled", action="store_const", const=False)
    default_on = st.add_mutually_exclusive_group()
    default_on.add_argument("--default-on", dest="default_on", action="store_const",
                            const=True, help="on in a new chat")
    default_on.add_argument("--default-off", dest="default_on", action="store_const",
                            const=False, help="off in a new chat (people turn it on)")
    st.add_argument("--policy", choices=POLICIES,
                    help="allow: runs at once; ask: waits for the person's approval; "
                         "deny: never runs; default: the tool's own")
    st.add_argument("--reset", action="store_true",
                    help="every setting back to the tool's default")
    st.set_defaults(handler=_set)


async def _toolbox() -> tuple[Toolbox, Any, Any]:
    """The toolbox of this command, with the configured MCP servers' tools, the
    database, and the MCP manager to close."""
    from switchboard.cli.users import _db
    from switchboard.config import load_settings
    from switchboard.services.pipeline import Pipeline, default_policies, usage_recorder
    from switchboard.services.registry_source import open_database_registry
    from switchboard.services.router import process_router
    from switchboard.services.usage import UsageRecorder

    settings = load_settings()
    db = await _db()

    async def registry() -> Any:  # opened only if a tool needs a model (never here)
        return await open_database_registry()

    pipeline = Pipeline(registry, default_policies(settings, db), process_router(settings),
                        usage_recorder(UsageRecorder(db)))
    box, mcp = await open_toolbox(settings, db, pipeline)
    return box, db, mcp


async def open_toolbox(settings: Any, db: Any, pipeline: Any, *,
                       mcp_servers: bool = True) -> tuple[Toolbox, Any]:
    """A command's toolbox (the built-ins, and with ``mcp_servers`` every configured MCP
    server, each started and listed first: a command has no later turn to wait for a
    slow start) and the MCP manager to close. Shared by ``tools`` and ``chat --tools``."""
    from switchboard.services.keys import open_vault
    from switchboard.services.mcp.manager import McpManager
    from switchboard.services.tools.toolbox import process_toolbox

    box = process_toolbox(settings, db, pipeline)
    mcp = McpManager(db, open_vault)
    if mcp_servers:
        await asyncio.gather(*(s.list_tools() for s in await mcp.sources()))
        box.add_source(mcp.as_source())
    return box, mcp


def _row(name: str, source: str, enabled: str, default_on: str, policy: str) -> str:
    return f"{name[:32]:<32} {source[:16]:<16} {enabled:<8} {default_on:<11} {policy}"


async def _list(args: argparse.Namespace) -> int:
    box, db, mcp = await _toolbox()
    try:
        tools = await box.catalog(everything=True)
    finally:
        await mcp.aclose()
        await db.dispose()
    print(_row("TOOL", "SOURCE", "ENABLED", "DEFAULT ON", "POLICY"))
    for t in tools:
        print(_row(t.name, t.source, "yes" if t.enabled else "no",
                   "yes" if t.default_on else "no",
                   t.policy + ("  (changed)" if t.changed else "")))
    return 0


async def _set(args: argparse.Namespace) -> int:
    from switchboard.services.audit import CLI

    changes: dict[str, Any] = {}
    if args.reset:
        changes = {"enabled": None, "default_on": None, "policy": None}
    if args.enabled is not None:
        changes["enabled"] = args.enabled
    if args.default_on is not None:
        changes["default_on"] = args.default_on
    if args.policy is not None:
        changes["policy"] = None if args.policy == "default" else args.policy
    if not changes:
        raise SystemExit("error: give at least one of --enable, --disable, --default-on, "
                         "--default-off, --policy, --reset")
    box, db, mcp = await _toolbox()
    try:
        info = await box.configure(CLI, args.name, changes)
    finally:
        await mcp.aclose()
        await db.dispose()
    print(f"{info.name}: {'enabled' if info.enabled else 'disabled'}, "
          f"{'on' if info.default_on else 'off'} in new chats, policy {info.policy}")
    return 0
