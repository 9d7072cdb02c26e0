"""An MCP ``CallToolResult`` as a ``ToolOutput``: text for the model, images carried into
the message, structured content kept — each within bounds.

Content types (https://modelcontextprotocol.io/specification/2025-06-18/server/tools#tool-result):
``text`` is joined; ``image`` becomes an ``ImagePart`` (base64 as sent); ``audio``, an
embedded resource or a resource link is named in the text, since no model of ours takes
them as a tool result. ``structuredContent`` goes to ``ToolOutput.structured`` and, when
the server sent no text, into the text as JSON (the model reads text).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import mcp_types as types
import orjson

from switchboard.services.tools.contract import ToolOutput
from switchboard.spec.messages import ImagePart

MAX_IMAGES = 4
MAX_IMAGE_BYTES = 5 * 1024 * 1024
"""Per image, decoded: the largest an image a vendor takes inline (Anthropic: 5 MB)."""
MAX_STRUCTURED_BYTES = 64 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def to_output(result: types.CallToolResult, *, max_chars: int) -> ToolOutput:
    texts: list[str] = []
    images: list[ImagePart] = []
    notes: list[str] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            texts.append(block.text)
        elif isinstance(block, types.ImageContent):
            image = _image(block)
            if isinstance(image, str):
                notes.append(image)
            elif len(images) >= MAX_IMAGES:
                notes.append(f"[more than {MAX_IMAGES} images: the rest were left out]")
            else:
                images.append(image)
        elif isinstance(block, types.AudioContent):
            notes.append(f"[audio ({block.mime_type}) not shown]")
        elif isinstance(block, types.EmbeddedResource):
            resource = block.resource
            if isinstance(resource, types.TextResourceContents):
                texts.append(resource.text)
            else:
                notes.append(f"[resource {str(resource.uri)[:200]} not shown]")
        elif isinstance(block, types.ResourceLink):
            notes.append(f"[resource link: {str(block.uri)[:200]}]")
    structured = _structured(result.structured_content, notes)
    text = "\n".join(texts)
    if not text and structured is not None:
        text = orjson.dumps(structured).decode()
    text = "\n".join(part for part in (text, *notes) if part)
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n[cut: the result had more than {max_chars} characters]"
    if not text and not images:
        text = "(the tool returned nothing)"
    return ToolOutput(text=text, images=tuple(images), structured=structured,
                      is_error=bool(result.is_error))


def _image(block: types.ImageContent) -> ImagePart | str:
    media_type = block.mime_type.lower()
    if media_type not in IMAGE_TYPES:
        return f"[an image of type {media_type[:40]} was left out]"
    if len(block.data) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        return "[an image larger than 5 MB was left out]"
    try:
        base64.b64decode(block.data, validate=True)
    except (binascii.Error, ValueError):
        return "[an image that was not valid base64 was left out]"
    return ImagePart(media_type=media_type, data=block.data)


def _structured(value: dict[str, Any] | None, notes: list[str]) -> dict[str, Any] | None:
    if value is None:
        return None
    if len(orjson.dumps(value)) > MAX_STRUCTURED_BYTES:
        notes.append("[structured content larger than 64 KiB was left out]")
        return None
    return value
