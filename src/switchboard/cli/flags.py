"""``switchboard flags list | set``: feature flags (``services.flags``; decision 0124).
A change reaches every server process within a second."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("flags", help="turn features on, off, or on for some users")
    s = p.add_subparsers(dest="flags_command", metavar="COMMAND", required=True)
    ls = s.add_parser("list", help="every feature flag and its rule")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(handler=_list)
    st = s.add_parser(
        "set", help="change a flag",
        description="--on or --off for everyone (--off is the kill switch), or a rollout: "
        "--percent N (a sticky N%% of users), --users and --roles (always on for them); "
        "the three combine.")
    st.add_argument("name")
    mode = st.add_mutually_exclusive_group()
    mode.add_argument("--on", action="store_true", help="on for everyone")
    mode.add_argument("--off", action="store_true", help="off for everyone")
    st.add_argument("--percent", type=int, metavar="N", help="on for N%% of the users")
    st.add_argument("--users", metavar="A,B", help="on for these users")
    st.add_argument("--roles", metavar="R", help="on for these roles (admin, user)")
    st.set_defaults(handler=_set)


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v.strip()]


async def _set(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import flags
    from switchboard.services.audit import CLI
    from switchboard.services.errors import ValidationFailed

    rollout = args.percent is not None or args.users or args.roles
    if (args.on or args.off) and rollout:
        raise ValidationFailed("--on and --off stand alone; a rollout takes --percent, "
                               "--users and --roles", field="mode")
    if not (args.on or args.off or rollout):
        raise ValidationFailed("say --on, --off, or --percent/--users/--roles", field="mode")
    db = await _db()
    try:
        view = await flags.set_flag(
            db, args.name, CLI, mode="on" if args.on else "off" if args.off else "rollout",
            percent=args.percent or 0, users=_split(args.users), roles=_split(args.roles))
    finally:
        await db.dispose()
    print(_describe(view))
    return 0


async def _list(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import flags

    db = await _db()
    try:
        views = await flags.list_flags(db)
    finally:
        await db.dispose()
    if args.json:
        print(json.dumps([v.model_dump(mode="json") for v in views], indent=2))
        return 0
    for view in views:
        print(_describe(view))
    return 0


def _describe(view: object) -> str:
    from switchboard.services.flags import FlagView

    assert isinstance(view, FlagView)
    if view.mode != "rollout":
        rule = view.mode
    else:
        parts = [f"{view.percent}% of users"]
        if view.users:
            parts.append("users " + ", ".join(view.users))
        if view.roles:
            parts.append("roles " + ", ".join(view.roles))
        rule = "rollout: " + "; ".join(parts)
    return f"{view.name:<18} {rule}"
