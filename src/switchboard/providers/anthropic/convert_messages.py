"""Neutral history -> the Messages API's ``messages`` array.

Rules of the API this module enforces (https://docs.anthropic.com/en/api/messages):

- Only ``user`` and ``assistant`` roles; consecutive turns of one role are merged (the
  API wants them alternating). Tool results travel as ``tool_result`` blocks in a *user*
  turn, and must come first in that turn's content, before any text.
- Text blocks must not be empty, so empty text parts are left out (nothing is lost).
- Assistant thinking is echoed back verbatim: a ``thinking`` block needs the signature
  Anthropic gave it and a ``redacted_thinking`` block its opaque ``data``; the API
  requires them in the assistant turn before a tool result when thinking is on
  (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#preserving-thinking-blocks).
  Reasoning written by another provider cannot be signed, so it is dropped with a
  warning.
- Tool-call ids from other vendors are normalised (``tool_ids``).

Settings that cannot be carried are reported as ``CallWarning``s, never dropped silently.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from switchboard.spec import (
    CallWarning,
    FilePart,
    ImagePart,
    InvalidRequestError,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    parse_arguments,
)

from .tool_ids import anthropic_tool_id

Block = dict[str, Any]
KIND = "anthropic"


def convert_messages(messages: list[Message], warnings: list[CallWarning]) -> list[Block]:
    """``messages`` must already have had system messages folded out."""
    out: list[Block] = []
    for message in messages:
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _assistant_blocks(message, warnings) if role == "assistant" else \
            _user_blocks(message, warnings)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for turn in out:
        if turn["role"] == "user":
            content = turn["content"]
            turn["content"] = [b for b in content if b["type"] == "tool_result"] + \
                [b for b in content if b["type"] != "tool_result"]
    return out


def _user_blocks(message: Message, warnings: list[CallWarning]) -> list[Block]:
    blocks: list[Block] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            if part.text.strip():
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            blocks.append(_image(part, warnings))
        elif isinstance(part, FilePart):
            block = _document(part, warnings)
            if block is not None:
                blocks.append(block)
        elif isinstance(part, ToolResultPart):
            result: Block = {"type": "tool_result",
                             "tool_use_id": anthropic_tool_id(part.tool_call_id)}
            if part.content:
                result["content"] = part.content
            if part.is_error:
                result["is_error"] = True
            blocks.append(result)
    return blocks


def _assistant_blocks(message: Message, warnings: list[CallWarning]) -> list[Block]:
    blocks: list[Block] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            if part.text.strip():
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCallPart):
            blocks.append({
                "type": "tool_use",
                "id": anthropic_tool_id(part.id),
                "name": part.name,
                "input": _tool_input(part, warnings),
            })
        elif isinstance(part, ReasoningPart):
            block = _reasoning(part, warnings)
            if block is not None:
                blocks.append(block)
        elif isinstance(part, ImagePart):
            warnings.append(CallWarning(
                "unsupported-part",
                "Anthropic accepts images only in user turns; an image in an assistant "
                "message was left out",
            ))
    return blocks


def _image(part: ImagePart, warnings: list[CallWarning]) -> Block:
    if part.detail not in (None, "auto"):
        warnings.append(CallWarning(
            "unsupported-setting",
            f"Anthropic has no image detail level; detail={part.detail!r} was ignored",
            setting="detail",
        ))
    if part.data is not None:
        source: Block = {"type": "base64", "media_type": part.media_type, "data": part.data}
    else:
        url = part.url or ""
        inline = _split_data_url(url)
        if inline is not None:
            source = {"type": "base64", "media_type": inline[0], "data": inline[1]}
        else:
            source = {"type": "url", "url": url}
    return {"type": "image", "source": source}


def _document(part: FilePart, warnings: list[CallWarning]) -> Block | None:
    """PDFs (inline or by URL) and inline plain text become ``document`` blocks
    (https://docs.anthropic.com/en/docs/build-with-claude/pdf-support); other files
    cannot be sent."""
    source: Block | None = None
    if part.media_type == "application/pdf":
        if part.data is not None:
            source = {"type": "base64", "media_type": "application/pdf", "data": part.data}
        else:
            source = {"type": "url", "url": part.url}
    elif part.media_type == "text/plain" and part.data is not None:
        source = {"type": "text", "media_type": "text/plain", "data": _b64_text(part)}
    if source is None:
        warnings.append(CallWarning(
            "unsupported-part",
            f"Anthropic reads PDF files and inline plain text only; a {part.media_type} "
            f"file{' given by URL' if part.url else ''} was left out",
        ))
        return None
    block: Block = {"type": "document", "source": source}
    if part.filename:
        block["title"] = part.filename
    return block


def _b64_text(part: FilePart) -> str:
    try:
        return base64.b64decode(part.data or "", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidRequestError(
            f"file {part.filename or ''!r} says text/plain but its data is not base64 of "
            "UTF-8 text; send it base64-encoded",
            param="messages",
        ) from None


def _split_data_url(url: str) -> tuple[str, str] | None:
    """``data:image/png;base64,AAA`` -> ("image/png", "AAA")."""
    if not url.startswith("data:"):
        return None
    head, sep, data = url[5:].partition(",")
    media_type, _, encoding = head.partition(";")
    if not sep or encoding != "base64":
        raise InvalidRequestError(
            "an image data: URL must be base64 (data:image/png;base64,...)", param="messages"
        )
    return media_type or "image/png", data


def _tool_input(part: ToolCallPart, warnings: list[CallWarning]) -> dict[str, Any]:
    try:
        return parse_arguments(part.arguments)
    except ValueError:
        warnings.append(CallWarning(
            "other",
            f"tool call {part.id!r} ({part.name}) has arguments that are not a JSON object; "
            "they were sent to Anthropic as {}",
        ))
        return {}


def _reasoning(part: ReasoningPart, warnings: list[CallWarning]) -> Block | None:
    ours = (part.provider_metadata or {}).get(KIND) or {}
    if ours.get("redacted_data"):
        return {"type": "redacted_thinking", "data": ours["redacted_data"]}
    if ours.get("signature"):
        return {"type": "thinking", "thinking": part.text, "signature": ours["signature"]}
    origin = ", ".join(sorted(part.provider_metadata or {})) or "no provider"
    warnings.append(CallWarning(
        "unsupported-part",
        f"reasoning from {origin} carries no Anthropic signature, which Anthropic requires "
        "to accept a thinking block; it was left out of the history",
    ))
    return None
