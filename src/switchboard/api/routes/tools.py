"""Tools a model may use in the chat (``/api/tools``; ``services.tools.toolbox``).

- ``GET /api/tools`` — the tools the caller may turn on in a turn: name, description,
  source (``builtin`` or ``mcp:<server>``), whether it is on by default, its policy
  (``allow`` runs at once, ``ask`` waits for the user's approval). The composer's tools
  menu reads it: nothing when the caller's ``tool_loop`` feature is off, no MCP tool
  when ``mcp`` is. An administrator adding ``?all=true`` also gets the tools that are
  turned off or denied (Settings → Tools); for anyone else ``all`` changes nothing.
- ``PATCH /api/tools/{name}`` (administrators) — ``enabled``, ``default_on``, ``policy``;
  a field sent as ``null`` goes back to the tool's default, a field left out is kept.
  Each change is an audit row (``tool.update``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict

from switchboard.api.auth import current_principal, require_admin, require_csrf, state_of
from switchboard.api.routes.catalog import actor_of
from switchboard.api.tokens import Principal
from switchboard.services.tools.toolbox import MAX_NAME_CHARS

router = APIRouter(tags=["tools"])

ToolName = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS)]


class ToolSettingsBody(BaseModel):
    """What an administrator changes about a tool; ``null`` = the tool's default."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    default_on: bool | None = None
    policy: Literal["allow", "ask", "deny"] | None = None


@router.get("/api/tools")
async def list_tools(request: Request,
                     everything_asked: bool = Query(default=False, alias="all"),
                     who: Principal = Depends(current_principal)) -> dict[str, Any]:
    everything = everything_asked and who.is_admin
    tools = await state_of(request).toolbox.catalog(everything=everything, principal=who)
    return {"data": [t.as_dict() if everything else {
        k: v for k, v in t.as_dict().items() if k not in ("enabled", "changed")}
        for t in tools]}


@router.patch("/api/tools/{name}", dependencies=[Depends(require_csrf)])
async def update_tool(name: ToolName, body: ToolSettingsBody, request: Request,
                      who: Principal = Depends(require_admin)) -> dict[str, Any]:
    changes = {key: getattr(body, key) for key in body.model_fields_set}
    info = await state_of(request).toolbox.configure(actor_of(who), name, changes)
    return info.as_dict()
