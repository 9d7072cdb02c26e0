"""Neutral messages -> the ``messages`` array of OpenAI's Chat Completions API.

https://platform.openai.com/docs/api-reference/chat/create

Cross-vendor history is the hard part: a conversation begun with another vendor carries
that vendor's tool-call ids and reasoning blocks. OpenAI limits a tool-call id to 40
characters, so longer or oddly shaped ids are mapped deterministically (the same id maps
to the same value in the assistant's call and in the tool result). Reasoning cannot be
sent back through Chat Completions at all, so reasoning parts are dropped with a warning.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from switchboard.spec.events import CallWarning
from switchboard.spec.messages import (
    FilePart,
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)

JsonDict = dict[str, Any]

_ID_OK = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# https://platform.openai.com/docs/guides/audio : input_audio takes wav or mp3 data.
_AUDIO_FORMATS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav",
                  "audio/mpeg": "mp3", "audio/mp3": "mp3"}


def tool_call_id(original: str) -> str:
    """An id OpenAI accepts: kept when it already fits, else ``call_`` + a stable hash."""
    if _ID_OK.match(original):
        return original
    return "call_" + hashlib.sha256(original.encode()).hexdigest()[:24]


class MessageConverter:
    """Converts one request's history, collecting warnings once per kind of loss."""

    def __init__(self, system_role: str) -> None:
        self.system_role = system_role
        self.warnings: list[CallWarning] = []
        self._warned: set[str] = set()

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warnings.append(CallWarning(type="unsupported-part", message=message))

    def convert(self, system: str | None, messages: list[Message]) -> list[JsonDict]:
        out: list[JsonDict] = []
        if system:
            out.append({"role": self.system_role, "content": system})
        for m in messages:
            if m.role == "system":
                out.append({"role": self.system_role, "content": m.text})
            elif m.role == "user":
                out.append({"role": "user", "content": self._user_content(m)})
            elif m.role == "assistant":
                out.append(self._assistant(m))
            else:
                out.extend(self._tool_results(m))
        return out

    # -- user ----------------------------------------------------------------------
    def _user_content(self, m: Message) -> str | list[JsonDict]:
        if len(m.parts) == 1 and isinstance(m.parts[0], TextPart):
            return m.text
        content: list[JsonDict] = []
        for p in m.parts:
            if isinstance(p, TextPart):
                content.append({"type": "text", "text": p.text})
            elif isinstance(p, ImagePart):
                image: JsonDict = {"url": p.data_url()}
                if p.detail is not None:
                    image["detail"] = p.detail
                content.append({"type": "image_url", "image_url": image})
            elif isinstance(p, FilePart):
                part = self._file(p)
                if part is not None:
                    content.append(part)
        return content

    def _file(self, p: FilePart) -> JsonDict | None:
        if p.data is None:
            self._warn("file-url", f"files by URL are not supported by Chat Completions; "
                                   f"the {p.media_type} file at {p.url} was left out "
                                   "(attach it inline instead)")
            return None
        if p.media_type == "application/pdf":
            # https://platform.openai.com/docs/guides/pdf-files : a data URL in file_data.
            return {"type": "file", "file": {
                "filename": p.filename or "document.pdf",
                "file_data": f"data:{p.media_type};base64,{p.data}",
            }}
        fmt = _AUDIO_FORMATS.get(p.media_type)
        if fmt is not None:
            return {"type": "input_audio", "input_audio": {"data": p.data, "format": fmt}}
        if p.media_type.startswith("text/") or p.media_type == "application/json":
            text = base64.b64decode(p.data).decode("utf-8", "replace")
            head = f"[file {p.filename}]\n" if p.filename else ""
            return {"type": "text", "text": head + text}
        self._warn(f"file-{p.media_type}",
                   f"{p.media_type} files are not supported by Chat Completions and were "
                   "left out (PDF, text, wav and mp3 are)")
        return None

    # -- assistant -----------------------------------------------------------------
    def _assistant(self, m: Message) -> JsonDict:
        texts: list[str] = []
        calls: list[JsonDict] = []
        for p in m.parts:
            if isinstance(p, TextPart):
                texts.append(p.text)
            elif isinstance(p, ToolCallPart):
                calls.append({
                    "id": tool_call_id(p.id),
                    "type": "function",
                    "function": {"name": p.name, "arguments": p.arguments or "{}"},
                })
            elif isinstance(p, ReasoningPart):
                self._warn("reasoning", "reasoning parts of earlier assistant turns cannot "
                                        "be sent back through Chat Completions and were "
                                        "left out")
            elif isinstance(p, ImagePart):
                self._warn("assistant-image", "images in assistant messages are not "
                                              "supported by Chat Completions and were left out")
        msg: JsonDict = {"role": "assistant"}
        # Content may be null only when the turn is all tool calls.
        msg["content"] = "".join(texts) if texts or not calls else None
        if calls:
            msg["tool_calls"] = calls
        return msg

    # -- tool ------------------------------------------------------------------------
    def _tool_results(self, m: Message) -> list[JsonDict]:
        return [
            {"role": "tool", "tool_call_id": tool_call_id(p.tool_call_id), "content": p.content}
            for p in m.parts
            if isinstance(p, ToolResultPart)
        ]
