"""``search_conversations``: find what the user said or was told in earlier conversations.

Scoped by the principal the turn runs for, always: the search is
``services.conversations.list_conversations`` (every query filtered by ``user_id``, the
same search as the sidebar's), so another user's conversations cannot be found however
the model words its query. The conversation the turn belongs to is left out (it would
always match the question being asked). Bounded: the query's length, the conversations
returned (``MAX_RESULTS``), the messages read per conversation and the snippet's size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services.tools.contract import ToolContext, ToolOutput, ToolSpec

MAX_QUERY_CHARS = 200
MAX_RESULTS = 10
DEFAULT_RESULTS = 5
MESSAGES_READ = 200
"""Messages read per conversation to find a snippet (the newest; the title or an older
message may be what matched, then the snippet is the conversation's start)."""
SNIPPET_CHARS = 240

SPEC = ToolSpec(
    name="search_conversations",
    description=(
        "Search the user's own earlier conversations (titles and message text) for words "
        "or a phrase, case-insensitively. Use it when the user refers to something "
        "discussed before (\"what did we decide about…\", \"the recipe from last week\"). "
        "Returns up to 10 conversations, newest first, each with its id, title and a "
        "snippet around the match. The current conversation is not searched."
    ),
    parameters={
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS,
                      "description": "Words or a phrase to look for"},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS,
                      "description": f"How many conversations at most (default "
                                     f"{DEFAULT_RESULTS})"},
        },
        "required": ["query"],
        "additionalProperties": False,
    },
    source="builtin",
    timeout_s=10.0,
    max_result_chars=8_000,
)


def snippet(text: str, query: str) -> str | None:
    """About ``SNIPPET_CHARS`` of ``text`` around the first match of ``query``, on one
    line; None when it does not occur."""
    at = text.lower().find(query.lower())
    if at < 0:
        return None
    start = max(at - SNIPPET_CHARS // 3, 0)
    end = min(start + SNIPPET_CHARS, len(text))
    piece = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")


class SearchConversations:
    """The ``search_conversations`` tool."""

    spec = SPEC

    def __init__(self, db: Database) -> None:
        self.db = db

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        query = arguments.get("query")
        limit = arguments.get("limit", DEFAULT_RESULTS)
        if not isinstance(query, str) or not query.strip():
            return ToolOutput("search_conversations needs a 'query' string",
                              is_error=True)
        query = " ".join(query.split())
        if len(query) > MAX_QUERY_CHARS:
            return ToolOutput(f"search_conversations: the query has {len(query):,} "
                              f"characters; at most {MAX_QUERY_CHARS}", is_error=True)
        if isinstance(limit, bool) or not isinstance(limit, int) \
                or not 1 <= limit <= MAX_RESULTS:
            limit = DEFAULT_RESULTS
        # the conversations service with the tool's first call, not with the toolbox every
        # start builds (decision 0221)
        from switchboard.services.conversations import list_conversations

        found, _ = await list_conversations(self.db, context.principal.user_id,
                                            limit=limit + 1, q=query)
        found = [c for c in found if c.id != context.conversation_id][:limit]
        if not found:
            return ToolOutput(f"No earlier conversation mentions {query!r}.",
                              structured={"results": []})
        texts = await self._snippets([c.id for c in found], query)
        results = []
        lines = []
        for conversation in found:
            title = conversation.title or "Untitled conversation"
            text = texts.get(conversation.id) or ""
            results.append({"conversation_id": conversation.id, "title": title,
                            "snippet": text, "updated_at": conversation.updated_at.isoformat()})
            lines.append(f"- [conversation {conversation.id}] {title} "
                         f"({conversation.updated_at:%Y-%m-%d})" + (f": {text}" if text else ""))
        return ToolOutput(f"{len(found)} conversation(s) mention {query!r}:\n"
                          + "\n".join(lines), structured={"results": results})

    async def _snippets(self, ids: Sequence[int], query: str) -> dict[int, str]:
        """A snippet per conversation, from its newest messages that match (the ids are
        the user's own: they came from the scoped search)."""
        from switchboard.services.chat_history import text_of  # as in run (decision 0221)

        out: dict[int, str] = {}
        async with self.db.session() as session:
            for conversation_id in ids:
                rows = (await session.execute(
                    select(m.Message.parts).where(m.Message.conversation_id == conversation_id)
                    .order_by(m.Message.id.desc()).limit(MESSAGES_READ))).scalars()
                for parts in rows:
                    piece = snippet(text_of(parts), query)
                    if piece is not None:
                        out[conversation_id] = piece
                        break
        return out
