"""Accounts: users, API tokens and the one-time admin setup link. One transaction each.

Passwords: at least 10 characters, no composition rules (NIST SP 800-63B §5.1.1.2: length
beats complexity rules), hashed with Argon2id. Tokens are shown once and stored as a
SHA-256 digest (see ``security.tokens`` for why a fast hash is right for them).
The setup link carries a random token whose digest is stored with an expiry; it is
consumed in the same transaction that creates the first admin, so it works once.

Argon2 runs in ``security.password_pool`` (threads, bounded), never on the event loop
and never inside a transaction: a write transaction holds SQLite's write lock, so a
password check inside one made every other writer wait for it (and fail with "database is
locked" after the busy timeout during a login flood).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update

from switchboard.db import Database, tables, utcnow
from switchboard.db import models as m
from switchboard.security.password_pool import password_pool
from switchboard.security.tokens import generate_token
from switchboard.services.audit import CLI, Actor, record
from switchboard.services.errors import Conflict, NotFound, ValidationFailed
from switchboard.services.revocations import revoking

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from switchboard.db.asyncio_engine import AsyncConnection

# Core tables for what a server's start and its /v1 path do here (the setup check, the
# setup link, the tokens' last use): no ORM query, so the mappers are not configured
# (decision 0235). One alias per table, to switch to ``db.tables`` when it lands.
_users = tables.users
_api_tokens = tables.api_tokens
_setup_tokens = tables.setup_tokens

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
MIN_PASSWORD = 10
SETUP_TTL = timedelta(hours=24)
# A real hash to verify against when the user does not exist, so a login for an unknown
# name costs the same time as one for a known name (no user enumeration by timing).
_DUMMY_HASH: str | None = None


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    display_name: str | None
    role: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    user_id: int
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None
                                            or self.expires_at > utcnow())


def _user(u: m.User) -> UserView:
    return UserView(u.id, u.username, u.display_name, u.role, u.is_active, u.created_at,
                    u.last_login_at)


def _token(t: m.ApiToken) -> TokenView:
    return TokenView(t.id, t.user_id, t.name, t.prefix, t.created_at, t.last_used_at,
                     t.expires_at, t.revoked_at)


def check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME.match(username):
        raise ValidationFailed(
            "username must be 2-64 characters: letters, digits and . _ @ - "
            "(starting with a letter or digit)", field="username")
    return username


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"password must be at least {MIN_PASSWORD} characters",
                               field="password")
    if len(password) > 1024:
        raise ValidationFailed("password must be at most 1024 characters", field="password")


async def create_user(db: Database, username: str, password: str, *, role: str = "user",
                      display_name: str | None = None, actor: Actor = CLI) -> UserView:
    username = check_username(username)
    check_password(password)
    if role not in ("admin", "user"):
        raise ValidationFailed("role must be 'admin' or 'user'", field="role")
    hashed = await password_pool().hash(password)
    async with db.unit_of_work() as session:
        exists = await session.scalar(select(m.User.id).where(
            func.lower(m.User.username) == username.lower()))
        if exists is not None:
            raise Conflict(f"a user named {username!r} already exists")
        user = m.User(username=username, password_hash=hashed, role=role,
                    display_name=display_name)
        session.add(user)
        await session.flush()
        record(session, actor, "user.create", target_type="user", target_id=user.id,
               details={"after": {"username": username, "role": role,
                                  "display_name": display_name}})
        return _user(user)


async def get_user(db: Database, user_id: int) -> UserView:
    async with db.session() as session:
        user = await session.get(m.User, user_id)
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        return _user(user)


async def get_user_by_name(db: Database, username: str) -> UserView:
    async with db.session() as session:
        user = await session.scalar(select(m.User).where(
            func.lower(m.User.username) == username.strip().lower()))
        if user is None:
            raise NotFound(f"no user named {username!r}; `switchboard users list` shows them")
        return _user(user)


async def list_users(db: Database) -> list[UserView]:
    async with db.session() as session:
        return [_user(u) for u in (await session.scalars(select(m.User).order_by(m.User.id)))]


async def update_user(db: Database, user_id: int, *, role: str | None = None,
                      is_active: bool | None = None, display_name: str | None = None,
                      password: str | None = None, actor: Actor = CLI) -> UserView:
    if role is not None and role not in ("admin", "user"):
        raise ValidationFailed("role must be 'admin' or 'user'", field="role")
    hashed = None
    if password is not None:
        check_password(password)
        hashed = await password_pool().hash(password)
    # ``revoking``: a deactivation, a demotion or a new password must reach every
    # process's auth caches (any edit moves the stamp; edits are rare).
    async with revoking(db) as session:
        user = await session.get(m.User, user_id)
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        demoting = (role == "user" or is_active is False) and user.role == "admin"
        if demoting and await _admin_count(session) <= 1:
            raise Conflict("this is the last active admin; make another user admin first")
        before = {"role": user.role, "is_active": user.is_active,
                  "display_name": user.display_name}
        if role is not None:
            user.role = role
        if is_active is not None:
            user.is_active = is_active
        if display_name is not None:
            user.display_name = display_name or None
        if hashed is not None:
            user.password_hash = hashed
        after = {"role": user.role, "is_active": user.is_active,
                 "display_name": user.display_name}
        changed = {k for k in before if before[k] != after[k]}
        record(session, actor, "user.update", target_type="user", target_id=user.id,
               details={"username": user.username,
                        "before": {k: before[k] for k in changed},
                        "after": {k: after[k] for k in changed},
                        "password_changed": hashed is not None})
        return _user(user)


async def _admin_count(runner: AsyncSession | AsyncConnection) -> int:
    count = await runner.scalar(select(func.count()).select_from(_users).where(
        _users.c.role == "admin", _users.c.is_active.is_(True)))
    return int(count or 0)


async def authenticate(db: Database, username: str, password: str) -> UserView | None:
    """The user if the password is right and the account active; ``None`` otherwise.

    Read the user, let go of the database, verify in the password pool, and only then
    write (``last_login_at``, a rehash) in a short transaction. The write is conditional
    on the hash and the active flag being what was verified, so a password change or a
    deactivation that lands during the check wins. Raises ``PasswordPoolBusy`` when too
    many checks are queued already."""
    global _DUMMY_HASH
    pool = password_pool()
    async with db.session() as session:  # a plain read: no write lock during the hash
        user = await session.scalar(select(m.User).where(
            func.lower(m.User.username) == username.strip().lower()))
    if user is None or not user.password_hash:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = await pool.hash(secrets.token_urlsafe(16))
        await pool.verify(_DUMMY_HASH, password)
        await _login_failed(db, username, None)
        return None
    if not await pool.verify(user.password_hash, password) or not user.is_active:
        await _login_failed(db, username, user.id)
        return None
    verified = user.password_hash
    changes: dict[str, object] = {"last_login_at": utcnow()}
    if pool.needs_rehash(verified):
        changes["password_hash"] = await pool.hash(password)
    async with db.unit_of_work() as session:
        done = await session.execute(
            update(m.User).where(m.User.id == user.id, m.User.password_hash == verified,
                               m.User.is_active.is_(True)).values(**changes))
        if getattr(done, "rowcount", 1):
            record(session, Actor(user.username, user.id), "auth.login", target_type="user",
                   target_id=user.id)
    if getattr(done, "rowcount", 1) == 0:
        return None  # changed or deactivated while the password was being checked
    user.last_login_at = changes["last_login_at"]  # type: ignore[assignment]
    return _user(user)


async def _login_failed(db: Database, username: str, user_id: int | None) -> None:
    """A failed login, recorded (the name tried, never the password). Attempts are
    throttled per name and address before they get here (``api.throttle``), so a flood
    cannot turn into a flood of writes."""
    async with db.unit_of_work() as session:
        record(session, Actor(username.strip()[:100] or "?", None), "auth.login_failed",
               target_type="user", target_id=user_id,
               details={"username": username.strip()[:100]})


# -- API tokens ------------------------------------------------------------------------
async def create_token(db: Database, user_id: int, name: str = "default",
                       expires_at: datetime | None = None, *, actor: Actor = CLI
                       ) -> tuple[str, TokenView]:
    """A new token; the plain value is returned here and never again."""
    name = name.strip() or "default"
    if len(name) > 200:
        raise ValidationFailed("token name must be at most 200 characters", field="name")
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationFailed("expires_at must be in the future", field="expires_at")
    new = generate_token()
    async with db.unit_of_work() as session:
        if await session.get(m.User, user_id) is None:
            raise NotFound(f"no user with id {user_id}")
        token = m.ApiToken(user_id=user_id, name=name, token_hash=new.token_hash,
                         prefix=new.hint, expires_at=expires_at)
        session.add(token)
        await session.flush()
        record(session, actor, "token.create", target_type="token", target_id=token.id,
               details={"user_id": user_id, "name": name, "hint": new.hint,
                        "expires_at": expires_at.isoformat() if expires_at else None})
        return new.token, _token(token)


async def list_tokens(db: Database, user_id: int | None = None) -> list[TokenView]:
    async with db.session() as session:
        query = select(m.ApiToken).order_by(m.ApiToken.id)
        if user_id is not None:
            query = query.where(m.ApiToken.user_id == user_id)
        return [_token(t) for t in await session.scalars(query)]


async def revoke_token(db: Database, token_id: int, *, owner_id: int | None = None,
                       actor: Actor = CLI) -> str:
    """Revoke a token (of ``owner_id`` when given: users revoke only their own).
    Returns its digest. Every process's auth cache forgets it within a second."""
    async with revoking(db) as session:
        token = await session.get(m.ApiToken, token_id)
        if token is None or (owner_id is not None and token.user_id != owner_id):
            raise NotFound(f"no API token with id {token_id}")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            record(session, actor, "token.revoke", target_type="token", target_id=token.id,
                   details={"user_id": token.user_id, "name": token.name,
                            "hint": token.prefix})
        return token.token_hash


