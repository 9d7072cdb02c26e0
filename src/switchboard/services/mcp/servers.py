"""MCP servers as configured by admins: the data, its rules, and its audit trail.

A server is a row of ``mcp_servers``: a ``name`` (the namespace of its tools, so it may
not contain the ``.`` that separates ``server.tool``), a transport (``stdio``: a command
line; ``http``: a Streamable HTTP URL), secret settings (env values, header values)
sealed by the vault, a per-call timeout and the policy of its tools (decision 0107).

Writes go through ``catalog_write`` with an audit row, so the cached list (``configs``)
is dropped in every process at once (Redis) or within 5 s (the audit stamp probe): the
manager of connections reads that list on every turn without touching the database.
Audit rows never hold a secret: env and header values appear masked, and a command's
arguments (which may carry a token) not at all.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import Row, select

from switchboard.db import Database, tables
from switchboard.db import models as m
from switchboard.security.vault import Vault
from switchboard.services import audit
from switchboard.services.cache import catalog_cache
from switchboard.services.errors import Conflict, NotFound, ValidationFailed
from switchboard.services.registry_view import stamp
from switchboard.services.tools.contract import ToolPolicy
from switchboard.services.transactions import cache_scope, catalog_write
from switchboard.spec.errors import InvalidRequestError

Transport = Literal["stdio", "http"]
POLICIES: tuple[ToolPolicy, ...] = ("allow", "ask", "deny")
DEFAULT_POLICY: ToolPolicy = "ask"
"""A tool nobody has looked at waits for the user's approval (decision 0107)."""

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
"""Lower case, no dot (``server.tool``), at most 32 so ``server__tool`` fits 64."""
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
"""RFC 9110 token characters."""
RESERVED_HEADERS = frozenset({"host", "content-length", "content-type", "accept",
                              "connection", "transfer-encoding", "mcp-session-id",
                              "mcp-protocol-version", "last-event-id"})
