"""``/api/mcp-servers``: MCP servers as sources of tools, admins only (issue 14).

List, add, change (``PATCH``: env and headers merge; ``null`` removes one), remove,
and ``POST .../{name}/test`` (connects afresh, lists the tools, says how
long it took or what went wrong: always a 200 with ``ok``, since a server that is down is
an answer, not an error of this API). Env and header values go from the body to the
vault; only their masks come back. ``GET .../{name}/tools`` is what this process's
shared session discovered. One tool's policy is set like any tool's:
``PATCH /api/tools/{name}`` (the toolbox's settings).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from switchboard.api.auth import require_admin, require_csrf, state_of
from switchboard.api.routes.catalog import actor_of
from switchboard.api.tokens import Principal
from switchboard.services.mcp import servers
from switchboard.services.tools.contract import ToolPolicy

router = APIRouter(prefix="/api/mcp-servers", tags=["mcp"])
WRITE = [Depends(require_admin), Depends(require_csrf)]

ServerName = Annotated[str, Path(min_length=1, max_length=32, pattern=servers.NAME.pattern)]
SecretName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
SecretValue = Annotated[str, StringConstraints(max_length=8192)]


class ServerBody(BaseModel):
    """A new server: ``command`` (one shell-quoted line, started over stdio) or ``url``
    (Streamable HTTP)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=32)
    command: str | None = Field(None, min_length=1, max_length=servers.MAX_COMMAND_CHARS)
    url: str | None = Field(None, min_length=1, max_length=servers.MAX_URL_CHARS)
    env: dict[SecretName, SecretValue] = Field(default_factory=dict,
                                               max_length=servers.MAX_SECRETS)
    headers: dict[SecretName, SecretValue] = Field(default_factory=dict,
                                                   max_length=servers.MAX_SECRETS)
    enabled: bool = True
    timeout_seconds: int = Field(30, ge=1, le=servers.MAX_TIMEOUT_S)
    default_policy: ToolPolicy = servers.DEFAULT_POLICY


class ServerChange(BaseModel):
    """What to change; everything else stays."""

    model_config = ConfigDict(extra="forbid")
    command: str | None = Field(None, min_length=1, max_length=servers.MAX_COMMAND_CHARS)
    url: str | None = Field(None, min_length=1, max_length=servers.MAX_URL_CHARS)
    env: dict[SecretName, SecretValue | None] | None = Field(
        None, max_length=servers.MAX_SECRETS)
    headers: dict[SecretName, SecretValue | None] | None = Field(
        None, max_length=servers.MAX_SECRETS)
    enabled: bool | None = None
    timeout_seconds: int | None = Field(None, ge=1, le=servers.MAX_TIMEOUT_S)
    default_policy: ToolPolicy | None = None


@router.get("", dependencies=[Depends(require_admin)])
async def list_servers(request: Request) -> dict[str, Any]:
    found = await servers.configs(state_of(request).db)
    return {"servers": [c.as_dict() for c in found]}


@router.post("", status_code=201, dependencies=WRITE)
async def add_server(body: ServerBody, request: Request,
                     who: Principal = Depends(require_admin)) -> dict[str, Any]:
    state = state_of(request)
    added = await servers.add(
        state.db, actor_of(who), state.mcp.vault(), name=body.name, command=body.command,
        url=body.url, env=body.env, headers=body.headers, enabled=body.enabled,
        timeout_seconds=body.timeout_seconds, default_policy=body.default_policy)
    return added.as_dict()


@router.get("/{name}", dependencies=[Depends(require_admin)])
async def get_server(name: ServerName, request: Request) -> dict[str, Any]:
    return (await servers.get(state_of(request).db, name)).as_dict()


@router.patch("/{name}", dependencies=WRITE)
async def change_server(name: ServerName, body: ServerChange, request: Request,
                        who: Principal = Depends(require_admin)) -> dict[str, Any]:
    state = state_of(request)
    changed = await servers.update(
        state.db, actor_of(who), state.mcp.vault(), name, command=body.command,
        url=body.url, env=body.env, headers=body.headers, enabled=body.enabled,
        timeout_seconds=body.timeout_seconds, default_policy=body.default_policy)
    return changed.as_dict()


@router.delete("/{name}", status_code=204, dependencies=WRITE)
async def remove_server(name: ServerName, request: Request,
                        who: Principal = Depends(require_admin)) -> None:
    await servers.remove(state_of(request).db, actor_of(who), name)


@router.post("/{name}/test", dependencies=WRITE)
async def test_server(name: ServerName, request: Request) -> dict[str, Any]:
    return (await state_of(request).mcp.test(name)).as_dict()


@router.get("/{name}/tools", dependencies=[Depends(require_admin)])
async def server_tools(name: ServerName, request: Request) -> dict[str, Any]:
    """The tools this process's session to the server discovered (it connects if it has
    not yet)."""
    state = state_of(request)
    config = await servers.get(state.db, name)
    conn = await state.mcp.connection(name)
    tools = await conn.list_tools() if conn is not None else []
    return {
        "name": name, "enabled": config.enabled,
        "connected": conn is not None and conn.connected,
        "error": conn.last_error if conn is not None else None,
        "tools": [{"name": t.name, "public_name": f"{name}.{t.name}",
                   "description": t.description}
                  for t in tools],
    }
