"""``switchboard users``: add, list, set a password, make admin, deactivate.

Passwords are read from a hidden prompt, or from standard input when it is not a
terminal (for scripts) — never from the command line, where they would land in the
shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.db import Database


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("users", help="manage user accounts")
    s = p.add_subparsers(dest="users_command", metavar="COMMAND", required=True)
    add = s.add_parser("add", help="create a user (password from a prompt or stdin)")
    add.add_argument("username")
    add.add_argument("--admin", action="store_true", help="give the user the admin role")
    add.add_argument("--display-name")
    add.set_defaults(handler=_add)
    ls = s.add_parser("list", help="list users")
    ls.set_defaults(handler=_list)
    pw = s.add_parser("set-password", help="set a user's password (prompt or stdin)")
    pw.add_argument("username")
    pw.set_defaults(handler=_set_password)
    role = s.add_parser("set-role", help="make a user admin or plain user")
    role.add_argument("username")
    role.add_argument("role", choices=["admin", "user"])
    role.set_defaults(handler=_set_role)
    off = s.add_parser("deactivate", help="disable a user's login and tokens")
    off.add_argument("username")
    off.set_defaults(handler=_deactivate)
    on = s.add_parser("activate", help="re-enable a user")
    on.add_argument("username")
    on.set_defaults(handler=_activate)


def read_secret(prompt: str, *, confirm: bool = False) -> str:
    """A secret from a hidden prompt, or the first line of stdin when piped."""
    if not sys.stdin.isatty():
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise SystemExit(f"error: expected the {prompt.lower()} on standard input")
        return value
    value = getpass.getpass(f"{prompt}: ")
    if confirm and getpass.getpass(f"{prompt} (again): ") != value:
        raise SystemExit("error: the two entries differ; nothing was changed")
    return value


async def _db() -> Database:
    from switchboard.db.migrate import ensure_schema

    await ensure_schema()
    from switchboard.db import Database

    return Database.from_settings()


async def _add(args: argparse.Namespace) -> int:
    from switchboard.services import accounts

    password = read_secret("Password", confirm=True)
    db = await _db()
    try:
        user = await accounts.create_user(db, args.username, password,
                                          role="admin" if args.admin else "user",
                                          display_name=args.display_name)
    finally:
        await db.dispose()
    print(f"created {user.role} {user.username!r} (id {user.id})")
    return 0


async def _list(args: argparse.Namespace) -> int:
    from switchboard.services import accounts

    db = await _db()
    try:
        users = await accounts.list_users(db)
    finally:
        await db.dispose()
    if not users:
        print("no users yet: `switchboard users add NAME --admin` creates the first admin")
        return 0
    print(f"{'ID':>4}  {'USERNAME':<24} {'ROLE':<6} {'ACTIVE':<6} LAST LOGIN")
    for u in users:
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "-"
        print(f"{u.id:>4}  {u.username:<24} {u.role:<6} {'yes' if u.is_active else 'no':<6} "
              f"{last}")
    return 0


async def _update(username: str, **changes: object) -> int:
    from switchboard.services import accounts
    from switchboard.services.sessions import SessionStore

    db = await _db()
    try:
        user = await accounts.get_user_by_name(db, username)
        user = await accounts.update_user(db, user.id, **changes)  # type: ignore[arg-type]
        if changes.get("password") is not None or changes.get("is_active") is False:
            # As the /api/users route does: a new password or a deactivation ends the
            # user's browser sessions (a stolen cookie must not outlive a reset).
            await SessionStore(db).revoke_user(user.id)
    finally:
        await db.dispose()
    print(f"updated {user.username!r}: role {user.role}, "
          f"{'active' if user.is_active else 'inactive'}")
    return 0


async def _set_password(args: argparse.Namespace) -> int:
    return await _update(args.username, password=read_secret("New password", confirm=True))


async def _set_role(args: argparse.Namespace) -> int:
    return await _update(args.username, role=args.role)


async def _deactivate(args: argparse.Namespace) -> int:
    return await _update(args.username, is_active=False)


async def _activate(args: argparse.Namespace) -> int:
    return await _update(args.username, is_active=True)