async def touch_tokens(db: Database, used: dict[int, datetime]) -> None:
    """Record ``last_used_at`` for tokens (batched by the server, not per request)."""
    if not used:
        return
    async with db.transaction() as conn:
        for token_id, when in used.items():
            await conn.execute(update(_api_tokens).where(_api_tokens.c.id == token_id)
                               .values(last_used_at=when))


# -- first-run setup -------------------------------------------------------------------
async def needs_setup(db: Database) -> bool:
    """True while no active admin exists."""
    async with db.transaction(read_only=True) as conn:
        return await _admin_count(conn) == 0


async def has_accounts(db: Database) -> bool:
    """True once any account exists: until then nobody can log in, and the web UI explains
    the setup link instead of showing a login form."""
    async with db.session() as session:
        return await session.scalar(select(m.User.id).limit(1)) is not None


async def create_setup_token(db: Database, ttl: timedelta = SETUP_TTL) -> str:
    """A new one-time setup token (older unused ones stop working)."""
    from switchboard.security.tokens import hash_token

    token = generate_token().token
    async with db.transaction() as conn:
        await conn.execute(update(_setup_tokens).where(_setup_tokens.c.used_at.is_(None))
                              .values(used_at=utcnow()))
        await conn.execute(insert(_setup_tokens).values(
            token_hash=hash_token(token), purpose="admin_setup", expires_at=utcnow() + ttl))
    return token


