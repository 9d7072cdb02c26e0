"""``switchboard limits``: the rate limits — defaults per role, overrides per role, user
or API token (docs/configuration.md#rate-limits).

    switchboard limits [list]
    switchboard limits set (--role ROLE | --user NAME | --token ID) [--rpm V] [--tpm V]
                           [--concurrent V]
    switchboard limits remove (--role ROLE | --user NAME | --token ID)

A value V is a number, ``none`` (no limit) or ``default`` (inherit: the token has none of
its own, the user takes the role's, the role takes the configured default). ``set`` changes
only the limits it is given.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.db.engine import Database

NAMES = {"rpm": "requests per minute", "tpm": "tokens per minute",
         "concurrent": "calls at once"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("limits", help="show and change rate limits (per role, user, token)")
    p.set_defaults(handler=_list)
    s = p.add_subparsers(dest="limits_command", metavar="COMMAND")
    ls = s.add_parser("list", help="the defaults per role and every override")
    ls.set_defaults(handler=_list)
    st = s.add_parser("set", help="override the limits of a role, a user or an API token")
    _target(st)
    for flag, name in NAMES.items():
        st.add_argument(f"--{flag}", metavar="V", type=_value,
                        help=f"{name}: a number, 'none' (no limit) or 'default' (inherit)")
    st.set_defaults(handler=_set)
    rm = s.add_parser("remove", help="drop an override (the defaults apply again)")
    _target(rm)
    rm.set_defaults(handler=_remove)


def _target(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--role", choices=("user", "admin"))
    group.add_argument("--user", metavar="NAME")
    group.add_argument("--token", metavar="ID", type=int)


_DEFAULT = -1  # "default": the override's column goes back to NULL (inherit)


def _value(text: str) -> int:
    text = text.strip().lower()
    if text in ("none", "off", "unlimited"):
        return 0
    if text in ("default", "inherit"):
        return _DEFAULT
    if not text.isdigit() or int(text) > 2**31 - 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a limit: give a whole number, 'none' or 'default'")
    return int(text) or 0


def _show(value: int | None, *, inherit: str = "-") -> str:
    if value is None:
        return inherit
    return "no limit" if value == 0 else f"{value:,}"


async def _list(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.config import load_settings
    from switchboard.services import rate_limit_rules as rules

    settings = load_settings()
    db = await _db()
    try:
        overrides = await rules.list_rules(db)
        snapshot = await rules.load_rules(db)
    finally:
        await db.dispose()
    if settings.rate_limits is None:
        print("Rate limits are off (SWITCHBOARD_RATE_LIMITS=off).")
    print(f"{'ROLE':<8} {'REQUESTS/MIN':>14} {'TOKENS/MIN':>14} {'AT ONCE':>10}")
    for role in ("user", "admin"):
        limits = rules.role_limits(snapshot, settings.rate_limits or {}, role)
        values = [limits.requests, limits.tokens, limits.concurrent]
        shown = [_show(v or 0) for v in values]
        note = "  (overridden)" if role in snapshot.roles else ""
        print(f"{role:<8} {shown[0]:>14} {shown[1]:>14} {shown[2]:>10}{note}")
    users_tokens = [o for o in overrides if o.scope != "role"]
    if not users_tokens:
        print("\nNo user or token has limits of its own.")
        return 0
    print(f"\n{'OVERRIDE':<32} {'REQUESTS/MIN':>14} {'TOKENS/MIN':>14} {'AT ONCE':>10}")
    for o in users_tokens:
        who = (f"user {o.name}" if o.scope == "user"
               else f"token {o.token_id} {o.name!r} of {o.owner}")
        values = [o.requests_per_minute, o.tokens_per_minute, o.concurrent]
        shown = [_show(v) for v in values]
        print(f"{who[:32]:<32} {shown[0]:>14} {shown[1]:>14} {shown[2]:>10}")
    print("\n- inherits: a user's limit from its role; a token has none of its own.")
    return 0


async def _resolve(db: Database, args: argparse.Namespace) -> tuple[str, str | int]:
    from switchboard.services import accounts

    if args.role:
        return "role", str(args.role)
    if args.user:
        return "user", (await accounts.get_user_by_name(db, args.user)).id
    return "token", int(args.token)


async def _set(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import rate_limit_rules as rules
    from switchboard.services.audit import CLI

    given = [args.rpm, args.tpm, args.concurrent]
    if all(v is None for v in given):
        raise SystemExit("error: give at least one of --rpm, --tpm, --concurrent")
    db = await _db()
    try:
        scope, target = await _resolve(db, args)
        current = next((
            (o.requests_per_minute, o.tokens_per_minute, o.concurrent)
            for o in await rules.list_rules(db)
            if (o.scope, o.role if scope == "role" else
                o.user_id if scope == "user" else o.token_id) == (scope, target)),
            (None, None, None))
        values = tuple(
            old if new is None else (None if new == _DEFAULT else new)
            for old, new in zip(current, given, strict=True))
        await rules.set_rule(db, CLI, scope, target, values)  # type: ignore[arg-type]
    finally:
        await db.dispose()
    label = args.role or args.user or f"token {args.token}"
    print(f"rate limits of {scope} {label if scope != 'token' else args.token}: "
          + ", ".join(f"{NAMES[k]} {_show(v, inherit='inherited')}"
                      for k, v in zip(NAMES, values, strict=True)))
    return 0


async def _remove(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import rate_limit_rules as rules
    from switchboard.services.audit import CLI

    db = await _db()
    try:
        scope, target = await _resolve(db, args)
        await rules.remove_rule(db, CLI, scope, target)  # type: ignore[arg-type]
    finally:
        await db.dispose()
    print(f"override of {scope} {args.role or args.user or args.token} removed: "
          "the defaults apply")
    return 0
