"""``switchboard keys``: provider API keys and the master key.

A key is NEVER taken from the command line (it would land in shell history and in the
process list): ``keys set`` reads it from a hidden prompt on a terminal, or from stdin
when stdin is not a terminal (``pass show openai | switchboard keys set openai``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from switchboard.cli._catalog import catalog_db, cli_actor, stdin_is_terminal

_DESCRIPTION = (
    "Store provider API keys encrypted (AES-256-GCM) under the master key from "
    "SWITCHBOARD_SECRET_KEY or the key file in the data directory. Keys are read from a "
    "hidden prompt or stdin, never from arguments."
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("keys", help="set, remove and rotate keys",
                              description=_DESCRIPTION)
    sub = p.add_subparsers(dest="keys_command", metavar="SUBCOMMAND")
    p.set_defaults(handler=lambda _args: p.print_help() or 2)

    s = sub.add_parser("set", help="store a provider's API key (prompted, or from stdin)")
    s.add_argument("provider", metavar="PROVIDER")
    s.set_defaults(handler=run_set)

    r = sub.add_parser("remove", help="delete a provider's stored key")
    r.add_argument("provider", metavar="PROVIDER")
    r.set_defaults(handler=run_remove)

    rot = sub.add_parser(
        "rotate-master",
        help="re-encrypt every stored key under a new master key",
        description="Generate a new master key and re-encrypt every stored provider key "
        "under it in one transaction. With the key file, the file is rewritten; with "
        "SWITCHBOARD_SECRET_KEY, the new value to set is printed.",
    )
    rot.set_defaults(handler=run_rotate)


def read_key(provider: str) -> str:
    if stdin_is_terminal():
        import getpass

        return getpass.getpass(f"API key for {provider} (input hidden): ")
    return sys.stdin.read()


async def run_set(args: argparse.Namespace) -> int:
    from switchboard import upstream
    from switchboard.services import catalog

    try:
        async with catalog_db() as db:
            before = await catalog.get_provider(db, args.provider)  # fail before the prompt
            key = read_key(args.provider)
            status = await catalog.set_provider_key(db, args.provider, key, actor=cli_actor())
            del key
            print(f"stored the key of {status.provider!r} ({status.api_key_masked}), "
                  f"encrypted with master key {status.api_key_key_id!r}")
            if not before.models:  # its first key: list its models at once (decision 0037)
                found = await catalog.discover_models(db, args.provider, actor=cli_actor())
                print(found.message if found.ok else f"note: {found.message}; retry with "
                      f"`switchboard models import {status.provider}`")
    finally:
        await upstream.close_client()
    if not before.enabled:
        print(f"note: an admin switched provider {status.provider!r} off; enable it with "
              f"`switchboard providers update {status.provider} --enable`")
    return 0


async def run_remove(args: argparse.Namespace) -> int:
    from switchboard.services import catalog

    async with catalog_db() as db:
        await catalog.remove_provider_key(db, args.provider, actor=cli_actor())
    print(f"removed the stored key of {args.provider!r}")
    return 0


async def run_rotate(args: argparse.Namespace) -> int:
    from switchboard.security.masterkey import ENV_VAR
    from switchboard.services import catalog

    async with catalog_db() as db:
        result = await catalog.rotate_master_key(db, actor=cli_actor())
    r = result.rotation
    print(f"re-encrypted {r.re_encrypted} provider key(s) under the new master key "
          f"{r.new_key_id!r} (previous: {', '.join(r.old_key_ids)})")
    if result.key_file is not None:
        print(f"the key file {result.key_file} now holds only the new key; back it up")
    else:
        print(f"update {ENV_VAR} in every process's environment to:\n\n"
              f"  {ENV_VAR}={result.new_env_value}\n\n"
              "(new key first; the old key(s) after it can be removed once every process "
              "runs with the new value)")
    return 0
