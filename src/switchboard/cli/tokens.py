"""``switchboard tokens``: create (printed once), list and revoke API tokens."""

from __future__ import annotations

import argparse
from datetime import timedelta


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("tokens", help="manage API tokens for the /v1 and /api endpoints")
    s = p.add_subparsers(dest="tokens_command", metavar="COMMAND", required=True)
    new = s.add_parser("create", help="create a token for a user and print it once")
    new.add_argument("--user", required=True, help="the user the token acts as")
    new.add_argument("--name", default="cli", help="a label to recognise the token by")
    new.add_argument("--expires-days", type=int, help="expire after this many days")
    new.set_defaults(handler=_create)
    ls = s.add_parser("list", help="list tokens (never their values)")
    ls.add_argument("--user", help="only this user's tokens")
    ls.set_defaults(handler=_list)
    rv = s.add_parser("revoke", help="revoke a token by id")
    rv.add_argument("id", type=int)
    rv.set_defaults(handler=_revoke)


async def _create(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.db import utcnow
    from switchboard.services import accounts

    if args.expires_days is not None and args.expires_days < 1:
        raise SystemExit("error: --expires-days must be 1 or more")
    db = await _db()
    try:
        user = await accounts.get_user_by_name(db, args.user)
        expires = utcnow() + timedelta(days=args.expires_days) if args.expires_days else None
        token, view = await accounts.create_token(db, user.id, args.name, expires)
    finally:
        await db.dispose()
    print(token)
    import sys

    print(f"token {view.id} ({view.hint}) for {user.username!r} created; it is shown only "
          "now — store it safely", file=sys.stderr)
    return 0


async def _list(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import accounts

    db = await _db()
    try:
        user_id = (await accounts.get_user_by_name(db, args.user)).id if args.user else None
        tokens = await accounts.list_tokens(db, user_id)
    finally:
        await db.dispose()
    print(f"{'ID':>4}  {'USER':>4}  {'NAME':<20} {'HINT':<12} {'STATE':<8} LAST USED")
    for t in tokens:
        state = "active" if t.active else ("revoked" if t.revoked_at else "expired")
        last = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "-"
        print(f"{t.id:>4}  {t.user_id:>4}  {t.name[:20]:<20} {t.hint:<12} {state:<8} {last}")
    return 0


async def _revoke(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import accounts

    db = await _db()
    try:
        await accounts.revoke_token(db, args.id)
    finally:
        await db.dispose()
    print(f"token {args.id} revoked")
    return 0
