"""Neutral messages -> Mistral's ``messages`` array.

Shapes follow Mistral's openapi (``SystemMessage``, ``UserMessage``, ``AssistantMessage``,
``ToolMessage``, ``ContentChunk``; https://docs.mistral.ai/api/#tag/chat). Every message
schema there forbids unknown fields, so only documented keys are written. Cross-vendor
history is made acceptable here: tool-call ids are mapped to Mistral's 9-character format
(``tool_ids``), reasoning that belongs to another vendor is dropped with a warning, and a
part Mistral cannot take is reported, never silently lost.

Mistral refuses a ``user`` message right after ``tool`` results ("Unexpected role 'user'
after role 'tool'", code 3230), which other vendors accept. The pictures a tool returned
come as exactly such a message (``spec.TOOL_PICTURES``, Switchboard's tool loop), so they
are folded into the last tool message instead, whose ``content`` may be a list of
content chunks (``ToolMessage`` in the openapi). Any other message after ``tool`` results
(a new question after a tool loop that was stopped, or hit its step cap, between results
and answer; a system message) gets a bridging ``assistant`` message before it, the
repair other clients of Mistral's API make (e.g.
https://github.com/zed-industries/zed/pull/31736). Mistral's openapi does not state the
order rule; it is the server's validation (error code 3230). The bridge has text because
an ``assistant`` message with neither content nor tool calls is refused too ("Assistant
message must have either content or tool_calls", code 3240). Such a message is what a
caller of ``/v1`` sends for an answer that came back empty (other vendors take it), so it
is sent as a short placeholder that says so, with a warning, rather than dropped: the
turn stays where it was, and no two ``user`` messages end up side by side.
"""

from __future__ import annotations

from typing import Any

from switchboard.providers.mistral.tool_ids import mistral_tool_id
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    FilePart,
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    is_tool_pictures,
)

KIND = "mistral"
Json = dict[str, Any]

BRIDGE = "(The answer stopped after these tool results.)"
"""The bridging assistant turn between ``tool`` results and a following non-tool message:
true to what happened (no answer was written), short, and never shown to the user."""

EMPTY_ANSWER = "(This answer was empty.)"
"""An ``assistant`` message that had neither text nor tool calls (code 3240: see above)."""


def convert_messages(request: ChatRequest, warnings: list[CallWarning]) -> list[Json]:
    names = _tool_names(request.messages)
    out: list[Json] = []
    if request.system:
        out.append({"role": "system", "content": request.system})
    for message in request.messages:
        if message.role in ("system", "user") and out and out[-1]["role"] == "tool" \
                and not is_tool_pictures(message):
            out.append({"role": "assistant", "content": BRIDGE})  # code 3230: see above
        if message.role == "system":
            out.append({"role": "system", "content": message.text})
        elif message.role == "user" and is_tool_pictures(message) and out \
                and out[-1]["role"] == "tool":
            pictures, question = _split_tool_pictures(message)
            _fold_into_tool_result(out[-1], _user_content(pictures, warnings))
            if question is not None:  # the next question came with them: bridged
                out.append({"role": "assistant", "content": BRIDGE})
                out.append({"role": "user", "content": _user_content(question, warnings)})
        elif message.role == "user":
            out.append({"role": "user", "content": _user_content(message, warnings)})
        elif message.role == "assistant":
            out.append(_assistant(message, warnings))
        else:
            out.extend(_tool_results(message, names, warnings))
    return out


def _tool_names(messages: list[Message]) -> dict[str, str]:
    """Tool name by call id, to fill ``name`` on results that were stored without it."""
    return {
        part.id: part.name
        for m in messages if m.role == "assistant"
        for part in m.parts if isinstance(part, ToolCallPart)
    }


def _image(part: ImagePart) -> Json:
    # ``image_url`` is either a URL string or ``{url, detail}``; Mistral takes https URLs
    # and ``data:`` URLs alike (https://docs.mistral.ai/capabilities/vision/).
    if part.detail is None:
        return {"type": "image_url", "image_url": part.data_url()}
    return {"type": "image_url", "image_url": {"url": part.data_url(), "detail": part.detail}}


