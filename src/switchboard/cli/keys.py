"""``switchboard keys``: provider API keys (each provider's key pool) and the master key.

A key is NEVER taken from the command line (it would land in shell history and in the
process list): ``keys set`` / ``keys add`` read it from a hidden prompt on a terminal, or
from stdin when stdin is not a terminal (``pass show openai | switchboard keys set openai``).

``keys set`` makes the pool this one key (decision 0066); ``keys add`` puts another key
beside the others, ``keys list`` shows them (label, tail, state, weight, limits, expiry),
``keys retire`` removes one, ``keys enable`` / ``keys disable`` switch one. A rotation:
``keys add openai --label 2026-q2``, then ``keys retire openai default``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from switchboard.cli._catalog import catalog_db, cli_actor, stdin_is_terminal

_DESCRIPTION = (
    "Store provider API keys encrypted (AES-256-GCM) under the master key from "
    "SWITCHBOARD_SECRET_KEY or the key file in the data directory. Keys are read from a "
    "hidden prompt or stdin, never from arguments."
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("keys", help="provider key pools and the master key",
                              description=_DESCRIPTION)
    sub = p.add_subparsers(dest="keys_command", metavar="SUBCOMMAND")
    p.set_defaults(handler=lambda _args: p.print_help() or 2)

    s = sub.add_parser("set", help="store a provider's API key (prompted, or from stdin)")
    s.add_argument("provider", metavar="PROVIDER")
    s.set_defaults(handler=run_set)

    r = sub.add_parser("remove", help="delete all of a provider's stored keys")
    r.add_argument("provider", metavar="PROVIDER")
    r.set_defaults(handler=run_remove)

    a = sub.add_parser(
        "add", help="add a key to a provider's pool (prompted, or from stdin)",
        description="Add a key beside the provider's other keys: they all serve, shared by "
        "weight, the least busy first. A key the provider refuses leaves the pool.")
    a.add_argument("provider", metavar="PROVIDER")
    a.add_argument("--label", help="a name for the key (default: 'default', then key-N)")
    a.add_argument("--weight", type=int, default=1,
                   help="its share of the calls relative to the other keys (1-1000)")
    a.add_argument("--rpm", type=int, help="its own requests-per-minute limit (per process)")
    a.add_argument("--tpm", type=int, help="its own tokens-per-minute limit (per process)")
    a.add_argument("--expires", type=_when, metavar="DATE",
                   help="when it stops serving (ISO-8601, e.g. 2027-01-31 or "
                   "2027-01-31T00:00:00Z)")
    a.set_defaults(handler=run_add)

    ls = sub.add_parser("list", help="a provider's keys: label, tail, state, weight, limits")
    ls.add_argument("provider", metavar="PROVIDER")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=run_list)

    ret = sub.add_parser("retire", help="remove one key from a provider's pool")
    ret.add_argument("provider", metavar="PROVIDER")
    ret.add_argument("label", metavar="LABEL")
    ret.set_defaults(handler=run_retire)

    for name, enabled in (("enable", True), ("disable", False)):
        sw = sub.add_parser(name, help=f"{name} one key (enabling clears a provider refusal)")
        sw.add_argument("provider", metavar="PROVIDER")
        sw.add_argument("label", metavar="LABEL")
        sw.set_defaults(handler=run_switch, enabled=enabled)

    rot = sub.add_parser(
        "rotate-master",
        help="re-encrypt every stored key under a new master key",
        description="Generate a new master key and re-encrypt every stored provider key "
        "under it in one transaction. With the key file, the file is rewritten; with "
        "SWITCHBOARD_SECRET_KEY, the new value to set is printed.",
    )
    rot.set_defaults(handler=run_rotate)


def _when(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it as 2027-01-31 or 2027-01-31T00:00:00Z"
        ) from None


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


async def run_add(args: argparse.Namespace) -> int:
    from switchboard.services import catalog, keys

    async with catalog_db() as db:
        await catalog.get_provider(db, args.provider)  # fail before the prompt
        key = read_key(args.provider)
        added = await keys.add_provider_key(
            db, args.provider, key, label=args.label, weight=args.weight, rpm=args.rpm,
            tpm=args.tpm, expires_at=args.expires, actor=cli_actor())
        del key
        count = len(await keys.list_provider_keys(db, args.provider))
    print(f"added key {added.label!r} ({added.masked}) to {args.provider!r}: "
          f"{count} key(s) in its pool")
    return 0


async def run_list(args: argparse.Namespace) -> int:
    from switchboard.cli._catalog import print_json
    from switchboard.services import keys

    async with catalog_db() as db:
        pool = await keys.list_provider_keys(db, args.provider)
    if args.json:
        print_json([k.model_dump(mode="json") for k in pool])
        return 0
    if not pool:
        print(f"{args.provider!r} has no stored key (it uses its environment variable, "
              "if set)")
        return 0
    print(f"{'LABEL':<20} {'KEY':<8} {'STATE':<9} {'WEIGHT':>6} {'RPM':>8} {'TPM':>10}  "
          "EXPIRES")
    for k in pool:
        expires = k.expires_at.isoformat(timespec="minutes") if k.expires_at else "-"
        print(f"{k.label:<20} {k.masked:<8} {k.state:<9} {k.weight:>6} "
              f"{k.rpm or '-':>8} {k.tpm or '-':>10}  {expires}")
    return 0


async def run_retire(args: argparse.Namespace) -> int:
    from switchboard.services import keys

    async with catalog_db() as db:
        retired = await keys.retire_provider_key(db, args.provider, args.label,
                                                 actor=cli_actor())
        left = await keys.list_provider_keys(db, args.provider)
    serving = sum(1 for k in left if k.state == "active")
    print(f"retired key {retired.label!r} ({retired.masked}) of {args.provider!r}; "
          f"{serving} key(s) serving")
    if not serving:
        print(f"note: {args.provider!r} has no serving key now; add one with "
              f"`switchboard keys add {args.provider}`")
    return 0


async def run_switch(args: argparse.Namespace) -> int:
    from switchboard.services import keys

    async with catalog_db() as db:
        key = await keys.update_provider_key(db, args.provider, args.label,
                                             enabled=args.enabled, actor=cli_actor())
    print(f"key {key.label!r} of {args.provider!r} is {key.state}")
    return 0


async def run_remove(args: argparse.Namespace) -> int:
    from switchboard.services import catalog

    async with catalog_db() as db:
        await catalog.remove_provider_key(db, args.provider, actor=cli_actor())
    print(f"removed the stored keys of {args.provider!r}")
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