"""Headers the transport itself sets: an admin's value would break the protocol."""
MAX_COMMAND_CHARS = 4096
MAX_ARGS = 64
MAX_URL_CHARS = 2048
MAX_SECRETS = 32
MAX_TIMEOUT_S = 600


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """One server as the manager needs it (cached; secrets still sealed)."""

    id: int
    name: str
    transport: Transport
    command: str | None
    args: tuple[str, ...]
    url: str | None
    env: Mapping[str, Mapping[str, str]]
    headers: Mapping[str, Mapping[str, str]]
    enabled: bool
    timeout_seconds: int
    default_policy: ToolPolicy
    updated_at: datetime | None = None

    @property
    def source(self) -> str:
        return f"mcp:{self.name}"

    def connection_key(self) -> tuple[object, ...]:
        """What a live connection depends on: a change here means reconnecting; a
        change of policies or timeout does not."""
        return (self.transport, self.command, self.args, self.url,
                tuple(sorted((k, v["ciphertext"]) for k, v in self.env.items())),
                tuple(sorted((k, v["ciphertext"]) for k, v in self.headers.items())))

    def open_env(self, vault: Vault) -> dict[str, str]:
        return {k: _open(vault, self.id, "env", k, v) for k, v in self.env.items()}

    def open_headers(self, vault: Vault) -> dict[str, str]:
        return {k: _open(vault, self.id, "header", k, v) for k, v in self.headers.items()}

    def command_line(self) -> str | None:
        if self.command is None:
            return None
        return shlex.join([self.command, *self.args])

    def as_dict(self) -> dict[str, Any]:
        """The admin's view: secrets masked."""
        return {
            "name": self.name, "transport": self.transport, "enabled": self.enabled,
            "command": self.command_line(), "url": self.url,
            "env": {k: v["masked"] for k, v in sorted(self.env.items())},
            "headers": {k: v["masked"] for k, v in sorted(self.headers.items())},
            "timeout_seconds": self.timeout_seconds,
            "default_policy": self.default_policy,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def binding(server_id: int, kind: str, name: str) -> str:
    """What a sealed value is bound to (the vault's associated data): a ciphertext copied
    to another server, or to another name, does not open."""
    return f"mcp:{server_id}:{kind}:{name}"


def _open(vault: Vault, server_id: int, kind: str, name: str,
          sealed: Mapping[str, str]) -> str:
    return vault.open(binding(server_id, kind, name), sealed["ciphertext"],
                      label=f"MCP server setting {name}").get_secret_value()


_servers = tables.mcp_servers


def _config(row: m.McpServer | Row[Any]) -> ServerConfig:
    return ServerConfig(
        id=row.id, name=row.name, transport=row.transport,  # type: ignore[arg-type]
        command=row.command, args=tuple(row.args), url=row.url, env=dict(row.env),
        headers=dict(row.headers), enabled=row.enabled, timeout_seconds=row.timeout_seconds,
        default_policy=row.default_policy,  # type: ignore[arg-type]
        updated_at=row.updated_at)


async def configs(db: Database) -> list[ServerConfig]:
    """Every configured server, cached until an MCP (or catalog) write anywhere."""
    scope = cache_scope(db)
    return await catalog_cache().get(
        (scope, "mcp_servers"), lambda: _load(db), probe=lambda: stamp(db), scope=scope)


async def _load(db: Database) -> list[ServerConfig]:
    """Core: the MCP warm-up reads this on every server a few seconds after its start,
    and a ``/v1`` server never loads the ORM (decisions 0235, 0237)."""
    async with db.transaction(read_only=True) as conn:
        rows = (await conn.execute(select(_servers).order_by(_servers.c.name))).all()
    return [_config(r) for r in rows]


async def get(db: Database, name: str) -> ServerConfig:
    for config in await configs(db):
        if config.name == name:
            return config
    raise NotFound(f"no MCP server named {name!r}")


# -- validation ------------------------------------------------------------------------------


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ValidationFailed(
            "the name must be 1-32 characters: lower-case letters, digits, '-' or '_', "
            "starting with a letter (it is the prefix of the server's tools)", "name")
    return name


def split_command(line: str) -> tuple[str, list[str]]:
    """``"npx -y @scope/server --root '/my files'"`` -> program and arguments (one
    shell-quoted string, split like a POSIX shell would, never run by one)."""
    if len(line) > MAX_COMMAND_CHARS:
        raise ValidationFailed(f"the command is longer than {MAX_COMMAND_CHARS} characters",
                               "command")
    if "\x00" in line:
        raise ValidationFailed("the command contains a NUL character", "command")
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise ValidationFailed(f"the command cannot be split into words: {exc}",
                               "command") from None
    if not words:
        raise ValidationFailed("the command is empty", "command")
    if len(words) > MAX_ARGS + 1:
        raise ValidationFailed(f"the command has more than {MAX_ARGS} arguments", "command")
    return words[0], words[1:]


def check_url(url: str) -> str:
    """http(s) only. Loopback and private addresses are allowed: only admins configure
    servers, and a local MCP server is the common case (brief of issue 14)."""
    if len(url) > MAX_URL_CHARS:
        raise ValidationFailed(f"the URL is longer than {MAX_URL_CHARS} characters", "url")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValidationFailed("the URL is not valid", "url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("the URL must start with http:// or https:// and name a host",
                               "url")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise ValidationFailed("the URL contains spaces or control characters", "url")
    return url


def _check_secret_names(values: Mapping[str, str | None], kind: str) -> None:
    pattern = ENV_NAME if kind == "env" else HEADER_NAME
    field_name = "env" if kind == "env" else "headers"
    for key in values:
        if not pattern.fullmatch(key):
            raise ValidationFailed(f"{key[:70]!r} is not a valid "
                                   f"{'environment variable' if kind == 'env' else 'header'}"
                                   " name", field_name)
        if kind == "header" and key.lower() in RESERVED_HEADERS:
            raise ValidationFailed(f"the header {key!r} is set by the MCP transport itself",
                                   field_name)


def check_policy(policy: str, what: str = "default_policy") -> ToolPolicy:
    if policy not in POLICIES:
        raise ValidationFailed(f"the policy must be one of {', '.join(POLICIES)}", what)
    return policy


def _check_timeout(seconds: int) -> int:
    if not 1 <= seconds <= MAX_TIMEOUT_S:
        raise ValidationFailed(f"the timeout must be 1 to {MAX_TIMEOUT_S} seconds",
                               "timeout_seconds")
    return seconds


def _seal_into(vault: Vault, row: m.McpServer, kind: str, current: dict[str, Any],
               changes: Mapping[str, str | None]) -> dict[str, Any]:
    """``changes``: a value sets (sealed), ``None`` removes; names not given are kept."""
    out = dict(current)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
            continue
        try:
            out[key] = vault.seal_value(binding(row.id, kind, key), value).as_json()
        except InvalidRequestError as exc:
            raise ValidationFailed(f"{key}: {exc.message}",
                                   "env" if kind == "env" else "headers") from None
    if len(out) > MAX_SECRETS:
        raise ValidationFailed(f"at most {MAX_SECRETS} {kind} values per server",
                               "env" if kind == "env" else "headers")
    return out


def _masked(values: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    return {k: v["masked"] for k, v in sorted(values.items())}


# -- writes (admins) -------------------------------------------------------------------------


async def add(db: Database, actor: audit.Actor, vault: Vault, *, name: str,
              command: str | None = None, url: str | None = None,
              env: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
              enabled: bool = True, timeout_seconds: int = 30,
              default_policy: str = DEFAULT_POLICY) -> ServerConfig:
    """Add a server: ``command`` (one shell-quoted line, stdio) or ``url`` (HTTP)."""
    check_name(name)
    if (command is None) == (url is None):
        raise ValidationFailed("give either a command (stdio) or a URL (Streamable HTTP)",
                               "command")
    program, args = split_command(command) if command is not None else (None, [])
    if url is not None:
        check_url(url)
    if env and url is not None:
        raise ValidationFailed("environment values are for a command (stdio) server", "env")
    if headers and command is not None:
        raise ValidationFailed("headers are for a URL (Streamable HTTP) server", "headers")
    _check_secret_names(env or {}, "env")
    _check_secret_names(headers or {}, "header")
    policy = check_policy(default_policy)
    _check_timeout(timeout_seconds)
    async with catalog_write(db, f"adding MCP server {name!r}") as session:
        if await session.scalar(select(m.McpServer.id).where(m.McpServer.name == name)):
            raise Conflict(f"an MCP server named {name!r} exists already")
        row = m.McpServer(name=name, transport="stdio" if program else "http",
                          command=program, args=args, url=url, enabled=enabled,
                          timeout_seconds=timeout_seconds, default_policy=policy)
        session.add(row)
        await session.flush()  # the id binds the sealed values to this row
        row.env = _seal_into(vault, row, "env", {}, env or {})
        row.headers = _seal_into(vault, row, "header", {}, headers or {})
        audit.record(session, actor, "mcp_server.create", target_type="mcp_server",
                     target_id=name, details={
                         "transport": row.transport, "program": program, "url": url,
                         "env": _masked(row.env), "headers": _masked(row.headers),
                         "enabled": enabled, "default_policy": policy})
    return await get(db, name)


async def update(db: Database, actor: audit.Actor, vault: Vault, name: str, *,
                 command: str | None = None, url: str | None = None,
                 env: Mapping[str, str | None] | None = None,
                 headers: Mapping[str, str | None] | None = None,
                 enabled: bool | None = None, timeout_seconds: int | None = None,
                 default_policy: str | None = None) -> ServerConfig:
    """Change what is given; env and header maps merge (``None`` removes one)."""
    if default_policy is not None:
        check_policy(default_policy)
    if timeout_seconds is not None:
        _check_timeout(timeout_seconds)
    _check_secret_names(env or {}, "env")
    _check_secret_names(headers or {}, "header")
    async with catalog_write(db, f"changing MCP server {name!r}") as session:
        row = await session.scalar(select(m.McpServer).where(m.McpServer.name == name))
        if row is None:
            raise NotFound(f"no MCP server named {name!r}")
        changed: dict[str, Any] = {}
        if command is not None:
            if row.transport != "stdio":
                raise ValidationFailed("this server is reached by URL; it has no command",
                                       "command")
            row.command, row.args = split_command(command)
            changed["program"] = row.command
        if url is not None:
            if row.transport != "http":
                raise ValidationFailed("this server is started by a command; it has no URL",
                                       "url")
            row.url = check_url(url)
            changed["url"] = url
        if env:
            if row.transport != "stdio":
                raise ValidationFailed("environment values are for a command (stdio) server",
                                       "env")
            row.env = _seal_into(vault, row, "env", dict(row.env), env)
            changed["env"] = _masked(row.env)
        if headers:
            if row.transport != "http":
                raise ValidationFailed("headers are for a URL (Streamable HTTP) server",
                                       "headers")
            row.headers = _seal_into(vault, row, "header", dict(row.headers), headers)
            changed["headers"] = _masked(row.headers)
        if enabled is not None:
            row.enabled = changed["enabled"] = enabled
        if timeout_seconds is not None:
            row.timeout_seconds = changed["timeout_seconds"] = timeout_seconds
        if default_policy is not None:
            row.default_policy = changed["default_policy"] = default_policy
        audit.record(session, actor, "mcp_server.update", target_type="mcp_server",
                     target_id=name, details=changed)
    return await get(db, name)


async def remove(db: Database, actor: audit.Actor, name: str) -> None:
    async with catalog_write(db, f"removing MCP server {name!r}") as session:
        row = await session.scalar(select(m.McpServer).where(m.McpServer.name == name))
        if row is None:
            raise NotFound(f"no MCP server named {name!r}")
        await session.delete(row)
        audit.record(session, actor, "mcp_server.delete", target_type="mcp_server",
                     target_id=name, details={"transport": row.transport})
