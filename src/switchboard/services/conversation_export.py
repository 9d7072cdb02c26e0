"""A conversation as a file the user keeps: Markdown to read or paste, JSON to archive.

Both are built from the same views the UI reads (``get_conversation``), so an export
never shows more than its owner may see, and never less than the conversation holds:

- **JSON** is lossless: every message with all its parts (files with their data; an
  image kept in the file store by its ``file.sha256`` reference, decision 0141; tool
  calls and results, reasoning), the model that answered, tokens, cost and status.
  ``format``/``version`` name the layout so a later import can read old files.
- **Markdown** is for people: the text, tool calls and results as fenced blocks,
  reasoning folded in ``<details>``, and a short note where a part is binary (an image is
  named by its media type, not pasted as base64) or an answer was cut short.

Fences are made longer than any run of backticks inside the content, so a message that
itself contains a fenced block cannot close ours early.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from switchboard.db import Database
from switchboard.services.conversations import ConversationView, MessageView, get_conversation

ExportFormat = Literal["markdown", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("markdown", "json")
JSON_LAYOUT = "switchboard.conversation"
JSON_VERSION = 1

_MEDIA_TYPES: dict[ExportFormat, tuple[str, str]] = {
    "markdown": ("text/markdown; charset=utf-8", "md"),
    "json": ("application/json", "json"),
}
_ROLE_HEADINGS = {"user": "You", "assistant": "Assistant", "system": "System",
                  "tool": "Tool"}


class Export:
    """One exported file: its bytes, media type and a safe file name."""

    __slots__ = ("content", "filename", "media_type")

    def __init__(self, content: bytes, media_type: str, filename: str) -> None:
        self.content = content
        self.media_type = media_type
        self.filename = filename


async def export_conversation(db: Database, user_id: int, conversation_id: int,
                              fmt: ExportFormat, *, now: datetime | None = None) -> Export:
    conversation, messages = await get_conversation(db, user_id, conversation_id)
    when = now or datetime.now(UTC)
    media_type, suffix = _MEDIA_TYPES[fmt]
    if fmt == "json":
        content = as_json(conversation, messages, when)
    else:
        content = as_markdown(conversation, messages, when).encode()
    return Export(content, media_type, f"{file_stem(conversation)}.{suffix}")


def as_json(conversation: ConversationView, messages: list[MessageView],
            when: datetime) -> bytes:
    document = {
        "format": JSON_LAYOUT,
        "version": JSON_VERSION,
        "exported_at": when.isoformat(),
        "conversation": conversation.model_dump(mode="json"),
        "messages": [message.model_dump(mode="json") for message in messages],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)


def as_markdown(conversation: ConversationView, messages: list[MessageView],
                when: datetime) -> str:
    title = conversation.title or "Conversation"
    lines = [f"# {_one_line(title)}", ""]
    about = f"Exported from Switchboard on {when.strftime('%Y-%m-%d %H:%M')} UTC"
    if conversation.model:
        about += f" · last model: {conversation.model}"
    lines += [f"_{about}_", ""]
    for message in messages:
        lines += _message_markdown(message)
    return "\n".join(lines).rstrip() + "\n"


def _message_markdown(message: MessageView) -> list[str]:
    heading = _ROLE_HEADINGS.get(message.role, message.role.title())
    if message.role == "assistant" and message.model:
        heading += f" · {message.model}"
    lines = [f"## {heading}", ""]
    if message.auto and message.auto.get("reason"):  # why Auto chose this model
        lines += [f"_Auto: {_one_line(str(message.auto['reason']))}_", ""]
    for part in message.parts:
        lines += _part_markdown(part)
    if message.status != "complete":
        reason = message.error or message.status
        lines += [f"> _{'Not finished' if message.status == 'partial' else 'Failed'}: "
                  f"{_one_line(reason)}_", ""]
    return lines


def _part_markdown(part: dict[str, Any]) -> list[str]:
    kind = part.get("type")
    if kind == "text":
        return [str(part.get("text", "")), ""]
    if kind == "reasoning":
        text = str(part.get("text", "")).strip()
        if not text:
            return []
        return ["<details><summary>Thinking</summary>", "", text, "", "</details>", ""]
    if kind == "tool-call":
        return [f"**Tool call:** `{_one_line(str(part.get('name', '')))}`", "",
                *_fenced(str(part.get("arguments", "")), "json")]
    if kind == "tool-result":
        label = "Tool error" if part.get("is_error") else "Tool result"
        name = part.get("name")
        heading = f"**{label}:** `{_one_line(str(name))}`" if name else f"**{label}:**"
        return [heading, "", *_fenced(str(part.get("content", "")), "")]
    if kind == "image":
        url = part.get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return [f"![image]({url})", ""]
        meta = part.get("meta") if isinstance(part.get("meta"), dict) else None
        if meta and meta.get("prompt"):  # an image model's picture (decision 0141)
            size = f" ({_one_line(str(meta.get('size')))})" if meta.get("size") else ""
            return [f"_[picture{size} drawn from: {_one_line(str(meta['prompt']))}]_", ""]
        return [f"_[image: {_one_line(str(part.get('media_type', 'image')))}]_", ""]
    if kind == "file":
        name = part.get("filename") or part.get("media_type") or "file"
        return [f"_[attachment: {_one_line(str(name))}]_", ""]
    return []


def _fenced(text: str, language: str) -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", text, fence, ""]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def file_stem(conversation: ConversationView) -> str:
    """A file name anyone's file system accepts: ASCII letters, digits and dashes from
    the title (accents folded), never empty, never longer than 80 characters."""
    folded = unicodedata.normalize("NFKD", conversation.title or "")
    ascii_title = folded.encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-").lower()[:80].strip("-")
    return stem or f"conversation-{conversation.id}"
