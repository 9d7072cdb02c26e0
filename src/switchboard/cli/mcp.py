"""``switchboard mcp add | list | test | remove``: MCP servers as sources of tools
(``services.mcp``). ``--command`` is ONE shell-quoted string, split like a shell would
(``shlex``) and never run by one."""

from __future__ import annotations

import argparse
import json

from switchboard.services.errors import ValidationFailed


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("mcp", help="MCP servers whose tools models can use")
    s = p.add_subparsers(dest="mcp_command", metavar="COMMAND", required=True)
    add = s.add_parser(
        "add", help="add an MCP server (a command started over stdio, or a URL)",
        description="Add an MCP server. Its tools are offered to models as NAME.TOOL. "
        "Environment and header values are stored encrypted, like provider keys. New "
        "tools ask the user before they run unless --policy says otherwise.")
    add.add_argument("name", help="lower-case name, the prefix of the server's tools")
    how = add.add_mutually_exclusive_group(required=True)
    how.add_argument("--command", metavar="'CMD ARG...'",
                     help="the command line as ONE quoted string, e.g. "
                     "--command 'npx -y @modelcontextprotocol/server-everything'")
    how.add_argument("--url", help="a Streamable HTTP endpoint, e.g. http://127.0.0.1:8000/mcp")
    add.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                     help="an environment variable for the command (repeatable)")
    add.add_argument("--header", action="append", default=[], metavar="KEY=VALUE",
                     help="an HTTP header for the URL, e.g. 'Authorization=Bearer x' "
                     "(repeatable)")
    add.add_argument("--timeout", type=int, default=30, metavar="SECONDS",
                     help="how long one tool call may take (default 30)")
    add.add_argument("--policy", choices=("allow", "ask", "deny"), default="ask",
                     help="for its tools: run at once, ask the user first (default), or "
                     "never offer them")
    add.add_argument("--disabled", action="store_true", help="add it switched off")
    add.set_defaults(handler=_add)
    ls = s.add_parser("list", help="list MCP servers (secrets masked)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(handler=_list)
    test = s.add_parser("test", help="connect to a server and list its tools")
    test.add_argument("name")
    test.set_defaults(handler=_test)
    rm = s.add_parser("remove", help="remove an MCP server")
    rm.add_argument("name")
    rm.set_defaults(handler=_remove)


def pairs(values: list[str], what: str) -> dict[str, str]:
    """``["A=1", "B=x=y"]`` -> ``{"A": "1", "B": "x=y"}``."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationFailed(f"--{what} takes KEY=VALUE, got {item.split('=')[0][:40]!r}")
        out[key.strip()] = value
    return out


async def _add(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services.audit import CLI
    from switchboard.services.keys import open_vault
    from switchboard.services.mcp import servers

    env, headers = pairs(args.env, "env"), pairs(args.header, "header")
    db = await _db()
    try:
        added = await servers.add(db, CLI, open_vault(), name=args.name, command=args.command,
                                  url=args.url, env=env, headers=headers,
                                  enabled=not args.disabled, timeout_seconds=args.timeout,
                                  default_policy=args.policy)
    finally:
        await db.dispose()
    print(f"MCP server {added.name!r} added ({_endpoint(added.as_dict())}); "
          f"check it with: switchboard mcp test {added.name}")
    return 0


def _endpoint(server: dict[str, object]) -> str:
    return f"stdio: {server['command']}" if server["transport"] == "stdio" \
        else f"http: {server['url']}"


async def _list(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services.mcp import servers

    db = await _db()
    try:
        found = [c.as_dict() for c in await servers.configs(db)]
    finally:
        await db.dispose()
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    if not found:
        print("no MCP servers (switchboard mcp add --help)")
        return 0
    print(f"{'NAME':<20} {'ON':<3} {'POLICY':<6} {'TIMEOUT':>7}  ENDPOINT")
    for s in found:
        secrets = {**s["env"], **s["headers"]}
        extra = ("  [" + ", ".join(f"{k}={v}" for k, v in secrets.items()) + "]"
                 if secrets else "")
        print(f"{s['name']:<20} {'yes' if s['enabled'] else 'no':<3} "
              f"{s['default_policy']:<6} {s['timeout_seconds']:>6}s  {_endpoint(s)}{extra}")
    return 0


async def _test(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services.keys import open_vault
    from switchboard.services.mcp.manager import McpManager

    db = await _db()
    manager = McpManager(db, open_vault)
    try:
        report = await manager.test(args.name)
    finally:
        await manager.aclose()
        await db.dispose()
    if not report.ok:
        print(f"{args.name}: could not connect after {report.elapsed_ms} ms: {report.error}")
        for line in report.stderr:
            print(f"  stderr: {line}")
        return 1
    print(f"{args.name}: connected in {report.elapsed_ms} ms, {len(report.tools)} tools")
    for tool in report.tools:
        summary = (tool["description"] or "").strip().splitlines()
        print(f"  {tool['public_name']:<40} {tool['policy']:<5}  "
              f"{summary[0][:60] if summary else ''}")
    return 0


async def _remove(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services.audit import CLI
    from switchboard.services.mcp import servers

    db = await _db()
    try:
        await servers.remove(db, CLI, args.name)
    finally:
        await db.dispose()
    print(f"MCP server {args.name!r} removed")
    return 0