async def check_setup_token(db: Database, token: str) -> bool:
    from switchboard.security.tokens import hash_token, looks_like_token

    if not looks_like_token(token):
        return False
    async with db.session() as session:
        row = await session.scalar(select(m.SetupToken).where(
            m.SetupToken.token_hash == hash_token(token)))
        return row is not None and row.used_at is None and row.expires_at > utcnow()


async def complete_setup(db: Database, token: str, username: str,
                         password: str) -> UserView:
    """Create the first admin with a valid setup token, consuming it (one transaction)."""
    from switchboard.security.tokens import hash_token, looks_like_token

    username = check_username(username)
    check_password(password)
    if not looks_like_token(token):
        raise ValidationFailed("this setup link is not valid", field="token")
    hashed = await password_pool().hash(password)
    async with db.unit_of_work() as session:
        row = await session.scalar(select(m.SetupToken).where(
            m.SetupToken.token_hash == hash_token(token)).with_for_update())
        if row is None or row.used_at is not None or row.expires_at <= utcnow():
            raise ValidationFailed(
                "this setup link has expired or was already used; run `switchboard serve` "
                "again (it prints a new link while no admin exists) or `switchboard users "
                "add NAME --admin`", field="token")
        if await _admin_count(session) > 0:
            raise Conflict("an admin already exists; log in instead")
        if await session.scalar(select(m.User.id).where(
                func.lower(m.User.username) == username.lower())) is not None:
            raise Conflict(f"a user named {username!r} already exists")
        row.used_at = utcnow()
        user = m.User(username=username, password_hash=hashed, role="admin")
        session.add(user)
        await session.flush()
        record(session, Actor(username, user.id), "user.create", target_type="user",
               target_id=user.id, details={"after": {"username": username, "role": "admin"},
                                           "via": "setup link"})
        return _user(user)
