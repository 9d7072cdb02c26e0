"""``switchboard budgets set | list | remove``: spending limits per user, API token or
everyone (``services.budgets``; enforced on every surface by ``services.budget_policy``)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("budgets", help="spending limits per user, API token or everyone")
    s = p.add_subparsers(dest="budgets_command", metavar="COMMAND", required=True)
    st = s.add_parser(
        "set", help="create a budget, or change the amount of an existing one",
        description="A budget limits what calls may cost over a calendar day, week (from "
        "Monday) or month in SWITCHBOARD_BUDGET_TIMEZONE. A hard budget refuses a call that "
        "could take it over; --soft only warns. Setting the same subject, period and kind "
        "again changes its amount.")
    who = st.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="NAME", help="limit this user (all their calls)")
    who.add_argument("--token", metavar="ID", type=int, help="limit this API token")
    who.add_argument("--global", dest="everyone", action="store_true",
                     help="limit everyone together")
    st.add_argument("--amount", required=True, metavar="USD", help="the limit in US dollars")
    st.add_argument("--period", required=True, choices=("day", "week", "month"))
    st.add_argument("--soft", action="store_true", help="warn instead of refusing")
    st.set_defaults(handler=_set)
    ls = s.add_parser("list", help="list budgets with what they have spent this period")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(handler=_list)
    rm = s.add_parser("remove", help="remove a budget by id (see: budgets list)")
    rm.add_argument("id", type=int)
    rm.set_defaults(handler=_remove)


async def _set(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import accounts, budgets
    from switchboard.services.audit import CLI

    db = await _db()
    try:
        user_id = (await accounts.get_user_by_name(db, args.user)).id if args.user else None
        scope = "user" if args.user else "token" if args.token is not None else "global"
        budget = await budgets.set_budget(db, CLI, scope=scope, user_id=user_id,
                                          token_id=args.token, amount=args.amount,
                                          period=args.period, soft=args.soft)
    finally:
        await db.dispose()
    print(f"budget {budget.id}: {budget.title}")
    return 0


async def _list(args: argparse.Namespace) -> int:
    import time

    from switchboard.cli.users import _db
    from switchboard.config import load_settings
    from switchboard.services import budgets

    timezone = load_settings().budget_timezone
    db = await _db()
    try:
        found = await budgets.list_budgets(db, now=time.time(), timezone=timezone)
    finally:
        await db.dispose()
    if args.json:
        print(json.dumps([s.as_dict() for s in found], indent=2))
        return 0
    if not found:
        print("no budgets (switchboard budgets set --help)")
        return 0
    from switchboard.services.budget_periods import zone

    tz = zone(timezone)
    print(f"{'ID':>4}  {'FOR':<28} {'PERIOD':<6} {'KIND':<4} {'LIMIT':>12} {'SPENT':>12} "
          f"{'RESERVED':>12}  RESETS ({timezone})")
    for s in found:
        b = s.budget
        print(f"{b.id:>4}  {b.label[:28]:<28} {b.period:<6} {'soft' if b.soft else 'hard':<4} "
              f"{budgets.usd(b.amount):>12} {budgets.usd(s.spent):>12} "
              f"{budgets.usd(s.reserved):>12}  {s.window.resets_at.astimezone(tz):%Y-%m-%d %H:%M}")
    return 0


async def _remove(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import budgets
    from switchboard.services.audit import CLI

    db = await _db()
    try:
        gone = await budgets.remove_budget(db, CLI, args.id)
    finally:
        await db.dispose()
    print(f"budget {gone.id} removed ({gone.title})")
    return 0