def _file(part: FilePart, warnings: list[CallWarning]) -> Json | None:
    if part.media_type.startswith("audio/") and part.data is not None:
        # ``input_audio`` carries base64 audio (Voxtral models).
        return {"type": "input_audio", "input_audio": part.data}
    if part.url is not None and not part.media_type.startswith("audio/"):
        # Documents go by URL (``document_url``); https://docs.mistral.ai/capabilities/OCR/
        chunk: Json = {"type": "document_url", "document_url": part.url}
        if part.filename:
            chunk["document_name"] = part.filename
        return chunk
    how = "inline" if part.data is not None else "by URL"
    warnings.append(CallWarning(
        type="unsupported-part",
        message=f"Mistral chat cannot take a {part.media_type} file given {how} "
                "(documents by URL and audio as inline base64 only); the file was left out",
    ))
    return None


def _chunks(content: str | list[Json]) -> list[Json]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _split_tool_pictures(message: Message) -> tuple[Message, Message | None]:
    """The tools' pictures (the intro and the images right after it) and what follows
    them: a history that goes on after the tool results without an answer puts the
    user's next question in the same message (``services.chat_history``), and that
    question must not be read as a tool's output."""
    end = 1
    while end < len(message.parts) and isinstance(message.parts[end], ImagePart):
        end += 1
    pictures = Message(role="user", parts=message.parts[:end])
    if end == len(message.parts):
        return pictures, None
    return pictures, Message(role="user", parts=message.parts[end:])


def _fold_into_tool_result(result: Json, content: str | list[Json]) -> None:
    """The tools' pictures (a user message) added to the tool result before them."""
    result["content"] = [*_chunks(result["content"]), *_chunks(content)]


def _user_content(message: Message, warnings: list[CallWarning]) -> str | list[Json]:
    parts = message.parts
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    chunks: list[Json] = []
    for part in parts:
        if isinstance(part, TextPart):
            chunks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            chunks.append(_image(part))
        elif isinstance(part, FilePart):
            chunk = _file(part, warnings)
            if chunk is not None:
                chunks.append(chunk)
    return chunks or ""


def _thinking(part: ReasoningPart, warnings: list[CallWarning]) -> Json | None:
    """A reasoning part as a ``thinking`` chunk, or ``None`` (dropped, with a warning
    when it carried another vendor's opaque data)."""
    metadata = part.provider_metadata or {}
    foreign = sorted(k for k in metadata if k != KIND)
    if foreign and KIND not in metadata:
        warnings.append(CallWarning(
            type="unsupported-part",
            message=f"reasoning written by another provider ({', '.join(foreign)}) cannot "
                    "be replayed to Mistral; it was left out of the history",
        ))
        return None
    signature = metadata.get(KIND, {}).get("signature")
    if not part.text and not signature:
        return None
    chunk: Json = {"type": "thinking", "thinking": [{"type": "text", "text": part.text}]}
    if isinstance(signature, str):
        chunk["signature"] = signature
    return chunk


def _assistant(message: Message, warnings: list[CallWarning]) -> Json:
    chunks: list[Json] = []
    calls: list[Json] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            if part.text:
                chunks.append({"type": "text", "text": part.text})
        elif isinstance(part, ReasoningPart):
            chunk = _thinking(part, warnings)
            if chunk is not None:
                chunks.append(chunk)
        elif isinstance(part, ImagePart):
            chunks.append(_image(part))
        elif isinstance(part, ToolCallPart):
            calls.append({
                "id": mistral_tool_id(part.id),
                "type": "function",
                "function": {"name": part.name, "arguments": part.arguments or "{}"},
            })
    content: str | list[Json]
    if all(c["type"] == "text" for c in chunks):
        content = "".join(c["text"] for c in chunks)
    else:
        content = chunks
    if not content and not calls:  # code 3240: see the module's docstring
        warnings.append(CallWarning(
            type="unsupported-part", setting="messages",
            message="Mistral refuses an assistant message with neither text nor tool calls; "
                    f"an empty one was sent as {EMPTY_ANSWER!r}."))
        content = EMPTY_ANSWER
    out: Json = {"role": "assistant", "content": content}
    if calls:
        out["tool_calls"] = calls
    return out


def _tool_results(
    message: Message, names: dict[str, str], warnings: list[CallWarning]
) -> list[Json]:
    out: list[Json] = []
    for part in message.parts:
        if not isinstance(part, ToolResultPart):
            continue
        result: Json = {
            "role": "tool",
            "content": part.content,
            "tool_call_id": mistral_tool_id(part.tool_call_id),
        }
        name = part.name or names.get(part.tool_call_id)
        if name:
            result["name"] = name
        if part.is_error:
            warnings.append(CallWarning(
                type="other",
                message="Mistral has no error flag on tool results; the error result for "
                        f"call {part.tool_call_id!r} was sent as plain content",
            ))
        out.append(result)
    return out
