"""Conversations (``/api/conversations``) and message ratings (``/api/messages``).

Only the owner sees a conversation: anyone else gets 404, as for one that does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from switchboard.api.auth import current_principal, require_csrf, state_of
from switchboard.api.params import PathId, QueryId, RowId
from switchboard.api.tokens import Principal
from switchboard.services import conversations as service
from switchboard.services.conversation_export import ExportFormat, export_conversation

router = APIRouter(tags=["conversations"])


class ConversationUpdate(BaseModel):
    """What a PATCH may change; fields left out stay as they are. An empty
    ``system_prompt`` (or null) goes back to the user's preference."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=service.MAX_TITLE)
    system_prompt: str | None = Field(default=None, max_length=service.MAX_SYSTEM_PROMPT)
    pinned: bool | None = None
    tools: list[str] | None = Field(default=None, max_length=service.MAX_TOOLS)
    """The tools switched on in the conversation's composer (remembered across reloads)."""


class VersionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: RowId


class RatingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=-1, le=1)


@router.get("/api/conversations")
async def list_conversations(
    request: Request,
    limit: int = Query(30, ge=1, le=service.MAX_PAGE),
    before: QueryId = None,
    q: str | None = Query(None, max_length=200),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    items, next_before = await service.list_conversations(
        state_of(request).db, who.user_id, limit=limit, before=before, q=q)
    return {"items": [i.model_dump(mode="json") for i in items], "next_before": next_before}


@router.get("/api/conversations/{conversation_id}")
async def get_conversation(request: Request, conversation_id: PathId,
                           who: Principal = Depends(current_principal)) -> dict[str, Any]:
    conversation, messages = await service.get_conversation(
        state_of(request).db, who.user_id, conversation_id)
    return {**conversation.model_dump(mode="json"),
            "messages": [msg.model_dump(mode="json") for msg in messages]}


@router.get("/api/conversations/{conversation_id}/export")
async def export(request: Request, conversation_id: PathId,
                 format: ExportFormat = Query("markdown"),
                 who: Principal = Depends(current_principal)) -> Response:
    """The conversation as a file: ``markdown`` to read, ``json`` to archive (lossless)."""
    exported = await export_conversation(state_of(request).db, who.user_id,
                                         conversation_id, format)
    return Response(exported.content, media_type=exported.media_type, headers={
        "content-disposition": f'attachment; filename="{exported.filename}"',
        "cache-control": "no-store",
    })


@router.patch("/api/conversations/{conversation_id}", dependencies=[Depends(require_csrf)])
async def update_conversation(request: Request, conversation_id: PathId,
                              body: ConversationUpdate,
                              who: Principal = Depends(current_principal)) -> dict[str, Any]:
    view = await service.update_conversation(
        state_of(request).db, who.user_id, conversation_id, title=body.title,
        system_prompt=body.system_prompt,
        clear_system_prompt="system_prompt" in body.model_fields_set
        and body.system_prompt is None, pinned=body.pinned, tools=body.tools)
    return view.model_dump(mode="json")


@router.put("/api/conversations/{conversation_id}/version",
            dependencies=[Depends(require_csrf)])
async def show_version(request: Request, conversation_id: PathId, body: VersionBody,
                       who: Principal = Depends(current_principal)) -> dict[str, Any]:
    """Show another version of a message (and its newest continuation)."""
    conversation, messages = await service.show_version(
        state_of(request).db, who.user_id, conversation_id, body.message_id)
    return {**conversation.model_dump(mode="json"),
            "messages": [msg.model_dump(mode="json") for msg in messages]}


@router.delete("/api/conversations/{conversation_id}", status_code=204,
               dependencies=[Depends(require_csrf)])
async def delete_conversation(request: Request, conversation_id: PathId,
                              who: Principal = Depends(current_principal)) -> Response:
    state = state_of(request)
    await service.delete_conversation(state.db, who.user_id, conversation_id,
                                      state.files)
    return Response(status_code=204)


@router.put("/api/messages/{message_id}/rating", dependencies=[Depends(require_csrf)])
async def rate_message(request: Request, message_id: PathId, body: RatingBody,
                       who: Principal = Depends(current_principal)) -> dict[str, Any]:
    view = await service.rate_message(state_of(request).db, who.user_id, message_id,
                                      body.rating)
    return view.model_dump(mode="json")
